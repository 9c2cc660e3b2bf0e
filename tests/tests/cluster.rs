//! Cluster mode end to end: a real `redis-server`, three instances (`mcp-cluster-node`, each
//! its own process) and a real HAProxy in front of them, round robin with no stickiness, all
//! on free loopback ports and stopped when the test ends. The HAProxy config is the one in
//! `examples/cluster/haproxy.cfg`.
//!
//! Needs `redis-server`, `redis-cli` and `haproxy` on the PATH, so the tests are ignored by
//! default; `.ci/run` installs them and runs `cargo test -p mcp-tests --test cluster -- --ignored`.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mcp_sse::client::{RawResponse, SseClient, raw_request};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const NEEDS: &str = "needs redis-server and haproxy; run by .ci/run";

/// The owner TTL the nodes run with: a dead instance's ids answer 404 within it.
const OWNER_TTL: Duration = Duration::from_millis(1500);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process, killed (SIGKILL) and reaped when dropped.
struct Proc(Option<Child>);

impl Proc {
    fn kill(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

fn wait_tcp(addr: SocketAddr, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "{what} did not start on {addr}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

struct Redis {
    port: u16,
    proc: Proc,
}

impl Redis {
    fn start(port: u16) -> Redis {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server on the PATH");
        wait_tcp(SocketAddr::from(([127, 0, 0, 1], port)), "redis-server");
        Redis {
            port,
            proc: Proc(Some(child)),
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Runs `redis-cli` with `args`; its output lines.
    fn cli(&self, args: &[&str]) -> Vec<String> {
        let out = Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli on the PATH");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

struct Node {
    addr: SocketAddr,
    proc: Proc,
}

fn start_node(redis_url: &str, prefix: &str, env: &[(&str, &str)]) -> Node {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mcp-cluster-node"));
    cmd.arg("127.0.0.1:0")
        .env("MCP_REDIS_URL", redis_url)
        .env("MCP_CLUSTER_PREFIX", prefix)
        .env("MCP_OWNER_TTL_MS", OWNER_TTL.as_millis().to_string())
        .env("MCP_KEEP_ALIVE_MS", "500")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("mcp-cluster-node");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim();
    let addr = url
        .strip_prefix("http://")
        .and_then(|r| r.strip_suffix("/sse"))
        .unwrap_or_else(|| panic!("node announced {url:?}"))
        .parse()
        .unwrap();
    Node {
        addr,
        proc: Proc(Some(child)),
    }
}

/// Redis, three instances and HAProxy.
struct Rig {
    redis: Redis,
    nodes: Vec<Node>,
    lb: SocketAddr,
    prefix: String,
    _haproxy: Proc,
}

impl Rig {
    fn start(env: &[(&str, &str)]) -> Rig {
        let redis = Redis::start(free_port());
        let prefix = format!("t{}", free_port());
        let nodes: Vec<Node> = (0..3)
            .map(|_| start_node(&redis.url(), &prefix, env))
            .collect();
        let lb = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let cfg = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/cluster/haproxy.cfg");
        let child = Command::new("haproxy")
            .arg("-f")
            .arg(&cfg)
            .arg("-db")
            .env("MCP_LB_ADDR", lb.to_string())
            .env("MCP_NODE_1", nodes[0].addr.to_string())
            .env("MCP_NODE_2", nodes[1].addr.to_string())
            .env("MCP_NODE_3", nodes[2].addr.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("haproxy on the PATH");
        wait_tcp(lb, "haproxy");
        Rig {
            redis,
            nodes,
            lb,
            prefix,
            _haproxy: Proc(Some(child)),
        }
    }

    /// Every key of this rig in Redis.
    fn keys(&self) -> Vec<String> {
        self.redis
            .cli(&["--scan", "--pattern", &format!("{}:*", self.prefix)])
    }
}

fn rpc(id: i64, method: &str, params: Value) -> Vec<u8> {
    json!({"jsonrpc":"2.0","id":id,"method":method,"params":params})
        .to_string()
        .into_bytes()
}

fn add(id: i64, a: i64, b: i64) -> Vec<u8> {
    rpc(
        id,
        "tools/call",
        json!({"name":"add","arguments":{"a":a,"b":b}}),
    )
}

fn text_of(result: &Value) -> &str {
    result["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or("")
}

/// An HTTP/1.1 request through `addr` with `Connection: close`.
async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> RawResponse {
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    raw_request(addr, &bytes).await.unwrap()
}

/// The JSON-RPC response of a POST: a JSON body, or the last message of an SSE body.
fn answer_of(r: &RawResponse) -> Value {
    let text = String::from_utf8_lossy(&r.body).into_owned();
    if r.header("content-type") == Some("application/json") {
        return serde_json::from_str(&text).unwrap();
    }
    let last = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .rfind(|d| !d.is_empty())
        .unwrap_or_else(|| panic!("no message in {text:?}"))
        .to_owned();
    serde_json::from_str(&last).unwrap()
}

/// The stateless protocol revision.
const REV: &str = "2026-07-28";

/// A request of the stateless revision, with its `_meta` (`caps`: the client capabilities).
fn stateless_body(id: i64, method: &str, mut params: Value, caps: Value) -> Vec<u8> {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": REV,
        "io.modelcontextprotocol/clientCapabilities": caps,
        "io.modelcontextprotocol/clientInfo": {"name": "cluster-test", "version": "0"},
    });
    rpc(id, method, params)
}

fn stateless_headers<'a>(method: &'a str, name: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
    let mut h = vec![
        ("Content-Type", "application/json"),
        ("Accept", "application/json, text/event-stream"),
        ("MCP-Protocol-Version", REV),
        ("Mcp-Method", method),
    ];
    if let Some(n) = name {
        h.push(("Mcp-Name", n));
    }
    h
}

/// One stateless POST to `addr` (an instance or the balancer): the response, and its answer.
async fn stateless(
    addr: SocketAddr,
    method: &str,
    name: Option<&str>,
    body: &[u8],
) -> (RawResponse, Value) {
    let r = http(addr, "POST", "/mcp", &stateless_headers(method, name), body).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let json = answer_of(&r);
    (r, json)
}

fn task_caps() -> Value {
    json!({"extensions": {"io.modelcontextprotocol/tasks": {}}})
}

/// `tasks/get` for `task` at `addr`: the response and its answer.
async fn task_get(addr: SocketAddr, task: &str) -> (RawResponse, Value) {
    let body = stateless_body(1, "tasks/get", json!({"taskId": task}), task_caps());
    stateless(addr, "tasks/get", Some(task), &body).await
}

/// Every instance's id (from its `/health`), by node index.
async fn instance_ids(nodes: &[Node]) -> Vec<String> {
    let mut out = Vec::new();
    for n in nodes {
        let r = http(n.addr, "GET", "/health", &[], b"").await;
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        out.push(v["instance"].as_str().unwrap().to_owned());
    }
    out
}

/// A Streamable HTTP session, driven through the balancer.
struct Mcp {
    lb: SocketAddr,
    id: String,
    auth: Option<String>,
}

impl Mcp {
    async fn open(lb: SocketAddr, auth: Option<&str>) -> (Mcp, RawResponse) {
        let mut m = Mcp {
            lb,
            id: String::new(),
            auth: auth.map(|t| format!("Bearer {t}")),
        };
        let r = m
            .post_raw(&rpc(
                0,
                "initialize",
                json!({"protocolVersion":"2025-06-18","capabilities":{},
                    "clientInfo":{"name":"cluster-test","version":"0"}}),
            ))
            .await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        m.id = r.header("mcp-session-id").unwrap().to_owned();
        let n = m
            .post_raw(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
            .await;
        assert_eq!(n.status, 202);
        (m, r)
    }

    async fn post_raw(&self, body: &[u8]) -> RawResponse {
        let mut h = vec![
            ("Content-Type", "application/json"),
            ("Accept", "application/json, text/event-stream"),
        ];
        if !self.id.is_empty() {
            h.push(("Mcp-Session-Id", self.id.as_str()));
            h.push(("MCP-Protocol-Version", "2025-06-18"));
        }
        if let Some(a) = &self.auth {
            h.push(("Authorization", a.as_str()));
        }
        http(self.lb, "POST", "/mcp", &h, body).await
    }

    /// POSTs a request; its JSON-RPC response (from a JSON body or the end of an SSE body).
    async fn call(&self, body: &[u8]) -> (RawResponse, Value) {
        let r = self.post_raw(body).await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        let json = answer_of(&r);
        (r, json)
    }

    async fn delete(&self) -> RawResponse {
        let mut h = vec![("Mcp-Session-Id", self.id.as_str())];
        if let Some(a) = &self.auth {
            h.push(("Authorization", a.as_str()));
        }
        http(self.lb, "DELETE", "/mcp", &h, b"").await
    }
}

/// An open event stream read incrementally (a Streamable HTTP `GET`).
struct Stream {
    sock: TcpStream,
    buf: Vec<u8>,
}

impl Stream {
    async fn get(lb: SocketAddr, session: &str) -> (Stream, String) {
        let mut sock = TcpStream::connect(lb).await.unwrap();
        let req = format!(
            "GET /mcp HTTP/1.1\r\nHost: {lb}\r\nAccept: text/event-stream\r\nMcp-Session-Id: {session}\r\n\r\n"
        );
        sock.write_all(req.as_bytes()).await.unwrap();
        let mut s = Stream {
            sock,
            buf: Vec::new(),
        };
        let head = s.read_until(b"\r\n\r\n").await.unwrap();
        (s, head)
    }

    /// What comes before `marker`; `None` once the connection or the (chunked) body ended.
    async fn read_until(&mut self, marker: &[u8]) -> Option<String> {
        let mut chunk = [0u8; 8192];
        loop {
            if let Some(p) = self.buf.windows(marker.len()).position(|w| w == marker) {
                let out: Vec<u8> = self.buf.drain(..p + marker.len()).collect();
                return Some(String::from_utf8_lossy(&out).into_owned());
            }
            // The last chunk of a chunked body: the stream ended, the connection may stay.
            let end = b"\r\n0\r\n\r\n";
            if self.buf.starts_with(&end[2..]) || self.buf.windows(end.len()).any(|w| w == end) {
                return None;
            }
            let n = tokio::time::timeout(Duration::from_secs(10), self.sock.read(&mut chunk))
                .await
                .ok()?
                .ok()?;
            if n == 0 {
                return None;
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Opens a `subscriptions/listen` stream of the stateless revision at `addr`.
    async fn listen(addr: SocketAddr, body: &[u8]) -> (Stream, String) {
        let mut sock = TcpStream::connect(addr).await.unwrap();
        let mut req = format!(
            "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in stateless_headers("subscriptions/listen", None) {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        sock.write_all(req.as_bytes()).await.unwrap();
        sock.write_all(body).await.unwrap();
        let mut s = Stream {
            sock,
            buf: Vec::new(),
        };
        let head = s.read_until(b"\r\n\r\n").await.unwrap();
        (s, head)
    }

    /// The next JSON-RPC message within `limit`, if any.
    async fn next_message_within(&mut self, limit: Duration) -> Option<Value> {
        tokio::time::timeout(limit, self.next_message())
            .await
            .ok()
            .flatten()
    }

    /// The next JSON-RPC message on the stream (keep-alives skipped); `None` at its end.
    async fn next_message(&mut self) -> Option<Value> {
        loop {
            let event = self.read_until(b"\n\n").await?;
            if let Some(data) = event
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .filter(|d| d.starts_with('{'))
            {
                return serde_json::from_str(data).ok();
            }
        }
    }
}

fn served_by(r: &RawResponse) -> String {
    r.header("x-served-by").unwrap_or("?").to_owned()
}

/// Opens an HTTP+SSE session through the balancer, initialized.
async fn sse(lb: SocketAddr, headers: &[(&str, &str)]) -> SseClient {
    let mut c = SseClient::connect(lb, "/sse", headers).await.unwrap();
    c.initialize().await.unwrap();
    c
}

fn long_task(id: i64, delay_ms: u64) -> Vec<u8> {
    rpc(
        id,
        "tools/call",
        json!({"name":"long_task","arguments":{"steps":1,"delay_ms":delay_ms}}),
    )
}

fn cancel(id: i64) -> Vec<u8> {
    json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":id}})
        .to_string()
        .into_bytes()
}

/// What a session guarantees about the messages of one client, in cluster mode as in one
/// process: a message answered `202` has reached its session before any message POSTed after
/// that `202`, wherever each POST lands. Requests then run concurrently, so their answers go
/// out as they complete (JSON-RPC matches them by id), not in the order sent. The order of
/// arrival is observable through what a session does on arrival: a cancellation finds the
/// request it names in flight, and a request id still in flight is refused.
#[tokio::test]
#[ignore = "needs redis-server and haproxy; run by .ci/run"]
async fn sse_posts_spread_over_every_instance_reach_the_session_in_the_order_accepted() {
    let _ = NEEDS;
    let rig = Rig::start(&[]);
    let mut c = sse(rig.lb, &[]).await;
    let mut servers = std::collections::BTreeSet::new();
    // Each round, five POSTs back to back (each sent once the previous one is accepted), so
    // consecutive ones land on different instances:
    // * a slow call, then its cancellation: it is never answered;
    // * an `add`, answered with its sum;
    // * a slow call, then an `add` reusing its id: the `add` is refused, the slow call answered.
    const ROUNDS: i64 = 12;
    const CANCELLED_DELAY_MS: u64 = 3000;
    for i in 0..ROUNDS {
        let posts = [
            long_task(1000 + i, CANCELLED_DELAY_MS),
            cancel(1000 + i),
            add(i + 1, i, 1),
            long_task(2000 + i, 300),
            add(2000 + i, 1, 1),
        ];
        for (n, body) in posts.iter().enumerate() {
            let r = c.post(body).await.unwrap();
            assert_eq!(
                r.status,
                202,
                "round {i}, POST {n}: {}",
                String::from_utf8_lossy(&r.body)
            );
            servers.insert(served_by(&r));
        }
    }
    let sent_at = Instant::now();
    assert_eq!(servers.len(), 3, "POSTs reached {servers:?}");
    // Every answer, in whatever order the requests completed.
    let mut answers: std::collections::BTreeMap<i64, Vec<Value>> = Default::default();
    let expected = (ROUNDS * 3) as usize;
    let mut got = 0;
    while got < expected {
        let m = c.next_message().await.unwrap();
        let Some(id) = m["id"].as_i64() else {
            continue; // a notification (log lines of the slow calls)
        };
        answers.entry(id).or_default().push(m);
        got += 1;
    }
    // Past the point a cancelled call would have answered, had its cancellation come first.
    let settle = Duration::from_millis(CANCELLED_DELAY_MS + 500).saturating_sub(sent_at.elapsed());
    while let Ok(m) = tokio::time::timeout(settle, c.next_message()).await {
        let m = m.unwrap();
        if let Some(id) = m["id"].as_i64() {
            answers.entry(id).or_default().push(m);
        }
    }
    for i in 0..ROUNDS {
        assert!(
            !answers.contains_key(&(1000 + i)),
            "call {} was answered: its cancellation reached the session first",
            1000 + i
        );
        let sum = answers.get(&(i + 1)).expect("every add is answered");
        assert_eq!(sum.len(), 1, "{sum:?}");
        assert_eq!(text_of(&sum[0]), (i + 1).to_string());
        let reused = answers.get(&(2000 + i)).expect("the reused id is answered");
        assert_eq!(reused.len(), 2, "id {}: {reused:?}", 2000 + i);
        let refused = reused.iter().filter(|m| {
            m["error"]["message"]
                .as_str()
                .is_some_and(|t| t.contains("already in use"))
        });
        assert_eq!(
            refused.count(),
            1,
            "the add reusing {} came first: {reused:?}",
            2000 + i
        );
        assert!(
            reused
                .iter()
                .any(|m| text_of(m).contains("completed 1 steps")),
            "{reused:?}"
        );
    }
    assert_eq!(
        answers.len(),
        (ROUNDS * 2) as usize,
        "unexpected answers: {answers:?}"
    );
    // A POST for an unknown session is 404 on every instance.
    for _ in 0..3 {
        let r = http(
            rig.lb,
            "POST",
            "/messages?sessionId=00000000-0000-4000-8000-000000000000",
            &[("Content-Type", "application/json")],
            &add(1, 1, 1),
        )
        .await;
        assert_eq!(r.status, 404);
    }
    // Bad JSON is refused where it lands, before any forwarding.
    for _ in 0..3 {
        let r = c.post(b"{not json").await.unwrap();
        assert_eq!(r.status, 400);
    }
}

#[tokio::test]
#[ignore = "needs redis-server and haproxy; run by .ci/run"]
async fn streamable_sessions_answer_on_every_instance_and_delete_from_anywhere() {
    let rig = Rig::start(&[]);
    let (s, _) = Mcp::open(rig.lb, None).await;
    let mut servers = std::collections::BTreeSet::new();
    for i in 1..=9 {
        let (r, m) = s.call(&add(i, i, 100)).await;
        servers.insert(served_by(&r));
        assert_eq!(m["id"], i);
        assert_eq!(text_of(&m), (i + 100).to_string());
    }
    assert_eq!(servers.len(), 3, "{servers:?}");
    // A streamed answer (progress before the result) relayed from the owner.
    for i in 0..3 {
        let body = rpc(
            20 + i,
            "tools/call",
            json!({"name":"long_task","arguments":{"steps":3,"delay_ms":20},
                "_meta":{"progressToken":"p"}}),
        );
        let r = s.post_raw(&body).await;
        assert_eq!(r.status, 200);
        let text = String::from_utf8_lossy(&r.body);
        assert_eq!(
            text.matches("notifications/progress").count(),
            3,
            "via {}: {text}",
            served_by(&r)
        );
        assert!(text.contains("completed 3 steps"), "{text}");
    }
    // DELETE lands on some instance; afterwards every instance answers 404.
    let d = s.delete().await;
    assert_eq!(d.status, 200, "{}", String::from_utf8_lossy(&d.body));
    for i in 0..3 {
        let r = s.post_raw(&add(100 + i, 1, 1)).await;
        assert_eq!(r.status, 404, "after DELETE, via {}", served_by(&r));
    }
}

#[tokio::test]
#[ignore = "needs redis-server and haproxy; run by .ci/run"]
async fn notifications_reach_every_subscribed_client_once_across_instances() {
    let rig = Rig::start(&[]);
    // Three Streamable sessions, one standalone stream each, on whichever instances.
    let mut sessions = Vec::new();
    for _ in 0..3 {
        let (s, _) = Mcp::open(rig.lb, None).await;
        let (stream, head) = Stream::get(rig.lb, &s.id).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let r = s
            .call(&rpc(
                1,
                "resources/subscribe",
                json!({"uri":"test://watched"}),
            ))
            .await;
        assert!(r.1.get("result").is_some(), "{}", r.1);
        sessions.push((s, stream));
    }
    // One HTTP+SSE session too.
    let mut legacy = sse(rig.lb, &[]).await;
    // A tool on some instance adds a tool: every initialized session gets list_changed once.
    let (_, m) = sessions[0]
        .0
        .call(&rpc(
            2,
            "tools/call",
            json!({"name":"add_tool_named","arguments":{"name":"extra_a"}}),
        ))
        .await;
    assert_eq!(text_of(&m), "added extra_a");
    // And a resource update: only the subscribed (Streamable) sessions get it.
    let (_, m) = sessions[1]
        .0
        .call(&rpc(
            3,
            "tools/call",
            json!({"name":"touch_resource","arguments":{"uri":"test://watched"}}),
        ))
        .await;
    assert_eq!(text_of(&m), "touched test://watched");
    for (_, stream) in &mut sessions {
        let a = stream.next_message().await.unwrap();
        let b = stream.next_message().await.unwrap();
        let mut methods = [
            a["method"].as_str().unwrap().to_owned(),
            b["method"].as_str().unwrap().to_owned(),
        ];
        methods.sort();
        assert_eq!(
            methods,
            [
                "notifications/resources/updated",
                "notifications/tools/list_changed"
            ]
        );
    }
    let m = legacy.next_message().await.unwrap();
    assert_eq!(m["method"], "notifications/tools/list_changed");
    // Exactly once: nothing else follows on any stream.
    for (_, stream) in &mut sessions {
        let extra = stream.next_message_within(Duration::from_millis(700)).await;
        assert!(extra.is_none(), "duplicate: {extra:?}");
    }
    let extra = tokio::time::timeout(Duration::from_millis(700), legacy.next_message()).await;
    assert!(extra.is_err(), "duplicate: {extra:?}");
}

#[tokio::test]
#[ignore = "needs redis-server and haproxy; run by .ci/run"]
async fn sessions_are_bound_to_their_credential_which_redis_never_holds() {
    let mut rig = Rig::start(&[("MCP_BEARER_TOKENS", "token-alpha-secret,token-beta-secret")]);
    let mut c = sse(rig.lb, &[("Authorization", "Bearer token-alpha-secret")]).await;
    let (s, _) = Mcp::open(rig.lb, Some("token-alpha-secret")).await;
    // The other valid token, on every instance: the sessions are unknown to it.
    for i in 0..3 {
        let r = http(
            rig.lb,
            "POST",
            c.endpoint(),
            &[
                ("Content-Type", "application/json"),
                ("Authorization", "Bearer token-beta-secret"),
            ],
            &add(50 + i, 1, 1),
        )
        .await;
        assert_eq!(r.status, 404, "via {}", served_by(&r));
        let mut other = Mcp {
            lb: rig.lb,
            id: s.id.clone(),
            auth: Some("Bearer token-beta-secret".into()),
        };
        let r = other.post_raw(&add(60 + i, 1, 1)).await;
        assert_eq!(r.status, 404, "via {}", served_by(&r));
        other.auth = None;
        assert_eq!(other.post_raw(&add(1, 1, 1)).await.status, 401);
    }
    // The right one works everywhere.
    for i in 0..3 {
        let r = c.request(70 + i, "ping", json!({})).await.unwrap();
        assert_eq!(r["id"], 70 + i);
        s.call(&add(80 + i, 1, 1)).await;
    }
    let keys = rig.keys();
    assert!(keys.len() >= 3, "{keys:?}");
    for k in &keys {
        let dump = rig.redis.cli(&["--no-raw", "DUMP", k]).join("\n");
        let value = rig.redis.cli(&["GET", k]).join("\n");
        for text in [k, &dump, &value] {
            assert!(!text.contains("token-alpha"), "{k} holds the token");
        }
    }
    // Keys go with their sessions: what stays belongs to the running instances (each one's
    // liveness, the shared requestState key), and expires too.
    assert_eq!(s.delete().await.status, 200);
    drop(c);
    let instance_wide = |k: &String| {
        k.starts_with(&format!("{}:i:", rig.prefix)) || *k == format!("{}:state-key", rig.prefix)
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while !rig.keys().iter().all(instance_wide) {
        assert!(Instant::now() < deadline, "keys left: {:?}", rig.keys());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(rig.keys().len(), 4, "{:?}", rig.keys());
    for k in rig.keys() {
        let ttl: i64 = rig.redis.cli(&["PTTL", &k])[0].parse().unwrap();
        assert!(ttl > 0, "{k} has no expiry ({ttl})");
    }
    // With every instance gone (killed, so nothing is deleted on the way out), nothing is left.
    for n in &mut rig.nodes {
        n.proc.kill();
    }
    let deadline = Instant::now() + OWNER_TTL + Duration::from_secs(2);
    while !rig.keys().is_empty() {
        assert!(Instant::now() < deadline, "keys left: {:?}", rig.keys());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
#[ignore = "needs redis-server and haproxy; run by .ci/run"]
async fn the_session_cap_holds_across_the_cluster() {
    let rig = Rig::start(&[("MCP_MAX_SESSIONS", "4")]);
    let mut open = Vec::new();
    for _ in 0..4 {
        open.push(SseClient::connect(rig.lb, "/sse", &[]).await.unwrap());
    }
    for _ in 0..3 {
        let r = http(
            rig.lb,
            "GET",
            "/sse",
            &[("Accept", "text/event-stream")],
            b"",
        )
        .await;
        assert_eq!(r.status, 503, "past the cap, via {}", served_by(&r));
        let r = Mcp {
            lb: rig.lb,
            id: String::new(),
            auth: None,
        }
        .post_raw(&rpc(
            0,
            "initialize",
            json!({"protocolVersion":"2025-06-18","capabilities":{},
                "clientInfo":{"name":"x","version":"0"}}),
        ))
        .await;
        assert_eq!(r.status, 503);
    }
    // A closed session frees its place, wherever it was.
    open.pop();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if SseClient::connect(rig.lb, "/sse", &[]).await.is_ok() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the freed place was not given out"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
#[ignore = "needs redis-server and haproxy; run by .ci/run"]
async fn a_killed_instance_ends_its_sessions_and_survivors_lose_nothing() {
    let mut rig = Rig::start(&[]);
    // Sessions until each instance owns at least one (the balancer spreads the GETs).
    let mut by_node: Vec<Vec<SseClient>> = vec![Vec::new(), Vec::new(), Vec::new()];
    let mut health = Vec::new();
    for node in &rig.nodes {
        health.push(node.addr);
    }
    let mut attempts = 0;
    while by_node.iter().any(Vec::is_empty) {
        attempts += 1;
        assert!(attempts < 30);
        // Opening a session takes three requests: shift the round robin by one each time.
        http(rig.lb, "GET", "/health", &[], b"").await;
        let before: Vec<u64> = sessions_per_node(&health).await;
        let c = sse(rig.lb, &[]).await;
        let after: Vec<u64> = sessions_per_node(&health).await;
        // `/health` counts each instance's own sessions: only the owner's count moved.
        let grew: Vec<usize> = (0..3).filter(|i| after[*i] != before[*i]).collect();
        assert_eq!(grew.len(), 1, "{before:?} -> {after:?}");
        assert_eq!(after[grew[0]], before[grew[0]] + 1);
        by_node[grew[0]].push(c);
    }
    // A Streamable HTTP session of the doomed instance, its standalone stream relayed by
    // another instance.
    let doomed_mcp = loop {
        let before = sessions_per_node(&health).await;
        let (m, _) = Mcp::open(rig.lb, None).await;
        let after = sessions_per_node(&health).await;
        if after[0] > before[0] {
            break m;
        }
    };
    let (mut relayed, head) = Stream::get(rig.nodes[1].addr, &doomed_mcp.id).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let mut doomed = by_node.remove(0).pop().unwrap();
    let doomed_endpoint = doomed.endpoint().to_owned();
    let mut survivors: Vec<SseClient> = by_node.into_iter().flatten().collect();
    // Survivors are busy while the instance dies.
    let mut next_id = 1000;
    let mut expected: Vec<Vec<i64>> = Vec::new();
    for s in &mut survivors {
        let mut ids = Vec::new();
        for _ in 0..5 {
            next_id += 1;
            assert_eq!(s.post(&add(next_id, next_id, 0)).await.unwrap().status, 202);
            ids.push(next_id);
        }
        expected.push(ids);
    }
    rig.nodes[0].proc.kill();
    let killed_at = Instant::now();
    // The doomed session's stream ends (the balancer's connection to the dead instance closes).
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match doomed.next_event().await {
                Ok(None) | Err(_) => break,
                Ok(Some(_)) => {}
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the dead instance's stream did not end");
    // The stream another instance relayed for it ends too, within the owner TTL (+ slack).
    let relay_ended = tokio::time::timeout(OWNER_TTL + Duration::from_secs(3), async {
        while relayed.next_message().await.is_some() {}
    })
    .await;
    assert!(relay_ended.is_ok(), "the relayed stream did not end");
    // Its id: 503 while its record lives, then 404 everywhere, within the owner TTL (+ slack).
    let deadline = killed_at + OWNER_TTL + Duration::from_secs(3);
    loop {
        let mut codes = Vec::new();
        for _ in 0..3 {
            let r = http(
                rig.lb,
                "POST",
                &doomed_endpoint,
                &[("Content-Type", "application/json")],
                &add(1, 1, 1),
            )
            .await;
            assert!(
                matches!(r.status, 404 | 503),
                "status {} for a dead instance's session",
                r.status
            );
            codes.push(r.status);
        }
        let streamable = doomed_mcp.post_raw(&add(1, 1, 1)).await.status;
        assert!(matches!(streamable, 404 | 503), "{streamable}");
        if codes.iter().all(|c| *c == 404) && streamable == 404 {
            break;
        }
        assert!(Instant::now() < deadline, "still {codes:?} after the TTL");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Every survivor gets every answer accepted before, during and after the kill.
    for (s, ids) in survivors.iter_mut().zip(&expected) {
        for id in ids {
            let m = s.next_message().await.unwrap();
            assert_eq!(m["id"], *id);
        }
        for _ in 0..6 {
            next_id += 1;
            let r = s.request(next_id, "ping", json!({})).await.unwrap();
            assert_eq!(r["id"], next_id);
        }
    }
}

async fn sessions_per_node(nodes: &[SocketAddr]) -> Vec<u64> {
    let mut out = Vec::new();
    for n in nodes {
        let r = http(*n, "GET", "/health", &[], b"").await;
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        out.push(v["sessions"].as_u64().unwrap());
    }
    out
}

#[tokio::test]
#[ignore = "needs redis-server and haproxy; run by .ci/run"]
async fn redis_restarted_mid_run_means_503_meanwhile_then_recovery() {
    let mut rig = Rig::start(&[]);
    let mut c = sse(rig.lb, &[]).await;
    let (s, _) = Mcp::open(rig.lb, None).await;
    // A multi round-trip request asked before the restart, answered after it.
    let ask = stateless_body(
        5,
        "tools/call",
        json!({"name": "greet_user"}),
        json!({"elicitation": {}}),
    );
    let (_, m) = stateless(rig.lb, "tools/call", Some("greet_user"), &ask).await;
    let mut retry: Value = serde_json::from_slice(&ask).unwrap();
    retry["params"]["requestState"] = m["result"]["requestState"].clone();
    retry["params"]["inputResponses"] =
        json!({"elicitation-1": {"action": "accept", "content": {"name": "Ada"}}});
    let retry = retry.to_string().into_bytes();
    rig.redis.proc.kill();
    // Meanwhile: clear 503s for what needs Redis (new sessions, messages for sessions held
    // elsewhere), and what the landing instance holds itself still works.
    let mut saw_503 = false;
    let mut accepted = Vec::new();
    let mut next = 200;
    for _ in 0..6 {
        next += 1;
        let r = c.post(&add(next, 1, 1)).await.unwrap();
        assert!(matches!(r.status, 202 | 503), "{}", r.status);
        if r.status == 202 {
            accepted.push(next);
        }
        if r.status == 503 {
            saw_503 = true;
            assert!(r.header("retry-after").is_some());
            assert!(String::from_utf8_lossy(&r.body).contains("try again"));
        }
        let g = http(
            rig.lb,
            "GET",
            "/sse",
            &[("Accept", "text/event-stream")],
            b"",
        )
        .await;
        assert_eq!(g.status, 503);
    }
    assert!(saw_503);
    // Redis back on the same port, empty: the instances reconnect and re-create their records.
    rig.redis = Redis::start(rig.redis.port);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut ok = 0;
        for _ in 0..3 {
            next += 1;
            let r = c.post(&add(next, 1, 1)).await.unwrap();
            if r.status == 202 {
                ok += 1;
                accepted.push(next);
            }
        }
        if ok == 3 {
            break;
        }
        assert!(Instant::now() < deadline, "the cluster did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Every message that was accepted (202) was answered; then a fresh request works.
    let r = c.request(999, "ping", json!({})).await.unwrap();
    assert_eq!(r["id"], 999);
    let mut answered = Vec::new();
    while answered.len() < accepted.len() {
        let m = c.next_message().await.unwrap();
        answered.push(m["id"].as_i64().unwrap());
    }
    answered.sort();
    assert_eq!(answered, accepted, "every accepted message is answered");
    for i in 0..3 {
        s.call(&add(400 + i, 1, 1)).await;
    }
    let mut fresh = sse(rig.lb, &[]).await;
    let r = fresh.request(1, "ping", json!({})).await.unwrap();
    assert_eq!(r["id"], 1);
    // The instances still share the requestState key (written back into the new Redis).
    for _ in 0..3 {
        let (r, m) = stateless(rig.lb, "tools/call", Some("greet_user"), &retry).await;
        assert_eq!(text_of(&m), "Hello, Ada!", "via {}: {m}", served_by(&r));
    }
    let deadline = Instant::now() + OWNER_TTL;
    while !rig.keys().contains(&format!("{}:state-key", rig.prefix)) {
        assert!(
            Instant::now() < deadline,
            "the state key was not written back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for n in &rig.nodes {
        let h = http(n.addr, "GET", "/health", &[], b"").await;
        assert!(String::from_utf8_lossy(&h.body).contains("\"cluster\":\"connected\""));
    }
}

/// The stateless revision across instances: a multi round-trip retry verifies wherever it
/// lands (the instances share the `requestState` key), and a task created on one instance is
/// polled, cancelled and finished from any other; once its instance is gone, it is unknown.
#[tokio::test]
#[ignore = "needs redis-server and haproxy; run by .ci/run"]
async fn stateless_retries_and_tasks_work_on_every_instance() {
    let mut rig = Rig::start(&[]);
    let caps = json!({"elicitation": {}});
    for round in 0..3 {
        let ask = stateless_body(
            round,
            "tools/call",
            json!({"name": "greet_user"}),
            caps.clone(),
        );
        let (first, m) = stateless(rig.lb, "tools/call", Some("greet_user"), &ask).await;
        assert_eq!(m["result"]["resultType"], "input_required", "{m}");
        let key = m["result"]["inputRequests"]
            .as_object()
            .unwrap()
            .keys()
            .next()
            .unwrap()
            .clone();
        let mut retry: Value = serde_json::from_slice(&ask).unwrap();
        retry["params"]["requestState"] = m["result"]["requestState"].clone();
        retry["params"]["inputResponses"] =
            json!({ key: {"action": "accept", "content": {"name": "Ada"}} });
        let retry = retry.to_string().into_bytes();
        let (second, m) = stateless(rig.lb, "tools/call", Some("greet_user"), &retry).await;
        assert_ne!(served_by(&first), served_by(&second), "the retry moved");
        assert_eq!(
            text_of(&m),
            "Hello, Ada!",
            "via {}: {m}",
            served_by(&second)
        );
    }
    // A task runs where it was created and is seen from everywhere.
    let ids = instance_ids(&rig.nodes).await;
    let start = |ms: u64| {
        stateless_body(
            7,
            "tools/call",
            json!({"name": "sleep_job", "arguments": {"ms": ms}}),
            task_caps(),
        )
    };
    let (_, m) = stateless(rig.lb, "tools/call", Some("sleep_job"), &start(800)).await;
    assert_eq!(m["result"]["resultType"], "task", "{m}");
    let task = m["result"]["taskId"].as_str().unwrap().to_owned();
    let owner = ids
        .iter()
        .position(|i| task.starts_with(&format!("{i}.")))
        .expect("the task id names its instance");
    let mut seen = std::collections::BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let done = loop {
        let (r, m) = task_get(rig.lb, &task).await;
        seen.insert(served_by(&r));
        let status = m["result"]["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if status == "completed" && seen.len() == 3 {
            break m;
        }
        assert!(matches!(status.as_str(), "working" | "completed"), "{m}");
        assert!(Instant::now() < deadline, "{m}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(done["result"]["result"]["content"][0]["text"], "slept 800");
    // Cancelled from one other instance, seen cancelled from the third.
    let (_, m) = stateless(rig.lb, "tools/call", Some("sleep_job"), &start(30_000)).await;
    let long = m["result"]["taskId"].as_str().unwrap().to_owned();
    let at = ids
        .iter()
        .position(|i| long.starts_with(&format!("{i}.")))
        .unwrap();
    let (a, b) = ((at + 1) % 3, (at + 2) % 3);
    let cancel = stateless_body(8, "tasks/cancel", json!({"taskId": long}), task_caps());
    let (_, m) = stateless(rig.nodes[a].addr, "tasks/cancel", Some(&long), &cancel).await;
    assert!(m.get("result").is_some(), "{m}");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (_, m) = task_get(rig.nodes[b].addr, &long).await;
        if m["result"]["status"] == "cancelled" {
            break;
        }
        assert!(Instant::now() < deadline, "{m}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Unknown ids are unknown everywhere; so are the tasks of an instance that is gone, once
    // its liveness lapsed (503, retryable, until then).
    for n in &rig.nodes {
        let (_, m) = task_get(n.addr, "no-such-task").await;
        assert!(
            m["error"]["message"]
                .as_str()
                .unwrap()
                .contains("unknown task"),
            "{m}"
        );
    }
    let killed_at = Instant::now();
    rig.nodes[owner].proc.kill();
    let other = rig.nodes[(owner + 1) % 3].addr;
    loop {
        let r = http(
            other,
            "POST",
            "/mcp",
            &stateless_headers("tasks/get", Some(&task)),
            &stateless_body(9, "tasks/get", json!({"taskId": task}), task_caps()),
        )
        .await;
        if r.status == 200 {
            let m = answer_of(&r);
            assert!(
                m["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("unknown task"),
                "{m}"
            );
            break;
        }
        assert_eq!(r.status, 503, "{}", String::from_utf8_lossy(&r.body));
        assert!(r.header("retry-after").is_some());
        assert!(
            killed_at.elapsed() < OWNER_TTL + Duration::from_secs(3),
            "still 503 past the owner TTL"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `subscriptions/listen` on each instance receives the list changes and resource updates
/// raised on the others (and on its own), once each.
#[tokio::test]
#[ignore = "needs redis-server and haproxy; run by .ci/run"]
async fn listen_streams_receive_changes_raised_on_other_instances() {
    let rig = Rig::start(&[]);
    let filter = json!({"notifications": {
        "toolsListChanged": true,
        "resourceSubscriptions": ["test://watched"],
    }});
    let mut streams = Vec::new();
    for (i, n) in rig.nodes.iter().enumerate() {
        let body = stateless_body(
            40 + i as i64,
            "subscriptions/listen",
            filter.clone(),
            json!({}),
        );
        let (mut s, head) = Stream::listen(n.addr, &body).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let ack = s.next_message().await.unwrap();
        assert_eq!(
            ack["method"], "notifications/subscriptions/acknowledged",
            "{ack}"
        );
        streams.push(s);
    }
    // A tool added on instance 1, a resource touched on instance 2.
    let add = stateless_body(
        2,
        "tools/call",
        json!({"name": "add_tool_named", "arguments": {"name": "extra_l"}}),
        json!({}),
    );
    let (_, m) = stateless(
        rig.nodes[1].addr,
        "tools/call",
        Some("add_tool_named"),
        &add,
    )
    .await;
    assert_eq!(text_of(&m), "added extra_l", "{m}");
    let touch = stateless_body(
        3,
        "tools/call",
        json!({"name": "touch_resource", "arguments": {"uri": "test://watched"}}),
        json!({}),
    );
    let (_, m) = stateless(
        rig.nodes[2].addr,
        "tools/call",
        Some("touch_resource"),
        &touch,
    )
    .await;
    assert_eq!(text_of(&m), "touched test://watched", "{m}");
    for (i, s) in streams.iter_mut().enumerate() {
        let mut methods = Vec::new();
        for _ in 0..2 {
            let m = s.next_message().await.unwrap();
            assert_eq!(
                m["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
                40 + i as i64,
                "{m}"
            );
            if m["method"] == "notifications/resources/updated" {
                assert_eq!(m["params"]["uri"], "test://watched");
            }
            methods.push(m["method"].as_str().unwrap().to_owned());
        }
        methods.sort();
        assert_eq!(
            methods,
            [
                "notifications/resources/updated",
                "notifications/tools/list_changed"
            ],
            "instance {i}"
        );
    }
    for (i, s) in streams.iter_mut().enumerate() {
        let extra = s.next_message_within(Duration::from_millis(700)).await;
        assert!(extra.is_none(), "instance {i}, duplicate: {extra:?}");
    }
}

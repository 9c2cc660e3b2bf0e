#!/usr/bin/env bash
# Balancer benchmark: legacy HTTP+SSE `tools/call` through HAProxy (examples/cluster/haproxy.cfg:
# round robin per request, no stickiness), side by side:
#   single   one instance of mcp-bench-server, cluster mode off (the config's three server
#            lines all name it)
#   cluster  three instances in cluster mode over one Redis: a session's POSTs land on any
#            instance, two in three of them off the instance holding its stream
# Each measurement runs on a freshly started rig: SESSIONS (default 32) sessions for SECONDS,
# then 1 session for SECONDS (calls/s, p50/p99, and for the cluster the p50 of calls whose POST
# landed on / off the owner and a Redis PING round trip for comparison), and IDLE idle sessions
# (KiB per session, summed over the instances' resident memory). Instances and Redis run on
# CPU 0, HAProxy and the generator on CPU 1.
# added_us, the cost of an off-owner POST: p50 of the calls whose POST landed off the instance
# holding the stream minus p50 of those that landed on it, within one run. At 1 session it is
# the hop's own latency (landing instance -> Redis -> owner -> Redis -> landing instance); at 32
# sessions it also holds CPU queueing, since an off-owner call keeps two instances and Redis busy
# on the one CPU they share, so the 32-session figure measures throughput as much as the hop.
#   bench/cluster.sh [SECONDS] [IDLE_SESSIONS] [RUNS]
# Needs redis-server and haproxy (Debian: apt-get install redis-server haproxy) and python3 (for
# free ports). Everything listens on 127.0.0.1 and is stopped at the end; raw lines go to stderr,
# a table of medians to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
IDLE=${2:-3000}
RUNS=${3:-3}
SESSIONS=${SESSIONS:-32}
for tool in redis-server haproxy taskset python3 curl; do
    command -v "$tool" >/dev/null || { echo "bench/cluster.sh needs $tool" >&2; exit 2; }
done
# HAProxy's config allows 4096 client connections: each idle session holds one.
((IDLE <= 3500)) || { echo "IDLE_SESSIONS must stay under 3500 (the balancer's maxconn)" >&2; exit 2; }
cargo build -q --release -p mcp-bench --features cluster --bins
BIN=target/release
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
TMP=$(mktemp -d)
RESULTS=$TMP/results
PIDS=()
stop_all() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    PIDS=()
}
trap 'stop_all; rm -rf "$TMP"' EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

instance() { # instance [REDIS_URL]: starts one on CPU 0; appends its address to NODES, pid to NODE_PIDS
    local out=$TMP/node.$RANDOM
    if [[ -n ${1:-} ]]; then
        MCP_REDIS_URL=$1 taskset -c 0 "$BIN/mcp-bench-server" 127.0.0.1:0 >"$out" 2>/dev/null &
    else
        taskset -c 0 "$BIN/mcp-bench-server" 127.0.0.1:0 >"$out" 2>/dev/null &
    fi
    PIDS+=("$!")
    NODE_PIDS+=("$!")
    for _ in $(seq 1 200); do [[ -s $out ]] && break; sleep 0.05; done
    NODES+=("$(sed -E 's#http://([^/]+)/.*#\1#' "$out" | head -1)")
}

rig() { # rig single|cluster: sets LB, NODE_PIDS, REDIS_ADDR
    NODES=()
    NODE_PIDS=()
    REDIS_ADDR=
    if [[ $1 == cluster ]]; then
        local port
        port=$(free_port)
        taskset -c 0 redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no >/dev/null 2>&1 &
        PIDS+=("$!")
        REDIS_ADDR=127.0.0.1:$port
        for _ in $(seq 1 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
        for _ in 1 2 3; do instance "redis://$REDIS_ADDR"; done
    else
        instance
        NODES+=("${NODES[0]}" "${NODES[0]}")
    fi
    LB=127.0.0.1:$(free_port)
    MCP_LB_ADDR=$LB MCP_NODE_1=${NODES[0]} MCP_NODE_2=${NODES[1]} MCP_NODE_3=${NODES[2]} \
        taskset -c 1 haproxy -f examples/cluster/haproxy.cfg -db >/dev/null 2>&1 &
    PIDS+=("$!")
    for _ in $(seq 1 100); do curl -fsS --max-time 1 "http://$LB/health" >/dev/null 2>&1 && break; sleep 0.05; done
}

load() { # load SESSIONS: one load line
    local redis=()
    [[ -n $REDIS_ADDR ]] && redis=(--redis "$REDIS_ADDR")
    taskset -c 1 "$BIN/mcp-load" --addr "$LB" --transport sse --sessions "$1" --seconds "$SECS" "${redis[@]}"
}

record() { # record SETUP MODE LINE
    echo "[$1 $2] $3" >&2
    echo "$1 $2 $3" >>"$RESULTS"
}

measure() { # measure single|cluster load|idle
    local line line1 pids
    rig "$1"
    if [[ $2 == idle ]]; then
        pids=$(IFS=,; echo "${NODE_PIDS[*]}")
        line=$(taskset -c 1 "$BIN/mcp-load" --addr "$LB" --transport sse --idle "$IDLE" --server-pid "$pids")
        stop_all
        record "$1" idle "$line"
    else
        line=$(load "$SESSIONS")
        line1=$(load 1)
        stop_all
        record "$1" load "$line"
        record "$1" load1 "$line1"
    fi
}

for _ in $(seq 1 "$RUNS"); do
    for kind in single cluster; do
        measure "$kind" load
        measure "$kind" idle
    done
done

# Medians per (setup, mode).
awk -v runs="$RUNS" -v sessions="$SESSIONS" '
function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    if (n == 0) return "-"
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{
    key = $1 " " $2
    if (!(key in seen)) { seen[key] = 1; order[++count] = key }
    for (i = 3; i <= NF; i++) { split($i, kv, "="); vals[key, kv[1]] = vals[key, kv[1]] " " kv[2] }
}
END {
    printf "HTTP+SSE through HAProxy; medians of %d runs (added_us: off-owner p50 - on-owner p50)\n", runs
    printf "%-8s %8s %9s %7s %7s %9s %8s %8s %9s %8s %11s\n", "setup", "sessions", "calls/s", "p50_us", "p99_us", "off_share", "on_p50", "off_p50", "added_us", "redis_us", "KiB/session"
    for (k = 1; k <= count; k++) {
        key = order[k]; split(key, p, " ")
        if (p[2] == "idle") continue
        idle = (p[2] == "load") ? median(vals[p[1] " idle", "kib_per_session"]) : "-"
        # One instance behind three server lines: there is no owner to miss.
        split("off_owner_share on_owner_p50_us off_owner_p50_us off_owner_added_us redis_rtt_p50_us", names, " ")
        for (n = 1; n <= 5; n++) hop[n] = (p[1] == "single") ? "-" : median(vals[key, names[n]])
        printf "%-8s %8d %9d %7d %7d %9s %8s %8s %9s %8s %11s\n", p[1], median(vals[key, "sessions"]), median(vals[key, "calls_per_sec"]), median(vals[key, "p50_us"]), median(vals[key, "p99_us"]), hop[1], hop[2], hop[3], hop[4], hop[5], idle
    }
}' "$RESULTS"

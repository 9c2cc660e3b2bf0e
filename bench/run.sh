#!/usr/bin/env bash
# Side-by-side load benchmark: the ceiling (raw hyper, same JSON work, no MCP) and our server,
# over HTTP+SSE, Streamable HTTP with a 2025-11-25 session, and the stateless 2026-07-28
# revision (no session; the idle mode does not apply). The server runs pinned to CPU 0, the
# generator to CPU 1.
#   bench/run.sh [SECONDS] [IDLE_SESSIONS] [RUNS]
#   TRANSPORTS="streamable stateless" MODES="32" bench/run.sh   # a subset
#   SUITE=rmcp bench/run.sh 10 0 5   # 2026-07-28 vs a 2025 session vs rmcp's stateless JSON mode,
#                                     # 32 clients (MODES to change), with the ratios
#   MODES=churn CHURN=10000 DROPS=1000 bench/run.sh                # churn: sessions and RSS back?
#   MODES=idle IDLE_ARGS="--h2-streams 100 --control 2000" bench/run.sh 10 100000 1
# Modes: a number of sessions (closed loops of tools/call; the server's CPU time per call is
# read from /proc), `idle` (IDLE sessions held; a Streamable session with its standalone
# stream; IDLE_ARGS go to mcp-load, e.g. --sources, --h2-streams, --control) and `churn`.
# Every measurement is taken RUNS times (default 3), the ceiling and ours alternating, each on a
# freshly started server; the raw lines go to stderr and a table of medians to stdout.
# Everything listens on 127.0.0.1 and is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
IDLE=${2:-10000}
RUNS=${3:-3}
cargo build -q --release -p mcp-bench --bins
BIN=target/release
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
PIDS=()
RESULTS=$(mktemp)
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -f "$RESULTS"' EXIT

start() { # start <binary>: runs it on CPU 0, sets ADDR and PID
    local out
    out=$(mktemp)
    taskset -c 0 "$BIN/$1" 127.0.0.1:0 >"$out" 2>/dev/null &
    PID=$!
    PIDS+=("$PID")
    for _ in $(seq 1 100); do [[ -s $out ]] && break; sleep 0.05; done
    ADDR=$(sed -E 's#http://([^/]+)/.*#\1#' "$out" | head -1)
    rm -f "$out"
}

measure() { # measure <server> <transport> <mode>: one fresh server, one measurement
    local line
    start "$1"
    case $3 in
        # shellcheck disable=SC2086
        idle) line=$(taskset -c 1 "$BIN/mcp-load" --addr "$ADDR" --transport "$2" --idle "$IDLE" --server-pid "$PID" ${IDLE_ARGS:-}) ;;
        churn) line=$(taskset -c 1 "$BIN/mcp-load" --addr "$ADDR" --transport "$2" --churn "${CHURN:-10000}" --drops "${DROPS:-1000}" --server-pid "$PID") ;;
        *)
            line=$(taskset -c 1 "$BIN/mcp-load" --addr "$ADDR" --transport "$2" --sessions "$3" --seconds "$SECS")
            # The server's CPU time (user + system) over its whole life, in ms.
            line="$line server_cpu_ms=$(awk -v hz="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / hz)}' "/proc/$PID/stat")"
            ;;
    esac
    kill "$PID"
    wait "$PID" 2>/dev/null || true
    echo "[$1] $line" >&2
    echo "$1 $2 $3 $line" >>"$RESULTS"
}

if [[ ${SUITE:-} == rmcp ]]; then
    # The stateless revision against a 2025 session of ours and against the Rust SDK (rmcp) in
    # its stateless JSON mode, driven by the same 2026-07-28 tools/call requests; the three
    # alternate within each run.
    for mode in ${MODES:-32}; do
        for _ in $(seq 1 "$RUNS"); do
            measure mcp-bench-server streamable "$mode"
            measure mcp-bench-server stateless "$mode"
            measure rmcp-bench-server stateless "$mode"
        done
    done
else
    for transport in ${TRANSPORTS:-sse streamable stateless}; do
        for mode in ${MODES:-1 32 idle}; do
            [[ $transport == stateless && ($mode == idle || $mode == churn) ]] && continue
            for _ in $(seq 1 "$RUNS"); do
                # The ceiling keeps no session count to churn against.
                [[ $mode == churn ]] || measure mcp-ceiling "$transport" "$mode"
                measure mcp-bench-server "$transport" "$mode"
            done
        done
    done
fi

# Medians per (server, transport, mode).
awk -v runs="$RUNS" '
function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{
    key = $1 " " $2 " " $3
    if (!(key in seen)) { seen[key] = 1; order[++count] = key }
    for (i = 4; i <= NF; i++) { split($i, kv, "="); vals[key, kv[1]] = vals[key, kv[1]] " " kv[2]; v[kv[1]] = kv[2] }
    if (v["calls"] > 0 && v["server_cpu_ms"] != "") vals[key, "cpu_us_per_call"] = vals[key, "cpu_us_per_call"] " " (v["server_cpu_ms"] * 1000 / v["calls"])
    delete v
}
END {
    printf "medians of %d runs\n", runs
    printf "%-17s %-11s %-6s %12s %8s %8s %12s %13s\n", "server", "transport", "mode", "calls/s", "p50_us", "p99_us", "cpu_us/call", "KiB/session"
    for (k = 1; k <= count; k++) {
        key = order[k]; split(key, p, " ")
        if (p[3] == "idle")
            printf "%-17s %-11s %-6s %12s %8s %8s %12s %13.1f\n", p[1], p[2], p[3], "-", "-", "-", "-", median(vals[key, "kib_per_session"])
        else if (p[3] == "churn")
            printf "%-17s %-11s %-6s sessions %s -> %s, RSS %s -> %s KiB\n", p[1], p[2], p[3], median(vals[key, "sessions_before"]), median(vals[key, "sessions_after"]), median(vals[key, "rss_before_kib"]), median(vals[key, "rss_after_kib"])
        else
            printf "%-17s %-11s %-6s %12d %8d %8d %12.1f %13s\n", p[1], p[2], p[3], median(vals[key, "calls_per_sec"]), median(vals[key, "p50_us"]), median(vals[key, "p99_us"]), median(vals[key, "cpu_us_per_call"]), "-"
        rate[key] = median(vals[key, "calls_per_sec"])
    }
    for (k = 1; k <= count; k++) {
        split(order[k], p, " ")
        ours = rate["mcp-bench-server stateless " p[3]]
        if (p[1] == "mcp-bench-server" && p[2] == "stateless" && ours > 0) {
            session = rate["mcp-bench-server streamable " p[3]]
            rmcp = rate["rmcp-bench-server stateless " p[3]]
            if (session > 0) printf "stateless / 2025 session (%s clients): %.2fx\n", p[3], ours / session
            if (rmcp > 0) printf "stateless / rmcp stateless JSON (%s clients): %.2fx\n", p[3], ours / rmcp
        }
    }
}' "$RESULTS"

#!/usr/bin/env bash
# Side-by-side load benchmark: the ceiling (raw hyper, same JSON work, no MCP) and our server,
# over HTTP+SSE and Streamable HTTP. The server runs pinned to CPU 0, the generator to CPU 1.
#   tests/bench/run.sh [SECONDS] [IDLE_SESSIONS]
# Everything listens on 127.0.0.1 and is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${1:-10}
IDLE=${2:-10000}
cargo build -q --release -p mcp-tests --bins
BIN=target/release
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT

start() { # start <binary>: runs it on CPU 0, sets ADDR and PID
    local out
    out=$(mktemp)
    taskset -c 0 "$BIN/$1" 127.0.0.1:0 >"$out" 2>/dev/null &
    PID=$!
    PIDS+=("$PID")
    for _ in $(seq 1 100); do [[ -s $out ]] && break; sleep 0.05; done
    ADDR=$(sed -E 's#http://([^/]+)/.*#\1#' "$out" | head -1)
}

load() { taskset -c 1 "$BIN/mcp-load" --addr "$ADDR" "$@"; }

for server in mcp-ceiling mcp-bench-server; do
    for transport in sse streamable; do
        start "$server"
        echo "[$server] $(load --transport "$transport" --sessions 1 --seconds "$SECS")"
        echo "[$server] $(load --transport "$transport" --sessions 32 --seconds "$SECS")"
        kill "$PID"; wait "$PID" 2>/dev/null || true
        start "$server"
        echo "[$server] $(load --transport "$transport" --idle "$IDLE" --server-pid "$PID")"
        kill "$PID"; wait "$PID" 2>/dev/null || true
    done
done

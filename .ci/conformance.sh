#!/usr/bin/env bash
# Runs the official MCP conformance suite (pinned 0.2.0-alpha.12, under Node 22 fetched from the
# npm registry) against examples/examples/conformance.rs on a free loopback port.
#   --requirements 2025-11-25          gates (must exit 0)
#   --suite all --spec-version 2025-11-25  must also have no failure and no warning
# Results (per-scenario checks.json) land in target/conformance/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT="$ROOT/target/conformance"
rm -rf "$OUT" && mkdir -p "$OUT"
CONF=(npx -y -p node@22 -p @modelcontextprotocol/conformance@0.2.0-alpha.12 -- conformance)

cargo build -q -p mcp-examples --example conformance
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$ROOT/target/debug/examples/conformance" "127.0.0.1:$PORT" >"$OUT/fixture.out" 2>"$OUT/fixture.log" &
PID=$!
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$PORT/health" && break
    sleep 0.1
done
URL="http://127.0.0.1:$PORT/mcp"

strip() { sed 's/\x1b\[[0-9;]*m//g'; }

echo "==> conformance --requirements 2025-11-25"
set +e
"${CONF[@]}" server --url "$URL" --requirements 2025-11-25 -o "$OUT/requirements" --timeout 30000 2>"$OUT/requirements.err" | strip >"$OUT/requirements.txt"
req=${PIPESTATUS[0]}
"${CONF[@]}" server --url "$URL" --suite all --spec-version 2025-11-25 -o "$OUT/all" --timeout 30000 2>"$OUT/all.err" | strip >"$OUT/all.txt"
all=${PIPESTATUS[0]}
set -e
sed -n '/=== SUMMARY ===/,$p' "$OUT/requirements.txt"
echo "==> conformance --suite all --spec-version 2025-11-25"
sed -n '/=== SUMMARY ===/,$p' "$OUT/all.txt" | grep -E '^(Total|✗)' || true
# Count non-success checks other than INFO across every scenario of the full suite.
bad=$(python3 - "$OUT/all" <<'PY'
import json, pathlib, sys
bad = []
for f in sorted(pathlib.Path(sys.argv[1]).glob("*/checks.json")):
    for c in json.loads(f.read_text()):
        if c["status"] not in ("SUCCESS", "INFO"):
            bad.append(f"{f.parent.name}: {c['id']} {c['status']} {c.get('errorMessage') or ''}")
print("\n".join(bad))
PY
)
if [[ -n "$bad" ]]; then
    echo "non-passing checks (failures, warnings or skips) in --suite all:"
    echo "$bad"
fi
echo "conformance: requirements exit $req, suite-all exit $all"
[[ $req == 0 && $all == 0 && -z "$bad" ]]

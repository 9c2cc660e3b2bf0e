#!/usr/bin/env bash
# Runs the official MCP conformance suite (pinned 0.2.0-alpha.12, under Node 22 fetched from the
# npm registry) against examples/examples/conformance.rs on a free loopback port, at both wires:
# the session-based 2025-11-25 one and the stateless 2026-07-28 one, on the same endpoint.
#   --requirements REV                 must exit 0 with no failure, warning or skip in any check,
#                                      the unscored scenarios included
#   --suite all --spec-version REV     the same
# There is no baseline file: every leg must be clean.
# Results (per-scenario checks.json) land in target/conformance/<leg>/.
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

# Lists the checks of a run that are neither SUCCESS nor INFO (failures, warnings, skips).
# The one exception is a check the pinned suite reports as SKIPPED without contacting the
# server at all (its harness is not written yet), so no server can make it pass:
#   tasks-status-notifications  (0.2.0-alpha.12: "The harness needs a rewrite against the new
#                                channel"; server notifications of task status are optional)
# Any other status of that check, or a skip of any other check, counts.
non_passing() {
    python3 - "$1" <<'PY'
import json, pathlib, sys
UNWRITTEN = {"tasks-status-notifications"}
bad = []
for f in sorted(pathlib.Path(sys.argv[1]).glob("*/checks.json")):
    for c in json.loads(f.read_text()):
        if c["status"] in ("SUCCESS", "INFO"):
            continue
        if c["status"] == "SKIPPED" and c["id"] in UNWRITTEN and "harness needs a rewrite" in (c.get("errorMessage") or ""):
            continue
        bad.append(f"{f.parent.name}: {c['id']} {c['status']} {c.get('errorMessage') or ''}")
print("\n".join(bad))
PY
}

# Counts the checks of a run by status.
tally() {
    python3 - "$1" <<'PY'
import collections, json, pathlib, sys
n = collections.Counter(c["status"] for f in pathlib.Path(sys.argv[1]).glob("*/checks.json") for c in json.loads(f.read_text()))
print("checks: " + ", ".join(f"{v} {k}" for k, v in sorted(n.items())))
PY
}

ok=1
# leg name, suite arguments: the leg passes when the suite exits 0 and no check is non-passing.
run_leg() {
    local name=$1
    shift
    echo "==> conformance $*"
    set +e
    "${CONF[@]}" server --url "$URL" "$@" -o "$OUT/$name" --timeout 30000 2>"$OUT/$name.err" | strip >"$OUT/$name.txt"
    local rc=${PIPESTATUS[0]}
    set -e
    sed -n '/=== SUMMARY ===/,$p' "$OUT/$name.txt" | grep -E '^(Total|Not scored|✗)' || true
    tally "$OUT/$name"
    local bad
    bad=$(non_passing "$OUT/$name")
    if [[ -n "$bad" ]]; then
        echo "non-passing checks (failures, warnings or skips):"
        echo "$bad"
        ok=0
    fi
    echo "conformance $*: exit $rc"
    [[ $rc == 0 ]] || ok=0
}

run_leg requirements-2025-11-25 --requirements 2025-11-25
run_leg all-2025-11-25 --suite all --spec-version 2025-11-25
run_leg requirements-2026-07-28 --requirements 2026-07-28
run_leg all-2026-07-28 --suite all --spec-version 2026-07-28
[[ $ok == 1 ]]

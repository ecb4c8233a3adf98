#!/usr/bin/env bash
# Runs the official Engine.IO v4 test suite (and, once the Socket.IO server
# exists, the Socket.IO v5 suite) from a checkout of socketio/socket.io
# against gosio's conformance servers on :3000. Exits non-zero on any failure.
set -euo pipefail
suites=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$bin"' EXIT
cd "$root"
go build -o "$bin/eioserver" ./conformance/cmd/eioserver

wait_port() {
  for _ in $(seq 1 100); do
    (exec 3<>/dev/tcp/127.0.0.1/3000) 2>/dev/null && return 0
    sleep 0.05
  done
  echo "server did not listen on :3000" >&2; return 1
}

run_suite() { # dir server
  local dir="$suites/$1" server=$2
  [ -d "$dir" ] || { echo "missing $dir" >&2; return 1; }
  (cd "$dir" && { [ -d node_modules ] || npm ci --no-audit --no-fund; })
  "$bin/$server" -addr :3000 &
  local pid=$!
  wait_port
  local rc=0
  (cd "$dir" && npx mocha test-suite.js) || rc=$?
  kill "$pid"; wait "$pid" 2>/dev/null || true
  return $rc
}

status=0
echo "== Engine.IO v4 suite =="
run_suite docs/engine.io-protocol/v4-test-suite eioserver || status=1
exit $status

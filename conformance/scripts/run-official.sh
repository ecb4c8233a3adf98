#!/usr/bin/env bash
# Runs the official Engine.IO v4 and Socket.IO v5 test suites from a
# checkout of socketio/socket.io against gosio's conformance servers on
# :3000 (conformance/cmd/eioserver, conformance/cmd/sioserver). Exits
# non-zero on any failure.
set -euo pipefail
suites=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$bin"' EXIT
cd "$root"
go build -o "$bin/eioserver" ./conformance/cmd/eioserver
go build -o "$bin/sioserver" ./conformance/cmd/sioserver

port_open() { (exec 3<>/dev/tcp/127.0.0.1/3000) 2>/dev/null; }

wait_port() { # pid: wait until our server (still alive) listens on :3000
  for _ in $(seq 1 200); do
    kill -0 "$1" 2>/dev/null || { echo "server exited before listening on :3000" >&2; return 1; }
    port_open && return 0
    sleep 0.05
  done
  echo "server did not listen on :3000" >&2; return 1
}

run_suite() { # dir server
  local dir="$suites/$1" server=$2
  [ -d "$dir" ] || { echo "missing $dir" >&2; return 1; }
  (cd "$dir" && { [ -d node_modules ] || npm ci --no-audit --no-fund; })
  # The suites hard-code :3000; refuse to test whatever else listens there.
  if port_open; then echo "port 3000 is already in use; stop that server first" >&2; return 1; fi
  "$bin/$server" -addr :3000 &
  local pid=$!
  wait_port "$pid" || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; return 1; }
  local rc=0
  (cd "$dir" && npx --no mocha test-suite.js) || rc=$?
  kill "$pid"; wait "$pid" 2>/dev/null || true
  return $rc
}

status=0
echo "== Engine.IO v4 suite =="
run_suite docs/engine.io-protocol/v4-test-suite eioserver || status=1
echo "== Socket.IO v5 suite =="
run_suite docs/socket.io-protocol/v5-test-suite sioserver || status=1
exit $status

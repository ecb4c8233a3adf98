#!/usr/bin/env bash
# profile.sh SCENARIO [SERVER] [DELAY] [SECONDS]: CPU and heap profiles of a Go server
# (gosio by default) under a load-generator scenario, both pinned as in the
# comparison (server on CPU 0, load generator on CPU 1). Profiles land in
# results/profiles/. Use the profile-echo and profile-bcast scenarios for a
# steady 15 s load; LOADGEN_FLAGS="-size 16384" sets the echo payload size.
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:?scenario}; server=${2:-gosio}; delay=${3:-4}; secs=${4:-8}
port=$((22000 + RANDOM % 900)); pport=$((port + 1000))
out=results/profiles; mkdir -p "$out"
taskset -c 0 "bin/${server}-server" -addr 127.0.0.1:$port -pprof 127.0.0.1:$pport >/dev/null &
spid=$!
trap 'kill $spid 2>/dev/null || true' EXIT
sleep 0.5
taskset -c 1 bin/loadgen -addr 127.0.0.1:$port -pid $spid -scenario "$scenario" -server "$server" -out "$out/$scenario-$server.json" ${LOADGEN_FLAGS:-} &
lpid=$!
sleep "$delay"
curl -s -o "$out/$scenario-$server.cpu.pprof" "http://127.0.0.1:$pport/debug/pprof/profile?seconds=$secs"
curl -s -o "$out/$scenario-$server.heap.pprof" "http://127.0.0.1:$pport/debug/pprof/heap"
curl -s -o "$out/$scenario-$server.allocs.pprof" "http://127.0.0.1:$pport/debug/pprof/allocs"
wait $lpid
go tool pprof -top -nodecount=35 "bin/${server}-server" "$out/$scenario-$server.cpu.pprof" 2>/dev/null | head -45

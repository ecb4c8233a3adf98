#!/usr/bin/env bash
# run-cluster.sh (make run-cluster): the chat as a cluster on this machine,
# a private redis-server on a free port and two chat servers on it, each on
# a free port of its own. Open one URL in a browser and the other in
# another: they chat through Redis. Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/../.."

command -v redis-server >/dev/null || { echo "run-cluster: redis-server is required (apt-get install redis-server)" >&2; exit 1; }

# free_port prints the first port from $1 on that nothing listens on.
free_port() {
	local p
	for ((p = $1; p < $1 + 200; p++)); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	echo "run-cluster: no free port from $1" >&2
	return 1
}

tmp=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

go build -o "$tmp/chat" ./examples/chat

redis_port=$(free_port 6400)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp" --loglevel warning &
pids+=($!)
for _ in $(seq 50); do
	(exec 3<>"/dev/tcp/127.0.0.1/$redis_port") 2>/dev/null && break
	sleep 0.1
done
redis_url="redis://127.0.0.1:$redis_port"

port_a=$(free_port 3001)
"$tmp/chat" -addr "127.0.0.1:$port_a" -redis "$redis_url" -name A &
pids+=($!)
port_b=$(free_port $((port_a + 1)))
"$tmp/chat" -addr "127.0.0.1:$port_b" -redis "$redis_url" -name B &
pids+=($!)

sleep 1
echo
echo "chat cluster on Redis $redis_url:"
echo "  server A: http://localhost:$port_a/"
echo "  server B: http://localhost:$port_b/"
echo "Ctrl-C stops it."
wait -n "${pids[@]}" || true

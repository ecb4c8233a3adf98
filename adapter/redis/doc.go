// Package redis provides Socket.IO adapters that scale a gosio server out
// over Redis, wire-compatible with Node's @socket.io/redis-adapter 8.3: Go
// and Node servers can share one Redis and serve one cluster.
//
// New is the classic adapter (Node's createAdapter): broadcasts over
// PUBLISH and pattern subscriptions, requests and responses over their own
// channels, msgpack (notepack.io) or JSON. NewSharded is the sharded
// adapter (Node's createShardedAdapter, Redis 7 or later): SPUBLISH and
// SSUBSCRIBE, on a standalone Redis or a Redis Cluster.
//
// Both return a *Cluster whose Adapter method is an adapter.Factory:
//
//	client, _ := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{"127.0.0.1:6379"}, DisableCache: true})
//	rc, err := redis.New(ctx, client, nil)
//	if err != nil { ... }
//	defer rc.Close()
//	srv := socketio.NewServer(&socketio.Options{Adapter: rc.Adapter})
//
// # Connections
//
// A Cluster subscribes on one dedicated connection it takes from the
// client (Node's subClient) and publishes through the client's pipelined
// connections (Node's pubClient), in call order from one goroutine. It
// resubscribes by itself after the connection drops; messages published
// while it was away are lost, as in Node, but the Cluster reports the
// window (Options.OnGap, Stats).
//
// # Ordering and back-pressure
//
// Messages of one namespace are handled one at a time in arrival order, on
// a goroutine of the Cluster, never on the Redis client's reader. Each
// namespace's inbound queue is bounded (Options.InboundQueue): when it is
// full, the reader waits for room (counted in Stats.Blocked, logged once)
// and Redis buffers what follows, so that a burst is delayed, not lost.
// Handlers of server-side emits run on the socketio server's workers.
//
// See docs/cluster.md for the options' Node names and the measured
// behaviour on Redis failures.
package redis

// Every command the adapters build is pinned (rueidis's Completed.Pin):
// when a connection breaks, rueidis can hand a command back to its pool
// while its writer still writes it, and the next command built from that
// memory races with the writer (seen under -race in the Redis restart
// tests). Pinned commands are left to the garbage collector instead.

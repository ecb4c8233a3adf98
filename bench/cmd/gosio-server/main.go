// Command gosio-server is gosio under the suite's app contract (see
// docs/benchmarks.md, "App contract"), with every option at its default.
//
// With -redis it is a node of a cluster over Redis: -adapter classic
// (adapter/redis New), sharded (NewSharded, subscription mode dynamic) or
// streams (NewStreams), each with its default options; -recovery turns
// connection state recovery on.
package main

import (
	"context"
	"flag"
	"log"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/gosio/gosio/adapter/redis"
	"github.com/gosio/gosio/bench/internal/appkit"
	"github.com/gosio/gosio/socketio"
)

func main() {
	redisURL := flag.String("redis", "", "Redis URL: run as a cluster node (redis://127.0.0.1:6379)")
	adapterName := flag.String("adapter", "classic", "cluster adapter: classic, sharded or streams")
	recovery := flag.Bool("recovery", false, "connection state recovery on")
	f := appkit.ParseFlags()
	var opts socketio.Options
	if *redisURL != "" {
		cluster := newCluster(*redisURL, *adapterName)
		defer cluster.Close()
		opts.Adapter = cluster.Adapter
		appkit.ClusterStats = func() any { return cluster.Stats() }
	}
	if *recovery {
		opts.ConnectionStateRecovery = &socketio.ConnectionStateRecovery{}
	}
	var conns atomic.Int64
	io := socketio.NewServer(&opts)
	io.OnConnection(func(s *socketio.Socket) {
		conns.Add(1)
		s.OnDisconnect(func(string) { conns.Add(-1) })
		// echo acknowledges its arguments unchanged (text and binary).
		s.On("echo", func(args socketio.Args, ack socketio.Ack) { _ = ack(args.Any()...) })
		// bcast re-emits its argument to every socket as "b".
		s.On("bcast", func(args socketio.Args) { _ = io.Emit("b", args.Any()...) })
		// join adds the socket to a room and acknowledges.
		s.On("join", func(args socketio.Args, ack socketio.Ack) {
			var room string
			_ = args.Decode(0, &room)
			s.Join(room)
			_ = ack()
		})
		// room re-emits its second argument to the room named by the first.
		s.On("room", func(args socketio.Args) {
			var room string
			if len(args) < 2 || args.Decode(0, &room) != nil {
				return
			}
			_ = io.To(room).Emit("b", args[1:].Any()...)
		})
		// fetch acknowledges the number of sockets of the cluster
		// (io.fetchSockets()), or -1 on error.
		s.On("fetch", func(_ socketio.Args, ack socketio.Ack) {
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				ss, err := io.Sockets().FetchSockets(ctx)
				if err != nil {
					_ = ack(-1)
					return
				}
				_ = ack(len(ss))
			}()
		})
	})
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	appkit.Admin(mux, "gosio", &conns)
	appkit.Serve(f, mux)
}

// newCluster connects to url and starts the named adapter with its
// default options.
func newCluster(url, name string) *redis.Cluster {
	opt, err := rueidis.ParseURL(url)
	if err != nil {
		log.Fatalf("-redis %q: %v", url, err)
	}
	opt.DisableCache = true
	client, err := rueidis.NewClient(opt)
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var c *redis.Cluster
	switch name {
	case "classic":
		c, err = redis.New(ctx, client, nil)
	case "sharded":
		c, err = redis.NewSharded(ctx, client, nil)
	case "streams":
		c, err = redis.NewStreams(ctx, client, nil)
	default:
		log.Fatalf("unknown adapter %q", name)
	}
	if err != nil {
		log.Fatalf("%s adapter: %v", name, err)
	}
	return c
}

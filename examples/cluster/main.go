// Command cluster is a gosio node of a Socket.IO cluster over Redis: run
// several of them, and Node servers with @socket.io/redis-adapter on the
// same Redis, and a message sent to any of them reaches the clients of all.
//
//	go run ./examples/cluster -addr :3001 -redis 127.0.0.1:6379
//	go run ./examples/cluster -addr :3002 -redis 127.0.0.1:6379 -sharded
//
// Clients emit "chat" with a string; every client of the cluster gets it.
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/redis/rueidis"

	"github.com/gosio/gosio/adapter/redis"
	"github.com/gosio/gosio/socketio"
)

func main() {
	addr := flag.String("addr", ":3001", "listen address")
	redisAddr := flag.String("redis", "127.0.0.1:6379", "Redis address")
	sharded := flag.Bool("sharded", false, "use the sharded adapter (Redis 7+) instead of the classic one")
	flag.Parse()

	client, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{*redisAddr}, DisableCache: true})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	var rc *redis.Cluster
	if *sharded {
		rc, err = redis.NewSharded(ctx, client, nil)
	} else {
		rc, err = redis.New(ctx, client, nil)
	}
	cancel()
	if err != nil {
		log.Fatal(err)
	}
	defer rc.Close()

	srv := socketio.NewServer(&socketio.Options{Adapter: rc.Adapter})
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("chat", func(msg string) {
			if err := srv.Emit("chat", s.ID()+": "+msg); err != nil {
				log.Print(err)
			}
		})
	})
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	// Timeouts: see docs/security.md. ReadTimeout bounds reading a
	// request and its body (a long-polling GET the server holds and a
	// hijacked WebSocket are not cut by it); no WriteTimeout, which would
	// cut long polls held for up to the ping interval.
	hs := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}

	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
		<-sig
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = hs.Shutdown(ctx)
	}()
	log.Printf("gosio cluster node on %s (Redis %s, uid %s)", *addr, *redisAddr, rc.UID())
	if err := hs.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

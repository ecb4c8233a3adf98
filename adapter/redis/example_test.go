package redis_test

import (
	"context"
	"log"
	"net/http"
	"time"

	"github.com/redis/rueidis"

	"github.com/gosio/gosio/adapter/redis"
	"github.com/gosio/gosio/socketio"
)

// A gosio server in a Socket.IO cluster over Redis, beside Node servers
// that use @socket.io/redis-adapter's createAdapter.
func ExampleNew() {
	client, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{"127.0.0.1:6379"}, DisableCache: true})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rc, err := redis.New(ctx, client, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer rc.Close()
	srv := socketio.NewServer(&socketio.Options{Adapter: rc.Adapter})
	// Reaches the clients of every server of the cluster.
	_ = srv.To("news").Emit("headline", "gosio joins the cluster")
	hs := &http.Server{Addr: ":3000", Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(hs.ListenAndServe())
}

// The sharded adapter (createShardedAdapter), on Redis 7 or later.
func ExampleNewSharded() {
	client, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{"127.0.0.1:6379"}, DisableCache: true})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	rc, err := redis.NewSharded(context.Background(), client, &redis.ShardedOptions{SubscriptionMode: redis.DynamicPrivate})
	if err != nil {
		log.Fatal(err)
	}
	defer rc.Close()
	_ = socketio.NewServer(&socketio.Options{Adapter: rc.Adapter})
}

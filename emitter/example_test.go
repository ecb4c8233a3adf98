package emitter_test

import (
	"context"
	"errors"
	"log"
	"time"

	"github.com/redis/rueidis"

	"github.com/gosio/gosio/emitter"
)

// New sends to servers running the classic Redis adapter (Node's
// @socket.io/redis-adapter createAdapter, or gosio's adapter/redis New).
func ExampleNew() {
	client, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{"127.0.0.1:6379"}})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	e := emitter.New(client, nil) // key "socket.io", MessagePack
	ctx := context.Background()
	if err := e.Emit(ctx, "news", "hello"); err != nil {
		log.Fatal(err)
	}
	// Rooms, namespaces and flags, as io.of("/admin").to("room1").volatile.emit(...).
	if err := e.Of("/admin").To("room1").Volatile().Emit(ctx, "alert", 1); err != nil {
		log.Fatal(err)
	}
	if err := e.To("room1").SocketsJoin(ctx, "room2"); err != nil {
		log.Fatal(err)
	}
}

// NewStreams sends to servers running the Redis streams adapter (Node's
// @socket.io/redis-streams-adapter, or gosio's streams adapter).
func ExampleNewStreams() {
	client, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{"127.0.0.1:6379"}})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	// StreamCount must be the adapters' streamCount (1 if they use the default).
	e := emitter.NewStreams(client, &emitter.StreamsOptions{StreamName: "socket.io", StreamCount: 1})
	if err := e.Of("/chat").Except("muted").Emit(context.Background(), "message", "hi"); err != nil {
		log.Fatal(err)
	}
}

// Emit arguments are encoded as socket.io does: []byte arrives as binary
// (a Buffer or ArrayBuffer in the client), everything else as JSON.
func ExampleEmitter_Emit() {
	client, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{"127.0.0.1:6379"}})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	e := emitter.New(client, nil)
	err = e.Emit(context.Background(), "file", map[string]any{"name": "a.png", "data": []byte{0x89, 'P', 'N', 'G'}})
	if err != nil {
		log.Fatal(err)
	}
}

// An Operator is immutable: a base selection can be shared and extended.
func ExampleOperator() {
	client, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{"127.0.0.1:6379"}})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	ctx := context.Background()
	staff := emitter.New(client, nil).To("staff").Except("away")
	_ = staff.Emit(ctx, "shift", "starts")
	_ = staff.To("managers").Compress(false).Emit(ctx, "report", 42) // staff or managers, not away
	_ = staff.DisconnectSockets(ctx, false)
}

// A Pipeline emits from a loop without waiting for each reply, as Node's
// emitter does, and still returns Redis's errors, from Wait.
func ExampleNewPipeline() {
	client, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{"127.0.0.1:6379"}})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e := emitter.New(client, nil)
	p := emitter.NewPipeline(0) // up to DefaultWindow emits waiting for their replies
	for i := range 10000 {
		if err := p.Emit(ctx, e.To("tickers"), "tick", i); err != nil {
			log.Fatal(err) // an encoding error, or ctx done while the window was full
		}
	}
	var pe *emitter.PipelineError
	if err := p.Wait(ctx); errors.As(err, &pe) {
		log.Printf("%d emits failed: %v", pe.Failed, pe.Errs)
	} else if err != nil {
		log.Fatal(err) // ctx done before every reply came
	}
}

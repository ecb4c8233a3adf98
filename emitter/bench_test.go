package emitter

import (
	"context"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/gosio/gosio/internal/testutil"
)

// BenchmarkEmit measures Emit into a local redis-server from parallel
// goroutines (rueidis pipelines their PUBLISHes and XADDs), with rueidis's
// default flushing and with MaxFlushDelay 20 µs, which writes more
// commands per syscall (docs/emitter.md).
func BenchmarkEmit(b *testing.B) {
	addr := testutil.StartRedis(b)
	for _, delay := range []time.Duration{0, 20 * time.Microsecond} {
		c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}, DisableCache: true, MaxFlushDelay: delay})
		if err != nil {
			b.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			e    *Emitter
		}{{"pubsub", New(c, nil)}, {"streams", NewStreams(c, nil)}} {
			b.Run(tc.name+"/flush="+delay.String(), func(b *testing.B) {
				op := tc.e.To("room1")
				ctx := context.Background()
				b.ReportAllocs()
				b.SetParallelism(32)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := op.Emit(ctx, "ev", "hello", 42, map[string]any{"k": "v"}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
		c.Close()
	}
}

// BenchmarkEncode measures the encoding of a pub/sub emit alone, with a
// map argument and with a struct argument.
func BenchmarkEncode(b *testing.B) {
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{testutil.StartRedis(b)}, DisableCache: true})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	op := New(c, nil).To("room1")
	type payload struct {
		T int64  `json:"t"`
		S int64  `json:"s"`
		P string `json:"p"`
	}
	for _, tc := range []struct {
		name string
		args []any
	}{{"map", []any{"hello", 42, map[string]any{"k": "v"}}}, {"struct", []any{payload{T: 123456789, S: 2, P: "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := op.encodeBroadcast("ev", tc.args); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPipeline measures a loop of Pipeline.Emit from one goroutine
// (window 128) into a local redis-server, the way a Node user emits.
func BenchmarkPipeline(b *testing.B) {
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{testutil.StartRedis(b)}, DisableCache: true})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	for _, tc := range []struct {
		name string
		e    *Emitter
	}{{"pubsub", New(c, nil)}, {"streams", NewStreams(c, nil)}} {
		b.Run(tc.name, func(b *testing.B) {
			op := tc.e.To("room1")
			ctx := context.Background()
			p := NewPipeline(128)
			b.ReportAllocs()
			for b.Loop() {
				if err := p.Emit(ctx, op, "ev", "hello", 42, map[string]any{"k": "v"}); err != nil {
					b.Fatal(err)
				}
			}
			if err := p.Wait(ctx); err != nil {
				b.Fatal(err)
			}
		})
	}
}

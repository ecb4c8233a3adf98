package socketio

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/gosio/gosio/engineio"
)

// BenchmarkBroadcastWebSocket measures io.Emit to n WebSocket clients over
// loopback, until every client has read every packet: the whole write path
// (queue, flusher, frame writes) and the clients' reads share the CPUs.
func BenchmarkBroadcastWebSocket(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("sockets=%d", n), func(b *testing.B) {
			srv := NewServer(&Options{Engine: engineio.Options{PingInterval: time.Hour, SendQueueLimit: 64 << 20}})
			u := startBenchServer(b, srv)
			var received atomic.Int64
			var wg sync.WaitGroup
			ctx, cancel := context.WithCancel(context.Background())
			defer func() { cancel(); wg.Wait() }()
			for range n {
				conn, _, err := websocket.Dial(ctx, u, nil)
				if err != nil {
					b.Fatal(err)
				}
				conn.SetReadLimit(-1)
				_, _, _ = conn.Read(ctx) // open
				_ = conn.Write(ctx, websocket.MessageText, []byte("40"))
				_, _, _ = conn.Read(ctx) // CONNECT reply
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer conn.CloseNow()
					for {
						if _, _, err := conn.Read(ctx); err != nil {
							return
						}
						received.Add(1)
					}
				}()
			}
			payload := strings.Repeat("x", 64)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_ = srv.Emit("news", payload)
			}
			want := int64(b.N * n)
			for received.Load() < want {
				time.Sleep(100 * time.Microsecond)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(want), "ns/delivery")
		})
	}
}

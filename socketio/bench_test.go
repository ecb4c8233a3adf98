package socketio

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gosio/gosio/engineio"
)

// startBenchServer serves srv on loopback for the benchmark and returns the
// WebSocket URL of its Socket.IO endpoint; both stop when b ends.
func startBenchServer(b *testing.B, srv *Server) string {
	hs := httptest.NewServer(srv)
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hs.Close()
	})
	return "ws" + strings.TrimPrefix(hs.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
}

// BenchmarkBroadcast measures io.Emit to n in-process polling sockets: the
// packet is encoded once and its frames queued on every session. Queues are
// drained outside the timer. It reports the cost per delivery.
func BenchmarkBroadcast(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("sockets=%d", n), func(b *testing.B) {
			srv := NewServer(&Options{Engine: engineio.Options{
				PingInterval:   time.Hour,
				SendQueueLimit: 1 << 30,
			}})
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = srv.Shutdown(ctx)
			}()
			clients := make([]*inprocClient, n)
			for i := range clients {
				clients[i] = newInprocClient(b, srv)
			}
			payload := strings.Repeat("x", 64)
			const batch = 64
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := srv.Emit("news", payload, i); err != nil {
					b.Fatal(err)
				}
				if i%batch == batch-1 {
					b.StopTimer()
					for _, c := range clients {
						c.poll(b)
					}
					b.StartTimer()
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/delivery")
		})
	}
}

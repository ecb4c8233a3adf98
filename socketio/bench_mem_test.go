package socketio

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/gosio/gosio/engineio"
)

// BenchmarkIdleMemory reports the heap and stack the server holds per idle
// WebSocket client connected to the main namespace (client-side memory is
// measured too, so compare runs, not absolute values).
func BenchmarkIdleMemory(b *testing.B) {
	const n = 2000
	srv := NewServer(&Options{Engine: engineio.Options{PingInterval: time.Hour}})
	srv.OnConnection(func(s *Socket) {
		s.On("echo", func(args Args, ack Ack) { _ = ack(args.Any()...) })
	})
	u := startBenchServer(b, srv)
	ctx := context.Background()
	measure := func() (heap, stack uint64) {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse, ms.StackInuse
	}
	for i := 0; i < b.N; i++ {
		h0, s0 := measure()
		conns := make([]*websocket.Conn, 0, n)
		for range n {
			c, _, err := websocket.Dial(ctx, u, nil)
			if err != nil {
				b.Fatal(err)
			}
			_, _, _ = c.Read(ctx)
			_ = c.Write(ctx, websocket.MessageText, []byte("40"))
			_, _, _ = c.Read(ctx)
			conns = append(conns, c)
		}
		h1, s1 := measure()
		b.ReportMetric(float64(h1-h0)/n, "heapB/conn")
		b.ReportMetric(float64(s1-s0)/n, "stackB/conn")
		for _, c := range conns {
			_ = c.CloseNow()
		}
	}
}

package socketio

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/gosio/gosio/engineio"
)

// BenchmarkAckEcho measures one client's event-with-ack round trip over a
// loopback WebSocket: decode, dispatch, handler, ack encode, write.
func BenchmarkAckEcho(b *testing.B) {
	srv := NewServer(&Options{Engine: engineio.Options{PingInterval: time.Hour}})
	srv.OnConnection(func(s *Socket) {
		s.On("echo", func(args Args, ack Ack) { _ = ack(args.Any()...) })
	})
	u := startBenchServer(b, srv)
	ctx := context.Background()
	c, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.CloseNow()
	_, _, _ = c.Read(ctx)
	_ = c.Write(ctx, websocket.MessageText, []byte("40"))
	_, _, _ = c.Read(ctx)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := strconv.Itoa(i)
		if err := c.Write(ctx, websocket.MessageText, []byte(`42`+id+`["echo",{"n":1},"hello"]`)); err != nil {
			b.Fatal(err)
		}
		_, data, err := c.Read(ctx)
		if err != nil || !strings.HasPrefix(string(data), "43"+id+"[") {
			b.Fatalf("%q %v", data, err)
		}
	}
}

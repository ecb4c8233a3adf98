package socketio

import (
	"context"
	"net/http/httptest"
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
	hs := httptest.NewServer(srv)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hs.Close()
	}()
	ctx := context.Background()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
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

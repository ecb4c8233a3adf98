package socketio

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/gosio/gosio/engineio"
)

// dialV3 opens a WebSocket session as a socket.io 2.x client does (EIO=3)
// and reads the open packet.
func dialV3(t *testing.T, url string) (*wsClient, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/socket.io/?EIO=3&transport=websocket", nil)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = conn.CloseNow() })
	c := &wsClient{t: t, conn: conn}
	if open := c.read(); !strings.HasPrefix(open.text, "0{") || strings.Contains(open.text, "maxPayload") {
		t.Fatalf("open packet %q", open.text)
	}
	return c, nil
}

func TestProtocolV4Clients(t *testing.T) {
	t.Parallel()
	newServer := func(allow bool) string {
		srv := NewServer(&Options{Engine: engineio.Options{AllowEIO3: allow}})
		srv.OnConnection(func(s *Socket) { _ = s.Emit("id", s.ID(), s.Conn().Protocol()) })
		srv.Of("/custom").OnConnection(func(s *Socket) { _ = s.Emit("auth", s.Handshake().Auth, s.ID()) })
		srv.Of("/private").Use(func(*Socket) error { return &ConnectError{Message: "no"} })
		srv.Of("/data").Use(func(*Socket) error { return &ConnectError{Message: "ignored", Data: map[string]int{"code": 42}} })
		hs := httptest.NewServer(srv)
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(ctx)
			hs.Close()
		})
		return hs.URL
	}

	url := newServer(true)
	c, err := dialV3(t, url)
	if err != nil {
		t.Fatal(err)
	}
	// The main namespace is connected without a CONNECT from the client,
	// and the reply carries no sid; the socket's id is the session's.
	c.expect("40")
	id := strings.TrimSuffix(strings.TrimPrefix(c.expectPrefix(`42["id","`), `42["id","`), `",3]`)
	if len(id) != 20 {
		t.Fatalf("main socket id %q", id)
	}
	// A namespace's query is its auth; its id is prefixed.
	c.send("40/custom?token=abc&n=1,")
	c.expect("40/custom,")
	c.expect(`42/custom,["auth",{"n":"1","token":"abc"},"/custom#` + id + `"]`)
	// A refusal's payload is the message, or the data, as is.
	c.send("40/private,")
	c.expect(`44/private,"no"`)
	c.send("40/data,")
	c.expect(`44/data,{"code":42}`)
	c.send("40/nothere,")
	c.expect(`44/nothere,{"message":"Invalid namespace"}`)
	// Events of the namespace the client joined by its query go by name.
	c.send(`42/custom,["x"]`)
	c.send("41/custom,")
	c.send("40/custom,")
	c.expect("40/custom,")

	if _, err := dialV3(t, newServer(false)); err == nil {
		t.Fatal("an EIO=3 client was accepted without AllowEIO3")
	}
}

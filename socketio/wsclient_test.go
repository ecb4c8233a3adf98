package socketio

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/gosio/gosio/engineio"
)

// newTestServer starts srv on a loopback HTTP server; both are shut down
// when the test ends.
func newTestServer(t *testing.T, opts *Options) (*Server, string) {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	if opts.Engine.PingInterval == 0 {
		opts.Engine.PingInterval = 5 * time.Second
	}
	srv := NewServer(opts)
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		hs.Close()
	})
	return srv, hs.URL
}

// wsClient is a raw Engine.IO/Socket.IO client over WebSocket: it sends and
// reads protocol frames as strings, answering pings itself.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
	sid  string
}

type frame struct {
	text   string
	binary []byte
	err    error
}

func dialWS(t *testing.T, url, query string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	u := "ws" + strings.TrimPrefix(url, "http") + "/socket.io/?EIO=4&transport=websocket" + query
	conn, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c := &wsClient{t: t, conn: conn}
	t.Cleanup(func() { _ = conn.CloseNow() })
	open := c.read()
	if !strings.HasPrefix(open.text, "0{") {
		t.Fatalf("open packet: %q", open.text)
	}
	var hs struct{ SID string }
	_ = json.Unmarshal([]byte(open.text[1:]), &hs)
	c.sid = hs.SID
	return c
}

// read returns the next frame that is not a ping (pings are answered).
func (c *wsClient) read() frame {
	c.t.Helper()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		typ, data, err := c.conn.Read(ctx)
		cancel()
		if err != nil {
			return frame{err: err}
		}
		if typ == websocket.MessageBinary {
			return frame{binary: data}
		}
		if string(data) == "2" {
			c.send("3")
			continue
		}
		return frame{text: string(data)}
	}
}

// expect reads the next frame and checks that it is the text want.
func (c *wsClient) expect(want string) {
	c.t.Helper()
	f := c.read()
	if f.err != nil || f.text != want {
		c.t.Fatalf("got %q (err %v), want %q", f.text, f.err, want)
	}
}

// expectPrefix reads the next frame and checks its prefix; it returns it.
func (c *wsClient) expectPrefix(prefix string) string {
	c.t.Helper()
	f := c.read()
	if f.err != nil || !strings.HasPrefix(f.text, prefix) {
		c.t.Fatalf("got %q (err %v), want prefix %q", f.text, f.err, prefix)
	}
	return f.text
}

// expectClosed checks that the server closes the connection.
func (c *wsClient) expectClosed() {
	c.t.Helper()
	for {
		f := c.read()
		if f.err != nil {
			return
		}
	}
}

func (c *wsClient) send(text string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, []byte(text)); err != nil {
		c.t.Fatalf("write %q: %v", text, err)
	}
}

func (c *wsClient) sendBinary(b []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageBinary, b); err != nil {
		c.t.Fatalf("write binary: %v", err)
	}
}

// connect sends CONNECT for nsp and returns the socket id from the reply.
func (c *wsClient) connect(nsp, auth string) string {
	c.t.Helper()
	prefix := "40"
	if nsp != "/" {
		prefix += nsp + ","
	}
	c.send(prefix + auth)
	reply := c.expectPrefix(prefix + "{")
	var r struct{ SID, PID string }
	if err := json.Unmarshal([]byte(reply[len(prefix):]), &r); err != nil || len(r.SID) != 20 {
		c.t.Fatalf("bad CONNECT reply %q", reply)
	}
	return r.SID
}

var _ = engineio.TransportWebSocket

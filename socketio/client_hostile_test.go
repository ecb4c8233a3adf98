package socketio

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/internal/testutil"
)

// hostileHandshake is the open packet of the hostile servers.
const hostileHandshake = `0{"sid":"hostile","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`

// hostileServer is a WebSocket-only Engine.IO server that answers the
// client's messages with a script, to attack the Go client with what no
// real server sends.
type hostileServer struct {
	hs     *httptest.Server
	url    string
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// newHostileServer starts a server that sends the handshake, then calls
// script with each text message of the client; script returns false to
// close the WebSocket at once.
func newHostileServer(tb testing.TB, script func(ctx context.Context, c *websocket.Conn, msg string) bool) *hostileServer {
	tb.Helper()
	h := &hostileServer{}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.hs = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("transport") != engineio.TransportWebSocket {
			http.Error(w, "websocket only", http.StatusBadRequest)
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		c.SetReadLimit(-1)
		h.wg.Add(1)
		defer h.wg.Done()
		defer c.CloseNow()
		if c.Write(h.ctx, websocket.MessageText, []byte(hostileHandshake)) != nil {
			return
		}
		for {
			_, data, err := c.Read(h.ctx)
			if err != nil {
				return
			}
			if !script(h.ctx, c, string(data)) {
				return
			}
		}
	}))
	h.url = h.hs.URL
	tb.Cleanup(func() {
		h.cancel()
		h.hs.CloseClientConnections()
		h.hs.Close()
		h.wg.Wait()
	})
	return h
}

// replyToConnect returns a script that answers the CONNECT packet of "/"
// with reply ("" closes the WebSocket instead).
func replyToConnect(reply string) func(ctx context.Context, c *websocket.Conn, msg string) bool {
	return func(ctx context.Context, c *websocket.Conn, msg string) bool {
		if msg != "40" {
			return true
		}
		if reply == "" {
			return false
		}
		return c.Write(ctx, websocket.MessageText, []byte(reply)) == nil
	}
}

// TestClientConnectFailsAtOnce: with reconnection off, a first attempt
// that fails after the Engine.IO connection opened makes Connect return
// the error at once instead of waiting for its context (issue 17, item 6).
func TestClientConnectFailsAtOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		reply  string // answer to CONNECT; "" closes the WebSocket
		reason string // DisconnectReason of the error, "" for a *ConnectError
		msg    string // message of the *ConnectError
	}{
		{"parse error", "4garbage", ReasonParseError, ""},
		{"invalid CONNECT_ERROR payload", "44[1]", ReasonParseError, ""},
		{"CONNECT_ERROR object", `44{"message":"nope","data":{"code":7}}`, "", "nope"},
		{"CONNECT_ERROR string", `44"plain"`, "", "plain"},
		{"CONNECT_ERROR without payload", "44", "", ""},
		{"CONNECT without sid", "40{}", "", errOldServer},
		{"close before the reply", "", ReasonTransportClose, ""},
		{"Engine.IO close packet", "1", ReasonTransportClose, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHostileServer(t, replyToConnect(tc.reply))
			s, err := NewClient(h.url, &ClientOptions{ManagerOptions: ManagerOptions{
				DisableReconnection: true,
				Transports:          []string{engineio.TransportWebSocket},
			}})
			testutil.NoErr(t, err)
			clClose(t, s)
			connErrs := make(chan error, 4)
			s.OnConnectError(func(err error) { connErrs <- err })
			// The context outlives the test's other waits: Connect must not
			// need it to return.
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			errc := make(chan error, 1)
			go func() { errc <- s.Connect(ctx) }()
			err = clRecv(t, errc, "Connect to return")
			if err == nil {
				t.Fatal("Connect succeeded")
			}
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Connect = %v: it waited for its context", err)
			}
			if tc.reason != "" {
				testutil.Equal(t, DisconnectReason(err), tc.reason)
			} else {
				var ce *ConnectError
				if !errors.As(err, &ce) {
					t.Fatalf("Connect = %v, want a *ConnectError", err)
				}
				testutil.Equal(t, ce.Message, tc.msg)
				if got := clRecv(t, connErrs, "OnConnectError"); got != error(ce) {
					t.Errorf("OnConnectError got %v, want the error Connect returned", got)
				}
			}
			testutil.Equal(t, s.Connected(), false)
		})
	}
}

// TestClientConnectWaitsWhileReconnecting: with reconnection on, the same
// failures leave Connect waiting for the next attempt.
func TestClientConnectWaitsWhileReconnecting(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	attempts := 0
	h := newHostileServer(t, func(ctx context.Context, c *websocket.Conn, msg string) bool {
		if msg != "40" {
			return true
		}
		mu.Lock()
		attempts++
		n := attempts
		mu.Unlock()
		if n == 1 {
			return false // the first attempt fails
		}
		return c.Write(ctx, websocket.MessageText, []byte(`40{"sid":"abc"}`)) == nil
	})
	s, err := NewClient(h.url, &ClientOptions{ManagerOptions: ManagerOptions{
		ReconnectionDelay: time.Millisecond,
		Transports:        []string{engineio.TransportWebSocket},
	}})
	testutil.NoErr(t, err)
	clClose(t, s)
	testutil.NoErr(t, s.Connect(clCtx(t)))
	testutil.Equal(t, s.ID(), "abc")
}

// TestClientMaxMessageSize: ManagerOptions.MaxMessageSize reaches the
// Engine.IO connection: a larger event disconnects the socket.
func TestClientMaxMessageSize(t *testing.T) {
	t.Parallel()
	h := newHostileServer(t, func(ctx context.Context, c *websocket.Conn, msg string) bool {
		if msg != "40" {
			return true
		}
		return c.Write(ctx, websocket.MessageText, []byte(`40{"sid":"abc"}`)) == nil &&
			c.Write(ctx, websocket.MessageText, []byte(`42["small"]`)) == nil &&
			c.Write(ctx, websocket.MessageText, []byte(`42["big","`+strings.Repeat("x", 200)+`"]`)) == nil
	})
	s, err := NewClient(h.url, &ClientOptions{ManagerOptions: ManagerOptions{
		DisableReconnection: true,
		MaxMessageSize:      100,
		Transports:          []string{engineio.TransportWebSocket},
	}})
	testutil.NoErr(t, err)
	clClose(t, s)
	events := make(chan string, 2)
	s.OnAny(func(event string, _ Args) { events <- event })
	reasons := make(chan string, 1)
	s.OnDisconnect(func(reason string) { reasons <- reason })
	testutil.NoErr(t, s.Connect(clCtx(t)))
	testutil.Equal(t, clRecv(t, events, "small"), "small")
	testutil.Equal(t, clRecv(t, reasons, "disconnect"), ReasonTransportError)
	select {
	case ev := <-events:
		t.Errorf("event %q was delivered", ev)
	default:
	}
}

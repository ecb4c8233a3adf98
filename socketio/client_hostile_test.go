package socketio

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

// floodScript answers CONNECT, then sends n events "tick" i (0 <= i < n)
// of pad bytes each, as fast as the client takes them (n < 0: until the
// test ends).
func floodScript(n, pad int) func(ctx context.Context, c *websocket.Conn, msg string) bool {
	return func(ctx context.Context, c *websocket.Conn, msg string) bool {
		if msg != "40" {
			return true
		}
		if c.Write(ctx, websocket.MessageText, []byte(`40{"sid":"abc"}`)) != nil {
			return false
		}
		go func() {
			p := strings.Repeat("x", pad)
			for i := 0; n < 0 || i < n; i++ {
				if c.Write(ctx, websocket.MessageText, []byte(`42["tick",`+strconv.Itoa(i)+`,"`+p+`"]`)) != nil {
					return
				}
			}
		}()
		return true
	}
}

// TestClientNoHandlerAfterClose: once Manager.Close returns, no handler
// runs or starts, although the server floods the client and handlers are
// slow; the disconnect handlers run before Close returns (issue 17,
// item 7).
func TestClientNoHandlerAfterClose(t *testing.T) {
	t.Parallel()
	h := newHostileServer(t, floodScript(-1, 16))
	s, err := NewClient(h.url, &ClientOptions{ManagerOptions: ManagerOptions{
		DisableReconnection: true,
		Transports:          []string{engineio.TransportWebSocket},
	}})
	testutil.NoErr(t, err)
	var (
		closed  atomic.Bool
		running atomic.Int32
		calls   atomic.Int64
		late    atomic.Int64 // handlers started after Close returned
	)
	started := make(chan struct{}, 1)
	s.On("tick", func(int) {
		running.Add(1)
		defer running.Add(-1)
		if closed.Load() {
			late.Add(1)
		}
		if calls.Add(1) == 100 {
			started <- struct{}{}
		}
		time.Sleep(100 * time.Microsecond)
	})
	disconnects := make(chan string, 1)
	s.OnDisconnect(func(reason string) {
		if closed.Load() {
			late.Add(1)
		}
		disconnects <- reason
	})
	testutil.NoErr(t, s.Connect(clCtx(t)))
	clRecv(t, started, "100 handler calls")
	testutil.NoErr(t, s.Manager().Close())
	closed.Store(true)
	if n := running.Load(); n != 0 {
		t.Errorf("%d handlers still run after Close returned", n)
	}
	select {
	case reason := <-disconnects:
		testutil.Equal(t, reason, ReasonForcedClose)
	default:
		t.Error("the disconnect handlers did not run before Close returned")
	}
	time.Sleep(500 * time.Millisecond)
	t.Logf("%d handler calls before Close returned, %d in the 500ms after", calls.Load()-late.Load(), late.Load())
	if n := late.Load(); n != 0 {
		t.Errorf("%d handlers started after Close returned", n)
	}
}

// TestClientCloseFromHandlerRunsDisconnect: Close called from a handler
// returns (it does not wait for that handler) after the disconnect
// handlers ran, and no other handler starts afterwards.
func TestClientCloseFromHandlerRunsDisconnect(t *testing.T) {
	t.Parallel()
	h := newHostileServer(t, floodScript(-1, 16))
	s, err := NewClient(h.url, &ClientOptions{ManagerOptions: ManagerOptions{
		Transports: []string{engineio.TransportWebSocket},
	}})
	testutil.NoErr(t, err)
	var (
		closed atomic.Bool
		late   atomic.Int64
		order  []string
	)
	done := make(chan struct{})
	s.On("tick", func(i int) {
		if closed.Load() {
			late.Add(1)
			return
		}
		if i == 50 {
			_ = s.Manager().Close()
			closed.Store(true)
			order = append(order, "closed")
			close(done)
		}
	})
	s.OnDisconnect(func(reason string) { order = append(order, reason) })
	testutil.NoErr(t, s.Connect(clCtx(t)))
	clRecv(t, done, "Close from the handler")
	time.Sleep(200 * time.Millisecond)
	testutil.Equal(t, late.Load(), int64(0))
	testutil.Equal(t, order, []string{ReasonForcedClose, "closed"})
}

// TestClientHandlerQueueBound: while a handler is slow, the queue of
// handlers holds at most MaxQueuedEvents events and the Manager stops
// reading meanwhile; no event is lost, and they arrive in order.
func TestClientHandlerQueueBound(t *testing.T) {
	t.Parallel()
	const events, bound = 5000, 64
	h := newHostileServer(t, floodScript(events, 1000))
	s, err := NewClient(h.url, &ClientOptions{ManagerOptions: ManagerOptions{
		Transports:      []string{engineio.TransportWebSocket},
		MaxQueuedEvents: bound,
	}})
	testutil.NoErr(t, err)
	clClose(t, s)
	release := make(chan struct{})
	got := make(chan int, events)
	s.On("tick", func(i int) {
		if i == 0 {
			<-release
		}
		got <- i
	})
	testutil.NoErr(t, s.Connect(clCtx(t)))
	m := s.Manager()
	queued := func() int {
		m.mu.Lock()
		defer m.mu.Unlock()
		return len(m.tasks)
	}
	clEventually(t, "a full queue", func() bool { return queued() >= bound })
	time.Sleep(300 * time.Millisecond) // the flood goes on meanwhile
	if n := queued(); n > bound {
		t.Errorf("%d handlers queued, want at most %d", n, bound)
	}
	close(release)
	for want := range events {
		if i := clRecv(t, got, "event "+strconv.Itoa(want)); i != want {
			t.Fatalf("event %d arrived as number %d", i, want)
		}
	}
}

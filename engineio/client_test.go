package engineio

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosio/gosio/internal/testutil"
)

// clientMsg is a message a ClientConn delivered.
type clientMsg struct {
	Data   string
	Binary bool
}

type clientClose struct {
	Reason string
	Err    error
}

// dialTest dials url with opts, recording the callbacks in the returned
// channels; the connection is closed at the end of the test.
func dialTest(tb testing.TB, url string, opts DialOptions) (*ClientConn, chan clientMsg, chan clientClose) {
	tb.Helper()
	msgs := make(chan clientMsg, 64)
	closes := make(chan clientClose, 2)
	opts.OnMessage = func(data []byte, binary bool) { msgs <- clientMsg{string(data), binary} }
	opts.OnClose = func(reason string, err error) { closes <- clientClose{reason, err} }
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, err := Dial(ctx, url, &opts)
	testutil.NoErr(tb, err)
	tb.Cleanup(func() { _ = c.Close() })
	return c, msgs, closes
}

func next[T any](tb testing.TB, ch <-chan T, what string) T {
	tb.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(testTimeout):
		tb.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

var clientModes = []struct {
	name       string
	transports []string
	final      string
}{
	{"polling", []string{TransportPolling}, TransportPolling},
	{"websocket", []string{TransportWebSocket}, TransportWebSocket},
	{"upgrade", nil, TransportWebSocket},
}

// TestClientEcho exchanges messages of every kind with an echo server, the
// reference one and ours, over each transport mode, and closes.
func TestClientEcho(t *testing.T) {
	servers := []struct {
		name  string
		start func(t *testing.T) (url string, wantClose func(sid string))
	}{
		{"go", func(t *testing.T) (string, func(string)) {
			ts := newTestServer(t, nil, nil)
			return ts.hs.URL, func(sid string) { ts.wantClose(t, sid, ReasonTransportClose, nil) }
		}},
		{"node", func(t *testing.T) (string, func(string)) {
			n := startNodeEIO(t, DefaultPingInterval, DefaultPingTimeout)
			return n.url, func(sid string) {
				testutil.Equal(t, n.wait(t, "close", sid)["reason"], any(ReasonTransportClose))
			}
		}},
	}
	large := strings.Repeat("é", 60_000) // over coder/websocket's default read limit
	msgs := []clientMsg{{"hello", false}, {"", false}, {"4b", false}, {"\x00\x01\xff", true}, {"", true}, {large, false}, {large, true}}
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			t.Parallel()
			url, wantClose := srv.start(t)
			for _, mode := range clientModes {
				t.Run(mode.name, func(t *testing.T) {
					c, in, closes := dialTest(t, url, DialOptions{Transports: mode.transports})
					testutil.Equal(t, len(c.ID()), 20)
					exchange := func() {
						for _, m := range msgs {
							if m.Binary {
								testutil.NoErr(t, c.SendBinary([]byte(m.Data)))
							} else {
								testutil.NoErr(t, c.SendText([]byte(m.Data)))
							}
						}
						for _, m := range msgs {
							got := next(t, in, "echo")
							if got != m {
								t.Fatalf("echo %.20q (binary %v), want %.20q (binary %v)", got.Data, got.Binary, m.Data, m.Binary)
							}
						}
					}
					exchange()
					waitFor(t, "transport "+mode.final, func() bool { return c.Transport() == mode.final })
					exchange()
					testutil.NoErr(t, c.Close())
					testutil.Equal(t, next(t, closes, "OnClose"), clientClose{ReasonForcedClose, nil})
					next(t, c.Done(), "Done")
					wantErrIs(t, c.SendText([]byte("late")), ErrClosed)
					testutil.NoErr(t, c.Close())
					wantClose(c.ID())
				})
			}
		})
	}
}

// TestClientServerClose checks the reason when the server closes.
func TestClientServerClose(t *testing.T) {
	t.Run("go", func(t *testing.T) {
		t.Parallel()
		for _, mode := range clientModes {
			ts := newTestServer(t, nil, func(s *Session) {
				s.OnMessage(func([]byte, bool) { s.Close() })
			})
			c, _, closes := dialTest(t, ts.hs.URL, DialOptions{Transports: mode.transports, DisableUpgrade: true})
			testutil.NoErr(t, c.SendText([]byte("close me")))
			testutil.Equal(t, next(t, closes, "OnClose").Reason, ReasonTransportClose)
			next(t, c.Done(), "Done")
		}
	})
	t.Run("node", func(t *testing.T) {
		t.Parallel()
		n := startNodeEIO(t, DefaultPingInterval, DefaultPingTimeout)
		for _, mode := range clientModes {
			c, in, closes := dialTest(t, n.url, DialOptions{Transports: mode.transports, DisableUpgrade: true})
			testutil.NoErr(t, c.SendText([]byte("cmd:close")))
			testutil.Equal(t, next(t, in, "bye"), clientMsg{"bye", false})
			if cl := next(t, closes, "OnClose"); cl.Reason != ReasonTransportClose {
				t.Errorf("%s: close reason %q (%v), want %q", mode.name, cl.Reason, cl.Err, ReasonTransportClose)
			}
			next(t, c.Done(), "Done")
		}
	})
}

// TestClientHandshakeOptions checks the extra headers and query, and the
// error of a refused handshake, over both transports.
func TestClientHandshakeOptions(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, &Options{AllowRequest: func(r *http.Request) error {
		if r.Header.Get("Authorization") != "Bearer t" || r.URL.Query().Get("room") != "r1" {
			return errors.New("who are you")
		}
		return nil
	}}, nil)
	for _, tr := range []string{TransportPolling, TransportWebSocket} {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		_, err := Dial(ctx, ts.hs.URL+"?room=r1", &DialOptions{Transports: []string{tr}})
		cancel()
		var he *HTTPError
		if !errors.As(err, &he) {
			t.Fatalf("%s: Dial = %v, want an *HTTPError", tr, err)
		}
		testutil.Equal(t, *he, HTTPError{StatusCode: http.StatusForbidden, Code: CodeForbidden, Message: "who are you"})

		c, in, _ := dialTest(t, ts.hs.URL+"?room=r1", DialOptions{
			Transports: []string{tr},
			Header:     http.Header{"Authorization": {"Bearer t"}},
		})
		testutil.NoErr(t, c.SendText([]byte("in")))
		testutil.Equal(t, next(t, in, "echo"), clientMsg{"in", false})
		testutil.NoErr(t, c.Close())
	}

	// Query and Path options; a wrong path is an HTTP error too.
	c, _, _ := dialTest(t, ts.hs.URL+"/ignored", DialOptions{
		Path:   "engine.io",
		Query:  map[string][]string{"room": {"r1"}},
		Header: http.Header{"Authorization": {"Bearer t"}},
	})
	testutil.NoErr(t, c.Close())
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	_, err := Dial(ctx, ts.hs.URL, &DialOptions{Path: "/elsewhere/"})
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != http.StatusNotFound {
		t.Fatalf("Dial with a wrong path = %v, want an HTTP 404 error", err)
	}
	for _, bad := range []struct {
		url  string
		opts *DialOptions
	}{
		{"ftp://host", nil},
		{"http://", nil},
		{ts.hs.URL, &DialOptions{Transports: []string{}}},
		{ts.hs.URL, &DialOptions{Transports: []string{"carrier-pigeon"}}},
	} {
		if _, err := Dial(ctx, bad.url, bad.opts); err == nil {
			t.Errorf("Dial(%q, %+v) succeeded", bad.url, bad.opts)
		}
	}
}

// TestClientHeartbeat answers every ping at once, and closes with "ping
// timeout" when the pings stop.
func TestClientHeartbeat(t *testing.T) {
	t.Parallel()
	f := newFakeEIO(t, 60_000, 60_000, 1000, false)
	c, _, closes := dialTest(t, f.hs.URL, DialOptions{})
	for range 3 {
		f.out <- "2"
		testutil.Equal(t, next(t, f.posted, "pong"), "3")
	}
	testutil.NoErr(t, c.Close())
	testutil.Equal(t, next(t, f.posted, "close packet"), "1")
	testutil.Equal(t, next(t, closes, "OnClose"), clientClose{ReasonForcedClose, nil})

	// No ping within pingInterval + pingTimeout.
	f = newFakeEIO(t, 20, 20, 1000, false)
	start := time.Now()
	c, _, closes = dialTest(t, f.hs.URL, DialOptions{})
	testutil.Equal(t, next(t, closes, "OnClose"), clientClose{ReasonPingTimeout, nil})
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("ping timeout after %v, want at least 40ms", d)
	}
	next(t, c.Done(), "Done")

	// Against the servers: the connection outlives many ping intervals.
	ts := newTestServer(t, &Options{PingInterval: 10 * time.Millisecond, PingTimeout: 2 * time.Second}, nil)
	n := startNodeEIO(t, 10*time.Millisecond, 2*time.Second)
	for _, url := range []string{ts.hs.URL, n.url} {
		for _, mode := range clientModes {
			c, in, closes := dialTest(t, url, DialOptions{Transports: mode.transports})
			time.Sleep(100 * time.Millisecond) // ten ping intervals
			testutil.NoErr(t, c.SendText([]byte("alive")))
			testutil.Equal(t, next(t, in, "echo"), clientMsg{"alive", false})
			select {
			case cl := <-closes:
				t.Fatalf("%s: closed with %q (%v)", mode.name, cl.Reason, cl.Err)
			default:
			}
			testutil.NoErr(t, c.Close())
		}
	}
}

// TestClientPollingBatches checks the POSTs: one at a time, each holding
// as many queued packets as fit in maxPayload, in order.
func TestClientPollingBatches(t *testing.T) {
	t.Parallel()
	const maxPayload = 60
	f := newFakeEIO(t, 60_000, 60_000, maxPayload, false)
	gate := make(chan struct{})
	f.mu.Lock()
	f.postGate = gate
	f.mu.Unlock()
	c, _, _ := dialTest(t, f.hs.URL, DialOptions{})

	var want []string
	send := func(data string, binary bool) {
		if binary {
			testutil.NoErr(t, c.SendBinary([]byte(data)))
			want = append(want, string(appendPollingPacket(nil, 0, []byte(data), true)))
		} else {
			testutil.NoErr(t, c.SendText([]byte(data)))
			want = append(want, "4"+data)
		}
	}
	send("first", false)
	waitFor(t, "the first POST", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.posts == 1
	})
	if c.SendVolatile(NewTextMessage([]byte("dropped"))) {
		t.Error("SendVolatile queued a message while a POST was in flight")
	}
	for i := range 10 {
		send(strings.Repeat(string(rune('a'+i)), 19), false)
	}
	send(strings.Repeat("z", 200), false) // alone over maxPayload: sent alone
	send("\x01\x02\x03", true)
	send("last", false)
	close(gate)

	var got []string
	for len(got) < len(want) {
		body := next(t, f.posted, "POST")
		pkts := strings.Split(body, "\x1e")
		if len(pkts) > 1 && len(body) > maxPayload {
			t.Errorf("POST of %d packets and %d bytes, over maxPayload %d", len(pkts), len(body), maxPayload)
		}
		got = append(got, pkts...)
	}
	testutil.Equal(t, got, want)
	f.mu.Lock()
	testutil.Equal(t, f.maxPosts, 1)
	testutil.Equal(t, f.maxGets, 1)
	bodies := len(f.bodies)
	f.mu.Unlock()
	if bodies > 10 {
		t.Errorf("%d POSTs for %d packets: not batched", bodies, len(want))
	}
	waitFor(t, "an idle writer", func() bool { return c.SendVolatile(NewTextMessage([]byte("volatile"))) })
	testutil.Equal(t, next(t, f.posted, "volatile"), "4volatile")
}

// TestClientUpgradePausesPolling checks that the client sends the upgrade
// packet only once no polling request is in flight, and that messages
// sent meanwhile take the WebSocket.
func TestClientUpgradePausesPolling(t *testing.T) {
	t.Parallel()
	f := newFakeEIO(t, 60_000, 60_000, 1000, true)
	gate, probe := make(chan struct{}), make(chan struct{})
	f.mu.Lock()
	f.postGate, f.probeGate = gate, probe
	f.mu.Unlock()
	c, in, _ := dialTest(t, f.hs.URL, DialOptions{})
	testutil.NoErr(t, c.SendText([]byte("over polling")))
	waitFor(t, "a POST in flight", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.posts == 1
	})
	// The probe succeeds, but the upgrade waits for the POST.
	close(probe)
	testutil.NoErr(t, c.SendText([]byte("queued")))
	waitFor(t, "polling to pause", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.pausing
	})
	select {
	case <-f.upgraded:
		t.Fatal("upgrade packet sent while a POST was in flight")
	case <-time.After(20 * time.Millisecond):
	}
	close(gate)
	next(t, f.upgraded, "upgrade packet")
	testutil.Equal(t, next(t, f.posted, "POST"), "4over polling")
	testutil.Equal(t, next(t, f.wsIn, "message over WebSocket"), "4queued")
	f.mu.Lock()
	testutil.Equal(t, f.upgradeBusy, []string(nil))
	f.mu.Unlock()
	testutil.Equal(t, c.Transport(), TransportWebSocket)
	testutil.NoErr(t, c.SendBinary([]byte{7}))
	select {
	case m := <-in:
		t.Fatalf("unexpected message %v", m)
	default:
	}
}

// TestClientCloseFromCallback closes the connection from its own
// callbacks without deadlock.
func TestClientCloseFromCallback(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil, nil)
	for _, mode := range clientModes {
		var c atomic.Pointer[ClientConn]
		done := make(chan struct{})
		closes := make(chan string, 1)
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		conn, err := Dial(ctx, ts.hs.URL, &DialOptions{
			Transports: mode.transports,
			OnMessage: func([]byte, bool) {
				_ = c.Load().Close()
				close(done)
			},
			OnClose: func(reason string, _ error) {
				_ = c.Load().Close()
				closes <- reason
			},
		})
		cancel()
		testutil.NoErr(t, err)
		c.Store(conn)
		testutil.NoErr(t, conn.SendText([]byte("x")))
		next(t, done, "Close from OnMessage")
		testutil.Equal(t, next(t, closes, "OnClose"), ReasonForcedClose)
		next(t, conn.Done(), "Done")
		ts.wantClose(t, conn.ID(), ReasonTransportClose, nil)
	}
}

// TestClientTransportError reports a lost server as a transport error or
// close, never as a forced close, and ends every goroutine: our server's
// connections cut over polling, the reference server's process killed.
func TestClientTransportError(t *testing.T) {
	t.Parallel()
	for _, srv := range []string{"go", "node"} {
		for _, mode := range clientModes {
			var url string
			var cut func(sid string)
			if srv == "go" {
				if mode.final != TransportPolling {
					continue // the server's WebSockets are hijacked: CloseClientConnections misses them
				}
				ts := newTestServer(t, nil, nil)
				url = ts.hs.URL
				cut = func(sid string) {
					// With no request in flight, a cut is no error: wait
					// for the poll.
					ts.waitPending(t, sid)
					ts.hs.CloseClientConnections()
				}
			} else {
				n := startNodeEIO(t, DefaultPingInterval, DefaultPingTimeout)
				url, cut = n.url, func(string) { n.kill() }
			}
			c, in, closes := dialTest(t, url, DialOptions{Transports: mode.transports})
			waitFor(t, "transport "+mode.final, func() bool { return c.Transport() == mode.final })
			testutil.NoErr(t, c.SendText([]byte("x")))
			next(t, in, "echo")
			cut(c.ID())
			cl := next(t, closes, "OnClose after the server was cut: "+srv+" "+mode.name)
			if cl.Reason != ReasonTransportError && cl.Reason != ReasonTransportClose {
				t.Errorf("%s %s: close reason %q (%v)", srv, mode.name, cl.Reason, cl.Err)
			}
			next(t, c.Done(), "Done")
		}
	}
}

func TestClientTakeBatch(t *testing.T) {
	t.Parallel()
	text := func(n int) *Message { return NewTextMessage(bytes.Repeat([]byte{'x'}, n-1)) }
	tests := []struct {
		name       string
		maxPayload int
		sizes      []int // frame sizes
		want       int   // messages in the first batch
	}{
		{"all fit", 100, []int{10, 10, 10}, 3},
		{"exactly", 32, []int{10, 10, 10}, 3}, // 10+1+10+1+10
		{"one over", 31, []int{10, 10, 10}, 2},
		{"first alone over", 5, []int{10, 10}, 1},
		{"single", 5, []int{10}, 1},
		{"no limit", 0, []int{10, 10, 10}, 3},
	}
	for _, tc := range tests {
		c := &ClientConn{maxPayload: tc.maxPayload}
		for _, n := range tc.sizes {
			c.queue = append(c.queue, text(n))
		}
		testutil.Equal(t, len(c.takeBatchLocked()), tc.want)
		testutil.Equal(t, len(c.queue), len(tc.sizes)-tc.want)
	}
}

func wantErrIs(tb testing.TB, err, target error) {
	tb.Helper()
	if !errors.Is(err, target) {
		tb.Errorf("error %v, want %v", err, target)
	}
}

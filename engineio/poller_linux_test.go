//go:build linux

package engineio

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/gosio/gosio/internal/testutil"
)

// watched returns how many connections ts's poller watches.
func (ts *testServer) watched() int {
	ts.eio.mu.Lock()
	p := ts.eio.poller
	ts.eio.mu.Unlock()
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// TestPollerIdleSessionsHoldNoGoroutine opens many WebSocket sessions: the
// server's goroutines do not grow with them, and each still echoes.
func TestPollerIdleSessionsHoldNoGoroutine(t *testing.T) {
	const n = 64
	ts := newTestServer(t, quietOptions(), nil)
	c0, _ := ts.dialRaw(t) // the poller and a worker exist from here on
	c0.write(frame(true, opText, []byte("4warm"), false))
	c0.read()
	base := runtime.NumGoroutine()
	clients := make([]*rawClient, n)
	for i := range clients {
		clients[i], _ = ts.dialRaw(t)
	}
	// The clients are raw connections without goroutines; the HTTP
	// handlers of the handshakes end.
	waitFor(t, "the handshakes' goroutines to end", func() bool { return runtime.NumGoroutine() < base+n/4 })
	testutil.Equal(t, ts.watched(), n+1)
	for i, c := range clients {
		c.write(frame(true, opText, []byte{'4', byte('a' + i%26)}, false))
	}
	for i, c := range clients {
		op, p := c.read()
		testutil.Equal(t, op, byte(opText))
		testutil.Equal(t, string(p), string([]byte{'4', byte('a' + i%26)}))
	}
	for _, c := range append(clients, c0) {
		c.write(frame(true, opClose, closePayload(websocket.StatusNormalClosure, ""), false))
		c.wantClose(closePayload(websocket.StatusNormalClosure, ""))
		c.wantEOF()
	}
	waitFor(t, "the poller to forget the connections", func() bool { return ts.watched() == 0 })
}

// TestPollerPartialFrame: a frame that arrives in parts is waited for on
// its worker, while another session's messages go on.
func TestPollerPartialFrame(t *testing.T) {
	ts := newTestServer(t, quietOptions(), nil)
	a, _ := ts.dialRaw(t)
	b, _ := ts.dialRaw(t)
	f := frame(true, opText, []byte("4split across writes"), false)
	a.write(f[:3])
	for range 3 {
		b.write(frame(true, opText, []byte("4b"), false))
		op, p := b.read()
		testutil.Equal(t, op, byte(opText))
		testutil.Equal(t, string(p), "4b")
	}
	time.Sleep(20 * time.Millisecond)
	a.write(f[3:9])
	time.Sleep(20 * time.Millisecond)
	// The rest, and a whole frame after it in the same write.
	a.write(f[9:], frame(true, opText, []byte("4next"), false))
	_, p := a.read()
	testutil.Equal(t, string(p), "4split across writes")
	_, p = a.read()
	testutil.Equal(t, string(p), "4next")
}

// TestPollerUnansweredClose: the server closes a session whose client never
// answers the close frame; after wsCloseGrace the connection is closed and
// the poller forgets it.
func TestPollerUnansweredClose(t *testing.T) {
	if testing.Short() {
		t.Skip("waits wsCloseGrace")
	}
	ts := newTestServer(t, quietOptions(), func(s *Session) {
		echo(s)
		s.OnMessage(func(data []byte, _ bool) {
			if string(data) == "close" {
				s.Close()
			}
		})
	})
	c, sid := ts.dialRaw(t)
	c.write(frame(true, opText, []byte("4close"), false))
	ts.wantClose(t, sid, ReasonForcedClose, nil)
	testutil.Equal(t, ts.watched(), 1) // the close is not answered yet
	start := time.Now()
	c.wantEOF()
	if d := time.Since(start); d < wsCloseGrace-time.Second {
		t.Errorf("closed after %v, before the client had wsCloseGrace to answer", d)
	}
	waitFor(t, "the poller to forget the connection", func() bool { return ts.watched() == 0 })
}

// TestPollerNoLostWakeup sends bursts from many clients with pauses of
// varying length, so that data often arrives while a worker finishes
// reading: every message must be echoed.
func TestPollerNoLostWakeup(t *testing.T) {
	const clients, rounds = 16, 200
	ts := newTestServer(t, quietOptions(), nil)
	errs := make(chan error, clients)
	for i := range clients {
		c, _ := ts.dialRaw(t)
		go func() {
			for r := range rounds {
				_, err := c.conn.Write(frame(true, opText, []byte("4m"), false))
				if err == nil && r%3 == 0 {
					time.Sleep(time.Duration(r%7) * 50 * time.Microsecond)
					_, err = c.conn.Write(frame(true, opText, []byte("4m"), false))
				}
				if err != nil {
					errs <- err
					return
				}
				n := 1
				if r%3 == 0 {
					n = 2
				}
				for range n {
					if _, _, err := c.readErr(); err != nil {
						errs <- err
						return
					}
				}
				if i%2 == 0 {
					time.Sleep(time.Duration(r%5) * 20 * time.Microsecond)
				}
			}
			errs <- nil
		}()
	}
	for range clients {
		testutil.NoErr(t, <-errs)
	}
}

// TestPollerEdgeWhileGoingIdle: data that arrives after the worker found
// the socket empty, before it went idle, is read by that worker (its edge
// came while the worker still read, so the poller started no other).
func TestPollerEdgeWhileGoingIdle(t *testing.T) {
	var armed atomic.Pointer[rawClient]
	var once sync.Once
	testHookPollIdle = func(r *wsRaw) {
		c := armed.Load()
		if c == nil {
			return
		}
		once.Do(func() {
			c.write(frame(true, opText, []byte("4late"), false))
			deadline := time.Now().Add(testTimeout)
			for r.pollState.Load() != pollAgain && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
		})
	}
	t.Cleanup(func() { testHookPollIdle = nil }) // after the server's cleanup
	ts := newTestServer(t, quietOptions(), nil)
	c, _ := ts.dialRaw(t)
	armed.Store(c)
	c.write(frame(true, opText, []byte("4first"), false))
	_, p := c.read()
	testutil.Equal(t, string(p), "4first")
	_, p = c.read()
	testutil.Equal(t, string(p), "4late")
}

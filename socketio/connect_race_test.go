package socketio

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestConnectionHandlersRunBeforeAnEarlyDisconnect disconnects each socket
// the moment it is connected, racing the connection handlers in its task
// queue. As in Node, where the connection event is emitted before anything
// else can happen, the handlers of a socket that connected always run, and
// a disconnect handler they add is called: a program that registers
// OnDisconnect in OnConnection never misses one.
func TestConnectionHandlersRunBeforeAnEarlyDisconnect(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	var connected, disconnected, gaveUp atomic.Int32
	srv.Use(func(s *Socket) error {
		go func() {
			// Wait until the socket is past the middlewares (in the
			// namespace: a Disconnect while its middleware still runs does
			// nothing, as in Node), spinning for the tight race, then
			// polling: 100 goroutines spinning for long starved the
			// connects they wait for on a loaded machine.
			in := func() bool { return srv.Sockets().LocalSocket(s.ID()) != nil }
			deadline := time.Now().Add(30 * time.Second)
			for i := 0; !in() && time.Now().Before(deadline); i++ {
				if i < 1000 {
					runtime.Gosched()
				} else {
					time.Sleep(100 * time.Microsecond)
				}
			}
			if !in() {
				gaveUp.Add(1)
			}
			s.Disconnect(true)
		}()
		return nil
	})
	srv.OnConnection(func(s *Socket) {
		connected.Add(1)
		s.OnDisconnect(func(string) { disconnected.Add(1) })
	})
	const n = 100
	for range n {
		c := dialWS(t, url, "")
		c.send("40") // what the client reads then depends on the race
	}
	deadline := time.Now().Add(40 * time.Second)
	for connected.Load() != n || disconnected.Load() != n {
		if time.Now().After(deadline) {
			t.Fatalf("after 40 s: %d of %d sockets' connection handlers ran, %d disconnect handlers (%d sockets not connected after 30 s)",
				connected.Load(), n, disconnected.Load(), gaveUp.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

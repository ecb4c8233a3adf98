package socketio

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosio/gosio/internal/testutil"
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
	var connected, disconnected atomic.Int32
	srv.Use(func(s *Socket) error {
		go func() {
			deadline := time.Now().Add(5 * time.Second)
			for !s.Connected() && time.Now().Before(deadline) {
				runtime.Gosched()
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
	testutil.WaitUntil(t, 10*time.Second, "every socket's handlers", func() bool {
		return connected.Load() == n && disconnected.Load() == n
	})
}

package socketio

import (
	"strings"
	"testing"
	"time"

	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/internal/testutil"
)

// TestSlowClientDoesNotBlockBroadcast broadcasts more than a client that
// never reads can buffer: the broadcast never blocks, the healthy client
// gets everything, and the slow one is disconnected with "transport error".
func TestSlowClientDoesNotBlockBroadcast(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, &Options{Engine: engineio.Options{SendQueueLimit: 1 << 20, SlowClientTimeout: 500 * time.Millisecond}})
	reasons := make(chan string, 2)
	sockets := make(chan *Socket, 2)
	srv.OnConnection(func(s *Socket) {
		s.OnDisconnect(func(reason string) { reasons <- reason })
		sockets <- s
	})
	healthy := dialWS(t, url, "")
	healthy.conn.SetReadLimit(-1)
	healthy.connect("/", "")
	<-sockets
	slow := dialWS(t, url, "")
	slow.conn.SetReadLimit(-1)
	slow.connect("/", "")
	slowSocket := <-sockets

	// 600 × 32 KiB = 19.2 MiB: far past what the kernel's socket buffers
	// and the 1 MiB queue cap hold for a client that never reads. The
	// broadcaster waits for the healthy client to be at most 16 packets
	// (512 KiB) behind, so a loaded machine cannot make it look slow.
	const n, window = 600, 16
	payload := strings.Repeat("x", 32<<10)
	progress := make(chan struct{}, n)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < n; i++ {
			if i >= window {
				select {
				case <-progress:
				case <-time.After(10 * time.Second):
					return // the reader failed; it reports why
				}
			}
			_ = srv.Emit("big", payload)
		}
	}()
	for i := 0; i < n; i++ {
		f := healthy.read()
		if f.err != nil || !strings.HasPrefix(f.text, `42["big","`) {
			t.Fatalf("healthy client, packet %d: %q %v", i, f.text[:min(len(f.text), 20)], f.err)
		}
		progress <- struct{}{}
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("broadcast blocked")
	}
	select {
	case r := <-reasons:
		if r != ReasonTransportError || slowSocket.Connected() {
			t.Fatalf("slow client: reason %q, connected %v", r, slowSocket.Connected())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("slow client was not disconnected")
	}
	// Its connection is cut too, although the server was blocked writing
	// to it: reading what reached it ends in an error, not a hang.
	slow.expectClosed()
}

func TestEventName(t *testing.T) {
	for raw, want := range map[string]string{
		`"chat"`: "chat", `""`: "", `"a\"b"`: `a"b`, `"caf\u00e9"`: "café", `"tab\t"`: "tab\t", `12`: "12", `-1.5`: "-1.5",
	} {
		testutil.Equal(t, eventName([]byte(raw)), want)
	}
}

// TestTaskQueueStaysSmall checks that a task queue that never empties
// (each task queues the next) does not keep every task it ran.
func TestTaskQueueStaysSmall(t *testing.T) {
	c := &taskQueue{srv: &Server{}}
	const n = 10000
	done := make(chan struct{})
	var step func(i int) func()
	step = func(i int) func() {
		return func() {
			if i == n {
				close(done)
				return
			}
			c.push(funcTask(step(i + 1)))
			c.mu.Lock()
			size := cap(c.tasks)
			c.mu.Unlock()
			if size > 256 {
				t.Errorf("after %d tasks the queue's array holds %d", i, size)
			}
		}
	}
	c.push(funcTask(step(0)))
	<-done
	c.srv.workers.Close()
	c.srv.workers.Wait()
}

package engineio

import (
	"runtime"
	"sync"
)

// writerChunk is how many sessions a shared writer takes from the pool at
// a time.
const writerChunk = 128

// A writePool holds the WebSocket sessions to which QueueAll queued
// messages, and writes their queues from shared writer goroutines, which
// exist only while sessions wait. A session waits in the pool once however
// many messages are queued for it meanwhile, so a burst of broadcasts costs
// one write per session, not one per message. Writers never wait for a
// socket: a session whose socket is full is left to its own flusher.
//
// There are at most GOMAXPROCS-1 writers (at least one), so that the
// goroutines queueing a broadcast keep a processor: writers on every
// processor would catch up with the producer after each session and write
// every message on its own (on two cores: 0.57 writes per delivery with
// two writers, 0.15 with one, and 2.7 times the deliveries per second).
type writePool struct {
	mu      sync.Mutex
	pending []*Session
	next    int // pending[next:] wait; pending[:next] are taken
	writers int
	max     int // most writers at a time; 0 until the pool is first used
}

// poolLocked puts s in the pool; the caller holds s.mu and s is not in it.
func (srv *Server) poolLocked(s *Session) {
	s.pooled = true
	p := &srv.writers
	p.mu.Lock()
	p.pending = append(p.pending, s)
	if p.max == 0 {
		p.max = max(1, runtime.GOMAXPROCS(0)-1)
	}
	waiting := len(p.pending) - p.next
	start := p.writers == 0 || (waiting > writerChunk*p.writers && p.writers < p.max)
	if start {
		p.writers++
	}
	p.mu.Unlock()
	if start {
		srv.goTracked(srv.runWriter)
	}
}

// runWriter writes the pooled sessions' queues until the pool is empty.
func (srv *Server) runWriter() {
	p := &srv.writers
	var batch []*Session
	for {
		p.mu.Lock()
		if p.next == len(p.pending) {
			clear(p.pending)
			p.pending, p.next = p.pending[:0], 0
			p.writers--
			p.mu.Unlock()
			return
		}
		end := min(len(p.pending), p.next+writerChunk)
		batch = append(batch[:0], p.pending[p.next:end]...)
		clear(p.pending[p.next:end])
		p.next = end
		p.mu.Unlock()
		for _, s := range batch {
			s.writeQueued()
		}
		clear(batch)
	}
}

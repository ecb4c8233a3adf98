package engineio

import (
	"runtime"
	"sync"
	"time"
)

// holdMax bounds how long a writer defers to a broadcast being queued,
// beyond the time it has spent writing (see writePool).
const holdMax = 10 * time.Millisecond

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
//
// On one processor a writer can only run instead of the goroutine queueing
// a broadcast, when the scheduler preempts it: it would then write each
// session's first few messages of a burst and come back for the rest.
// There, while sessions keep arriving in the pool, a writer yields to the
// producer first, for at most holdMax more than it has spent writing, so a
// stream of broadcasts cannot starve it (to 10,000 receivers on one core:
// 0.06 writes per delivery, against 0.095 without the hold).
type writePool struct {
	mu      sync.Mutex
	pending []*Session
	next    int         // pending[next:] wait; pending[:next] are taken
	groups  []*Group    // groups whose log grew, for a wave each (see Group)
	chunks  []waveChunk // waves' chunks: chunks[cnext:] wait, in the order the waves began
	cnext   int
	writers int
	max     int    // most writers at a time; 0 until the pool is first used
	hold    bool   // writers defer to broadcasts being queued (one processor)
	added   uint64 // sessions ever pooled, and broadcasts to groups
}

// waitingLocked returns how much waits in the pool, in sessions: a
// wave's chunk counts as writerChunk of them, a group not yet begun as one.
func (p *writePool) waitingLocked() int {
	return len(p.pending) - p.next + len(p.groups) + (len(p.chunks)-p.cnext)*writerChunk
}

// poolGroup notes a broadcast to g, whose lock the caller holds, and puts
// g in the pool for a wave unless it waits there.
func (srv *Server) poolGroup(g *Group) {
	p := &srv.writers
	p.mu.Lock()
	p.added++
	if g.scheduled {
		p.mu.Unlock()
		return
	}
	g.scheduled = true
	p.groups = append(p.groups, g)
	start := p.startLocked()
	p.mu.Unlock()
	if start {
		srv.goTracked(srv.runWriter)
	}
}

// startLocked reports whether a writer must start for what waits, and
// counts it.
func (p *writePool) startLocked() bool {
	if p.max == 0 {
		procs := runtime.GOMAXPROCS(0)
		p.max, p.hold = max(1, procs-1), procs == 1
	}
	start := p.writers == 0 || (p.waitingLocked() > writerChunk*p.writers && p.writers < p.max)
	if start {
		p.writers++
	}
	return start
}

// poolLocked puts s in the pool; the caller holds s.mu and s is not in it.
func (srv *Server) poolLocked(s *Session) {
	s.pooled = true
	p := &srv.writers
	p.mu.Lock()
	p.pending = append(p.pending, s)
	p.added++
	start := p.startLocked()
	p.mu.Unlock()
	if start {
		srv.goTracked(srv.runWriter)
	}
}

// runWriter writes the pooled sessions' queues and the groups' waves until
// the pool is empty.
func (srv *Server) runWriter() {
	p := &srv.writers
	var batch []*Session
	var seen uint64
	var held, wrote time.Duration
	for {
		p.mu.Lock()
		hold := p.hold
		if hold && p.added != seen && p.waitingLocked() > 0 && held < holdMax+wrote {
			// Sessions are still being pooled, or broadcasts queued to a
			// group: a broadcast is being queued, on the processor this
			// writer would take from it. Let it finish first, so that its
			// messages and the next ones go out in one write per session.
			// The writer defers for at most holdMax more than it has spent
			// writing, so a stream of broadcasts cannot starve it.
			seen = p.added
			p.mu.Unlock()
			t := time.Now()
			runtime.Gosched()
			held += time.Since(t)
			continue
		}
		p.startWavesLocked()
		var c waveChunk
		more := false
		switch {
		case p.cnext < len(p.chunks):
			// A wave's chunk, first come first served: a wave that began
			// while an earlier one is under way waits behind it. Taken
			// first, its chunks would restart the sweep over the members
			// each time a broadcast comes, and under a steady stream the
			// last members would wait for a pause.
			c = p.chunks[p.cnext]
			p.chunks[p.cnext] = waveChunk{}
			if p.cnext++; p.cnext == len(p.chunks) {
				p.chunks, p.cnext = p.chunks[:0], 0
			}
			more = p.startLocked() // the rest of the wave to another writer
		case p.next < len(p.pending):
			end := min(len(p.pending), p.next+writerChunk)
			batch = append(batch[:0], p.pending[p.next:end]...)
			clear(p.pending[p.next:end])
			p.next = end
		case len(p.groups) > 0:
			p.mu.Unlock() // pooled while its waves began
			continue
		default:
			clear(p.pending)
			p.pending, p.next = p.pending[:0], 0
			p.writers--
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		if more {
			srv.goTracked(srv.runWriter)
		}
		var t time.Time
		if hold {
			t = time.Now()
		}
		if c.w != nil {
			c.write()
		} else {
			for _, s := range batch {
				s.writeQueued()
			}
			clear(batch)
		}
		if hold {
			wrote += time.Since(t)
		}
	}
}

// startWavesLocked begins a wave for each group in the pool and queues
// its chunks; it releases p.mu meanwhile, since a wave takes its group's
// lock.
func (p *writePool) startWavesLocked() {
	if len(p.groups) == 0 {
		return
	}
	groups := p.groups
	p.groups = nil
	p.mu.Unlock()
	var chunks []waveChunk
	for _, g := range groups {
		chunks = g.startWave(chunks)
	}
	p.mu.Lock()
	p.chunks = append(p.chunks, chunks...)
}

package socketio

import (
	"sync"
	"time"
)

// workerIdle is how long a worker waits for another task queue before it
// ends.
const workerIdle = 10 * time.Second

// workers runs the conns' task queues (see conn.dispatch) on goroutines
// that outlive one queue. A goroutine started per queue, as a burst of
// events from one client needs, starts with a small stack that the
// handlers' calls then grow by copying, each time: on a busy server that
// was a seventh of the CPU. A worker keeps its grown stack from one queue
// to the next. Idle workers are reused last-in first-out, so that the few
// recently busy ones stay warm, and end after workerIdle.
//
// After close, each queue gets a goroutine of its own again, which ends
// with it, so that Shutdown can wait for the handlers still running.
type workers struct {
	wg sync.WaitGroup // counts every goroutine running queues

	mu      sync.Mutex
	idle    []*worker // oldest first
	janitor *time.Timer
	closed  bool
}

// A worker is an idle or busy goroutine of workers.
type worker struct {
	next      chan *conn // the next queue to run; nil ends the worker
	idleSince time.Time
}

// run drains c's task queue on an idle worker, or on a new one.
func (p *workers) run(c *conn) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		w.next <- c // buffered: never blocks
		return
	}
	closed := p.closed
	p.mu.Unlock()
	p.wg.Add(1)
	if closed {
		go p.once(c)
		return
	}
	go p.work(c)
}

// once drains one queue and ends.
func (p *workers) once(c *conn) {
	defer p.wg.Done()
	c.drain()
}

// work is a worker's goroutine: it drains c's queue, then waits for the
// next queue until it is told to end.
func (p *workers) work(c *conn) {
	defer p.wg.Done()
	w := &worker{next: make(chan *conn, 1)}
	for c != nil {
		c.drain()
		if !p.park(w) {
			return
		}
		c = <-w.next
	}
}

// park puts w among the idle workers and reports whether it was; it is
// not after close.
func (p *workers) park(w *worker) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	w.idleSince = time.Now()
	p.idle = append(p.idle, w)
	if p.janitor == nil {
		p.janitor = time.AfterFunc(workerIdle, p.expire)
	}
	return true
}

// expire ends the workers idle for workerIdle or longer.
func (p *workers) expire() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	cutoff := time.Now().Add(-workerIdle)
	n := 0
	for n < len(p.idle) && !p.idle[n].idleSince.After(cutoff) {
		p.idle[n].next <- nil
		n++
	}
	p.idle = append(p.idle[:0], p.idle[n:]...)
	clear(p.idle[len(p.idle):cap(p.idle)])
	if len(p.idle) == 0 {
		p.janitor = nil
		return
	}
	p.janitor.Reset(time.Until(p.idle[0].idleSince.Add(workerIdle)))
}

// close ends the idle workers; the busy ones end after their queue.
func (p *workers) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	for _, w := range p.idle {
		w.next <- nil
	}
	p.idle = nil
	if p.janitor != nil {
		p.janitor.Stop()
		p.janitor = nil
	}
}

// Package workers runs tasks on goroutines that outlive one task.
//
// A goroutine started per task, as a burst of events from one client or
// a connection that became readable needs, starts with a small stack that
// the task's calls then grow by copying, each time: on a busy server that
// was a seventh of the CPU. A worker keeps its grown stack from one task to
// the next. Idle workers are reused last-in first-out, so that the few
// recently busy ones stay warm, and end after Idle.
package workers

import (
	"sync"
	"time"
)

// Idle is how long a worker waits for another task before it ends.
const Idle = 10 * time.Second

// A Task is work for a Pool; Run may block, which only keeps its worker.
type Task interface {
	Run()
}

// A Pool runs tasks on reused goroutines. The zero Pool is ready to use.
//
// After Close, each task gets a goroutine of its own again, which ends
// with it, so that Wait can wait for the tasks still running.
type Pool struct {
	wg sync.WaitGroup // counts every goroutine running tasks

	mu      sync.Mutex
	idle    []*worker // oldest first
	janitor *time.Timer
	closed  bool
}

// A worker is an idle or busy goroutine of a Pool.
type worker struct {
	next      chan Task // the next task; nil ends the worker
	idleSince time.Time
}

// Run runs t on an idle worker, or on a new one. It never waits.
func (p *Pool) Run(t Task) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		w.next <- t // buffered: never blocks
		return
	}
	closed := p.closed
	p.mu.Unlock()
	p.wg.Add(1)
	if closed {
		go p.once(t)
		return
	}
	go p.work(t)
}

// once runs one task and ends.
func (p *Pool) once(t Task) {
	defer p.wg.Done()
	t.Run()
}

// work is a worker's goroutine: it runs t, then waits for the next task
// until it is told to end.
func (p *Pool) work(t Task) {
	defer p.wg.Done()
	w := &worker{next: make(chan Task, 1)}
	for t != nil {
		t.Run()
		if !p.park(w) {
			return
		}
		t = <-w.next
	}
}

// park puts w among the idle workers and reports whether it was; it is
// not after Close.
func (p *Pool) park(w *worker) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	w.idleSince = time.Now()
	p.idle = append(p.idle, w)
	if p.janitor == nil {
		p.janitor = time.AfterFunc(Idle, p.expire)
	}
	return true
}

// expire ends the workers idle for Idle or longer.
func (p *Pool) expire() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	cutoff := time.Now().Add(-Idle)
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
	p.janitor.Reset(time.Until(p.idle[0].idleSince.Add(Idle)))
}

// IdleWorkers returns how many workers wait for a task.
func (p *Pool) IdleWorkers() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle)
}

// Close ends the idle workers; the busy ones end after their task. Tasks
// run after Close each get a goroutine of their own.
func (p *Pool) Close() {
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

// Wait waits until every goroutine of p has ended: after Close, when the
// tasks running or started since have returned.
func (p *Pool) Wait() { p.wg.Wait() }

package socketio

import (
	"runtime/debug"
	"sync"

	"github.com/gosio/gosio/internal/workers"
)

// A task is a unit of work in a taskQueue.
type task interface{ run() }

// funcTask is a function as a task; it converts to one without allocating.
type funcTask func()

func (f funcTask) run() { f() }

// A taskQueue runs tasks one at a time, in the order they were pushed, on
// the server's workers while it is not empty: no goroutine waits on an
// empty queue. Each socket has one for its handlers, a conn one for its
// CONNECTs, a namespace one for the server-side emits of other servers,
// so that one of them waiting never holds up another. It is unbounded,
// like the Engine.IO session that feeds it (bounded by the session's
// packet limits); it keeps its array for the next task unless a burst made
// it large.
type taskQueue struct {
	srv *Server // its workers and logger
	sid string  // logged with a panic

	mu      sync.Mutex
	tasks   []task // tasks[next:] wait to run
	next    int
	running bool // a worker drains the queue, or it is held
}

// push queues t to run after the tasks already queued. It never blocks.
func (q *taskQueue) push(t task) {
	q.mu.Lock()
	q.tasks = append(q.tasks, t)
	if q.running {
		q.mu.Unlock()
		return
	}
	q.running = true
	q.mu.Unlock()
	q.srv.workers.Run(q)
}

// hold keeps the tasks pushed from now on waiting until release. The queue
// must be empty and idle.
func (q *taskQueue) hold() {
	q.mu.Lock()
	q.running = true
	q.mu.Unlock()
}

// release ends a hold: first runs, then the tasks pushed meanwhile.
func (q *taskQueue) release(first task) {
	q.mu.Lock()
	q.tasks = append(q.tasks, nil)
	copy(q.tasks[q.next+1:], q.tasks[q.next:])
	q.tasks[q.next] = first
	q.mu.Unlock()
	q.srv.workers.Run(q)
}

// Run implements workers.Task: it runs queued tasks until the queue is
// empty.
func (q *taskQueue) Run() {
	for {
		q.mu.Lock()
		if q.next == len(q.tasks) {
			q.running = false
			q.tasks, q.next = q.tasks[:0], 0
			if cap(q.tasks) > 64 {
				q.tasks = nil
			}
			q.mu.Unlock()
			return
		}
		t := q.tasks[q.next]
		q.tasks[q.next] = nil
		q.next++
		if q.next >= 64 && 2*q.next >= len(q.tasks) {
			// A queue that never empties moves its waiting tasks to the
			// front, so that its array does not grow with every task run.
			n := copy(q.tasks, q.tasks[q.next:])
			clear(q.tasks[n:])
			q.tasks, q.next = q.tasks[:n], 0
		}
		q.mu.Unlock()
		q.exec(t)
	}
}

// exec calls a task, turning a panic into a log entry so that one broken
// handler does not bring the server down.
func (q *taskQueue) exec(t task) {
	defer func() {
		if r := recover(); r != nil {
			q.srv.opts.Logger.Error("socketio: handler panicked", "sid", q.sid, "panic", r, "stack", string(debug.Stack()))
		}
	}()
	t.run()
}

var _ workers.Task = (*taskQueue)(nil)

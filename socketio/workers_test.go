package socketio

import (
	"runtime"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gosio/gosio/internal/testutil"
)

// goroutineID identifies the calling goroutine, for telling workers apart.
func goroutineID() string {
	var b [64]byte
	n := runtime.Stack(b[:], false)
	return string(b[:n])[:len("goroutine ")+8]
}

func idleWorkers(srv *Server) int {
	srv.workers.mu.Lock()
	defer srv.workers.mu.Unlock()
	return len(srv.workers.idle)
}

// TestWorkersReuseIdleWorker runs queues one after another: one worker runs
// them all, and after workerIdle without work it ends.
func TestWorkersReuseIdleWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &Server{}
		ids := make(map[string]int)
		for range 5 {
			c := &conn{srv: srv}
			c.dispatch(func() { ids[goroutineID()]++ })
			synctest.Wait() // the worker has parked
		}
		testutil.Equal(t, len(ids), 1)
		testutil.Equal(t, idleWorkers(srv), 1)

		time.Sleep(workerIdle - time.Second)
		synctest.Wait()
		testutil.Equal(t, idleWorkers(srv), 1)
		time.Sleep(time.Second)
		synctest.Wait()
		testutil.Equal(t, idleWorkers(srv), 0)
		srv.workers.wg.Wait() // the worker has ended

		// A new queue gets a new worker.
		c := &conn{srv: srv}
		c.dispatch(func() { ids[goroutineID()]++ })
		synctest.Wait()
		testutil.Equal(t, len(ids), 2)
		srv.workers.close()
		srv.workers.wg.Wait()
	})
}

// TestWorkersConcurrentQueues blocks one queue's task: another queue gets
// a second worker, and each queue keeps its order.
func TestWorkersConcurrentQueues(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &Server{}
		a, b := &conn{srv: srv}, &conn{srv: srv}
		release := make(chan struct{})
		var order []int
		a.dispatch(func() { <-release; order = append(order, 1) })
		a.dispatch(func() { order = append(order, 2) })
		ran := false
		b.dispatch(func() { ran = true })
		synctest.Wait()
		if !ran {
			t.Fatal("a blocked queue held up another conn's queue")
		}
		close(release)
		synctest.Wait()
		testutil.Equal(t, order, []int{1, 2})
		testutil.Equal(t, idleWorkers(srv), 2)
		srv.workers.close()
		srv.workers.wg.Wait()
	})
}

// TestWorkersAfterClose: queues still run after close, each on a goroutine
// that ends with it, and a worker busy at close ends after its queue.
func TestWorkersAfterClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &Server{}
		busy := &conn{srv: srv}
		release := make(chan struct{})
		busy.dispatch(func() { <-release })
		synctest.Wait()
		srv.workers.close()
		var n atomic.Int32
		for range 3 {
			c := &conn{srv: srv}
			c.dispatch(func() { n.Add(1) })
		}
		close(release)
		srv.workers.wg.Wait()
		testutil.Equal(t, n.Load(), int32(3))
		testutil.Equal(t, idleWorkers(srv), 0)
	})
}

package workers

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

// fn is a Task from a func.
type fn func()

func (f fn) Run() { f() }

// TestReuseIdleWorker runs tasks one after another: one worker runs them
// all, and after Idle without work it ends.
func TestReuseIdleWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var p Pool
		ids := make(map[string]int)
		for range 5 {
			p.Run(fn(func() { ids[goroutineID()]++ }))
			synctest.Wait() // the worker has parked
		}
		testutil.Equal(t, len(ids), 1)
		testutil.Equal(t, p.IdleWorkers(), 1)

		time.Sleep(Idle - time.Second)
		synctest.Wait()
		testutil.Equal(t, p.IdleWorkers(), 1)
		time.Sleep(time.Second)
		synctest.Wait()
		testutil.Equal(t, p.IdleWorkers(), 0)
		p.Wait() // the worker has ended

		// A new task gets a new worker.
		p.Run(fn(func() { ids[goroutineID()]++ }))
		synctest.Wait()
		testutil.Equal(t, len(ids), 2)
		p.Close()
		p.Wait()
	})
}

// TestBlockedTask: a blocked task does not hold up another, which gets a
// second worker.
func TestBlockedTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var p Pool
		release := make(chan struct{})
		p.Run(fn(func() { <-release }))
		ran := false
		p.Run(fn(func() { ran = true }))
		synctest.Wait()
		if !ran {
			t.Fatal("a blocked task held up another")
		}
		close(release)
		synctest.Wait()
		testutil.Equal(t, p.IdleWorkers(), 2)
		p.Close()
		p.Wait()
	})
}

// TestAfterClose: tasks still run after Close, each on a goroutine that
// ends with it, and a worker busy at Close ends after its task.
func TestAfterClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var p Pool
		release := make(chan struct{})
		p.Run(fn(func() { <-release }))
		synctest.Wait()
		p.Close()
		var n atomic.Int32
		for range 3 {
			p.Run(fn(func() { n.Add(1) }))
		}
		close(release)
		p.Wait()
		testutil.Equal(t, n.Load(), int32(3))
		testutil.Equal(t, p.IdleWorkers(), 0)
	})
}

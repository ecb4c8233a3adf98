package socketio

import (
	"testing"
	"testing/synctest"

	"github.com/gosio/gosio/internal/testutil"
)

// TestQueuesOnWorkers blocks one queue's task: another queue runs on a
// second worker, and each queue keeps its order.
func TestQueuesOnWorkers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &Server{}
		a, b := &taskQueue{srv: srv}, &taskQueue{srv: srv}
		release := make(chan struct{})
		var order []int
		a.push(funcTask(func() { <-release; order = append(order, 1) }))
		a.push(funcTask(func() { order = append(order, 2) }))
		ran := false
		b.push(funcTask(func() { ran = true }))
		synctest.Wait()
		if !ran {
			t.Fatal("a blocked queue held up another queue")
		}
		close(release)
		synctest.Wait()
		testutil.Equal(t, order, []int{1, 2})
		testutil.Equal(t, srv.workers.IdleWorkers(), 2)
		srv.workers.Close()
		srv.workers.Wait()
	})
}

package redis

import (
	"context"
	"net"
	"os/exec"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosio/gosio/internal/testutil"
)

// redisProc is a redis-server the test can kill and start again on the
// same port.
type redisProc struct {
	t    *testing.T
	port int
	dir  string
	args []string
	cmd  *exec.Cmd
}

func startRedisProc(t *testing.T, args ...string) *redisProc {
	bin := testutil.NeedTool(t, "redis-server")
	_ = bin
	r := &redisProc{t: t, port: testutil.FreePort(t), dir: t.TempDir(), args: args}
	r.start()
	t.Cleanup(r.kill)
	return r
}

func (r *redisProc) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port)) }

func (r *redisProc) start() {
	r.t.Helper()
	args := append([]string{"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", r.dir}, r.args...)
	r.cmd = exec.Command("redis-server", args...)
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", r.addr(), 100*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("redis-server on %s did not start", r.addr())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *redisProc) kill() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}

// TestRedisRestart kills redis-server in the middle of a stream of
// broadcasts from node b to a client of node a and starts it again: node
// a resubscribes by itself, reports the gap, and the stream flows again.
// The messages lost in the window are counted and logged; local delivery
// never stops.
func TestRedisRestart(t *testing.T) {
	for _, sharded := range []bool{false, true} {
		name := "classic"
		if sharded {
			name = "sharded"
		}
		t.Run(name, func(t *testing.T) {
			rp := startRedisProc(t)
			a := startNode(t, rp.addr(), sharded, Dynamic)
			b := startNode(t, rp.addr(), sharded, Dynamic)
			var gaps atomic.Int32
			a.rc.onGap = func(g Gap) { gaps.Add(1); t.Logf("gap reported: %v (%v)", g.End.Sub(g.Start), g.Err) }
			remote, local := &recorder{}, &recorder{}
			connect(t, a, remote, "a")
			connect(t, b, local, "b")

			stop := make(chan struct{})
			sent := make(chan int, 1)
			go func() {
				n := 0
				defer func() { sent <- n }()
				for {
					select {
					case <-stop:
						return
					case <-time.After(2 * time.Millisecond):
					}
					_ = b.srv.Emit("ev", strconv.Itoa(n))
					n++
				}
			}()
			time.Sleep(300 * time.Millisecond)
			rp.kill()
			down := time.Now()
			time.Sleep(500 * time.Millisecond)
			rp.start()
			waitFor(t, "resubscribed", func() bool {
				return gaps.Load() > 0 && a.rc.Stats().Connected && b.rc.Stats().Gaps > 0 && b.rc.Stats().Connected
			})
			t.Logf("subscriber back %v after the kill", time.Since(down))
			before := len(remote.list())
			time.Sleep(500 * time.Millisecond)
			close(stop)
			total := <-sent
			waitFor(t, "local delivery", func() bool { return len(local.list()) == total })
			waitFor(t, "remote stream flows again", func() bool { return len(remote.list()) > before })
			time.Sleep(200 * time.Millisecond)
			got := len(remote.list())
			t.Logf("%s: sent %d, local client got %d, remote client got %d, lost %d (%.1f%%) across a %v outage; publish errors %d",
				name, total, len(local.list()), got, total-got, 100*float64(total-got)/float64(total), 500*time.Millisecond, b.rc.Stats().PublishErrors)
			if a.rc.Stats().Gaps == 0 {
				t.Fatal("no gap counted")
			}
			// The cluster works after the restart: a request round trip.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			socks, err := b.srv.FetchSockets(ctx)
			testutil.NoErr(t, err)
			testutil.Equal(t, len(socks), 2)
		})
	}
}

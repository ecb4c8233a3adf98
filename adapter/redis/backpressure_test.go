package redis

import (
	"context"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosio/gosio/emitter"
	"github.com/gosio/gosio/internal/testutil"
	"github.com/gosio/gosio/socketio"
)

// TestInboundFlood floods a node whose namespace queue holds 4 messages
// with broadcasts from an emitter, classic and streams: the queue fills
// (Stats.Blocked), the reader waits for room instead of dropping, and the
// client receives every broadcast, in order.
func TestInboundFlood(t *testing.T) {
	const n = 5000
	for _, streams := range []bool{false, true} {
		name := map[bool]string{false: "classic", true: "streams"}[streams]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			addr := testutil.StartRedis(t)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var rc *Cluster
			var err error
			if streams {
				rc, err = NewStreams(ctx, newClient(t, addr), &StreamsOptions{InboundQueue: 4})
			} else {
				rc, err = New(ctx, newClient(t, addr), &Options{InboundQueue: 4})
			}
			testutil.NoErr(t, err)
			defer rc.Close()
			srv := socketio.NewServer(&socketio.Options{Adapter: rc.Adapter})
			hs := httptest.NewServer(srv)
			defer hs.Close()
			defer func() {
				sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
				defer c()
				_ = srv.Shutdown(sctx)
			}()

			cs, err := socketio.NewClient(hs.URL, &socketio.ClientOptions{ManagerOptions: socketio.ManagerOptions{Transports: []string{"websocket"}}})
			testutil.NoErr(t, err)
			defer cs.Close()
			var got, outOfOrder atomic.Int64
			cs.On("ev", func(i int64) {
				if i != got.Load() {
					outOfOrder.Add(1)
				}
				got.Add(1)
			})
			testutil.NoErr(t, cs.Connect(ctx))

			ec := newClient(t, addr)
			e := emitter.New(ec, nil)
			if streams {
				e = emitter.NewStreams(ec, &emitter.StreamsOptions{MaxLen: -1})
			}
			p := emitter.NewPipeline(0)
			for i := range n {
				testutil.NoErr(t, p.Emit(ctx, e, "ev", i))
			}
			testutil.NoErr(t, p.Wait(ctx))
			deadline := time.Now().Add(15 * time.Second)
			for got.Load() < n && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			st := rc.Stats()
			if got.Load() != n || outOfOrder.Load() != 0 || st.Dropped != 0 {
				t.Fatalf("client got %d of %d (%d out of order); stats %+v", got.Load(), n, outOfOrder.Load(), st)
			}
			if st.Blocked == 0 {
				t.Fatalf("the queue never filled (stats %+v): the flood did not test back-pressure", st)
			}
			t.Logf("stats %+v", st)
		})
	}
}

// TestInboundFloodClose closes a node while its reader waits for room in
// a full queue: Close returns promptly and leaves no goroutine behind
// (TestMain's leak check).
func TestInboundFloodClose(t *testing.T) {
	t.Parallel()
	addr := testutil.StartRedis(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rc, err := New(ctx, newClient(t, addr), &Options{InboundQueue: 1})
	testutil.NoErr(t, err)
	srv := socketio.NewServer(&socketio.Options{Adapter: rc.Adapter})
	srv.Sockets() // the "/" namespace and its adapter
	e := emitter.New(newClient(t, addr), nil)
	p := emitter.NewPipeline(0)
	flood := make(chan error, 1)
	go func() {
		for i := range 50000 {
			if err := p.Emit(ctx, e, "ev", i); err != nil {
				flood <- err
				return
			}
		}
		flood <- p.Wait(ctx)
	}()
	waitFor(t, "a full queue", func() bool { return rc.Stats().Blocked > 0 })
	start := time.Now()
	sctx, c := context.WithTimeout(ctx, 5*time.Second)
	defer c()
	_ = srv.Shutdown(sctx)
	testutil.NoErr(t, rc.Close())
	testutil.NoErr(t, <-flood)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v", d)
	}
}

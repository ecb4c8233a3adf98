package emitter_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/gosio/gosio/emitter"
	"github.com/gosio/gosio/internal/testutil"
)

// TestPipeline emits from several goroutines, each in a loop, through one
// small-window pipeline, and checks that every emit reached the stream,
// each goroutine's in its order, with the bytes Operator.Emit writes.
func TestPipeline(t *testing.T) {
	addr := testutil.StartRedis(t)
	c := newClient(t, addr)
	ctx := context.Background()
	xe := emitter.NewStreams(c, &emitter.StreamsOptions{MaxLen: -1})
	p := emitter.NewPipeline(8)
	const workers, n = 4, 500
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range n {
				if err := p.Emit(ctx, xe.To("w"+strconv.Itoa(w)), "ev", i); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	testutil.NoErr(t, p.Wait(ctx))
	entries, err := c.Do(ctx, c.B().Xrange().Key("socket.io").Start("-").End("+").Build()).AsXRange()
	testutil.NoErr(t, err)
	testutil.Equal(t, len(entries), workers*n)
	next := map[string]int{}
	for _, en := range entries {
		d := en.FieldValues["data"]
		w := d[strings.Index(d, `"rooms":["`)+10:][:2]
		want := `"data":["ev",` + strconv.Itoa(next[w]) + `]`
		if !strings.Contains(d, want) {
			t.Fatalf("entry of %s: %s, want %s", w, d, want)
		}
		next[w]++
	}
	// The same bytes as Operator.Emit.
	mon := startMonitor(t, addr)
	e := emitter.New(c, nil)
	testutil.NoErr(t, e.To("r").Emit(ctx, "same", 1, []byte{2}, map[string]any{"k": "v"}))
	testutil.NoErr(t, p.Emit(ctx, e.To("r"), "same", 1, []byte{2}, map[string]any{"k": "v"}))
	testutil.NoErr(t, p.Wait(ctx))
	testutil.Equal(t, mon.next(t), mon.next(t))
	testutil.NoErr(t, p.Emit(ctx, e, "all"))
	testutil.NoErr(t, p.Wait(ctx))
	if l := mon.next(t); !strings.Contains(l, `"PUBLISH" "socket.io#/#"`) {
		t.Errorf("an emit to the emitter went to %s", l)
	}
}

// TestPipelineErrors checks that Redis's errors come to Wait, counted and
// wrapped, that encoding errors come from Emit, and that contexts are
// obeyed.
func TestPipelineErrors(t *testing.T) {
	addr := testutil.StartRedis(t)
	c := newClient(t, addr)
	ctx := context.Background()
	testutil.NoErr(t, c.Do(ctx, c.B().Set().Key("socket.io").Value("x").Build()).Error())
	xe := emitter.NewStreams(c, nil)
	p := emitter.NewPipeline(4)
	for i := range 40 {
		testutil.NoErr(t, p.Emit(ctx, xe, "ev", i))
	}
	testutil.NoErr(t, p.Emit(ctx, emitter.New(c, nil), "fine"))
	err := p.Wait(ctx)
	var pe *emitter.PipelineError
	var re *rueidis.RedisError
	if !errors.As(err, &pe) || pe.Failed != 40 || len(pe.Errs) != 16 || !errors.As(err, &re) ||
		!strings.Contains(err.Error(), "emitter: 40 emits failed, the first: emitter: emit: WRONGTYPE") {
		t.Fatalf("Wait = %v, want 40 WRONGTYPE failures", err)
	}
	testutil.NoErr(t, p.Wait(ctx)) // forgotten once reported

	if err := p.Emit(ctx, xe, "connect"); !errors.Is(err, emitter.ErrReservedEvent) {
		t.Errorf("Emit(connect) = %v", err)
	}
	if err := p.Emit(ctx, xe, "ev", func() {}); !errors.Is(err, emitter.ErrAck) {
		t.Errorf("Emit(func) = %v", err)
	}

	// A full window: Emit waits for room, or for its context.
	s := testutil.StartRedisServer(t)
	slow, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{s.Addr()}, DisableCache: true})
	testutil.NoErr(t, err)
	defer slow.Close()
	p = emitter.NewPipeline(1)
	e := emitter.New(slow, nil)
	testutil.NoErr(t, slow.Do(ctx, slow.B().ClientPause().Timeout(1000).Build()).Error())
	testutil.NoErr(t, p.Emit(ctx, e, "first")) // waits for its reply while Redis is paused
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := p.Emit(short, e, "second"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Emit into a full window = %v, want DeadlineExceeded", err)
	}
	if err := p.Wait(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait past its context = %v, want DeadlineExceeded", err)
	}
	testutil.NoErr(t, p.Wait(ctx))

	// A context done before the command is written withdraws it.
	done, cancel2 := context.WithCancel(ctx)
	cancel2()
	p = emitter.NewPipeline(0)
	mon := startMonitor(t, addr)
	for range 3 {
		if err := p.Emit(done, emitter.New(c, nil), "withdrawn"); err != nil && !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
	}
	if err := p.Wait(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("Wait = %v, want nil or Canceled", err)
	}
	testutil.NoErr(t, emitter.New(c, nil).Emit(ctx, "marker"))
	mon.expectNothingBefore(t, "marker")
}

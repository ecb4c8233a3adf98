package redis

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/internal/testutil"
	"github.com/gosio/gosio/parser"
	"github.com/redis/rueidis"
)

// TestMalformedMessages publishes garbage on every channel a classic and a
// sharded node listen on: each is dropped and counted, and the node goes
// on delivering.
func TestMalformedMessages(t *testing.T) {
	garbage := []string{
		"", "\xc1", "\x93", "\x93\xa1", "{", "[", "[1,2,3]", "{\"type\":\"x\"}", `{"type":7}`, `{"type":5,"requestId":"x"}`,
		"\xdd\xff\xff\xff\xff", "\xdf\xff\xff\xff\xff", "\x93\xa6abcdef\x83\xa4type\x02\xa4data\xc0\xa3nsp\xa1/\x80",
		`["x",{"type":2,"data":"notarray","nsp":"/"},{"rooms":[],"except":[]}]`,
		`{"type":3,"data":{"packet":{"type":2,"data":[1]},"opts":null},"uid":"zz","nsp":"/"}`,
		`{"type":9,"data":{"packet":[]},"uid":"zz","nsp":"/"}`,
		`{"type":3,"data":{"packet":{"type":2,"data":[]},"opts":{"rooms":[{}]}},"uid":"zz","nsp":"/"}`,
	}
	for _, sharded := range []bool{false, true} {
		name := "classic"
		if sharded {
			name = "sharded"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			addr := testutil.StartRedis(t)
			a := startNode(t, addr, sharded, Dynamic)
			rec := &recorder{}
			connect(t, a, rec, "a")
			raw := newClient(t, addr)
			chans := []string{"socket.io#/#", "socket.io-request#/#", "socket.io-response#/#", "socket.io#/#room#", "socket.io#/#" + a.rc.UID() + "#"}
			for _, ch := range chans {
				for _, g := range garbage {
					var err error
					if sharded {
						err = raw.Do(context.Background(), raw.B().Spublish().Channel(ch).Message(g).Build()).Error()
					} else {
						err = raw.Do(context.Background(), raw.B().Publish().Channel(ch).Message(g).Build()).Error()
					}
					testutil.NoErr(t, err)
				}
			}
			b := startNode(t, addr, sharded, Dynamic)
			testutil.NoErr(t, b.srv.Emit("ev", "after"))
			waitFor(t, "broadcast after garbage", func() bool { return len(rec.list()) == 1 })
			if a.rc.Stats().Malformed == 0 {
				t.Fatalf("no malformed message counted: %+v", a.rc.Stats())
			}
		})
	}
}

// TestTimedOutRequestsLeakNothing makes 10,000 requests time out against
// a server that counts in PUBSUB NUMSUB but never answers: no request,
// ack request or goroutine is left behind.
func TestTimedOutRequestsLeakNothing(t *testing.T) {
	addr := testutil.StartRedis(t)
	ctx := context.Background()
	client := newClient(t, addr)
	rc, err := New(ctx, client, &Options{RequestsTimeout: 20 * time.Millisecond})
	testutil.NoErr(t, err)
	defer rc.Close()
	n := &fakeNsp{}
	ad := rc.Adapter(n).(*nsAdapter)
	testutil.NoErr(t, ad.Init(ctx))
	// A silent server: subscribed to the request channel, never answers.
	dc, cancel := newClient(t, addr).Dedicate()
	defer cancel()
	dc.SetPubSubHooks(rueidisHooks())
	testutil.NoErr(t, dc.Do(ctx, dc.B().Subscribe().Channel("socket.io-request#/#").Build()).Error())

	before := runtime.NumGoroutine()
	const total, parallel = 10000, 500
	var wg sync.WaitGroup
	var mu sync.Mutex
	timeouts := 0
	for i := 0; i < total; i += parallel {
		for j := 0; j < parallel; j++ {
			wg.Add(1)
			go func(k int) {
				defer wg.Done()
				var err error
				if k%2 == 0 {
					_, err = ad.FetchSockets(ctx, &adapter.BroadcastOptions{})
				} else {
					_, err = ad.ServerSideEmit(ctx, "ev", nil, true)
				}
				var te *adapter.TimeoutError
				if errors.As(err, &te) {
					mu.Lock()
					timeouts++
					mu.Unlock()
				}
			}(i + j)
		}
		wg.Wait()
	}
	testutil.Equal(t, timeouts, total)
	testutil.Equal(t, ad.pendingCount(), 0)
	waitFor(t, "goroutines to settle", func() bool { return runtime.NumGoroutine() <= before+5 })
	testutil.NoErr(t, ad.Close())
}

type fakeNsp struct{}

func (fakeNsp) Name() string                                           { return "/" }
func (fakeNsp) Socket(string) adapter.Socket                           { return nil }
func (fakeNsp) NextAckID() uint64                                      { return 0 }
func (fakeNsp) Recovery() (bool, time.Duration)                        { return false, 0 }
func (fakeNsp) HandleServerSideEmit(string, []parser.Value, func(any)) {}

func rueidisHooks() rueidis.PubSubHooks {
	return rueidis.PubSubHooks{OnMessage: func(rueidis.PubSubMessage) {}}
}

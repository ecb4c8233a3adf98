package redis

import (
	"context"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/gosio/gosio/internal/testutil"
	"github.com/gosio/gosio/socketio"
)

func TestMain(m *testing.M) { testutil.RunWithLeakCheck(m) }

func newClient(t *testing.T, addr string) rueidis.Client {
	t.Helper()
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// node is one gosio server on the cluster.
type node struct {
	srv *socketio.Server
	hs  *httptest.Server
	rc  *Cluster
}

func startNode(t *testing.T, addr string, sharded bool, mode SubscriptionMode) *node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var rc *Cluster
	var err error
	if sharded {
		rc, err = NewSharded(ctx, newClient(t, addr), &ShardedOptions{SubscriptionMode: mode})
	} else {
		rc, err = New(ctx, newClient(t, addr), nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	srv := socketio.NewServer(&socketio.Options{Adapter: rc.Adapter})
	srv.OnConnection(func(s *socketio.Socket) {
		s.SetData(map[string]any{"x": 1})
		s.On("join", func(room string) { s.Join(room) })
	})
	hs := httptest.NewServer(srv)
	n := &node{srv: srv, hs: hs, rc: rc}
	t.Cleanup(func() {
		sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		_ = srv.Shutdown(sctx)
		hs.Close()
		_ = rc.Close()
	})
	return n
}

type recorder struct {
	mu  sync.Mutex
	got []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.got = append(r.got, s)
	r.mu.Unlock()
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]string(nil), r.got...)
	sort.Strings(out)
	return out
}

func connect(t *testing.T, n *node, rec *recorder, name string) *socketio.ClientSocket {
	t.Helper()
	cs, err := socketio.NewClient(n.hs.URL, &socketio.ClientOptions{ManagerOptions: socketio.ManagerOptions{Transports: []string{"websocket"}}})
	if err != nil {
		t.Fatal(err)
	}
	cs.On("ev", func(v string) { rec.add(name + ":" + v) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cs.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestGoNodes runs two gosio nodes on one Redis, classic and each sharded
// mode: broadcasts, rooms, fetchSockets, server-side emits, serverCount.
// The cross-implementation tests against Node nodes are in conformance.
func TestGoNodes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sharded bool
		mode    SubscriptionMode
	}{{"classic", false, 0}, {"sharded-dynamic", true, Dynamic}, {"sharded-static", true, Static}, {"sharded-dynamic-private", true, DynamicPrivate}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr := testutil.StartRedis(t)
			a, b := startNode(t, addr, tc.sharded, tc.mode), startNode(t, addr, tc.sharded, tc.mode)
			ctx := context.Background()
			n, err := a.srv.ServerCount(ctx)
			testutil.NoErr(t, err)
			testutil.Equal(t, n, 2)

			rec := &recorder{}
			ca := connect(t, a, rec, "a")
			connect(t, b, rec, "b")
			testutil.NoErr(t, b.srv.Emit("ev", "all"))
			waitFor(t, "broadcast", func() bool { return len(rec.list()) == 2 })
			testutil.Equal(t, rec.list(), []string{"a:all", "b:all"})

			// A room on node a, reached from node b.
			testutil.NoErr(t, ca.Emit("join", "r1"))
			waitFor(t, "join", func() bool { return len(a.srv.Sockets().Rooms()) == 2 })
			time.Sleep(100 * time.Millisecond) // sharded dynamic: the room's SSUBSCRIBE
			testutil.NoErr(t, b.srv.To("r1").Emit("ev", "room"))
			waitFor(t, "room broadcast", func() bool { return len(rec.list()) == 3 })
			testutil.Equal(t, rec.list(), []string{"a:all", "a:room", "b:all"})

			socks, err := b.srv.FetchSockets(ctx)
			testutil.NoErr(t, err)
			testutil.Equal(t, len(socks), 2)
			socks, err = b.srv.In("r1").FetchSockets(ctx)
			testutil.NoErr(t, err)
			if len(socks) != 1 || socks[0].ID != ca.ID() {
				t.Fatalf("fetch in r1: %+v", socks)
			}

			a.srv.Sockets().OnServerSideEmit("hello", func(v string, ack socketio.Ack) { _ = ack("pong:" + v) })
			res, err := b.srv.ServerSideEmitWithAck(ctx, "hello", "x")
			testutil.NoErr(t, err)
			if len(res) != 1 || string(res[0].JSON) != `"pong:x"` {
				t.Fatalf("sse ack: %v", res)
			}

			testutil.NoErr(t, b.srv.SocketsJoin("r2"))
			waitFor(t, "remote join", func() bool {
				for _, r := range a.srv.Sockets().Rooms() {
					if r == "r2" {
						return true
					}
				}
				return false
			})
			testutil.NoErr(t, b.srv.DisconnectSockets(true))
			waitFor(t, "remote disconnect", func() bool { return a.srv.Sockets().SocketCount() == 0 })
		})
	}
}

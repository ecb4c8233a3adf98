package redis

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/internal/testutil"
	"github.com/gosio/gosio/parser"
	"github.com/gosio/gosio/socketio"
)

func startStreamsClusterNode(t *testing.T, rc *testutil.RedisCluster, o *StreamsOptions) *node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := NewStreams(ctx, newClusterClient(t, rc), o)
	if err != nil {
		t.Fatal(err)
	}
	srv := socketio.NewServer(&socketio.Options{Adapter: c.Adapter,
		ConnectionStateRecovery: &socketio.ConnectionStateRecovery{MaxDisconnectionDuration: time.Minute}})
	srv.OnConnection(func(s *socketio.Socket) { s.SetData(map[string]any{"x": 1}) })
	for _, nsp := range []string{"/custom", "/notifications"} {
		srv.Of(nsp).OnConnection(func(s *socketio.Socket) {})
	}
	hs := httptest.NewServer(srv)
	n := &node{srv: srv, hs: hs, rc: c}
	t.Cleanup(func() {
		sctx, cc := context.WithTimeout(context.Background(), 5*time.Second)
		defer cc()
		_ = srv.Shutdown(sctx)
		hs.Close()
		_ = c.Close()
	})
	return n
}

// TestStreamsOnRedisCluster runs two Go nodes with the streams adapter on
// a 3-master Redis Cluster, with 3 streams (the namespaces spread over
// the masters, /notifications on the negative index) and with both kinds
// of pub/sub: broadcasts in each namespace, fetchSockets, server-side
// emits with acks, serverCount, and a session persisted by one node and
// restored by the other.
func TestStreamsOnRedisCluster(t *testing.T) {
	rc := testutil.StartRedisCluster(t, 3, 0)
	for _, sharded := range []bool{false, true} {
		name := "pubsub"
		if sharded {
			name = "sharded-pubsub"
		}
		t.Run(name, func(t *testing.T) {
			o := &StreamsOptions{StreamCount: 3, StreamName: "st-" + name, ChannelPrefix: "sp-" + name, UseShardedPubSub: sharded}
			a := startStreamsClusterNode(t, rc, o)
			b := startStreamsClusterNode(t, rc, o)
			owners := map[string]bool{}
			for _, nsp := range []string{"/", "/custom", "/notifications"} {
				owners[rc.SlotOwner(testutil.KeySlot(nsAdapterOf(t, a.rc, nsp).stream))] = true
			}
			if !strings.HasSuffix(nsAdapterOf(t, a.rc, "/notifications").stream, "--2") &&
				!strings.HasSuffix(nsAdapterOf(t, a.rc, "/notifications").stream, "--1") {
				t.Fatalf("/notifications on %s, want a negative index", nsAdapterOf(t, a.rc, "/notifications").stream)
			}
			t.Logf("the 3 namespaces' streams are on %d masters", len(owners))

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			rec := &recorder{}
			for _, nsp := range []string{"/", "/custom", "/notifications"} {
				connectNsp(t, a, nsp, rec, "a"+nsp)
			}
			for _, nsp := range []string{"/", "/custom", "/notifications"} {
				testutil.NoErr(t, b.srv.Of(nsp).Emit("ev", "from-b"))
			}
			waitFor(t, "broadcasts in 3 namespaces", func() bool { return len(rec.list()) == 3 })
			testutil.Equal(t, rec.list(), []string{"a/:from-b", "a/custom:from-b", "a/notifications:from-b"})

			n, err := b.srv.Sockets().Adapter().ServerCount(ctx)
			testutil.NoErr(t, err)
			testutil.Equal(t, n, 2)
			socks, err := b.srv.FetchSockets(ctx)
			testutil.NoErr(t, err)
			testutil.Equal(t, len(socks), 1)
			a.srv.Sockets().OnServerSideEmit("hello", func(v string, ack socketio.Ack) { _ = ack("pong:" + v) })
			res, err := b.srv.ServerSideEmitWithAck(ctx, "hello", "x")
			testutil.NoErr(t, err)
			if len(res) != 1 || string(res[0].JSON) != `"pong:x"` {
				t.Fatalf("sse ack: %v", res)
			}

			// A session kept by a, restored by b from an offset of a's stream.
			aa, ba := nsAdapterOf(t, a.rc, "/custom"), nsAdapterOf(t, b.rc, "/custom")
			testutil.NoErr(t, aa.PersistSession(ctx, &adapter.Session{SID: "s1", PID: "p1-" + name, Rooms: []string{"s1"}}))
			id, err := aa.xadd(ctx, 3, clusterBroadcastData(mustEvent(t, "/custom", "x"), &adapter.BroadcastOptions{}, ""))
			testutil.NoErr(t, err)
			testutil.NoErr(t, b.srv.Of("/custom").Emit("missed", 1))
			s, err := ba.RestoreSession(ctx, "p1-"+name, id)
			testutil.NoErr(t, err)
			if s.SID != "s1" || len(s.MissedPackets) != 1 || !strings.HasPrefix(string(s.MissedPackets[0].Data), `["missed",1,"`) {
				t.Fatalf("restored %+v", s)
			}
		})
	}
}

func mustEvent(t *testing.T, nsp string, args ...any) *parser.Packet {
	t.Helper()
	data, atts, err := parser.MarshalArgs(nil, append([]any{"ev"}, args...)...)
	testutil.NoErr(t, err)
	return &parser.Packet{Type: parser.Event, Namespace: nsp, Data: data, Attachments: atts}
}

package redis

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/internal/testutil"
	"github.com/gosio/gosio/parser"
	"github.com/gosio/gosio/socketio"
)

// startStreamsNode starts a gosio node with the streams adapter and
// connection state recovery on.
func startStreamsNode(t *testing.T, addr string, o *StreamsOptions) *node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rc, err := NewStreams(ctx, newClient(t, addr), o)
	if err != nil {
		t.Fatal(err)
	}
	srv := socketio.NewServer(&socketio.Options{Adapter: rc.Adapter,
		ConnectionStateRecovery: &socketio.ConnectionStateRecovery{MaxDisconnectionDuration: time.Minute}})
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

func nsAdapterOf(t *testing.T, rc *Cluster, nsp string) *nsAdapter {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	a := rc.nsps[nsp]
	if a == nil {
		t.Fatalf("no adapter for %s", nsp)
	}
	return a
}

func connectNsp(t *testing.T, n *node, nsp string, rec *recorder, name string) *socketio.ClientSocket {
	t.Helper()
	cs, err := socketio.NewClient(n.hs.URL+nsp, &socketio.ClientOptions{ManagerOptions: socketio.ManagerOptions{Transports: []string{"websocket"}}})
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

// xaddRaw writes an entry as another node would.
func xaddRaw(t *testing.T, addr, stream string, fields ...string) {
	t.Helper()
	args := append([]string{"XADD", stream, "*"}, fields...)
	if _, err := testutil.RedisDo(addr, args...); err != nil {
		t.Fatal(err)
	}
}

const nodeBroadcast = `{"packet":{"type":2,"data":["ev","%s"]},"opts":{"rooms":[],"except":[],"flags":{}}}`

// TestStreamsNegativeHash is J4: with StreamCount 2, /notifications
// hashes to stream "socket.io--1", which Node's writers use and its
// readers never read. gosio writes there too, reads it, and so also gets
// what Node nodes write there.
func TestStreamsNegativeHash(t *testing.T) {
	addr := testutil.StartRedis(t)
	o := &StreamsOptions{StreamCount: 2}
	a := startStreamsNode(t, addr, o)
	b := startStreamsNode(t, addr, o)
	a.srv.Of("/notifications")
	nspB := b.srv.Of("/notifications")
	rec := &recorder{}
	connectNsp(t, a, "/notifications", rec, "a")

	testutil.NoErr(t, nspB.Emit("ev", "from-b"))
	waitFor(t, "a broadcast across nodes on the negative stream", func() bool { return len(rec.list()) == 1 })
	n, err := testutil.RedisDo(addr, "XLEN", "socket.io--1")
	testutil.NoErr(t, err)
	if n != int64(1) {
		t.Fatalf("XLEN socket.io--1 = %v, want 1 (Node writes /notifications there)", n)
	}
	xaddRaw(t, addr, "socket.io--1", "uid", "nodeuid12345678", "nsp", "/notifications", "type", "3", "data", strings.Replace(nodeBroadcast, "%s", "from-node", 1))
	waitFor(t, "an entry written as a Node node writes it", func() bool { return len(rec.list()) == 2 })
	testutil.Equal(t, rec.list(), []string{"a:from-b", "a:from-node"})
}

// TestStreamsBadEntries: entries that do not decode are skipped and
// counted, and the reader goes on.
func TestStreamsBadEntries(t *testing.T) {
	addr := testutil.StartRedis(t)
	var logs bytes.Buffer
	var lmu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		lmu.Lock()
		defer lmu.Unlock()
		return logs.Write(p)
	}), nil))
	a := startStreamsNode(t, addr, &StreamsOptions{Logger: log})
	rec := &recorder{}
	connectNsp(t, a, "/", rec, "a")
	bad := [][]string{
		{"uid", "x", "nsp", "/", "type", "three", "data", "{}"},
		{"uid", "x", "nsp", "/", "type", "3", "data", "!!not base64!!"},
		{"uid", "x", "nsp", "/", "type", "3", "data", base64.StdEncoding.EncodeToString([]byte{0x93, 0x01})},
		{"uid", "x", "nsp", "/", "type", "3", "data", "{bad json"},
		{"uid", "x", "nsp", "/", "type", "3", "data", `{"packet":{"type":2,"data":["ev","x"]}}`},
		{"uid", "x", "nsp", "/", "type", "3", "data", `{"packet":{"type":2,"data":"notarray"},"opts":{"rooms":[],"except":[],"flags":{}}}`},
		{"uid", "x", "nsp", "/", "type", "4", "data", `{"opts":{"rooms":7},"rooms":["r"]}`},
		{"nsp", "/", "type", "3"},
		{"uid", "x", "type", "3", "data", "{}"},
	}
	for _, f := range bad {
		xaddRaw(t, addr, "socket.io", f...)
	}
	xaddRaw(t, addr, "socket.io", "uid", "x", "nsp", "/", "type", "3", "data", strings.Replace(nodeBroadcast, "%s", "good", 1))
	waitFor(t, "the good entry after the bad ones", func() bool { return len(rec.list()) == 1 })
	testutil.Equal(t, rec.list(), []string{"a:good"})
	if m := a.rc.Stats().Malformed; m < 7 {
		t.Fatalf("Stats.Malformed = %d, want at least 7", m)
	}
	lmu.Lock()
	lines := strings.Count(logs.String(), "does not decode")
	lmu.Unlock()
	if lines != 1 {
		t.Fatalf("logged %d malformed lines, want 1 (the first, then counted): %s", lines, logs.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestStreamsRestore covers H3, H4 and what gosio does better than Node:
// an offset that is not in the stream fails without consuming the session,
// volatile packets and packets with an ack id are never replayed, and a
// session blob that does not decode answers "not recovered".
func TestStreamsRestore(t *testing.T) {
	addr := testutil.StartRedis(t)
	n := startStreamsNode(t, addr, nil)
	a := nsAdapterOf(t, n.rc, "/")
	ctx := context.Background()

	testutil.NoErr(t, a.PersistSession(ctx, &adapter.Session{SID: "sid1", PID: "pid1", Rooms: []string{"sid1", "room1"},
		Data: map[string]any{"k": "v", "b": []byte{1, 2}}}))
	raw, err := testutil.RedisDo(addr, "GET", "sio:session:pid1")
	testutil.NoErr(t, err)
	blob, _ := base64.StdEncoding.DecodeString(raw.(string))
	if !bytes.HasPrefix(blob, []byte("\x84\xa3sid\xa4sid1\xa3pid\xa4pid1\xa5rooms")) {
		t.Fatalf("session blob %x is not msgpack {sid, pid, rooms, data} in Node's order", blob)
	}
	ttl, _ := testutil.RedisDo(addr, "PTTL", "sio:session:pid1")
	if ms, _ := ttl.(int64); ms <= 50_000 || ms > 60_000 {
		t.Fatalf("PTTL = %v, want the 1 min max disconnection", ttl)
	}

	// The offset: a broadcast's entry id. Then what the session missed.
	id0 := xaddID(t, addr, "uid", "other", "nsp", "/", "type", "3", "data", strings.Replace(nodeBroadcast, "%s", "before", 1))
	emits := []struct{ data string }{
		{`{"packet":{"type":2,"data":["ev","all"]},"opts":{"rooms":[],"except":[],"flags":{}}}`},
		{`{"packet":{"type":2,"data":["ev","room1"]},"opts":{"rooms":["room1"],"except":[],"flags":{}}}`},
		{`{"packet":{"type":2,"data":["ev","room2"]},"opts":{"rooms":["room2"],"except":[],"flags":{}}}`},
		{`{"packet":{"type":2,"data":["ev","except"]},"opts":{"rooms":[],"except":["room1"],"flags":{}}}`},
		{`{"packet":{"type":2,"data":["ev","volatile"]},"opts":{"rooms":[],"except":[],"flags":{"volatile":true}}}`},
		{`{"packet":{"type":2,"data":["ev","acked"],"id":3},"opts":{"rooms":["sid1"],"except":[],"flags":{}}}`},
	}
	var ids []string
	for _, e := range emits {
		ids = append(ids, xaddID(t, addr, "uid", "other", "nsp", "/", "type", "3", "data", e.data))
	}
	xaddID(t, addr, "uid", "other", "nsp", "/foo", "type", "3", "data", strings.Replace(nodeBroadcast, "%s", "foo", 1))
	// A binary one, as base64 msgpack.
	bin, err := n.rc.client.Do(ctx, n.rc.client.B().Xadd().Key("socket.io").Id("*").FieldValue().FieldValue("uid", "other").
		FieldValue("nsp", "/").FieldValue("type", "3").FieldValue("data", base64.StdEncoding.EncodeToString(
		[]byte("\x82\xa6packet\x82\xa4type\x02\xa4data\x92\xa2ev\xc4\x02\x01\x02\xa4opts\x83\xa5rooms\x90\xa6except\x90\xa5flags\x80"))).Build()).ToString()
	testutil.NoErr(t, err)

	for _, off := range []string{"abc", "507f191e810c19729de860ea", "1-", "-1", ""} {
		if _, err := a.RestoreSession(ctx, "pid1", off); err != adapter.ErrSessionNotFound {
			t.Fatalf("offset %q: %v, want ErrSessionNotFound", off, err)
		}
	}
	if _, err := a.RestoreSession(ctx, "unknown", id0); err != adapter.ErrSessionNotFound {
		t.Fatalf("unknown pid: %v", err)
	}
	// A well-formed offset the stream does not hold: not recovered, and
	// the session is still there (Node consumes it).
	if _, err := a.RestoreSession(ctx, "pid1", "1-0"); err != adapter.ErrSessionNotFound {
		t.Fatalf("offset not in the stream: %v", err)
	}
	if v, _ := testutil.RedisDo(addr, "EXISTS", "sio:session:pid1"); v != int64(1) {
		t.Fatal("a failed restore consumed the session")
	}

	s, err := a.RestoreSession(ctx, "pid1", id0)
	testutil.NoErr(t, err)
	if s.SID != "sid1" || s.PID != "pid1" || !slices.Equal(s.Rooms, []string{"sid1", "room1"}) {
		t.Fatalf("session %+v", s)
	}
	d := s.Data.(parser.Value)
	testutil.Equal(t, string(d.JSON), `{"b":{"_placeholder":true,"num":0},"k":"v"}`)
	testutil.Equal(t, d.Attachments, [][]byte{{1, 2}})
	var got []string
	for _, p := range s.MissedPackets {
		got = append(got, string(p.Data))
	}
	want := []string{
		`["ev","all","` + ids[0] + `"]`,
		`["ev","room1","` + ids[1] + `"]`,
		`["ev",{"_placeholder":true,"num":0},"` + bin + `"]`,
	}
	testutil.Equal(t, got, want)
	if _, err := a.RestoreSession(ctx, "pid1", id0); err != adapter.ErrSessionNotFound {
		t.Fatalf("a session restored twice: %v", err)
	}

	// A blob that does not decode.
	for i, blob := range []string{"!!", base64.StdEncoding.EncodeToString([]byte{0xc1}), base64.StdEncoding.EncodeToString([]byte("\x81\xa3sid\x05"))} {
		key := "sio:session:bad" + strconv.Itoa(i)
		if _, err := testutil.RedisDo(addr, "SET", key, blob); err != nil {
			t.Fatal(err)
		}
		if _, err := a.RestoreSession(ctx, "bad"+strconv.Itoa(i), id0); err != adapter.ErrSessionNotFound {
			t.Fatalf("bad blob %q: %v", blob, err)
		}
	}
}

func xaddID(t *testing.T, addr string, fields ...string) string {
	t.Helper()
	v, err := testutil.RedisDo(addr, append([]string{"XADD", "socket.io", "*"}, fields...)...)
	testutil.NoErr(t, err)
	return v.(string)
}

// TestStreamsCloseWhileBlocked is J7: Close returns while an XREAD is
// blocked, long before its BLOCK time.
func TestStreamsCloseWhileBlocked(t *testing.T) {
	addr := testutil.StartRedis(t)
	ctx := context.Background()
	rc, err := NewStreams(ctx, newClient(t, addr), &StreamsOptions{BlockTime: time.Minute})
	testutil.NoErr(t, err)
	srv := socketio.NewServer(&socketio.Options{Adapter: rc.Adapter})
	srv.Of("/")
	srv.Of("/other")
	time.Sleep(200 * time.Millisecond) // the readers are blocked now
	start := time.Now()
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	testutil.NoErr(t, rc.Close())
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Close took %v with XREAD BLOCK 60000", d)
	}
}

// TestStreamsRedisRestart is J2 for streams: redis-server is killed in
// the middle of a stream of broadcasts and started again. The reader
// resumes from the last id it saw. With an append-only file, every
// broadcast that was written to the stream reaches the other node: 0
// lost. Without persistence the stream itself is lost with the server:
// what the reader had not read yet is gone, and that is reported as a Gap.
func TestStreamsRedisRestart(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"aof", []string{"--appendonly", "yes", "--appendfsync", "always"}},
		{"no-persistence", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rp := startRedisProc(t, tc.args...)
			a := startStreamsNode(t, rp.addr(), nil)
			b := startStreamsNode(t, rp.addr(), nil)
			var gaps atomic.Int32
			a.rc.onGap = func(g Gap) {
				if g.Stream != "" {
					gaps.Add(1)
				}
				t.Logf("gap reported: stream %q after %q (%v)", g.Stream, g.After, g.Err)
			}
			remote, local := &recorder{}, &recorder{}
			connect(t, a, remote, "a")
			connect(t, b, local, "b")

			stop := make(chan struct{})
			var failed atomic.Int64
			var wmu sync.Mutex
			var written, maybe []string // maybe: the XADD failed, but may have been applied
			done := make(chan struct{})
			go func() {
				defer close(done)
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					case <-time.After(2 * time.Millisecond):
					}
					err := b.srv.Emit("ev", strconv.Itoa(n))
					wmu.Lock()
					if err != nil {
						failed.Add(1)
						maybe = append(maybe, "a:"+strconv.Itoa(n))
					} else {
						written = append(written, "a:"+strconv.Itoa(n))
					}
					wmu.Unlock()
				}
			}()
			time.Sleep(300 * time.Millisecond)
			rp.kill()
			time.Sleep(500 * time.Millisecond)
			rp.start()
			time.Sleep(1500 * time.Millisecond)
			close(stop)
			<-done
			wmu.Lock()
			want, unsure := slices.Clone(written), slices.Clone(maybe)
			wmu.Unlock()
			slices.Sort(want)
			slices.Sort(unsure)
			deadline := time.Now().Add(10 * time.Second)
			for len(remote.list()) < len(want) && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			time.Sleep(100 * time.Millisecond)
			var got, extra []string
			for _, g := range remote.list() {
				if _, ok := slices.BinarySearch(want, g); ok {
					got = append(got, g)
				} else if _, ok := slices.BinarySearch(unsure, g); ok {
					extra = append(extra, g) // written although its XADD reported an error
				} else {
					t.Fatalf("remote got %s, which was never sent", g)
				}
			}
			t.Logf("streams, %s: %d broadcasts written, %d failed while Redis was down (all %d delivered locally; %d of the failed were written all the same and arrived), remote got %d of the written, lost %d; stream gaps %d",
				tc.name, len(want), len(unsure), len(local.list()), len(extra), len(got), len(want)-len(got), gaps.Load())
			if len(unsure) == 0 {
				t.Fatal("no broadcast failed: Redis was not down")
			}
			if tc.args != nil {
				testutil.Equal(t, got, want)
				if gaps.Load() != 0 {
					t.Fatal("a stream gap was reported although nothing was lost")
				}
				return
			}
			waitFor(t, "the lost stream reported", func() bool { return gaps.Load() > 0 })
			if len(got) == 0 || !slices.Contains(got, want[len(want)-1]) {
				t.Fatalf("the stream did not flow again after the restart: got %d of %d", len(got), len(want))
			}
		})
	}
}

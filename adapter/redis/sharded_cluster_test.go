package redis

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/gosio/gosio/internal/clusterwire"
	"github.com/gosio/gosio/internal/testutil"
	"github.com/gosio/gosio/socketio"
)

// gapLog records the gaps a node reports.
type gapLog struct {
	mu   sync.Mutex
	gaps []Gap
}

func (g *gapLog) add(x Gap) {
	g.mu.Lock()
	g.gaps = append(g.gaps, x)
	g.mu.Unlock()
}

func (g *gapLog) list() []Gap {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.gaps)
}

func newClusterClient(t *testing.T, rc *testutil.RedisCluster) rueidis.Client {
	t.Helper()
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: rc.Addrs(), DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	if c.Mode() != rueidis.ClientModeCluster {
		t.Fatalf("client mode %v, want cluster", c.Mode())
	}
	t.Cleanup(c.Close)
	return c
}

// startClusterNode starts a gosio server whose sharded adapter runs on a
// cluster client of rc.
func startClusterNode(t *testing.T, rc *testutil.RedisCluster, opts ShardedOptions, gaps *gapLog) *node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if gaps != nil {
		opts.OnGap = gaps.add
	}
	cl, err := NewSharded(ctx, newClusterClient(t, rc), &opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := socketio.NewServer(&socketio.Options{Adapter: cl.Adapter})
	srv.OnConnection(func(s *socketio.Socket) {
		s.SetData(map[string]any{"x": 1})
		s.On("join", func(room string) { s.Join(room) })
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		_ = srv.Shutdown(sctx)
		hs.Close()
		_ = cl.Close()
	})
	return &node{srv: srv, hs: hs, rc: cl}
}

// placedOn returns the node address the channel's subscription is on, or
// "" when it is placed nowhere.
func placedOn(n *node, ch string) string {
	s := n.rc.sub
	s.mu.Lock()
	defer s.mu.Unlock()
	if sc := s.cs.where[ch]; sc != nil {
		return sc.addr
	}
	return ""
}

// shardNumSub asks the owner of ch's slot for its subscriber count.
func shardNumSub(t *testing.T, c rueidis.Client, ch string) int {
	t.Helper()
	r, err := c.Do(context.Background(), c.B().PubsubShardnumsub().Channel(ch).Build()).ToArray()
	testutil.NoErr(t, err)
	return numsub(r)
}

// roomOn returns a room name whose dynamic channel's slot is served by the
// master at addr.
func roomOn(t *testing.T, rc *testutil.RedisCluster, prefix, base, addr string) string {
	t.Helper()
	for i := 0; i < 1000; i++ {
		room := base + strconv.Itoa(i)
		if rc.SlotOwner(testutil.KeySlot(clusterwire.RoomChannel(prefix, "/", room))) == addr {
			return room
		}
	}
	t.Fatalf("no room name for %s", addr)
	return ""
}

// TestShardedOnRedisCluster runs three gosio nodes with the sharded
// adapter on a 3-master Redis Cluster, in each subscription mode: the
// main channel and the rooms' channels are on different masters, and
// broadcasts, rooms, fetchSockets, server-side emits with acks,
// serverCount and socketsJoin/Leave cross them.
func TestShardedOnRedisCluster(t *testing.T) {
	rc := testutil.StartRedisCluster(t, 3, 0)
	masters := rc.Masters()
	for _, mode := range []SubscriptionMode{Dynamic, Static, DynamicPrivate} {
		t.Run(mode.String(), func(t *testing.T) {
			prefix := "sc-" + mode.String()
			mainCh := clusterwire.BroadcastChannel(prefix, "/")
			mainOwner := rc.SlotOwner(testutil.KeySlot(mainCh))
			var other string // a master that does not serve the main channel
			for _, m := range masters {
				if m != mainOwner {
					other = m
					break
				}
			}
			r1 := roomOn(t, rc, prefix, "r1-", other)
			r2 := roomOn(t, rc, prefix, "r2-", mainOwner)
			opts := ShardedOptions{ChannelPrefix: prefix, SubscriptionMode: mode}
			a, b, c := startClusterNode(t, rc, opts, nil), startClusterNode(t, rc, opts, nil), startClusterNode(t, rc, opts, nil)
			raw := newClusterClient(t, rc)
			ctx := context.Background()
			for _, n := range []*node{a, b, c} {
				cnt, err := n.srv.ServerCount(ctx)
				testutil.NoErr(t, err)
				testutil.Equal(t, cnt, 3)
				testutil.Equal(t, placedOn(n, mainCh), mainOwner)
			}

			rec := &recorder{}
			ca := connect(t, a, rec, "a")
			cb := connect(t, b, rec, "b")
			connect(t, c, rec, "c")
			testutil.NoErr(t, c.srv.Emit("ev", "all"))
			waitFor(t, "broadcast", func() bool { return len(rec.list()) == 3 })
			testutil.Equal(t, rec.list(), []string{"a:all", "b:all", "c:all"})

			// A room on node a, whose channel lives on another master than
			// the main channel.
			roomCh := clusterwire.RoomChannel(prefix, "/", r1)
			testutil.NoErr(t, ca.Emit("join", r1))
			waitFor(t, "join", func() bool { return slices.Contains(a.srv.Sockets().Rooms(), r1) })
			if mode != Static {
				waitFor(t, "room subscription", func() bool { return placedOn(a, roomCh) == other })
				testutil.Equal(t, shardNumSub(t, raw, roomCh), 1)
			} else {
				testutil.Equal(t, shardNumSub(t, raw, roomCh), 0)
			}
			testutil.NoErr(t, b.srv.To(r1).Emit("ev", "room"))
			waitFor(t, "room broadcast", func() bool { return len(rec.list()) == 4 })
			testutil.NoErr(t, c.srv.To(r1).Except(r1).Emit("ev", "nobody"))
			// A socket id: private channels in dynamic-private, else the main channel.
			testutil.NoErr(t, c.srv.To(cb.ID()).Emit("ev", "private"))
			waitFor(t, "private emit", func() bool { return len(rec.list()) == 5 })
			time.Sleep(100 * time.Millisecond)
			testutil.Equal(t, rec.list(), []string{"a:all", "a:room", "b:all", "b:private", "c:all"})
			if mode == DynamicPrivate {
				testutil.Equal(t, placedOn(b, clusterwire.RoomChannel(prefix, "/", cb.ID())) != "", true)
			}

			socks, err := b.srv.FetchSockets(ctx)
			testutil.NoErr(t, err)
			testutil.Equal(t, len(socks), 3)
			socks, err = c.srv.In(r1).FetchSockets(ctx)
			testutil.NoErr(t, err)
			if len(socks) != 1 || socks[0].ID != ca.ID() {
				t.Fatalf("fetch in %s: %+v", r1, socks)
			}

			for name, n := range map[string]*node{"a": a, "b": b} {
				n.srv.Sockets().OnServerSideEmit("hello", func(v string, ack socketio.Ack) { _ = ack(name + ":" + v) })
			}
			res, err := c.srv.ServerSideEmitWithAck(ctx, "hello", "x")
			testutil.NoErr(t, err)
			var got []string
			for _, r := range res {
				got = append(got, string(r.JSON))
			}
			slices.Sort(got)
			testutil.Equal(t, got, []string{`"a:x"`, `"b:x"`})

			// socketsJoin from b: every socket joins r2, whose channel is on
			// the main channel's master; a broadcast to r2 reaches all three.
			testutil.NoErr(t, b.srv.SocketsJoin(r2))
			for _, n := range []*node{a, b, c} {
				waitFor(t, "remote join", func() bool { return slices.Contains(n.srv.Sockets().Rooms(), r2) })
			}
			r2Ch := clusterwire.RoomChannel(prefix, "/", r2)
			if mode != Static {
				waitFor(t, "r2 subscriptions", func() bool { return shardNumSub(t, raw, r2Ch) == 3 })
			}
			testutil.NoErr(t, a.srv.To(r2).Emit("ev", "r2"))
			waitFor(t, "r2 broadcast", func() bool { return len(rec.list()) == 8 })
			testutil.NoErr(t, c.srv.SocketsLeave(r2))
			for _, n := range []*node{a, b, c} {
				waitFor(t, "remote leave", func() bool { return !slices.Contains(n.srv.Sockets().Rooms(), r2) })
			}
			if mode != Static {
				waitFor(t, "r2 unsubscribed", func() bool { return shardNumSub(t, raw, r2Ch) == 0 })
			}
			testutil.NoErr(t, a.srv.To(r2).Emit("ev", "gone"))
			time.Sleep(100 * time.Millisecond)
			testutil.Equal(t, len(rec.list()), 8)
			for _, n := range []*node{a, b, c} {
				st := n.rc.Stats()
				if st.Gaps != 0 || !st.Connected || st.Malformed != 0 {
					t.Fatalf("stats %+v", st)
				}
			}
		})
	}
}

// sequence sends numbered broadcasts from one node and records what one
// client of another node receives.
type sequence struct {
	mu     sync.Mutex
	sentAt []time.Time
	got    map[int]int // number → times received
	last   time.Time   // when the last message arrived
	stop   chan struct{}
	done   chan struct{}
}

func startSequence(t *testing.T, from *node, to *socketio.ClientSocket, room string) *sequence {
	q := &sequence{got: map[int]int{}, stop: make(chan struct{}), done: make(chan struct{})}
	to.On("seq", func(v string) {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Errorf("seq %q", v)
			return
		}
		q.mu.Lock()
		q.got[n]++
		q.last = time.Now()
		q.mu.Unlock()
	})
	go func() {
		defer close(q.done)
		for n := 0; ; n++ {
			select {
			case <-q.stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			q.mu.Lock()
			q.sentAt = append(q.sentAt, time.Now())
			q.mu.Unlock()
			op := from.srv.Sockets().Except("nobody")
			if room != "" && n%2 == 1 {
				op = from.srv.To(room)
			}
			_ = op.Emit("seq", strconv.Itoa(n))
		}
	}()
	return q
}

func (q *sequence) sent() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.sentAt)
}

func (q *sequence) received(n int) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.got[n] > 0
}

// finish stops the sender, waits for the stream to drain and checks that
// every number sent arrived once or was sent within a reported gap
// (widened by slack before its start: a message is published a little
// after it was emitted, and the new owner can take the slot a moment
// before the old one tells its subscribers). The sender's own failures
// are reported too, in its Stats.PublishErrors: the messages lost outside
// the gaps may not outnumber them. It returns the numbers of messages
// sent, received and lost, and of those lost, how many were emitted
// within slack before a gap's start and how many outside any gap.
func (q *sequence) finish(t *testing.T, from *node, gaps []Gap, slack time.Duration) (sent, got, lost, early, outside int) {
	t.Helper()
	close(q.stop)
	<-q.done
	waitFor(t, "the stream to drain", func() bool {
		q.mu.Lock()
		defer q.mu.Unlock()
		return time.Since(q.last) > 300*time.Millisecond
	})
	q.mu.Lock()
	defer q.mu.Unlock()
	var uncovered, twice []string
	for n, at := range q.sentAt {
		switch q.got[n] {
		case 1:
			got++
			continue
		case 0:
		case 2:
			got++
			twice = append(twice, strconv.Itoa(n))
			continue
		default:
			t.Errorf("number %d received %d times", n, q.got[n])
			continue
		}
		lost++
		covered, inside := false, false
		for _, g := range gaps {
			if !at.Before(g.Start.Add(-slack)) && !at.After(g.End) {
				covered = true
			}
			if !at.Before(g.Start) && !at.After(g.End) {
				inside = true
			}
		}
		if covered && !inside {
			early++
		}
		if !covered {
			uncovered = append(uncovered, fmt.Sprintf("%d@%s", n, at.Format("15:04:05.000")))
		}
	}
	// A message the sender republished after a broken connection may
	// arrive twice (Stats.Republished); any other duplicate is a bug.
	if rp := from.rc.Stats().Republished; len(twice) > int(rp) {
		t.Errorf("%d numbers received twice (%s) but the sender republished only %d", len(twice), strings.Join(twice, " "), rp)
	} else if len(twice) > 0 {
		t.Logf("%d numbers received twice, all within the %d the sender republished after a broken connection", len(twice), rp)
	}
	if pe := from.rc.Stats().PublishErrors; len(uncovered) > int(pe) {
		var gs []string
		for _, g := range gaps {
			gs = append(gs, g.Start.Format("15:04:05.000")+"-"+g.End.Format("15:04:05.000"))
		}
		t.Fatalf("%d of %d messages lost outside any reported gap, and only %d publish errors on the sender (silent loss): %s; gaps %v",
			len(uncovered), len(q.sentAt), pe, strings.Join(uncovered[:min(len(uncovered), 20)], " "), gs)
	}
	return len(q.sentAt), got, lost, early, len(uncovered)
}

// TestShardedClusterSlotMigration (J3) migrates, under a stream of
// numbered broadcasts, the slot of the main channel and then the slot of a
// room's channel to other masters: the subscriptions follow to the new
// owners, the stream flows again, and every number is received once or
// falls in a reported gap, never lost silently.
func TestShardedClusterSlotMigration(t *testing.T) {
	rc := testutil.StartRedisCluster(t, 3, 0)
	masters := rc.Masters()
	const prefix = "mig"
	mainCh := clusterwire.BroadcastChannel(prefix, "/")
	mainSlot := testutil.KeySlot(mainCh)
	mainOwner := rc.SlotOwner(mainSlot)
	var others []string
	for _, m := range masters {
		if m != mainOwner {
			others = append(others, m)
		}
	}
	room := roomOn(t, rc, prefix, "room-", others[0])
	roomCh := clusterwire.RoomChannel(prefix, "/", room)
	roomSlot := testutil.KeySlot(roomCh)

	gaps := &gapLog{}
	opts := ShardedOptions{ChannelPrefix: prefix}
	a := startClusterNode(t, rc, opts, gaps)
	b := startClusterNode(t, rc, opts, nil)
	rec := &recorder{}
	ca := connect(t, a, rec, "a")
	testutil.NoErr(t, ca.Emit("join", room))
	waitFor(t, "room subscription", func() bool { return placedOn(a, roomCh) == others[0] })

	q := startSequence(t, b, ca, room)
	time.Sleep(300 * time.Millisecond)

	migrate := func(slot int, ch, to string) {
		t.Helper()
		before := q.sent()
		start := time.Now()
		rc.MigrateSlot(t, slot, to)
		migrated := time.Since(start)
		waitFor(t, "the subscription on the new owner", func() bool { return placedOn(a, ch) == to })
		moved := time.Since(start)
		// Messages sent after the move arrive.
		after := q.sent()
		waitFor(t, "messages after the move", func() bool {
			for n := after; n < after+20; n++ {
				if !q.received(n) {
					return false
				}
			}
			return true
		})
		t.Logf("slot %d of %s moved to %s: migration took %v, subscription there after %v (%d messages sent meanwhile)",
			slot, ch, to, migrated.Round(time.Millisecond), moved.Round(time.Millisecond), after-before)
	}
	migrate(mainSlot, mainCh, others[1])
	migrate(roomSlot, roomCh, mainOwner)
	time.Sleep(200 * time.Millisecond)

	reported := gaps.list()
	sent, got, lost, early, outside := q.finish(t, b, reported, 250*time.Millisecond)
	for _, g := range reported {
		t.Logf("gap reported: %v (%v)", g.End.Sub(g.Start).Round(time.Microsecond), g.Err)
	}
	t.Logf("sent %d, received %d, lost %d (%d emitted just before a gap's start, %d outside the gaps); gaps %d, publish errors %d",
		sent, got, lost, early, outside, a.rc.Stats().Gaps, b.rc.Stats().PublishErrors)
	if b.rc.Stats().PublishErrors != 0 {
		t.Fatalf("publish errors during a slot migration: %d", b.rc.Stats().PublishErrors)
	}
	if int(a.rc.Stats().Gaps) != len(reported) {
		t.Fatalf("Stats.Gaps %d, reported %d", a.rc.Stats().Gaps, len(reported))
	}
	if len(reported) < 2 {
		t.Fatalf("%d gaps reported for 2 slot moves", len(reported))
	}
	if !a.rc.Stats().Connected {
		t.Fatal("not connected after the moves")
	}
	// The subscriptions answer on their new owners: serverCount and a
	// request round trip.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := b.srv.ServerCount(ctx)
	testutil.NoErr(t, err)
	testutil.Equal(t, n, 2)
	socks, err := b.srv.FetchSockets(ctx)
	testutil.NoErr(t, err)
	testutil.Equal(t, len(socks), 1)
}

// TestShardedClusterMasterRestart (J2 on a cluster) kills the master
// serving the main channel under a stream of broadcasts and starts it
// again: the node notices, resubscribes there once the master is back and
// reports the gap, which covers every message lost.
func TestShardedClusterMasterRestart(t *testing.T) {
	rc := testutil.StartRedisCluster(t, 3, 0)
	const prefix = "rst"
	mainCh := clusterwire.BroadcastChannel(prefix, "/")
	mainOwner := rc.SlotOwner(testutil.KeySlot(mainCh))

	gaps := &gapLog{}
	opts := ShardedOptions{ChannelPrefix: prefix}
	a := startClusterNode(t, rc, opts, gaps)
	b := startClusterNode(t, rc, opts, nil)
	ca := connect(t, a, &recorder{}, "a")
	q := startSequence(t, b, ca, "")
	time.Sleep(300 * time.Millisecond)

	down := time.Now()
	rc.Server(mainOwner).Stop()
	waitFor(t, "the loss to be noticed", func() bool { return !a.rc.Stats().Connected })
	noticed := time.Since(down)
	time.Sleep(500 * time.Millisecond)
	rc.Server(mainOwner).Restart()
	testutil.WaitUntil(t, 30*time.Second, "the resubscription", func() bool {
		return a.rc.Stats().Connected && len(gaps.list()) > 0 && placedOn(a, mainCh) == mainOwner
	})
	back := time.Since(down)
	after := q.sent()
	testutil.WaitUntil(t, 30*time.Second, "messages after the restart", func() bool {
		for n := after; n < after+20; n++ {
			if !q.received(n) {
				return false
			}
		}
		return true
	})
	sent, got, lost, early, outside := q.finish(t, b, gaps.list(), 250*time.Millisecond)
	t.Logf("master %s down for ~500 ms: loss noticed after %v, resubscribed after %v; sent %d, received %d, lost %d (%d emitted just before the gap's start, %d outside it); publish errors on the sender %d",
		mainOwner, noticed.Round(time.Millisecond), back.Round(time.Millisecond), sent, got, lost, early, outside, b.rc.Stats().PublishErrors)
	testutil.Equal(t, a.rc.Stats().Gaps, uint64(len(gaps.list())))
}

// TestShardedClusterFailover moves the main channel's slot by failover
// under a stream of broadcasts, on a cluster of 3 masters with a replica
// each: first a manual failover (CLUSTER FAILOVER on the replica), then
// the new master is killed and its replica, the old master, takes over
// after cluster-node-timeout. Each time the subscription ends up on the
// serving master, the stream flows again, and nothing is lost outside a
// reported gap.
func TestShardedClusterFailover(t *testing.T) {
	rc := testutil.StartRedisCluster(t, 3, 1)
	const prefix = "fo"
	mainCh := clusterwire.BroadcastChannel(prefix, "/")
	mainSlot := testutil.KeySlot(mainCh)
	first := rc.SlotOwner(mainSlot)
	second := rc.ReplicasOf(first)[0]

	gaps := &gapLog{}
	opts := ShardedOptions{ChannelPrefix: prefix}
	a := startClusterNode(t, rc, opts, gaps)
	b := startClusterNode(t, rc, opts, nil)
	ca := connect(t, a, &recorder{}, "a")
	q := startSequence(t, b, ca, "")
	time.Sleep(300 * time.Millisecond)

	flows := func(what, owner string) {
		t.Helper()
		testutil.WaitUntil(t, 30*time.Second, "the subscription on "+owner+" "+what, func() bool {
			return a.rc.Stats().Connected && placedOn(a, mainCh) == owner
		})
		// The sender's client may still route to a dead master for a
		// while (rueidis refreshes its slot map lazily): those publishes
		// fail and are counted. Look at what is sent after they stopped.
		pe := b.rc.Stats().PublishErrors
		for {
			time.Sleep(200 * time.Millisecond)
			if n := b.rc.Stats().PublishErrors; n == pe {
				break
			} else {
				pe = n
			}
		}
		after := q.sent()
		testutil.WaitUntil(t, 30*time.Second, "messages "+what, func() bool {
			for n := after; n < after+20; n++ {
				if !q.received(n) {
					return false
				}
			}
			return true
		})
	}
	start := time.Now()
	rc.Failover(t, second)
	flows("after the manual failover", second)
	t.Logf("manual failover to %s: subscription moved and flowing after %v, gaps %d", second, time.Since(start).Round(time.Millisecond), len(gaps.list()))

	start = time.Now()
	rc.Server(second).Stop()
	if o := rc.WaitSlotOwner(t, mainSlot, second); o != first {
		t.Fatalf("slot taken over by %s, want %s", o, first)
	}
	promoted := time.Since(start)
	flows("after the automatic failover", first)
	t.Logf("master %s killed: %s serves the slot after %v; subscription there and flowing after %v", second, first,
		promoted.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))

	reported := gaps.list()
	sent, got, lost, early, outside := q.finish(t, b, reported, 250*time.Millisecond)
	for _, g := range reported {
		t.Logf("gap reported: %v (%v)", g.End.Sub(g.Start).Round(time.Microsecond), g.Err)
	}
	t.Logf("sent %d, received %d, lost %d (%d emitted just before a gap's start, %d outside the gaps); publish errors on the sender %d",
		sent, got, lost, early, outside, b.rc.Stats().PublishErrors)
	if len(reported) == 0 {
		t.Fatal("no gap reported for a killed master")
	}
	testutil.Equal(t, a.rc.Stats().Gaps, uint64(len(reported)))
}

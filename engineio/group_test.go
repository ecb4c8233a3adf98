package engineio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/gosio/gosio/internal/testutil"
)

// groupOf makes a group of all and checks that each takes from its log.
func groupOf(t *testing.T, all []*Session) *Group {
	t.Helper()
	g := all[0].srv.NewGroup()
	for _, s := range all {
		g.Add(s)
		s.mu.Lock()
		fast := s.grp == g
		s.mu.Unlock()
		if !fast {
			t.Fatalf("session %s: not taking from the group's log", s.id)
		}
	}
	return g
}

// TestGroupKeepsOrderWithSends broadcasts to a group of more sessions than
// one writer takes at a time, while direct sends (Send, SendAll, QueueAll)
// to each member go in between from the same goroutine: every client reads
// exactly the sequence of the calls, with and without the writers' hold,
// with one writer and with several.
func TestGroupKeepsOrderWithSends(t *testing.T) {
	t.Parallel()
	for _, writers := range []int{1, 4} {
		t.Run("writers="+strconv.Itoa(writers), func(t *testing.T) {
			t.Parallel()
			eachHold(t, func(t *testing.T, hold bool) {
				const count = 300
				conns, all := openSessions(t, 2*writerChunk+5)
				setWriters(all[0].srv, writers, hold)
				g := groupOf(t, all)
				want := make([][]string, len(all))
				for i := range count {
					m := NewTextMessage([]byte("b" + strconv.Itoa(i)))
					g.QueueAll([]*Message{m})
					for k, s := range all {
						want[k] = append(want[k], "4b"+strconv.Itoa(i))
						if (i+k)%7 != 0 {
							continue
						}
						d := "d" + strconv.Itoa(i)
						switch i % 3 {
						case 0:
							testutil.NoErr(t, s.SendText([]byte(d)))
						case 1:
							testutil.NoErr(t, s.SendAll([]*Message{NewTextMessage([]byte(d))}))
						default:
							testutil.NoErr(t, s.QueueAll([]*Message{NewTextMessage([]byte(d))}))
						}
						want[k] = append(want[k], "4"+d)
					}
				}
				readAll(t, conns, want)
			})
		})
	}
}

// readAll reads every client's expected messages, the clients at once.
func readAll(t *testing.T, conns []*websocket.Conn, want [][]string) {
	t.Helper()
	eachClient(t, conns, func(ctx context.Context, k int, c *websocket.Conn) error {
		for i, w := range want[k] {
			_, data, err := c.Read(ctx)
			if err != nil {
				return fmt.Errorf("client %d message %d: %w", k, i, err)
			}
			if string(data) != w {
				return fmt.Errorf("client %d message %d: got %.30q, want %.30q", k, i, data, w)
			}
		}
		return nil
	})
}

// eachClient runs read for every client, each on its own goroutine (a
// client read after the others would fill its socket meanwhile, and the
// test would take long), and fails the test with the first error.
func eachClient(t *testing.T, conns []*websocket.Conn, read func(ctx context.Context, k int, c *websocket.Conn) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	errs := make(chan error, len(conns))
	for k, c := range conns {
		go func() { errs <- read(ctx, k, c) }()
	}
	for range conns {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestGroupBackpressure broadcasts far more than the sockets buffer to a
// group whose clients do not read at first, with direct sends in between
// from another goroutine and the clients pinging (pongs must not land
// inside a frame): writes stop part-way through the log and flushers
// finish them. Every message arrives whole and in order, and the log keeps
// no more than its last segment once everything is written.
func TestGroupBackpressure(t *testing.T) {
	t.Parallel()
	const (
		count = 120
		size  = 50_000
	)
	opts := quietOptions()
	opts.SendQueueLimit = 4 * count * size
	_, conns, all := openSessionsOn(t, opts, 3)
	for _, c := range conns {
		c.SetReadLimit(2 * size)
	}
	g := groupOf(t, all)
	done := make(chan struct{})
	go func() { // direct sends, racing the broadcasts
		defer close(done)
		for i := range count {
			for _, s := range all {
				_ = s.SendText([]byte("d" + strconv.Itoa(i)))
			}
			time.Sleep(100 * time.Microsecond)
		}
	}()
	for i := range count {
		body := append([]byte("b"+strconv.Itoa(i)+":"), bytes.Repeat([]byte{'a' + byte(i%26)}, size)...)
		g.QueueAll([]*Message{NewTextMessage(body), NewBinaryMessage(bytes.Repeat([]byte{byte(i)}, 1+i%300))})
	}
	<-done
	time.Sleep(20 * time.Millisecond) // let the sockets fill
	backlog := 0
	for _, s := range all {
		s.mu.Lock()
		backlog += s.queued
		s.mu.Unlock()
	}
	if backlog == 0 {
		t.Fatal("the sockets took everything: the test did not create backpressure")
	}
	eachClient(t, conns, func(ctx context.Context, k int, c *websocket.Conn) error {
		go func() {
			for range 10 {
				if c.Ping(ctx) != nil {
					return
				}
			}
		}()
		nextB, nextD := 0, 0
		for nextB < count || nextD < count {
			typ, data, err := c.Read(ctx)
			if err != nil {
				return fmt.Errorf("client %d: %w", k, err)
			}
			switch {
			case typ == websocket.MessageText && bytes.HasPrefix(data, []byte("4d")):
				if string(data) != "4d"+strconv.Itoa(nextD) {
					return fmt.Errorf("client %d: got %q, want direct send %d", k, data, nextD)
				}
				nextD++
			case typ == websocket.MessageText && bytes.HasPrefix(data, []byte("4b")):
				want := append([]byte("4b"+strconv.Itoa(nextB)+":"), bytes.Repeat([]byte{'a' + byte(nextB%26)}, size)...)
				if !bytes.Equal(data, want) {
					return fmt.Errorf("client %d: broadcast %d: got %d bytes starting %.20q", k, nextB, len(data), data)
				}
				typ, data, err = c.Read(ctx) // its attachment, next and whole
				if err != nil {
					return fmt.Errorf("client %d: %w", k, err)
				}
				if typ != websocket.MessageBinary || !bytes.Equal(data, bytes.Repeat([]byte{byte(nextB)}, 1+nextB%300)) {
					return fmt.Errorf("client %d: broadcast %d: attachment %v of %d bytes", k, nextB, typ, len(data))
				}
				nextB++
			default:
				return fmt.Errorf("client %d: unexpected %v message %.20q", k, typ, data)
			}
		}
		return nil
	})
	waitFor(t, "the log to be trimmed", func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return len(g.segs) <= 1
	})
}

// TestGroupMembership: a session added twice stays a member until removed
// twice and gets each broadcast once; broadcasts queued before Add do not
// reach it and those queued before Remove still do; a session in two
// groups takes from the log of the first and gets the second's in order
// with it.
func TestGroupMembership(t *testing.T) {
	t.Parallel()
	conns, all := openSessions(t, 1)
	c, s := conns[0], all[0]
	g1, g2 := s.srv.NewGroup(), s.srv.NewGroup()
	g1.QueueAll([]*Message{NewTextMessage([]byte("before"))})
	g1.Add(s)
	g1.Add(s)
	g2.Add(s)
	testutil.Equal(t, g1.Len(), 1)
	testutil.Equal(t, g2.Len(), 1)
	var want []string
	for i := range 50 {
		g := g1
		if i%3 == 0 {
			g = g2
		}
		g.QueueAll([]*Message{NewTextMessage([]byte("m" + strconv.Itoa(i)))})
		want = append(want, "4m"+strconv.Itoa(i))
	}
	g1.Remove(s)
	g1.QueueAll([]*Message{NewTextMessage([]byte("still"))})
	want = append(want, "4still")
	g1.QueueAll([]*Message{NewTextMessage([]byte("pending"))})
	g1.Remove(s) // pending was queued before: it still goes
	want = append(want, "4pending")
	g1.QueueAll([]*Message{NewTextMessage([]byte("after"))})
	g2.QueueAll([]*Message{NewTextMessage([]byte("last"))})
	want = append(want, "4last")
	testutil.Equal(t, g1.Len(), 0)
	for i, w := range want {
		if got := readText(t, c); got != w {
			t.Fatalf("message %d: got %q, want %q", i, got, w)
		}
	}
	g2.Remove(s)
	testutil.Equal(t, g2.Len(), 0)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.grp != nil || s.wantGrp != nil {
		t.Fatal("the session still refers to a group")
	}
}

// TestGroupUpgrade: a polling session in a group gets its broadcasts over
// polling, then over the WebSocket it upgrades to, where it takes them
// from the log: in order, none lost or doubled across the upgrade.
func TestGroupUpgrade(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, quietOptions(), func(*Session) {})
	sid := ts.openPolling(t)
	s := ts.eio.lookup(sid)
	g := ts.eio.NewGroup()
	g.Add(s)
	for i := range 5 {
		g.QueueAll([]*Message{NewTextMessage([]byte("p" + strconv.Itoa(i)))})
	}
	got := strings.Split(ts.poll(t, sid).body, "\x1e")
	testutil.Equal(t, strings.Join(got, ","), "4p0,4p1,4p2,4p3,4p4")
	stop := make(chan struct{})
	sent := make(chan int)
	go func() { // broadcasts racing the upgrade
		i := 0
		for {
			select {
			case <-stop:
				sent <- i
				return
			default:
			}
			g.QueueAll([]*Message{NewTextMessage([]byte("u" + strconv.Itoa(i)))})
			i++
			time.Sleep(50 * time.Microsecond)
		}
	}()
	// What the polling transport took before the switch comes first.
	var polled []string
	pollCtx, cancelPoll := context.WithCancel(context.Background())
	pollDone := make(chan struct{})
	go func() {
		defer close(pollDone)
		for pollCtx.Err() == nil {
			r, err := ts.doErr(pollCtx, "GET", pollQuery(sid), nil, nil)
			if err != nil || r.status != 200 {
				return
			}
			for _, p := range strings.Split(r.body, "\x1e") {
				if p != "6" && p != "" {
					polled = append(polled, p)
				}
			}
		}
	}()
	c := ts.upgrade(t, sid)
	cancelPoll()
	<-pollDone
	time.Sleep(5 * time.Millisecond)
	close(stop)
	n := <-sent
	s.mu.Lock()
	fast := s.grp == g
	s.mu.Unlock()
	if !fast {
		t.Fatal("after the upgrade the session does not take from the group's log")
	}
	next := 0
	for _, p := range polled {
		if p != "4u"+strconv.Itoa(next) {
			t.Fatalf("polled %q, want 4u%d", p, next)
		}
		next++
	}
	for ; next < n; next++ {
		if got := readText(t, c); got != "4u"+strconv.Itoa(next) {
			t.Fatalf("over WebSocket: got %q, want 4u%d", got, next)
		}
	}
	g.Remove(s)
}

// TestGroupSlowMember: a member that never reads is cut by the
// slow-client check while the others keep getting every broadcast, and a
// closed member in the group harms nobody.
func TestGroupSlowMember(t *testing.T) {
	t.Parallel()
	opts := quietOptions()
	opts.SendQueueLimit = 64 << 10
	opts.SlowClientTimeout = 100 * time.Millisecond
	ts, conns, all := openSessionsOn(t, opts, 2)
	reader, stuck := conns[0], all[1]
	stuckID := stuck.ID()
	g := groupOf(t, all)
	body := bytes.Repeat([]byte{'x'}, 10_000)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	for i := 0; ts.isOpen(stuckID); i++ {
		g.QueueAll([]*Message{NewTextMessage(append([]byte(strconv.Itoa(i)+":"), body...))})
		_, data, err := reader.Read(ctx)
		testutil.NoErr(t, err)
		if !bytes.HasPrefix(data, []byte("4"+strconv.Itoa(i)+":")) {
			t.Fatalf("got %.20q, want broadcast %d", data, i)
		}
		if ctx.Err() != nil {
			t.Fatal("the stuck client was never cut")
		}
	}
	if ev := ts.waitClose(t, stuckID); !errors.Is(ev.err, ErrSlowClient) {
		t.Fatalf("the stuck client closed with %q, %v; want ErrSlowClient", ev.reason, ev.err)
	}
	g.QueueAll([]*Message{NewTextMessage([]byte("after"))})
	testutil.Equal(t, readText(t, reader), "4after")
	g.Remove(stuck)
	testutil.Equal(t, g.Len(), 1)
}

package redis

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/internal/testutil"
)

// TestStreamsRestoreShared restores many sessions at once from the same
// missed broadcasts: each gets exactly its own packets (rooms and except
// per session, no volatile or acked ones) in stream order, while each
// entry was decoded once and its packet is shared, and a malformed entry
// is counted once, not once per restore.
func TestStreamsRestoreShared(t *testing.T) {
	addr := testutil.StartRedis(t)
	n := startStreamsNode(t, addr, nil)
	a := nsAdapterOf(t, n.rc, "/")
	ctx := context.Background()

	id0 := xaddID(t, addr, "uid", "other", "nsp", "/", "type", "3", "data", strings.Replace(nodeBroadcast, "%s", "before", 1))
	const rounds = 20
	for i := range rounds {
		for _, d := range []string{
			`{"packet":{"type":2,"data":["ev","all-%d"]},"opts":{"rooms":[],"except":[],"flags":{}}}`,
			`{"packet":{"type":2,"data":["ev","even-%d"]},"opts":{"rooms":["even"],"except":[],"flags":{}}}`,
			`{"packet":{"type":2,"data":["ev","not-odd-%d"]},"opts":{"rooms":[],"except":["odd"],"flags":{}}}`,
			`{"packet":{"type":2,"data":["ev","volatile-%d"]},"opts":{"rooms":[],"except":[],"flags":{"volatile":true}}}`,
			`{"packet":{"type":2,"data":["ev","acked-%d"],"id":1},"opts":{"rooms":[],"except":[],"flags":{}}}`,
		} {
			xaddID(t, addr, "uid", "other", "nsp", "/", "type", "3", "data", fmt.Sprintf(d, i))
		}
	}
	xaddID(t, addr, "uid", "other", "nsp", "/", "type", "3", "data", "{bad json")
	// The read loop counts it once too.
	waitFor(t, "the read loop's count of the malformed entry", func() bool { return n.rc.Stats().Malformed == 1 })
	before := n.rc.Stats().Malformed

	const sessions = 40
	for i := range sessions {
		room := []string{"even", "odd"}[i%2]
		pid := fmt.Sprintf("pid%d", i)
		testutil.NoErr(t, a.PersistSession(ctx, &adapter.Session{SID: fmt.Sprintf("sid%d", i), PID: pid, Rooms: []string{room}}))
	}
	got := make([]*adapter.Session, sessions)
	var wg sync.WaitGroup
	for i := range sessions {
		wg.Go(func() {
			s, err := a.RestoreSession(ctx, fmt.Sprintf("pid%d", i), id0)
			if err != nil {
				t.Errorf("restore %d: %v", i, err)
				return
			}
			got[i] = s
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for i, s := range got {
		var events []string
		for _, p := range s.MissedPackets {
			events = append(events, strings.SplitN(string(p.Data), `"`, 5)[3])
		}
		var want []string
		for r := range rounds {
			want = append(want, fmt.Sprintf("all-%d", r))
			if i%2 == 0 {
				want = append(want, fmt.Sprintf("even-%d", r), fmt.Sprintf("not-odd-%d", r))
			}
		}
		testutil.Equal(t, events, want)
		if s.MissedPackets[0] != got[i%2].MissedPackets[0] {
			t.Fatalf("session %d: its first packet is not the one the others share", i)
		}
	}
	if m := n.rc.Stats().Malformed - before; m != 1 {
		t.Fatalf("the malformed entry was counted %d times, want 1", m)
	}
	if entries, _ := a.restores.len(); entries != rounds*5+1 {
		t.Fatalf("%d entries cached, want %d", entries, rounds*5+1)
	}
}

// TestRestoreCacheBounds checks the bounds of the cache: the oldest
// entries go first past the count or the bytes, drop empties it, and a
// closed cache keeps nothing.
func TestRestoreCacheBounds(t *testing.T) {
	t.Parallel()
	var rc restoreCache
	for i := range restoreCacheEntries + 10 {
		rc.entry(fmt.Sprint(i), 10)
	}
	if n, b := rc.len(); n != restoreCacheEntries || b != restoreCacheEntries*(10+entryOverhead) {
		t.Fatalf("%d entries, %d bytes; want %d", n, b, restoreCacheEntries)
	}
	if rc.entries["0"] != nil || rc.entries["9"] != nil || rc.entries["10"] == nil {
		t.Fatal("not the oldest entries evicted")
	}
	e := rc.entry("10", 10)
	if e != rc.entry("10", 10) {
		t.Fatal("a cached entry is not returned again")
	}

	rc.entry("big", restoreCacheBytes/2)
	rc.entry("bigger", restoreCacheBytes/2)
	if n, b := rc.len(); b > restoreCacheBytes || rc.entries["bigger"] == nil || n > 2 {
		t.Fatalf("%d entries, %d bytes past the bound %d", n, b, restoreCacheBytes)
	}
	// One entry larger than the bound stays, alone, for its restores.
	rc.entry("huge", 2*restoreCacheBytes)
	if n, _ := rc.len(); n != 1 || rc.entries["huge"] == nil {
		t.Fatalf("%d entries after a huge one", n)
	}

	rc.touch()
	rc.drop()
	if n, b := rc.len(); n != 0 || b != 0 {
		t.Fatalf("%d entries, %d bytes after drop", n, b)
	}
	rc.close()
	if rc.entry("x", 1) != nil || rc.entries != nil {
		t.Fatal("a closed cache keeps entries")
	}
	rc.touch() // no timer after close
	if rc.timer.Stop() {
		t.Fatal("the timer runs after close")
	}
}

// TestRangeReadsCoalesce checks that the restores asking for a page while
// its read runs share the next read, begun after they asked, and never
// the result of the read under way.
func TestRangeReadsCoalesce(t *testing.T) {
	t.Parallel()
	var rr rangeReads[int]
	var calls atomic.Int32
	release := make(chan struct{})
	read := func(context.Context) ([]int, error) {
		n := int(calls.Add(1))
		if n == 1 {
			<-release
		}
		return []int{n}, nil
	}
	ctx := context.Background()
	first := make(chan []int, 1)
	go func() {
		e, _ := rr.read(ctx, "(1-0", read)
		first <- e
	}()
	waitFor(t, "the first read", func() bool { return calls.Load() == 1 })
	const later = 10
	got := make(chan []int, later)
	for range later {
		go func() {
			e, _ := rr.read(ctx, "(1-0", read)
			got <- e
		}()
	}
	waitFor(t, "the later restores waiting", func() bool {
		rr.mu.Lock()
		defer rr.mu.Unlock()
		r := rr.pending["(1-0"]
		return r != nil && r.joined == later-1
	})
	// Another start is not held up.
	if e, _ := rr.read(ctx, "(2-0", read); len(e) != 1 || e[0] != 2 {
		t.Fatalf("another start got %v", e)
	}
	close(release)
	testutil.Equal(t, <-first, []int{1})
	for range later {
		if e := <-got; len(e) != 1 || e[0] != 3 {
			t.Fatalf("a later restore got %v, want the one read begun after it asked", e)
		}
	}
	if n := calls.Load(); n != 3 {
		t.Fatalf("%d reads, want 3", n)
	}
	rr.mu.Lock()
	defer rr.mu.Unlock()
	if len(rr.running) != 0 || len(rr.pending) != 0 {
		t.Fatalf("reads left: %v %v", rr.running, rr.pending)
	}
}

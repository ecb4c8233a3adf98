package redis

import (
	"context"
	"sync"
	"time"

	"github.com/gosio/gosio/internal/clusterwire"
	"github.com/gosio/gosio/parser"
)

// Bounds of a namespace's restore cache (see restoreCache).
const (
	// restoreCacheBytes bounds the data of the cached entries, as read
	// from the stream; the oldest go first past it.
	restoreCacheBytes = 8 << 20
	// restoreCacheEntries bounds how many entries are cached.
	restoreCacheEntries = 4096
	// restoreCacheLife is how long the cache lives after the last
	// restore that used it: the reconnection wave of a node that went
	// away, not the life of the stream.
	restoreCacheLife = 5 * time.Second
	// entryOverhead is what an entry costs besides its data.
	entryOverhead = 256
)

// restoreCache keeps the broadcasts that restores decoded, by stream id,
// so that the clients of a node that went away, reconnecting together to
// this one and all missing the same broadcasts, decode each entry once
// and share its packet (with its offset), rather than decoding the same
// entries once per client. A stream entry never changes once written, so
// a cached decoding is always the entry's; the cache only bounds memory:
// restoreCacheEntries entries and restoreCacheBytes of data at most, the
// oldest evicted first, all dropped restoreCacheLife after the last use.
//
// Restores that want an entry another restore is decoding wait for that
// decoding (missedEntry.once) instead of doing it again.
type restoreCache struct {
	mu      sync.Mutex
	entries map[string]*missedEntry
	order   []string // ids in insertion order, oldest first
	bytes   int
	timer   *time.Timer // drops everything restoreCacheLife after the last use
	closed  bool
}

// A missedEntry is a broadcast of the stream as restores replay it.
type missedEntry struct {
	once sync.Once
	size int
	// packet is the event with its offset, nil when no client gets it
	// back: volatile, with an ack, or malformed (counted and logged once,
	// when decoded).
	packet        *parser.Packet
	rooms, except clusterwire.Rooms
}

// entry returns the cached entry id, adding an undecoded one (size bytes
// of data) when it is missing; nil after close.
func (rc *restoreCache) entry(id string, size int) *missedEntry {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.closed {
		return nil
	}
	if e := rc.entries[id]; e != nil {
		return e
	}
	if rc.entries == nil {
		rc.entries = make(map[string]*missedEntry)
	}
	e := &missedEntry{size: size + entryOverhead}
	rc.entries[id] = e
	rc.order = append(rc.order, id)
	rc.bytes += e.size
	for len(rc.order) > 1 && (len(rc.order) > restoreCacheEntries || rc.bytes > restoreCacheBytes) {
		old := rc.order[0]
		rc.order[0] = ""
		rc.order = rc.order[1:]
		rc.bytes -= rc.entries[old].size
		delete(rc.entries, old)
	}
	return e
}

// touch starts or restarts the life of the cache, at the start of a
// restore.
func (rc *restoreCache) touch() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.closed {
		return
	}
	if rc.timer == nil {
		rc.timer = time.AfterFunc(restoreCacheLife, rc.drop)
		return
	}
	rc.timer.Reset(restoreCacheLife)
}

// drop empties the cache; restores under way keep the entries they hold.
func (rc *restoreCache) drop() {
	rc.mu.Lock()
	rc.entries, rc.order, rc.bytes = nil, nil, 0
	rc.mu.Unlock()
}

// close empties the cache for good and stops its timer.
func (rc *restoreCache) close() {
	rc.mu.Lock()
	rc.closed = true
	if rc.timer != nil {
		rc.timer.Stop()
	}
	rc.entries, rc.order, rc.bytes = nil, nil, 0
	rc.mu.Unlock()
}

// len reports how many entries are cached, and their accounted bytes.
func (rc *restoreCache) len() (int, int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.entries), rc.bytes
}

// missed returns the broadcast entry id with data, decoded once for all
// the restores of the namespace.
func (a *nsAdapter) missed(id, data string) *missedEntry {
	e := a.restores.entry(id, len(data))
	if e == nil {
		e = &missedEntry{} // closed: decode for this restore only
	}
	e.once.Do(func() {
		p, rooms, except, err := a.decodeMissed(id, data)
		if err != nil {
			a.malformed(a.stream, err)
			return
		}
		e.packet, e.rooms, e.except = p, rooms, except
	})
	return e
}

// rangeReads coalesces the XRANGE pages of concurrent restores, which the
// clients of a node that went away, all missing the same broadcasts, ask
// for together: a restore that wants the page from start while a read of
// it is under way waits for that read to end and shares the next one with
// the other restores that came meanwhile. The next read begins after they
// asked, so no restore misses an entry added before it began for having
// joined a read begun earlier. One read runs per start, and one waits.
type rangeReads[E any] struct {
	mu      sync.Mutex
	running map[string]*rangeRead[E] // by start
	pending map[string]*rangeRead[E] // begins when running[start] ends
}

type rangeRead[E any] struct {
	done    chan struct{}
	joined  int // restores sharing the read besides the one that begins it, under rangeReads.mu
	entries []E
	err     error
}

// read returns the page from start that read returns, shared with the
// restores that asked meanwhile. The entries are shared: read only. A
// restore that waits gives up with ctx; the read itself runs with the
// context of the restore that began it.
func (rr *rangeReads[E]) read(ctx context.Context, start string, read func(context.Context) ([]E, error)) ([]E, error) {
	rr.mu.Lock()
	if r := rr.pending[start]; r != nil {
		r.joined++
		rr.mu.Unlock()
		return r.wait(ctx)
	}
	r := &rangeRead[E]{done: make(chan struct{})}
	prev := rr.running[start]
	if prev == nil {
		if rr.running == nil {
			rr.running = make(map[string]*rangeRead[E])
		}
		rr.running[start] = r
		rr.mu.Unlock()
	} else {
		if rr.pending == nil {
			rr.pending = make(map[string]*rangeRead[E])
		}
		rr.pending[start] = r
		rr.mu.Unlock()
		<-prev.done // it ends on its own: a Redis call with its context
		rr.mu.Lock()
		delete(rr.pending, start)
		rr.running[start] = r
		rr.mu.Unlock()
	}
	r.entries, r.err = read(ctx)
	rr.mu.Lock()
	if rr.running[start] == r {
		delete(rr.running, start)
	}
	rr.mu.Unlock()
	close(r.done)
	return r.entries, r.err
}

func (r *rangeRead[E]) wait(ctx context.Context) ([]E, error) {
	select {
	case <-r.done:
		return r.entries, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

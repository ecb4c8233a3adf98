package redis

import (
	"context"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/redis/rueidis"
)

// A streamReader reads one stream with blocking XREADs from the last id
// it saw, for the namespaces of the Cluster that write there. It starts
// at the stream's tail as of the first namespace's Init (Node starts at
// "$" some time later, and misses what is added in between), keeps its
// last id across errors and reconnections, and reports entries trimmed
// before it could read them.
type streamReader struct {
	c      *Cluster
	key    string
	refs   int // namespaces reading it, under c.mu
	cancel context.CancelFunc
	done   chan struct{}
	last   string // only the reader's goroutine touches it after start
}

// attachReader makes sure a reader runs for key, starting from the
// stream's current tail; it returns once that tail is known.
func (c *Cluster) attachReader(ctx context.Context, key string) error {
	c.mu.Lock()
	if r := c.readers[key]; r != nil {
		r.refs++
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	last, err := c.streamTail(ctx, key)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if r := c.readers[key]; r != nil { // attached meanwhile
		r.refs++
		return nil
	}
	rctx, cancel := context.WithCancel(context.Background())
	r := &streamReader{c: c, key: key, refs: 1, cancel: cancel, done: make(chan struct{}), last: last}
	c.readers[key] = r
	c.wg.Add(1)
	go r.run(rctx)
	return nil
}

// detachReader stops key's reader when its last namespace leaves.
func (c *Cluster) detachReader(key string) {
	c.mu.Lock()
	r := c.readers[key]
	if r == nil {
		c.mu.Unlock()
		return
	}
	r.refs--
	if r.refs > 0 {
		c.mu.Unlock()
		return
	}
	delete(c.readers, key)
	c.mu.Unlock()
	r.cancel()
	<-r.done
}

// streamTail returns the id of the stream's last entry, or "0-0".
func (c *Cluster) streamTail(ctx context.Context, key string) (string, error) {
	es, err := c.client.Do(ctx, c.client.B().Xrevrange().Key(key).End("+").Start("-").Count(1).Build().Pin()).AsXRange()
	if err != nil {
		return "", err
	}
	if len(es) == 0 {
		return "0-0", nil
	}
	return es[0].ID, nil
}

// readDeadlineSlack is added to the BLOCK time of an XREAD: blocked
// connections are not pinged, so a half-open connection is noticed only
// by this deadline.
const readDeadlineSlack = 5 * time.Second

func (r *streamReader) run(ctx context.Context) {
	c := r.c
	defer c.wg.Done()
	defer close(r.done)
	o := c.streams
	block := o.BlockTime.Milliseconds()
	var failedAt time.Time
	var failErr error
	var routed []routedEntry
	backoff := 50 * time.Millisecond
	// The reads run on a dedicated connection: on the shared client,
	// rueidis retries a read-only command across a reconnection without a
	// word, so a Redis restart (and the stream lost with it) would go
	// unnoticed. A dedicated connection reports the error; it is then
	// released and a new one taken.
	var dc rueidis.DedicatedClient
	release := func() {}
	defer func() { release() }()
	for ctx.Err() == nil {
		if dc == nil {
			dc, release = c.client.Dedicate()
		}
		// A cancel, not a deadline: rueidis gives up a blocked XREAD on a
		// context's cancellation, but a context with a deadline makes it
		// wait for the connection's deadline instead, and Close would wait
		// for BlockTime.
		rctx, cancel := context.WithCancel(ctx)
		timer := time.AfterFunc(o.BlockTime+readDeadlineSlack, cancel)
		// Pinned: a read given up (cancelled, or its connection broken) may
		// still be in rueidis's writer when Do returns, and a recycled
		// command would be overwritten by the next one under it.
		cmd := dc.B().Xread().Count(o.ReadCount).Block(block).Streams().Key(r.key).Id(r.last).Build().Pin()
		res, err := dc.Do(rctx, cmd).AsXRead()
		timer.Stop()
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil && !rueidis.IsRedisNil(err) {
			release()
			dc, release = nil, func() {}
			if failedAt.IsZero() {
				failedAt, failErr = time.Now(), err
				c.log.Warn("redis adapter: stream read failed; retrying", "uid", c.uid, "stream", r.key, "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff/2 + rand.N(backoff/2+1)):
			}
			backoff = min(2*backoff, 2*time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
		if !failedAt.IsZero() {
			r.checkGap(ctx, failedAt, failErr)
			failedAt, failErr = time.Time{}, nil
		}
		// One lock for the batch's routing; enqueue may wait for room in
		// a full queue, so it runs after the lock is released.
		routed = routed[:0]
		c.mu.Lock()
		for _, e := range res[r.key] {
			r.last = e.ID
			nsp := e.FieldValues["nsp"]
			if nsp == "" {
				continue // Node skips entries without a namespace
			}
			a := c.nsps[nsp]
			if a == nil || a.stream != r.key {
				continue // a namespace this node does not have
			}
			routed = append(routed, routedEntry{a, inbound{channel: r.key, entry: &streamEntry{
				id: e.ID, uid: e.FieldValues["uid"], nsp: nsp, typ: e.FieldValues["type"], data: e.FieldValues["data"],
			}}})
		}
		c.mu.Unlock()
		for i, re := range routed {
			re.a.enqueue(re.m)
			routed[i] = routedEntry{}
		}
	}
}

// A routedEntry is a stream entry and the namespace it goes to.
type routedEntry struct {
	a *nsAdapter
	m inbound
}

// checkGap runs after reads failed and succeeded again: entries after the
// last id read are still in the stream, and will be read, unless trimming
// removed some (XINFO STREAM's max-deleted-entry-id is after it) or the
// stream was lost (the last entry read is gone and the stream starts
// after it). Either is reported as a Gap.
func (r *streamReader) checkGap(ctx context.Context, failedAt time.Time, failErr error) {
	c := r.c
	info, err := c.client.Do(ctx, c.client.B().XinfoStream().Key(r.key).Build().Pin()).AsMap()
	lost := false
	switch {
	case rueidis.IsRedisNil(err) || (err != nil && strings.Contains(err.Error(), "no such key")):
		lost = r.last != "0-0"
	case err != nil:
		c.log.Debug("redis adapter: XINFO STREAM", "stream", r.key, "err", err)
		return
	default:
		if m, ok := info["max-deleted-entry-id"]; ok {
			if s, err := m.ToString(); err == nil && compareIDs(s, r.last) > 0 {
				lost = true
			}
		}
		if !lost && r.last != "0-0" {
			if f, ok := info["first-entry"]; ok && !f.IsNil() {
				if e, err := f.AsXRangeEntry(); err == nil && compareIDs(e.ID, r.last) > 0 {
					lost = true // the stream no longer holds the last entry read
				}
			}
		}
	}
	if !lost {
		return
	}
	c.stats.gaps.Add(1)
	g := Gap{Start: failedAt, End: time.Now(), Err: failErr, Stream: r.key, After: r.last}
	if c.onGap != nil {
		go c.onGap(g)
		return
	}
	c.log.Warn("redis adapter: stream entries were trimmed or lost before this node read them", "uid", c.uid, "stream", r.key, "after", r.last, "err", failErr)
}

// compareIDs compares two stream ids ("ms-seq").
func compareIDs(a, b string) int {
	am, as := splitID(a)
	bm, bs := splitID(b)
	switch {
	case am < bm:
		return -1
	case am > bm:
		return 1
	case as < bs:
		return -1
	case as > bs:
		return 1
	}
	return 0
}

func splitID(id string) (uint64, uint64) {
	ms, seq, _ := strings.Cut(id, "-")
	m, _ := strconv.ParseUint(ms, 10, 64)
	s, _ := strconv.ParseUint(seq, 10, 64)
	return m, s
}

package engineio

import (
	"sync"
	"sync/atomic"
)

// A Group is a set of sessions that receive the same broadcasts, such as
// the sockets of a Socket.IO namespace: QueueAll sends messages to every
// member as each member's QueueAll would, in the same order with respect
// to everything else sent to that member, but for a cost per broadcast
// that does not grow with the members (the writes do: at most one per
// member per wave, below).
//
// A broadcast to a group is copied once into the group's log, as
// WebSocket frames. Each member that reads over a WebSocket of this
// server (see below) keeps a position in the log, and the server's shared
// writers give it everything past its position in one write of contiguous
// bytes. They do so in waves: the members in chunks of 128, which the
// writers share, one wave after the other in the order the broadcasts
// came. A burst of broadcasts thus costs a copy per broadcast and a system
// call per member, as a hand-written event loop would, rather than a queue
// entry per message and member. Any other message sent to a member first
// queues the log's bytes it has not had yet, so the member's order is that
// of the calls.
//
// A session takes broadcasts from the log of one group only, the first
// one it was added to while on a WebSocket (or the one it upgrades to a
// WebSocket in); in any other group, and while it polls, it gets each
// broadcast queued as QueueAll queues it. Sessions that read over the
// Engine.IO v3 protocol, with binary as base64 text, or with
// permessage-deflate never take from a log.
//
// The methods of a Group are safe for concurrent use. A session closed
// stays a member until it is removed; Remove it when it leaves, as a
// namespace removes a disconnected socket.
type Group struct {
	srv *Server
	ctr *counters

	// snap is the log as readers see it; the appender publishes a new
	// snapshot after writing each broadcast's bytes past the last one.
	snap atomic.Pointer[groupSnap]

	mu        sync.Mutex
	segs      []*logSegment // the log's segments, oldest first; see trimLocked
	fast      []*Session    // members that take from the log, at their gidx
	slow      map[*Session]int
	scheduled bool // a wave waits in the server's write pool
}

// A groupSnap is the group's log up to end: the bytes of segs up to end
// are final and never written again.
type groupSnap struct {
	end  int64
	segs []*logSegment
}

// A logSegment holds the log's bytes from offset start on, up to the next
// segment's start (or the snapshot's end); buf is made once, and only its
// bytes past the published end are ever written.
type logSegment struct {
	start int64
	buf   []byte
}

// logSegmentSize is the size of a log segment; a frame larger than that
// gets a segment of its own size.
const logSegmentSize = 64 << 10

// NewGroup returns an empty group of the server's sessions.
func (srv *Server) NewGroup() *Group {
	g := &Group{srv: srv, ctr: srv.stats.shard(), slow: make(map[*Session]int)}
	g.snap.Store(&groupSnap{})
	return g
}

// Add makes s a member of g: it gets every broadcast queued with QueueAll
// after Add returns (and none before). Adding a session twice counts: it
// stays a member until removed as many times, and gets each broadcast
// once. A closed session is not added.
func (g *Group) Add(s *Session) {
	g.mu.Lock()
	g.addLocked(s)
	g.mu.Unlock()
}

// SendAllAndAdd queues msgs for s as SendAllHeld does and adds s to g, in
// one step with respect to QueueAll: a broadcast either was queued before
// msgs and does not reach s, or comes after msgs. A Socket.IO namespace
// sends a socket's CONNECT so, so that a client that read its CONNECT gets
// every broadcast sent since, and none ahead of it. It returns
// SendAllHeld's error; s is added unless it is closed.
func (g *Group) SendAllAndAdd(s *Session, msgs []*Message) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	err := s.SendAllHeld(msgs)
	g.addLocked(s)
	return err
}

// addLocked is Add for a caller that holds g.mu.
func (g *Group) addLocked(s *Session) {
	s.mu.Lock()
	switch {
	case s.closed:
	case s.grp == g:
		s.grefs++
	case g.slow[s] > 0:
		g.slow[s]++
	case s.grp == nil && s.logReadyLocked():
		g.addFastLocked(s)
	default:
		g.slow[s] = 1
		if s.grp == nil && s.wantGrp == nil {
			s.wantGrp = g // it may take from g's log once it upgrades
		}
	}
	s.mu.Unlock()
}

// addFastLocked makes s a member that takes from the log, from its end on;
// the caller holds g.mu and s.mu.
func (g *Group) addFastLocked(s *Session) {
	s.grp, s.grefs, s.gpos, s.gidx = g, 1, g.snap.Load().end, int32(len(g.fast))
	g.fast = append(g.fast, s)
}

// Remove undoes one Add of s. Once s is no member any more, broadcasts
// queued with QueueAll after Remove returns do not reach it; those queued
// before still do.
func (g *Group) Remove(s *Session) {
	g.mu.Lock()
	s.mu.Lock()
	switch {
	case s.grp == g:
		if s.grefs--; s.grefs > 0 {
			break
		}
		if !s.closed && s.catchUpLocked(nil) {
			s.scheduleWriteLocked()
		}
		last := len(g.fast) - 1
		g.fast[s.gidx] = g.fast[last]
		g.fast[s.gidx].gidx = s.gidx
		g.fast[last] = nil
		g.fast = g.fast[:last]
		s.grp, s.gidx = nil, 0
		if cap(g.fast) > 64 && len(g.fast) < cap(g.fast)/4 {
			g.fast = append(make([]*Session, 0, 2*len(g.fast)), g.fast...)
		}
	case g.slow[s] > 1:
		g.slow[s]--
	case g.slow[s] == 1:
		delete(g.slow, s)
		if s.wantGrp == g {
			s.wantGrp = nil
		}
	}
	s.mu.Unlock()
	g.mu.Unlock()
}

// promoteGroup lets s take from the log of the group it waits for (see
// Session.wantGrp), after it upgraded to a WebSocket.
func (s *Session) promoteGroup() {
	s.mu.Lock()
	g := s.wantGrp
	s.mu.Unlock()
	if g == nil {
		return
	}
	g.mu.Lock()
	s.mu.Lock()
	if s.wantGrp == g && s.grp == nil && !s.closed && s.logReadyLocked() && g.slow[s] > 0 {
		refs := g.slow[s]
		delete(g.slow, s)
		g.addFastLocked(s)
		s.grefs = int32(refs)
		s.wantGrp = nil
	}
	s.mu.Unlock()
	g.mu.Unlock()
}

// Len returns how many sessions are members of g.
func (g *Group) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.fast) + len(g.slow)
}

// QueueAll queues msgs as one unit for every member of g, as each
// member's QueueAll would. A member past its queue's hard bound is not cut
// here but by its slow-client check (see Options.SendQueueLimit).
func (g *Group) QueueAll(msgs []*Message) {
	g.mu.Lock()
	if n := len(g.fast); n > 0 {
		g.appendLocked(msgs)
		g.ctr.countOut(len(msgs)*n, sizeOf(msgs)*n)
		g.srv.poolGroup(g)
	}
	for s := range g.slow {
		// Held: a cut would call back into whoever removes s from g.
		_ = s.sendAll(msgs, false, s.queueForPoolLocked)
	}
	g.mu.Unlock()
}

// appendLocked copies the frames of msgs to the end of the log and
// publishes the new end.
func (g *Group) appendLocked(msgs []*Message) {
	end := g.snap.Load().end
	for _, m := range msgs {
		f := m.wsFrame()
		var seg *logSegment
		if n := len(g.segs); n > 0 {
			seg = g.segs[n-1]
		}
		if seg == nil || int64(len(seg.buf))-(end-seg.start) < int64(len(f)) {
			seg = &logSegment{start: end, buf: make([]byte, max(logSegmentSize, len(f)))}
			g.segs = append(g.segs, seg)
		}
		copy(seg.buf[end-seg.start:], f)
		end += int64(len(f))
	}
	g.snap.Store(&groupSnap{end: end, segs: g.segs})
}

// segEnd returns where segment i of sn ends.
func (sn *groupSnap) segEnd(i int) int64 {
	if i+1 < len(sn.segs) {
		return sn.segs[i+1].start
	}
	return sn.end
}

// pieces returns the log's bytes from pos to sn.end as messages whose
// WebSocket frames are those bytes, one per segment they span: whole
// frames, which need no copy and can be shared by every member at pos.
func (sn *groupSnap) pieces(pos int64) []*Message {
	var out []*Message
	for i, seg := range sn.segs {
		end := sn.segEnd(i)
		if end <= pos {
			continue
		}
		lo, hi := max(pos, seg.start)-seg.start, end-seg.start
		b := seg.buf[lo:hi:hi]
		out = append(out, &Message{frame: b, ws: b})
	}
	return out
}

// trimLocked forgets the segments that end at or before pos, which every
// member's position is past: messages queued from them keep their bytes.
func (g *Group) trimLocked(pos int64) {
	k := 0
	for k+1 < len(g.segs) && g.segs[k+1].start <= pos {
		k++
	}
	if k > 0 {
		g.segs = append([]*logSegment(nil), g.segs[k:]...)
	}
}

// A wave writes the log's end to the members of a group, in chunks of
// writerChunk members that the server's writers share.
type wave struct {
	g       *Group
	snap    *groupSnap
	members []*Session // in *buf, from waveBufs
	buf     *[]*Session
	left    atomic.Int32 // chunks not yet written
}

// waveChunk is the members lo to hi of a wave.
type waveChunk struct {
	w      *wave
	lo, hi int
}

// waveBufs recycles the member lists of waves.
var waveBufs sync.Pool // *[]*Session

// startWave takes the log's end and its members for a wave, and returns
// the wave's chunks.
func (g *Group) startWave(dst []waveChunk) []waveChunk {
	bp, _ := waveBufs.Get().(*[]*Session)
	if bp == nil {
		bp = new([]*Session)
	}
	g.mu.Lock()
	g.scheduled = false
	w := &wave{g: g, snap: g.snap.Load(), members: append((*bp)[:0], g.fast...), buf: bp}
	g.mu.Unlock()
	n := (len(w.members) + writerChunk - 1) / writerChunk
	if n == 0 {
		w.release()
		return dst
	}
	w.left.Store(int32(n))
	for lo := 0; lo < len(w.members); lo += writerChunk {
		dst = append(dst, waveChunk{w: w, lo: lo, hi: min(len(w.members), lo+writerChunk)})
	}
	return dst
}

// write writes the chunk's members the log as it is now (which a wave
// queued behind this one then need not write again); the last chunk of a
// wave to finish trims the log.
func (c waveChunk) write() {
	w := c.w
	sn := w.g.snap.Load()
	var shared []*Message
	sharedPos := int64(-1)
	for _, s := range w.members[c.lo:c.hi] {
		s.mu.Lock()
		if s.grp != w.g || s.closed || s.gpos >= sn.end {
			s.mu.Unlock()
			continue
		}
		if s.gpos != sharedPos {
			shared, sharedPos = sn.pieces(s.gpos), s.gpos
		}
		s.takeLogLocked(sn, shared)
		s.writeCaughtUpLocked()
	}
	if w.left.Add(-1) == 0 {
		w.g.mu.Lock()
		w.g.trimLocked(w.snap.end)
		w.g.mu.Unlock()
		w.release()
	}
}

// release gives the wave's member list back.
func (w *wave) release() {
	clear(w.members)
	*w.buf = w.members[:0]
	w.members = nil
	waveBufs.Put(w.buf)
}

// logReadyLocked reports whether s can take broadcasts from a group's
// log: it reads over a WebSocket whose frames the server writes itself.
func (s *Session) logReadyLocked() bool {
	return s.transport == webSocket && s.poolable && !s.eio3 && !s.b64
}

// catchUpLocked queues the bytes of s's group log that s has not had yet,
// ahead of whatever is sent next, and reports whether there were any. sn
// is the log as the caller read it, or nil for the latest.
func (s *Session) catchUpLocked(sn *groupSnap) bool {
	g := s.grp
	if g == nil {
		return false
	}
	if sn == nil {
		sn = g.snap.Load()
	}
	if s.gpos >= sn.end {
		return false
	}
	s.takeLogLocked(sn, sn.pieces(s.gpos))
	return true
}

// takeLogLocked queues pieces, the log's bytes from s.gpos to sn.end.
func (s *Session) takeLogLocked(sn *groupSnap, pieces []*Message) {
	s.gpos = sn.end
	s.queue = append(s.queue, pieces...)
	s.queued += sizeOf(pieces)
	if s.queued > s.srv.opts.SendQueueLimit {
		s.armSlowLocked()
	}
}

// scheduleWriteLocked hands what catchUpLocked queued to the write pool,
// unless a flusher or the pool has it already.
func (s *Session) scheduleWriteLocked() {
	if !s.flushing && !s.pooled && len(s.queue) > 0 {
		s.srv.poolLocked(s)
	}
}

// writeCaughtUpLocked writes what catchUpLocked queued, from the caller's
// goroutine when nothing else writes for s (see writeQueued), and
// otherwise leaves it to whoever does; it unlocks s.mu.
func (s *Session) writeCaughtUpLocked() {
	if s.flushing || s.pooled {
		s.mu.Unlock() // the flusher or the write pool writes the queue
		return
	}
	s.writeQueuedLocked()
}

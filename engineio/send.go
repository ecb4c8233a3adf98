package engineio

// SendAll queues msgs for the client as one unit, without blocking: no
// other message is queued between them, which keeps a Socket.IO packet and
// its binary attachments together. It fails as Send does.
func (s *Session) SendAll(msgs []*Message) error {
	return s.sendAll(msgs, true, s.sendNowLocked)
}

// SendAllHeld is SendAll for a caller that holds a lock which the
// session's OnClose callback takes: it never closes the session on the
// caller's goroutine. Where SendAll would cut a slow client whose queue is
// past its hard bound, SendAllHeld queues msgs and leaves the cut to the
// next send or to the slow-client timer. It fails with ErrClosed only.
func (s *Session) SendAllHeld(msgs []*Message) error {
	return s.sendAll(msgs, false, s.sendNowLocked)
}

// sendNowLocked writes msgs at once when the transport can take them, and
// queues them otherwise.
func (s *Session) sendNowLocked(msgs []*Message, size int) {
	s.catchUpLocked(nil)
	if !s.writeInlineLocked(msgs) {
		s.queue = append(s.queue, msgs...)
		s.queued += size
		s.kickLocked()
	}
}

// sendAll admits msgs (size bytes) under s.mu, as SendAll documents, and
// calls queue with their size to queue or write them. cut says whether a
// queue past its hard bound closes the session here.
func (s *Session) sendAll(msgs []*Message, cut bool, queue func(msgs []*Message, size int)) error {
	size := sizeOf(msgs)
	s.mu.Lock()
	if err := s.admitLocked(size, cut); err != nil {
		return err
	}
	s.ctr.countOut(len(msgs), size)
	queue(msgs, size)
	s.mu.Unlock()
	return nil
}

// SendAllVolatile queues msgs as one unit only if the transport can take
// them right now, as SendVolatile does, and reports whether it did.
func (s *Session) SendAllVolatile(msgs []*Message) bool {
	s.mu.Lock()
	ok := s.readyLocked()
	if ok {
		size := sizeOf(msgs)
		s.ctr.countOut(len(msgs), size)
		if !s.writeInlineLocked(msgs) {
			s.queue = append(s.queue, msgs...)
			s.queued += size
			s.kickLocked()
		}
	} else {
		s.ctr.dropped.Add(uint64(len(msgs)))
	}
	s.mu.Unlock()
	return ok
}

// QueueAll queues msgs as one unit, like SendAll, for a message sent to
// many sessions (a broadcast). Where SendAll writes at once from the
// caller's goroutine when it can, QueueAll leaves the write to the server's
// shared writers, which write everything queued for one session meanwhile
// with one system call: a burst of broadcasts then costs one write per
// session rather than one per message. It fails as SendAll does.
func (s *Session) QueueAll(msgs []*Message) error {
	return s.sendAll(msgs, true, s.queueForPoolLocked)
}

// QueueAllVolatile is QueueAll for volatile messages: it queues msgs only
// if the transport can take them right now, as SendAllVolatile does, and
// reports whether it did.
func (s *Session) QueueAllVolatile(msgs []*Message) bool {
	s.mu.Lock()
	ok := s.readyLocked()
	if ok {
		size := sizeOf(msgs)
		s.ctr.countOut(len(msgs), size)
		s.queueForPoolLocked(msgs, size)
	} else {
		s.ctr.dropped.Add(uint64(len(msgs)))
	}
	s.mu.Unlock()
	return ok
}

// queueForPoolLocked queues msgs and puts the session in the server's
// write pool, where its socket is written without a flusher; sessions
// without pre-built frames are written the usual way.
func (s *Session) queueForPoolLocked(msgs []*Message, size int) {
	s.catchUpLocked(nil)
	s.queue = append(s.queue, msgs...)
	s.queued += size
	switch {
	case !s.poolable:
		s.kickLocked()
	case !s.flushing && !s.pooled:
		s.srv.poolLocked(s)
	}
}

// sizeOf is what msgs count against a session's send queue limit.
func sizeOf(msgs []*Message) int {
	size := 0
	for _, m := range msgs {
		size += m.size()
	}
	return size
}

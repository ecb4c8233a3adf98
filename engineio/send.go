package engineio

// SendAll queues msgs for the client as one unit, without blocking: no
// other message is queued between them, which keeps a Socket.IO packet and
// its binary attachments together. It fails as Send does.
func (s *Session) SendAll(msgs []*Message) error {
	size := 0
	for _, m := range msgs {
		size += m.size()
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	if s.queued > 0 && s.queued+size > s.srv.opts.SendQueueLimit {
		s.closeLocked(ReasonTransportError, ErrSlowClient, closeByError)
		return ErrSlowClient
	}
	if !s.writeInlineLocked(msgs) {
		s.queue = append(s.queue, msgs...)
		s.queued += size
		s.kickLocked()
	}
	s.mu.Unlock()
	return nil
}

// SendAllVolatile queues msgs as one unit only if the transport can take
// them right now, as SendVolatile does, and reports whether it did.
func (s *Session) SendAllVolatile(msgs []*Message) bool {
	s.mu.Lock()
	ok := !s.closed && s.queued == 0 && (s.transport == webSocket || s.poll != nil)
	if ok && !s.writeInlineLocked(msgs) {
		for _, m := range msgs {
			s.queue = append(s.queue, m)
			s.queued += m.size()
		}
		s.kickLocked()
	}
	s.mu.Unlock()
	return ok
}

package socketio

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gosio/gosio/parser"
)

// An EmitOperator emits events from a socket, client (ClientSocket) or
// server (Socket), with modifiers, as socket.volatile, socket.compress()
// and socket.timeout() do in Node. Get one from the socket's Volatile,
// Compress or Timeout; each of its methods returns a modified copy, so
// operators can be chained and kept.
type EmitOperator struct {
	s          emitTarget
	volatile   bool
	compress   bool
	timeout    time.Duration
	hasTimeout bool
}

// emitTarget is the socket, client or server, an EmitOperator emits from.
type emitTarget interface {
	// emitEvent sends an event with o's modifiers. done, when not nil,
	// asks for an acknowledgement and receives it once. It returns a
	// function that abandons the acknowledgement.
	emitEvent(o EmitOperator, event string, args []any, done func(Args, error)) (abandon func(), err error)
	// inOrder returns a done func that calls fn in the order of the
	// socket's handlers, never under a lock or on a read loop.
	inOrder(fn func(Args, error)) func(Args, error)
}

var (
	_ emitTarget = (*ClientSocket)(nil)
	_ emitTarget = (*Socket)(nil)
)

// Volatile returns an operator whose events are dropped, rather than
// buffered, when the socket is not connected or its connection cannot take
// them right away. Volatile events bypass the Retries queue.
func (s *ClientSocket) Volatile() EmitOperator { return s.op().Volatile() }

// Compress returns an operator with the compress flag set to c. The Go
// client does not compress; the flag is kept for parity with the
// reference client.
func (s *ClientSocket) Compress(c bool) EmitOperator { return s.op().Compress(c) }

// Timeout returns an operator whose acknowledgements fail with
// ErrAckTimeout after d, instead of after SocketOptions.AckTimeout.
func (s *ClientSocket) Timeout(d time.Duration) EmitOperator { return s.op().Timeout(d) }

// EmitWithAckFunc sends an event asking the server for an acknowledgement
// and returns at once, as socket.emit(event, ...args, callback) does; see
// EmitOperator.EmitWithAckFunc.
func (s *ClientSocket) EmitWithAckFunc(event string, fn func(args Args, err error), args ...any) error {
	return s.op().EmitWithAckFunc(event, fn, args...)
}

func (s *ClientSocket) inOrder(fn func(Args, error)) func(Args, error) {
	return func(a Args, err error) { s.m.dispatchLocked(func() { fn(a, err) }) }
}

func (s *ClientSocket) op() EmitOperator { return EmitOperator{s: s, compress: true} }

// Volatile returns a copy of o that emits volatile events; see
// ClientSocket.Volatile.
func (o EmitOperator) Volatile() EmitOperator { o.volatile = true; return o }

// Compress returns a copy of o with the compress flag set to c.
func (o EmitOperator) Compress(c bool) EmitOperator { o.compress = c; return o }

// Timeout returns a copy of o whose acknowledgements time out after d.
func (o EmitOperator) Timeout(d time.Duration) EmitOperator {
	o.timeout, o.hasTimeout = d, true
	return o
}

// Emit sends an event to the server. Arguments are encoded as
// parser.MarshalArgs does: []byte values travel as binary attachments.
// While the socket is not connected the event waits in a send buffer,
// sent when it connects (volatile events are dropped instead). Emit fails
// only for a reserved event name, arguments that cannot be encoded, or a
// closed Manager.
func (s *ClientSocket) Emit(event string, args ...any) error { return s.op().Emit(event, args...) }

// EmitWithAck sends an event asking the server for an acknowledgement and
// waits for it. It fails with ErrAckTimeout when a timeout (Timeout or
// SocketOptions.AckTimeout) passes first, with a *DisconnectError when the
// socket disconnects after sending it (an event still in the send buffer
// waits for the next connection instead), or with ctx's error.
func (s *ClientSocket) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	return s.op().EmitWithAck(ctx, event, args...)
}

// Emit sends an event with o's modifiers; see ClientSocket.Emit and
// Socket.Emit.
func (o EmitOperator) Emit(event string, args ...any) error {
	_, err := o.s.emitEvent(o, event, args, nil)
	return err
}

// EmitWithAckFunc sends an event with o's modifiers asking the peer for an
// acknowledgement, and returns at once, as Node's
// socket.timeout(ms).emit(event, ...args, callback) does. fn is called
// once: with the peer's answer, or with ErrAckTimeout when o's timeout
// (Timeout, or SocketOptions.AckTimeout on a client) passes first, or with
// a *DisconnectError when the socket disconnects first. It runs in the
// order of the socket's handlers (those of the Socket, or of the
// ClientSocket's Manager), never under a lock, so a handler can emit with
// it and return, and the socket's later events are not held back. When
// EmitWithAckFunc returns an error, fn is not called.
func (o EmitOperator) EmitWithAckFunc(event string, fn func(args Args, err error), args ...any) error {
	_, err := o.s.emitEvent(o, event, args, o.s.inOrder(fn))
	return err
}

// EmitWithAck sends an event with o's modifiers and waits for its
// acknowledgement, or until ctx is done; see ClientSocket.EmitWithAck and
// Socket.EmitWithAck.
func (o EmitOperator) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	type result struct {
		args Args
		err  error
	}
	ch := make(chan result, 1)
	abandon, err := o.s.emitEvent(o, event, args, func(a Args, err error) { ch <- result{a, err} })
	if err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		return r.args, r.err
	case <-ctx.Done():
		abandon()
		return nil, ctx.Err()
	}
}

// emitEvent sends, buffers or queues an event. done, when not nil, asks
// for an acknowledgement and receives it, under the Manager's lock. It
// returns a function that abandons the acknowledgement.
func (s *ClientSocket) emitEvent(o EmitOperator, event string, args []any, done func(Args, error)) (abandon func(), err error) {
	if parser.IsReserved(event) {
		return nil, fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	all := make([]any, 0, 1+len(args))
	all = append(all, event)
	all = append(all, args...)
	data, atts, err := parser.MarshalArgs(nil, all...)
	if err != nil {
		return nil, err
	}
	m := s.m
	if m.opts.Parser != nil {
		// The packet is encoded under the lock, where it can no longer
		// fail: check here that the parser takes its data (a
		// json.RawMessage argument can hold a placeholder that refers to
		// no attachment, say).
		if _, err := m.encode(&parser.Packet{Type: parser.Event, Data: data, Attachments: atts}); err != nil {
			return nil, err
		}
	}
	timeout := s.opts.AckTimeout
	if o.hasTimeout {
		timeout = o.timeout
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, ErrClientClosed
	}
	if s.opts.Retries > 0 && !o.volatile {
		q := &queuedEmit{event: event, args: args, data: data, atts: atts, timeout: timeout, done: done}
		s.queue = append(s.queue, q)
		s.drainQueueLocked(false)
		m.mu.Unlock()
		return func() { s.abandon(q) }, nil
	}
	op := s.newPacketLocked(event, args, data, atts, timeout, done, true)
	s.sendPacketLocked(op, o.volatile)
	m.mu.Unlock()
	return func() { s.dropAck(op) }, nil
}

// newPacketLocked encodes an EVENT, registering fn for its
// acknowledgement when fn is not nil.
func (s *ClientSocket) newPacketLocked(event string, args []any, data json.RawMessage, atts [][]byte, timeout time.Duration, fn func(Args, error), withError bool) *outPacket {
	op := &outPacket{event: event, args: args}
	p := &parser.Packet{Type: parser.Event, Namespace: s.nsp, Data: data, Attachments: atts}
	if fn != nil {
		op.id, op.hasAck = s.ids, true
		s.ids++
		p.ID, p.HasID = op.id, true
		a := &clientAck{fn: fn, withError: withError, packet: op}
		if timeout > 0 {
			a.timer = time.AfterFunc(timeout, func() { s.ackTimedOut(op.id, a) })
		}
		s.acks[op.id] = a
	}
	// With a parser of Options.Parser, emit checked that p encodes.
	op.frames, _ = s.m.encode(p)
	return op
}

// sendPacketLocked sends op if the socket is connected, else buffers it
// or, when volatile, drops it.
func (s *ClientSocket) sendPacketLocked(op *outPacket, volatile bool) {
	switch {
	case s.connected && s.m.sendLocked(op.frames, volatile):
		s.notifyOutgoingLocked(op)
	case volatile:
	default:
		s.sendBuffer = append(s.sendBuffer, op)
	}
}

// ackTimedOut fails an acknowledgement whose timeout passed; the event is
// taken out of the send buffer if it is still there.
func (s *ClientSocket) ackTimedOut(id uint64, a *clientAck) {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	if s.acks[id] != a {
		return
	}
	delete(s.acks, id)
	s.unbufferLocked(a.packet)
	a.fn(nil, ErrAckTimeout)
}

// dropAck abandons the acknowledgement of op and takes op out of the send
// buffer.
func (s *ClientSocket) dropAck(op *outPacket) {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	s.dropAckLocked(op)
	s.unbufferLocked(op)
}

func (s *ClientSocket) dropAckLocked(op *outPacket) {
	if op == nil || !op.hasAck {
		return
	}
	if a := s.acks[op.id]; a != nil && a.packet == op {
		delete(s.acks, op.id)
		if a.timer != nil {
			a.timer.Stop()
		}
	}
}

func (s *ClientSocket) unbufferLocked(op *outPacket) {
	for i, x := range s.sendBuffer {
		if x == op {
			s.sendBuffer = append(s.sendBuffer[:i:i], s.sendBuffer[i+1:]...)
			return
		}
	}
}

// queuedEmit is an event of the Retries queue.
type queuedEmit struct {
	event   string
	args    []any
	data    json.RawMessage
	atts    [][]byte
	timeout time.Duration
	done    func(Args, error) // nil for Emit, or once abandoned
	tries   int
	pending bool       // an attempt waits for its acknowledgement
	attempt *outPacket // the current attempt
}

// drainQueueLocked sends the head of the Retries queue unless it is
// already in flight; force sends it again (after a reconnection).
func (s *ClientSocket) drainQueueLocked(force bool) {
	if !s.connected || len(s.queue) == 0 {
		return
	}
	q := s.queue[0]
	if q.pending && !force {
		return
	}
	s.dropAckLocked(q.attempt)
	q.pending = true
	q.tries++
	var op *outPacket
	op = s.newPacketLocked(q.event, q.args, q.data, q.atts, q.timeout, func(args Args, err error) {
		s.onQueueAckLocked(q, op, args, err)
	}, q.timeout > 0)
	q.attempt = op
	s.sendPacketLocked(op, false)
}

// onQueueAckLocked ends an attempt of the queue's head: it succeeded,
// failed for good after Retries more attempts, or is tried again.
func (s *ClientSocket) onQueueAckLocked(q *queuedEmit, op *outPacket, args Args, err error) {
	if len(s.queue) == 0 || s.queue[0] != q || q.attempt != op {
		return // a late answer to an earlier attempt
	}
	if err == nil || q.tries > s.opts.Retries {
		s.queue = s.queue[1:]
		if q.done != nil {
			q.done(args, err)
		}
	}
	q.pending = false
	q.attempt = nil
	s.drainQueueLocked(false)
}

// abandon stops waiting for a queued event's outcome; an event not sent
// yet leaves the queue.
func (s *ClientSocket) abandon(q *queuedEmit) {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	q.done = nil
	for i, x := range s.queue {
		if x == q {
			if i > 0 || !q.pending {
				s.queue = append(s.queue[:i:i], s.queue[i+1:]...)
			}
			return
		}
	}
}

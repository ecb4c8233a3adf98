package socketio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/parser"
)

// Disconnect reasons reported by client sockets, besides the Engine.IO
// reasons (ReasonTransportClose, ReasonTransportError, ReasonPingTimeout,
// ReasonForcedClose, ReasonParseError), with the reference client's wording.
const (
	// ReasonIOServerDisconnect: the server disconnected the socket from its
	// namespace. The client does not reconnect it.
	ReasonIOServerDisconnect = "io server disconnect"
	// ReasonIOClientDisconnect: the application called Disconnect or Close.
	ReasonIOClientDisconnect = "io client disconnect"
)

// errOldServer is the reference client's connect error for a CONNECT reply
// without a socket id.
const errOldServer = "It seems you are trying to reach a Socket.IO server in v2.x with a v3.x client, but they are not compatible (more information here: https://socket.io/docs/v3/migrating-from-2-x-to-3-0/)"

// SocketOptions configures a client socket. The zero value of every field
// selects the reference client's default.
type SocketOptions struct {
	// Auth is sent in the CONNECT packet of every (re)connection. It must
	// encode to a JSON object (a struct, a map, a json.RawMessage...). Nil
	// sends none.
	Auth any
	// AuthFunc, when not nil, is called before every (re)connection for the
	// auth payload, instead of using Auth, on a goroutine of its own; ctx
	// ends when the Manager closes. An error fails the connection: it goes
	// to the OnConnectError handlers and the socket stops connecting. It
	// must not call Close, which waits for it.
	AuthFunc func(ctx context.Context) (any, error)

	// Retries makes every non-volatile emit go through a queue that sends
	// one packet at a time, asks the server for an acknowledgement and
	// sends the packet again, up to Retries more times, when none came
	// within AckTimeout (at-least-once delivery, as the reference client's
	// retries option). Zero disables the queue.
	Retries int
	// AckTimeout bounds the wait for each acknowledgement: EmitWithAck then
	// fails with ErrAckTimeout. Zero means no bound but the caller's
	// context (and, with Retries, every attempt waits without bound).
	AckTimeout time.Duration
}

// ClientOptions configures Connect and NewClient: the Manager's options and
// the socket's.
type ClientOptions struct {
	ManagerOptions
	SocketOptions
}

// NewClient returns a client socket for the namespace named by rawURL's
// path ("/" when empty), on a Manager of its own, not connected yet:
// register handlers, then call Connect. Closing the socket closes the
// Manager. nil opts selects every default.
func NewClient(rawURL string, opts *ClientOptions) (*ClientSocket, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("socketio: %w", err)
	}
	nsp := u.Path
	u.Path, u.RawPath = "", ""
	if opts == nil {
		opts = &ClientOptions{}
	}
	return NewManager(u.String(), &opts.ManagerOptions).Socket(nsp, &opts.SocketOptions), nil
}

// Connect connects to the namespace named by rawURL's path ("/" when
// empty), as io("http://host/admin") does, on a Manager of its own, and
// waits until the socket is connected; see ClientSocket.Connect. It is a
// shim over NewClient and ClientSocket.Connect. On failure everything is
// closed again.
//
// Handlers registered after Connect returns may miss the events the
// server emits as soon as the socket connects: to get those, register the
// handlers between NewClient and ClientSocket.Connect.
func Connect(ctx context.Context, rawURL string, opts *ClientOptions) (*ClientSocket, error) {
	s, err := NewClient(rawURL, opts)
	if err != nil {
		return nil, err
	}
	if err := s.Connect(ctx); err != nil {
		_ = s.m.Close()
		return nil, err
	}
	return s, nil
}

// A ClientSocket is the client side of a connection to one namespace,
// multiplexed with the Manager's other sockets over its connection.
//
// Register handlers with On and the other On* methods, then call Connect
// (or Open). While the Manager reconnects, the socket reconnects with it.
// Handlers run as described on Manager. All methods are safe for
// concurrent use.
type ClientSocket struct {
	m       *Manager
	nsp     string
	opts    SocketOptions
	auth    json.RawMessage // Auth, encoded
	authErr error           // why Auth could not be encoded

	// Guarded by m.mu.
	active        bool // connecting or connected; follows the Manager's connection
	connecting    bool // CONNECT sent on the current connection
	connected     bool
	id            string
	pid           string
	lastOffset    string
	hasOffset     bool
	recovered     bool
	ids           uint64
	acks          map[uint64]*clientAck
	sendBuffer    []*outPacket
	receiveBuffer []*inEvent
	queue         []*queuedEmit
	waiters       []chan error
	lastConnErr   error // of the last failed attempt, for Connect

	handlers     eventTable
	anyIn        []*anyListener
	anyOut       []*outListener
	onConnect    []func()
	onDisconnect []func(reason string)
	onConnErr    []func(err error)
	onError      []func(err error)
}

// clientAck waits for the server's acknowledgement of an emitted packet.
type clientAck struct {
	fn        func(args Args, err error) // called once, under m.mu; must not block
	timer     *time.Timer
	withError bool // fails when the socket disconnects
	packet    *outPacket
}

// outPacket is an EVENT ready to be sent.
type outPacket struct {
	event  string
	args   []any
	frames []*engineio.Message
	hasAck bool
	id     uint64
}

// inEvent is an EVENT received before the socket connected.
type inEvent struct {
	event string
	args  Args
	ack   Ack
}

func newClientSocket(m *Manager, nsp string, opts *SocketOptions) *ClientSocket {
	s := &ClientSocket{m: m, nsp: nsp, acks: make(map[uint64]*clientAck)}
	if opts != nil {
		s.opts = *opts
	}
	if s.opts.Retries < 0 {
		s.opts.Retries = 0
	}
	if s.auth, s.authErr = marshalAuth(s.opts.Auth); s.authErr != nil {
		s.authErr = fmt.Errorf("socketio: auth: %w", s.authErr)
	}
	return s
}

// Manager returns the Manager the socket belongs to.
func (s *ClientSocket) Manager() *Manager { return s.m }

// Namespace returns the socket's namespace, such as "/" or "/admin".
func (s *ClientSocket) Namespace() string { return s.nsp }

// ID returns the socket id the server assigned, or "" while disconnected.
func (s *ClientSocket) ID() string {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	return s.id
}

// Connected reports whether the socket is connected.
func (s *ClientSocket) Connected() bool {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	return s.connected
}

// Active reports whether the socket is connected or trying to connect
// (and will reconnect with its Manager).
func (s *ClientSocket) Active() bool {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	return s.active
}

// Recovered reports whether the last connection restored the previous
// session (connection state recovery): same socket id, rooms and the
// events missed meanwhile, which were delivered before the connect
// handlers ran.
func (s *ClientSocket) Recovered() bool {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	return s.recovered
}

// On registers a handler for event, of any shape Socket.On accepts: its
// parameters are decoded from the event's arguments, and a last Ack
// parameter answers the server's acknowledgement request. An error it
// returns, or a failure to decode an argument, goes to the OnError
// handlers. On panics when handler has another shape or event is reserved.
//
// With connection state recovery, the server appends the event's offset
// (a string) to its arguments, as the reference server does.
func (s *ClientSocket) On(event string, handler any) {
	if parser.IsReserved(event) {
		panic(fmt.Sprintf("socketio: %q is a reserved event name; use OnConnect, OnDisconnect or OnConnectError", event))
	}
	h := newHandler(handler)
	s.m.mu.Lock()
	s.handlers.add(event, h)
	s.m.mu.Unlock()
}

// Off removes every handler of event.
func (s *ClientSocket) Off(event string) {
	s.m.mu.Lock()
	s.handlers.remove(event)
	s.m.mu.Unlock()
}

// OnAny adds a listener called with every incoming event, before the
// event's handlers. It returns a function that removes the listener (Go
// funcs are not comparable: Node's offAny(fn)); OffAny removes them all.
func (s *ClientSocket) OnAny(fn func(event string, args Args)) (remove func()) {
	l := &anyListener{fn: fn}
	s.m.mu.Lock()
	s.anyIn = append(s.anyIn, l)
	s.m.mu.Unlock()
	return func() { removeFrom(s.m, &s.anyIn, l) }
}

// PrependAny adds a listener like OnAny, called before the others.
func (s *ClientSocket) PrependAny(fn func(event string, args Args)) (remove func()) {
	l := &anyListener{fn: fn}
	s.m.mu.Lock()
	s.anyIn = append([]*anyListener{l}, s.anyIn...)
	s.m.mu.Unlock()
	return func() { removeFrom(s.m, &s.anyIn, l) }
}

// OffAny removes every listener added with OnAny or PrependAny.
func (s *ClientSocket) OffAny() {
	s.m.mu.Lock()
	s.anyIn = nil
	s.m.mu.Unlock()
}

// OnAnyOutgoing adds a listener called with every event the socket sends,
// once it is sent (at once, or when the socket connects for an event
// emitted while disconnected), in the socket's handler order: after the
// handler that emitted it returns, and before the handlers of anything
// that arrives after it, its reply among them. It returns a function that
// removes the listener.
func (s *ClientSocket) OnAnyOutgoing(fn func(event string, args []any)) (remove func()) {
	l := &outListener{fn: fn}
	s.m.mu.Lock()
	s.anyOut = append(s.anyOut, l)
	s.m.mu.Unlock()
	return func() { removeFrom(s.m, &s.anyOut, l) }
}

// PrependAnyOutgoing adds a listener like OnAnyOutgoing, called before the
// others.
func (s *ClientSocket) PrependAnyOutgoing(fn func(event string, args []any)) (remove func()) {
	l := &outListener{fn: fn}
	s.m.mu.Lock()
	s.anyOut = append([]*outListener{l}, s.anyOut...)
	s.m.mu.Unlock()
	return func() { removeFrom(s.m, &s.anyOut, l) }
}

// OffAnyOutgoing removes every listener added with OnAnyOutgoing or
// PrependAnyOutgoing.
func (s *ClientSocket) OffAnyOutgoing() {
	s.m.mu.Lock()
	s.anyOut = nil
	s.m.mu.Unlock()
}

func removeFrom[T comparable](m *Manager, list *[]T, l T) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, x := range *list {
		if x == l {
			*list = append((*list)[:i:i], (*list)[i+1:]...)
			return
		}
	}
}

// OnConnect adds a handler called each time the socket connects or
// reconnects.
func (s *ClientSocket) OnConnect(fn func()) {
	s.m.mu.Lock()
	s.onConnect = append(s.onConnect, fn)
	s.m.mu.Unlock()
}

// OnDisconnect adds a handler called each time the connected socket
// disconnects, with the reason: ReasonIOServerDisconnect,
// ReasonIOClientDisconnect, or the reason the Manager's connection closed
// (ReasonTransportClose, ReasonTransportError, ReasonPingTimeout,
// ReasonParseError, ReasonForcedClose). The socket reconnects after the
// last ones, unless reconnection is disabled.
func (s *ClientSocket) OnDisconnect(fn func(reason string)) {
	s.m.mu.Lock()
	s.onDisconnect = append(s.onDisconnect, fn)
	s.m.mu.Unlock()
}

// OnConnectError adds a handler called when a connection attempt fails:
// with a *ConnectError when the server refused the socket (a middleware
// error or an unknown namespace; the socket then stops connecting), or with
// the error of the Manager's connection (a failed dial, a timeout; the
// Manager retries).
func (s *ClientSocket) OnConnectError(fn func(err error)) {
	s.m.mu.Lock()
	s.onConnErr = append(s.onConnErr, fn)
	s.m.mu.Unlock()
}

// OnError adds a handler for the errors of event handlers, and for
// arguments that could not be decoded for them.
func (s *ClientSocket) OnError(fn func(err error)) {
	s.m.mu.Lock()
	s.onError = append(s.onError, fn)
	s.m.mu.Unlock()
}

// Open starts connecting the socket, opening the Manager's connection if
// needed (also when reconnection is disabled and the connection was lost),
// and returns at once; OnConnect and OnConnectError report the outcome. It
// does nothing when the socket is connected or connecting.
func (s *ClientSocket) Open() {
	m := s.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed || s.connected {
		return
	}
	if s.authErr != nil && s.opts.AuthFunc == nil {
		s.connectErrorLocked(s.authErr)
		s.notifyLocked(s.authErr)
		return
	}
	s.active = true
	if !m.reconnecting {
		m.openLocked(false)
	}
	if m.state == stateOpen {
		s.onOpenLocked()
	}
}

// Connect opens the socket (see Open) and waits until it is connected. It
// returns a *ConnectError when the server refused the socket, the error of
// the last attempt when the Manager gave up (reconnection disabled or
// ReconnectionAttempts reached), ErrClientClosed when the Manager was
// closed, or ctx's error when ctx ended first, wrapped with the error of
// the last failed attempt if there was one (such as an
// *engineio.HTTPError with the status the server answered); the socket
// then keeps trying in the background until Disconnect or Close.
func (s *ClientSocket) Connect(ctx context.Context) error {
	ch := make(chan error, 1)
	m := s.m
	m.mu.Lock()
	switch {
	case m.closed:
		m.mu.Unlock()
		return ErrClientClosed
	case s.connected:
		m.mu.Unlock()
		return nil
	}
	s.waiters = append(s.waiters, ch)
	s.lastConnErr = nil
	m.mu.Unlock()
	s.Open()
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		m.mu.Lock()
		for i, w := range s.waiters {
			if w == ch {
				s.waiters = append(s.waiters[:i:i], s.waiters[i+1:]...)
				break
			}
		}
		last := s.lastConnErr
		m.mu.Unlock()
		if last != nil {
			// Say why the attempts failed, not only that time ran out:
			// an HTTP 404 tells of a server mounted under another path.
			return fmt.Errorf("socketio: connect: %w; last attempt: %w", ctx.Err(), last)
		}
		return ctx.Err()
	}
}

// notifyLocked wakes the Connect calls waiting for the socket.
func (s *ClientSocket) notifyLocked(err error) {
	for _, w := range s.waiters {
		w <- err
	}
	s.waiters = nil
}

// Disconnect disconnects the socket: it tells the server, calls the
// OnDisconnect handlers with ReasonIOClientDisconnect, and stops
// reconnecting. When no other socket of the Manager is active, the
// Manager's connection closes (Disconnect then waits for its goroutines,
// at most about engineio.DefaultClientCloseTimeout). Emits of the send
// buffer stay for a later Connect.
func (s *ClientSocket) Disconnect() {
	eng := s.disconnect()
	if eng != nil {
		_ = eng.Close()
	}
}

// disconnect does Disconnect's work and returns the engine to close.
func (s *ClientSocket) disconnect() *engineio.ClientConn {
	m := s.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if s.connected {
		if frames, err := m.encode(&parser.Packet{Type: parser.Disconnect, Namespace: s.nsp}); err == nil {
			m.sendLocked(frames, false)
		}
	}
	wasActive := s.active
	s.active, s.connecting = false, false
	s.closeLocked(ReasonIOClientDisconnect, &DisconnectError{Reason: ReasonIOClientDisconnect}, false)
	if !wasActive {
		return nil
	}
	return m.destroyIfIdleLocked()
}

// Close disconnects the socket (see Disconnect) and, when no other socket
// of its Manager is active, closes the Manager and waits for its
// goroutines (see Manager.Close).
func (s *ClientSocket) Close() error {
	s.Disconnect()
	m := s.m
	m.mu.Lock()
	idle := true
	for _, x := range m.sockets {
		idle = idle && !x.active
	}
	m.mu.Unlock()
	if idle {
		return m.Close()
	}
	return nil
}

// onOpenLocked sends the CONNECT packet once the Manager's connection is
// open. AuthFunc runs on a goroutine of its own, tracked by the Manager.
func (s *ClientSocket) onOpenLocked() {
	if s.connecting {
		return
	}
	s.connecting = true
	m := s.m
	if s.opts.AuthFunc == nil {
		s.sendConnectLocked(s.auth)
		return
	}
	gen := m.gen
	m.workers.Add(1)
	go func() {
		defer m.workers.Done()
		auth, err := s.opts.AuthFunc(m.ctx)
		var payload json.RawMessage
		if err == nil {
			payload, err = marshalAuth(auth)
		}
		if err != nil {
			err = fmt.Errorf("socketio: auth: %w", err)
		}
		if eng := s.authDone(gen, payload, err); eng != nil {
			_ = eng.Close()
		}
	}()
}

// authDone sends the CONNECT packet for the connection of generation gen
// once AuthFunc returned, or fails the connection with err. It returns an
// engine to close.
func (s *ClientSocket) authDone(gen uint64, auth json.RawMessage, err error) *engineio.ClientConn {
	m := s.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if gen != m.gen || !s.active || !s.connecting || m.closed {
		return nil
	}
	if err != nil {
		s.active, s.connecting = false, false
		s.connectErrorLocked(err)
		s.notifyLocked(err)
		return m.destroyIfIdleLocked()
	}
	s.sendConnectLocked(auth)
	return nil
}

// sendConnectLocked sends the CONNECT packet with auth, plus the session
// to recover if there is one.
func (s *ClientSocket) sendConnectLocked(auth json.RawMessage) {
	payload := auth
	if s.pid != "" {
		payload = mergeRecovery(s.pid, s.lastOffset, s.hasOffset, auth)
	}
	// payload is a JSON object made by encoding/json: every parser
	// encodes it.
	if frames, err := s.m.encode(&parser.Packet{Type: parser.Connect, Namespace: s.nsp, Data: payload}); err == nil {
		s.m.sendLocked(frames, false)
	}
}

// marshalAuth returns the JSON object of an auth payload, or nil.
func marshalAuth(auth any) (json.RawMessage, error) {
	if auth == nil {
		return nil, nil
	}
	b, err := json.Marshal(auth)
	if err != nil {
		return nil, err
	}
	if string(b) == "null" {
		return nil, nil
	}
	if b[0] != '{' {
		return nil, fmt.Errorf("auth must encode to a JSON object, got %.40s", b)
	}
	return b, nil
}

// mergeRecovery returns {pid, offset, ...auth}, as the reference client
// sends when it tries to recover its session.
func mergeRecovery(pid, offset string, hasOffset bool, auth json.RawMessage) json.RawMessage {
	b := []byte(`{"pid":`)
	b = appendJSONString(b, pid)
	if hasOffset {
		b = append(b, `,"offset":`...)
		b = appendJSONString(b, offset)
	}
	if rest := bytes.TrimSpace(auth); len(rest) > 1 {
		rest = bytes.TrimSpace(rest[1:]) // without '{'
		if len(rest) > 0 && rest[0] != '}' {
			b = append(b, ',')
		}
		return append(b, rest...)
	}
	return append(b, '}')
}

func appendJSONString(b []byte, s string) []byte {
	j, _ := json.Marshal(s)
	return append(b, j...)
}

// onPacketLocked handles a packet for the socket.
func (s *ClientSocket) onPacketLocked(p *parser.Packet) {
	switch p.Type {
	case parser.Connect:
		var reply struct {
			SID string `json:"sid"`
			PID string `json:"pid"`
		}
		if len(p.Data) > 0 {
			_ = json.Unmarshal(p.Data, &reply)
		}
		if reply.SID == "" {
			// The reference client reports this and waits; no answer
			// follows, so the socket stops connecting as after a refusal.
			s.active, s.connecting = false, false
			err := &ConnectError{Message: errOldServer}
			s.connectErrorLocked(err)
			s.notifyLocked(err)
			return
		}
		s.onConnectLocked(reply.SID, reply.PID)
	case parser.Event, parser.BinaryEvent:
		s.onEventLocked(p)
	case parser.Ack, parser.BinaryAck:
		s.onAckLocked(p)
	case parser.Disconnect:
		s.active, s.connecting = false, false
		s.closeLocked(ReasonIOServerDisconnect, &DisconnectError{Reason: ReasonIOServerDisconnect}, false)
	case parser.ConnectError:
		s.active, s.connecting = false, false
		err := newClientConnectError(p.Data)
		s.connectErrorLocked(err)
		s.notifyLocked(err)
	}
}

// newClientConnectError decodes a CONNECT_ERROR payload: an object with a
// message and data, or a plain string.
func newClientConnectError(data json.RawMessage) *ConnectError {
	var body struct {
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	}
	ce := &ConnectError{}
	if json.Unmarshal(data, &body) == nil {
		ce.Message = body.Message
		if len(body.Data) > 0 {
			ce.Data = body.Data
		}
	} else {
		_ = json.Unmarshal(data, &ce.Message)
	}
	return ce
}

// connectErrorLocked queues the OnConnectError handlers.
func (s *ClientSocket) connectErrorLocked(err error) {
	s.lastConnErr = err
	fns := s.onConnErr
	s.m.dispatchLocked(func() {
		for _, fn := range fns {
			fn(err)
		}
	})
}

// onConnectLocked handles the server's CONNECT reply.
func (s *ClientSocket) onConnectLocked(sid, pid string) {
	m := s.m
	s.id = sid
	s.recovered = pid != "" && s.pid == pid
	s.pid = pid
	s.connected, s.connecting = true, false
	for _, ev := range s.receiveBuffer {
		s.emitEventLocked(ev.event, ev.args, ev.ack)
	}
	s.receiveBuffer = nil
	for _, op := range s.sendBuffer {
		m.sendLocked(op.frames, false)
		s.notifyOutgoingLocked(op)
	}
	s.sendBuffer = nil
	s.drainQueueLocked(true)
	fns := s.onConnect
	m.dispatchLocked(func() {
		for _, fn := range fns {
			fn()
		}
	})
	s.notifyLocked(nil)
}

// closeLocked marks the socket disconnected with reason, queues the
// OnDisconnect handlers if it was connected, fails the pending
// acknowledgements that can fail and wakes the Connect calls with waitErr
// (if not nil). final, when the Manager closes, fails everything pending.
func (s *ClientSocket) closeLocked(reason string, waitErr error, final bool) {
	s.connecting = false
	was := s.connected
	s.connected = false
	s.id = ""
	if was {
		fns := s.onDisconnect
		s.m.dispatchLocked(func() {
			for _, fn := range fns {
				fn(reason)
			}
		})
	}
	derr := &DisconnectError{Reason: reason}
	for id, a := range s.acks {
		if !final && (!a.withError || s.buffered(a.packet)) {
			continue
		}
		delete(s.acks, id)
		if a.timer != nil {
			a.timer.Stop()
		}
		a.fn(nil, derr)
	}
	if final {
		s.active = false
		s.sendBuffer, s.receiveBuffer = nil, nil
		for _, q := range s.queue {
			if q.done != nil {
				q.done(nil, derr)
			}
		}
		s.queue = nil
	}
	if waitErr != nil {
		s.notifyLocked(waitErr)
	}
}

func (s *ClientSocket) buffered(op *outPacket) bool {
	if op == nil {
		return false
	}
	for _, x := range s.sendBuffer {
		if x == op {
			return true
		}
	}
	return false
}

// onEventLocked delivers or buffers an EVENT from the server.
func (s *ClientSocket) onEventLocked(p *parser.Packet) {
	event, args, ack, ok := incomingEvent(p, s.ackFunc)
	if !ok {
		return
	}
	if !s.connected {
		// The reference server sends no event before its CONNECT reply:
		// beyond MaxQueuedEvents, such events are dropped.
		if len(s.receiveBuffer) < s.m.opts.MaxQueuedEvents {
			s.receiveBuffer = append(s.receiveBuffer, &inEvent{event, args, ack})
		}
		return
	}
	s.emitEventLocked(event, args, ack)
}

// emitEventLocked queues an event for its listeners and handlers and keeps
// its offset for connection state recovery.
func (s *ClientSocket) emitEventLocked(event string, args Args, ack Ack) {
	if s.pid != "" && len(args) > 0 {
		var off string
		if json.Unmarshal(args[len(args)-1].JSON, &off) == nil {
			s.lastOffset, s.hasOffset = off, true
		}
	}
	s.m.dispatchEventLocked(func() { s.handleEvent(event, args, ack) })
}

// handleEvent runs the OnAny listeners and the handlers of an event.
func (s *ClientSocket) handleEvent(event string, args Args, ack Ack) {
	s.m.mu.Lock()
	anyIn, hs := s.anyIn, s.handlers.get(event)
	s.m.mu.Unlock()
	for _, l := range anyIn {
		l.fn(event, args)
	}
	for _, h := range hs {
		if err := h.call(event, args, ack); err != nil {
			s.m.mu.Lock()
			fns := s.onError
			s.m.mu.Unlock()
			if ae := (*ArgumentError)(nil); len(fns) == 0 && errors.As(err, &ae) {
				slog.Warn("socketio: event argument does not decode; handler not called", append([]any{"nsp", s.nsp}, ae.logArgs()...)...)
			}
			for _, fn := range fns {
				fn(err)
			}
		}
	}
}

// ackFunc returns the Ack answering the server's packet id.
func (s *ClientSocket) ackFunc(id uint64) Ack {
	var sent atomic.Bool
	return func(args ...any) error {
		if sent.Swap(true) {
			return ErrAckAlreadySent
		}
		frames, err := adapter.EncodeArgsWith(s.m.opts.Parser, &parser.Packet{Type: parser.Ack, Namespace: s.nsp, ID: id, HasID: true}, args...)
		if err != nil {
			return err
		}
		s.m.mu.Lock()
		defer s.m.mu.Unlock()
		if !s.connected || !s.m.sendLocked(frames, false) {
			return &DisconnectError{Reason: ReasonTransportClose}
		}
		return nil
	}
}

// onAckLocked resolves an acknowledgement; unknown ids are ignored.
func (s *ClientSocket) onAckLocked(p *parser.Packet) {
	if !p.HasID {
		return
	}
	a := s.acks[p.ID]
	if a == nil {
		return
	}
	delete(s.acks, p.ID)
	if a.timer != nil {
		a.timer.Stop()
	}
	args, _, err := newArgs(p, 0)
	a.fn(args, err)
}

// notifyOutgoingLocked queues the OnAnyOutgoing listeners of a packet that
// was just sent with the socket's handlers: before the listeners of
// anything that arrives after it left, such as its reply, as in Node,
// where they run before the packet is written.
func (s *ClientSocket) notifyOutgoingLocked(op *outPacket) {
	if len(s.anyOut) == 0 {
		return
	}
	ls := s.anyOut
	s.m.dispatchLocked(func() {
		for _, l := range ls {
			l.fn(op.event, op.args)
		}
	})
}

package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/parser"
)

// A Socket is one client's connection to one namespace.
//
// Register handlers with On and the other On* methods from the namespace's
// connection handler. The connection, event and disconnect handlers of one
// socket run one at a time, in the order its packets arrived, never under
// the server's locks; the sockets of one client in other namespaces do not
// wait for them. All methods are safe for concurrent use.
type Socket struct {
	nsp       *Namespace
	conn      *conn
	eio       *engineio.Session // conn.eio, one pointer less for a broadcast to follow
	id        string
	pid       string // private session id, with connection state recovery
	recovered bool
	listed    int // index in nsp.listed, or -1; under nsp.mu
	handshake *Handshake
	queue     taskQueue // runs the socket's handlers

	mu sync.Mutex
	// connected is false once the socket disconnected or was refused;
	// admitted is true once its middlewares let it in. Connected needs
	// both: a middleware sees a socket that is not connected yet, as in
	// Node.
	connected    bool
	admitted     bool
	closeErr     error // why the socket disconnected (or was refused)
	data         any
	handlers     eventTable
	onDisconnect []func(reason string)
	more         *socketExtras // nil until one is set: see extrasLocked
	acks         map[uint64]*pendingAck
}

// socketExtras is what few sockets use, apart: an idle socket with event
// and disconnect handlers only keeps none of it.
type socketExtras struct {
	ctx             context.Context
	cancel          context.CancelCauseFunc
	anyIn           []*anyListener
	anyOut          []*outListener
	middlewares     []func(event string, args Args) error
	onDisconnecting []func(reason string)
	onError         []func(err error)
}

// noExtras is the socketExtras of a socket that has none, to read from.
var noExtras socketExtras

// extrasLocked returns the socket's extras, made on first use, to modify.
// The caller holds s.mu.
func (s *Socket) extrasLocked() *socketExtras {
	if s.more == nil {
		s.more = new(socketExtras)
	}
	return s.more
}

// viewLocked returns the socket's extras to read: noExtras when it has
// none. The caller holds s.mu.
func (s *Socket) viewLocked() *socketExtras {
	if s.more == nil {
		return &noExtras
	}
	return s.more
}

type anyListener struct {
	fn func(event string, args Args)
}

type outListener struct {
	fn func(event string, args []any)
}

// pendingAck waits for a client's acknowledgement.
type pendingAck struct {
	fn    func(args Args, err error)
	timer *time.Timer
}

func newSocket(nsp *Namespace, c *conn, auth json.RawMessage, session *adapter.Session) *Socket {
	s := &Socket{
		nsp:       nsp,
		conn:      c,
		eio:       c.eio,
		id:        engineio.NewID(),
		listed:    -1,
		handshake: newHandshake(c.eio.Request(), auth),
		connected: true,
	}
	switch {
	case session != nil:
		s.id, s.pid, s.data, s.recovered = session.SID, session.PID, session.Data, true
	case c.eio3:
		s.id = socketIDV3(nsp.name, c.eio.ID()) // and no recovery
	case nsp.srv.opts.ConnectionStateRecovery != nil:
		s.pid = engineio.NewID()
	}
	s.queue.srv, s.queue.sid = nsp.srv, s.id
	s.queue.hold() // until the CONNECT is answered and the connection handlers run
	return s
}

// Context returns a context that is cancelled when the socket disconnects,
// with a *DisconnectError as its cause (context.Cause), or with the
// middleware's error when the connection is refused. A long handler can
// stop with it, or pass it to blocking calls such as EmitWithAck.
func (s *Socket) Context() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	x := s.extrasLocked()
	if x.ctx == nil {
		// Made on first use: most sockets never need one.
		x.ctx, x.cancel = context.WithCancelCause(context.Background())
		if s.closeErr != nil {
			x.cancel(s.closeErr)
		}
	}
	return x.ctx
}

// closeLocked marks the socket disconnected for err and cancels its
// Context. It reports whether the socket was connected.
func (s *Socket) closeLocked(err error) bool {
	if !s.connected {
		return false
	}
	s.connected = false
	s.closeErr = err
	if x := s.more; x != nil && x.cancel != nil {
		x.cancel(err)
	}
	return true
}

// refused ends a socket that a connection middleware refused, with err.
func (s *Socket) refused(err error) {
	s.mu.Lock()
	s.closeLocked(err)
	s.mu.Unlock()
}

// Recovered reports whether the socket's session was restored by
// connection state recovery: same id, rooms and data as before its client
// lost its connection, and the missed packets delivered.
func (s *Socket) Recovered() bool { return s.recovered }

// ID returns the socket id: 20 characters, also the name of its own room.
func (s *Socket) ID() string { return s.id }

// Namespace returns the socket's namespace.
func (s *Socket) Namespace() *Namespace { return s.nsp }

// Handshake returns the socket's handshake details. The caller must not
// modify them.
func (s *Socket) Handshake() *Handshake { return s.handshake }

// Conn returns the Engine.IO session the socket rides on.
func (s *Socket) Conn() *engineio.Session { return s.conn.eio }

// Connected reports whether the socket is connected: false inside its
// connection middlewares, which run before it is (Node's socket.connected
// is false there too), and once it disconnected.
func (s *Socket) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connected && s.admitted
}

// admit marks the socket let in by its middlewares.
func (s *Socket) admit() {
	s.mu.Lock()
	s.admitted = true
	s.mu.Unlock()
}

// Data returns the value stored with SetData.
func (s *Socket) Data() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data
}

// SetData stores an application value with the socket. It should encode
// to JSON: FetchSockets and connection state recovery carry it that way.
func (s *Socket) SetData(v any) {
	s.mu.Lock()
	s.data = v
	s.mu.Unlock()
}

// On registers a handler for event. fn is a func whose parameters are
// decoded from the event's arguments in order, with parser.Unmarshal
// (binary arguments decode into []byte); missing arguments leave zero
// values. It may end with a variadic parameter (...any, ...T) for the rest,
// or with an Args parameter for the rest as received, and finally with an
// Ack parameter to answer the client's acknowledgement request. It may
// return an error, which goes to the OnError handlers. An argument that
// does not decode into its parameter (a string for a struct, 1.5 for an
// int) is never dropped silently: the handler is not called, and an
// *ArgumentError naming the event, index and type goes to the OnError
// handlers, or is logged at warn level when there are none. func(Args)
// and func(Args, Ack) are called without reflection.
//
// On panics when fn has another shape or event is reserved.
func (s *Socket) On(event string, fn any) {
	if parser.IsReserved(event) {
		panic(fmt.Sprintf("socketio: %q is a reserved event name; use OnDisconnect, OnDisconnecting or OnError", event))
	}
	h := newHandler(fn)
	s.mu.Lock()
	s.handlers.add(event, h)
	s.mu.Unlock()
}

// Off removes every handler of event.
func (s *Socket) Off(event string) {
	s.mu.Lock()
	s.handlers.remove(event)
	s.mu.Unlock()
}

// OnAny adds a listener called with every incoming event, before the
// event's handlers. It returns a function that removes the listener (Go
// funcs are not comparable: Node's offAny(fn)); OffAny removes them all.
func (s *Socket) OnAny(fn func(event string, args Args)) (remove func()) {
	l := &anyListener{fn: fn}
	s.mu.Lock()
	x := s.extrasLocked()
	x.anyIn = append(x.anyIn, l)
	s.mu.Unlock()
	return func() { s.removeAny(&x.anyIn, l) }
}

// PrependAny adds a listener like OnAny, called before the others.
func (s *Socket) PrependAny(fn func(event string, args Args)) (remove func()) {
	l := &anyListener{fn: fn}
	s.mu.Lock()
	x := s.extrasLocked()
	x.anyIn = append([]*anyListener{l}, x.anyIn...)
	s.mu.Unlock()
	return func() { s.removeAny(&x.anyIn, l) }
}

// OffAny removes every listener added with OnAny or PrependAny.
func (s *Socket) OffAny() {
	s.mu.Lock()
	if s.more != nil {
		s.more.anyIn = nil
	}
	s.mu.Unlock()
}

// OnAnyOutgoing adds a listener called with every event the socket emits
// to its client (not broadcasts), before it is sent. It returns a function
// that removes the listener.
func (s *Socket) OnAnyOutgoing(fn func(event string, args []any)) (remove func()) {
	l := &outListener{fn: fn}
	s.mu.Lock()
	x := s.extrasLocked()
	x.anyOut = append(x.anyOut, l)
	s.mu.Unlock()
	return func() { removeListener(s, &x.anyOut, l) }
}

// PrependAnyOutgoing adds a listener like OnAnyOutgoing, called before
// the others.
func (s *Socket) PrependAnyOutgoing(fn func(event string, args []any)) (remove func()) {
	l := &outListener{fn: fn}
	s.mu.Lock()
	x := s.extrasLocked()
	x.anyOut = append([]*outListener{l}, x.anyOut...)
	s.mu.Unlock()
	return func() { removeListener(s, &x.anyOut, l) }
}

// OffAnyOutgoing removes every listener added with OnAnyOutgoing or
// PrependAnyOutgoing.
func (s *Socket) OffAnyOutgoing() {
	s.mu.Lock()
	if s.more != nil {
		s.more.anyOut = nil
	}
	s.mu.Unlock()
}

func (s *Socket) removeAny(list *[]*anyListener, l *anyListener) { removeListener(s, list, l) }

// removeListener removes l from *list under s.mu.
func removeListener[T comparable](s *Socket, list *[]T, l T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, x := range *list {
		if x == l {
			*list = append((*list)[:i:i], (*list)[i+1:]...)
			return
		}
	}
}

// Use adds a packet middleware, called with each incoming event before
// the OnAny listeners and handlers. A non-nil error drops the event and
// goes to the OnError handlers.
func (s *Socket) Use(mw func(event string, args Args) error) {
	s.mu.Lock()
	x := s.extrasLocked()
	x.middlewares = append(x.middlewares, mw)
	s.mu.Unlock()
}

// OnDisconnecting adds a handler called when the socket is disconnecting,
// while Rooms still reports its rooms.
func (s *Socket) OnDisconnecting(fn func(reason string)) {
	s.mu.Lock()
	x := s.extrasLocked()
	x.onDisconnecting = append(x.onDisconnecting, fn)
	s.mu.Unlock()
}

// OnDisconnect adds a handler called once the socket has disconnected,
// with one of the Reason constants.
func (s *Socket) OnDisconnect(fn func(reason string)) {
	s.mu.Lock()
	s.onDisconnect = append(s.onDisconnect, fn)
	s.mu.Unlock()
}

// OnError adds a handler for errors of packet middlewares and handlers,
// and for arguments that do not decode for a handler (*ArgumentError).
func (s *Socket) OnError(fn func(err error)) {
	s.mu.Lock()
	x := s.extrasLocked()
	x.onError = append(x.onError, fn)
	s.mu.Unlock()
}

// Join adds the socket to rooms.
func (s *Socket) Join(rooms ...string) { s.nsp.adapter.AddAll(s.id, rooms) }

// Leave removes the socket from rooms.
func (s *Socket) Leave(rooms ...string) {
	for _, r := range rooms {
		s.nsp.adapter.Del(s.id, r)
	}
}

// Rooms returns the rooms the socket is in, its own id included.
func (s *Socket) Rooms() []string { return s.nsp.adapter.SocketRooms(s.id) }

func (s *Socket) op() EmitOperator { return EmitOperator{s: s, compress: true} }

// Volatile returns an operator whose events the client misses if its
// connection cannot take them right away.
func (s *Socket) Volatile() EmitOperator { return s.op().Volatile() }

// Compress returns an operator with the compress flag set to c, kept for
// parity with Node: the WebSocket transport compresses by size (see
// engineio.Options).
func (s *Socket) Compress(c bool) EmitOperator { return s.op().Compress(c) }

// Timeout returns an operator whose acknowledgements fail with
// ErrAckTimeout after d; without it they wait until the socket
// disconnects (or EmitWithAck's ctx is done).
func (s *Socket) Timeout(d time.Duration) EmitOperator { return s.op().Timeout(d) }

// Emit sends an event to the client. Arguments are encoded as
// parser.MarshalArgs does: []byte values travel as binary attachments.
func (s *Socket) Emit(event string, args ...any) error { return s.op().Emit(event, args...) }

// EmitWithAck sends an event and waits for the client's acknowledgement,
// until ctx is done (then it returns ctx's error) or the socket
// disconnects (a *DisconnectError). Inside a handler it holds back the
// socket's later events while it waits; EmitWithAckFunc does not.
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	return s.op().EmitWithAck(ctx, event, args...)
}

// EmitWithAckFunc sends an event asking the client for an acknowledgement
// and returns at once, as socket.emit(event, ...args, callback) does in
// Node: fn runs in the socket's handler queue with the answer, or with an
// error; see EmitOperator.EmitWithAckFunc.
func (s *Socket) EmitWithAckFunc(event string, fn func(args Args, err error), args ...any) error {
	return s.op().EmitWithAckFunc(event, fn, args...)
}

// emitEvent implements emitTarget.
func (s *Socket) emitEvent(o EmitOperator, event string, args []any, done func(Args, error)) (abandon func(), err error) {
	if done == nil {
		return nil, s.emit(event, args, o.volatile, false, 0)
	}
	var timeout time.Duration // 0: none, as on the client
	if o.hasTimeout {
		timeout = o.timeout
	}
	id := s.nsp.nextAckID()
	if err := s.registerAck(id, timeout, done); err != nil {
		return nil, err
	}
	if err := s.emit(event, args, o.volatile, true, id); err != nil {
		s.dropAck(id)
		return nil, err
	}
	return func() { s.dropAck(id) }, nil
}

// inOrder implements emitTarget: fn runs in the socket's task queue.
func (s *Socket) inOrder(fn func(Args, error)) func(Args, error) {
	return func(a Args, err error) { s.queue.push(funcTask(func() { fn(a, err) })) }
}

// emit encodes and sends one EVENT.
func (s *Socket) emit(event string, args []any, volatile, withAck bool, id uint64) error {
	if parser.IsReserved(event) {
		return fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	s.mu.Lock()
	outL := s.viewLocked().anyOut
	s.mu.Unlock()
	for _, l := range outL {
		l.fn(event, args)
	}
	p, err := eventPacket(s.nsp.name, event, args)
	if err != nil {
		return err
	}
	if withAck {
		p.ID, p.HasID = id, true
	}
	if s.pid != "" {
		// With recovery, the adapter gives the packet its offset and logs it.
		return s.nsp.adapter.Broadcast(context.Background(), p, &adapter.BroadcastOptions{
			Rooms: []string{s.id},
			Flags: adapter.BroadcastFlags{Volatile: volatile},
		})
	}
	return s.conn.sendPacket(p, volatile)
}

// eventPacket builds an EVENT packet.
func eventPacket(nsp, event string, args []any) (*parser.Packet, error) {
	all := make([]any, 0, 1+len(args))
	all = append(all, event)
	all = append(all, args...)
	data, atts, err := parser.MarshalArgs(nil, all...)
	if err != nil {
		return nil, err
	}
	return &parser.Packet{Type: parser.Event, Namespace: nsp, Data: data, Attachments: atts}, nil
}

// To returns a broadcast operator for rooms that excludes this socket.
func (s *Socket) To(rooms ...string) BroadcastOperator { return s.Broadcast().To(rooms...) }

// In is the same as To.
func (s *Socket) In(rooms ...string) BroadcastOperator { return s.To(rooms...) }

// Except returns a broadcast operator excluding rooms and this socket.
func (s *Socket) Except(rooms ...string) BroadcastOperator { return s.Broadcast().Except(rooms...) }

// Broadcast returns a broadcast operator for every socket of the namespace
// but this one.
func (s *Socket) Broadcast() BroadcastOperator {
	return BroadcastOperator{nsp: s.nsp, except: []string{s.id}}
}

// Local returns a broadcast operator for every socket of the namespace on
// this server but this one (Node's socket.local): a shim for
// Broadcast().Local().
func (s *Socket) Local() BroadcastOperator { return s.Broadcast().Local() }

// Disconnect disconnects the socket from its namespace with
// ReasonServerNamespaceDisconnect, telling the client. With close, it
// disconnects every socket of the client and closes the connection. On a
// socket that is not connected it does nothing, as in Node: inside a
// connection middleware, refuse the connection by returning an error.
func (s *Socket) Disconnect(close bool) {
	if !s.Connected() {
		return
	}
	if close {
		s.conn.mu.Lock()
		socks := s.conn.sockets.all()
		s.conn.mu.Unlock()
		for _, x := range socks {
			x.Disconnect(false)
		}
		s.conn.eio.Close()
		return
	}
	_ = s.conn.sendPacket(&parser.Packet{Type: parser.Disconnect, Namespace: s.nsp.name}, false)
	s.onClose(ReasonServerNamespaceDisconnect, false)
}

// registerAck records a pending acknowledgement.
func (s *Socket) registerAck(id uint64, timeout time.Duration, fn func(Args, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.connected {
		return &DisconnectError{Reason: ReasonServerNamespaceDisconnect}
	}
	pa := &pendingAck{fn: fn}
	if s.acks == nil {
		s.acks = make(map[uint64]*pendingAck, 1)
	}
	if timeout > 0 {
		pa.timer = time.AfterFunc(timeout, func() {
			if s.takeAck(id) != nil {
				fn(nil, ErrAckTimeout)
			}
		})
	}
	s.acks[id] = pa
	return nil
}

func (s *Socket) takeAck(id uint64) *pendingAck {
	s.mu.Lock()
	defer s.mu.Unlock()
	pa := s.acks[id]
	delete(s.acks, id)
	return pa
}

func (s *Socket) dropAck(id uint64) {
	if pa := s.takeAck(id); pa != nil && pa.timer != nil {
		pa.timer.Stop()
	}
}

// onAck resolves an acknowledgement from the client; unknown ids are ignored.
func (s *Socket) onAck(p *parser.Packet) {
	if !p.HasID {
		return
	}
	pa := s.takeAck(p.ID)
	if pa == nil {
		return
	}
	if pa.timer != nil && !pa.timer.Stop() {
		return // the timeout fired first
	}
	args, _, err := newArgs(p, 0)
	pa.fn(args, err)
}

// onEvent queues an incoming event for its handlers.
func (s *Socket) onEvent(p *parser.Packet) {
	args, name, err := newArgs(p, 1)
	if err != nil || name == nil {
		return
	}
	s.queue.push(&eventTask{s: s, event: eventName(name), args: args, id: p.ID, hasID: p.HasID})
}

// An eventTask runs the handlers of one incoming event; it is also the
// state of the event's Ack (the Ack is a method value of it), so that the
// queue entry, the handler arguments' carrier and the Ack's state are one
// allocation.
type eventTask struct {
	s     *Socket
	event string
	args  Args
	id    uint64
	hasID bool
	sent  atomic.Bool
}

func (t *eventTask) run() {
	ack := noAck
	if t.hasID {
		ack = t.ack
	}
	t.s.handleEvent(t.event, t.args, ack)
}

// noAck is the Ack of an event the client asked no acknowledgement for.
func noAck(...any) error { return ErrNoAck }

// ack answers the client's packet id; it is the event's Ack.
func (t *eventTask) ack(args ...any) error {
	if t.sent.Swap(true) {
		return ErrAckAlreadySent
	}
	s := t.s
	if !s.Connected() {
		return &DisconnectError{Reason: ReasonTransportClose}
	}
	frames, err := adapter.EncodeArgsWith(s.conn.srv.opts.Parser, &parser.Packet{Type: parser.Ack, Namespace: s.nsp.name, ID: t.id, HasID: true}, args...)
	if err != nil {
		return err
	}
	return s.conn.send(frames, false)
}

// handleEvent runs middlewares, OnAny listeners and handlers for an event.
func (s *Socket) handleEvent(event string, args Args, ack Ack) {
	s.mu.Lock()
	if !s.connected {
		s.mu.Unlock()
		return
	}
	x := s.viewLocked()
	mws, anyIn, hs := x.middlewares, x.anyIn, s.handlers.get(event)
	s.mu.Unlock()
	for _, mw := range mws {
		if err := mw(event, args); err != nil {
			s.reportError(err)
			return
		}
	}
	for _, l := range anyIn {
		l.fn(event, args)
	}
	for _, h := range hs {
		if err := h.call(event, args, ack); err != nil {
			s.reportError(err)
		}
	}
}

func (s *Socket) reportError(err error) {
	s.mu.Lock()
	fns := s.viewLocked().onError
	s.mu.Unlock()
	if len(fns) == 0 {
		log := s.nsp.srv.opts.Logger
		if ae := (*ArgumentError)(nil); errors.As(err, &ae) {
			log.Warn("socketio: event argument does not decode; handler not called", append([]any{"nsp", s.nsp.name, "socket", s.id}, ae.logArgs()...)...)
		} else {
			log.Debug("socketio: event error", "socket", s.id, "err", err)
		}
	}
	for _, fn := range fns {
		fn(err)
	}
}

// onClose disconnects the socket: its Context is cancelled, pending
// acknowledgements fail, the socket leaves its namespace, and the
// disconnect handlers run in its task queue (between disconnecting and
// disconnect, the rooms are left and, when recoverable, the session is
// kept for connection state recovery).
func (s *Socket) onClose(reason string, _ bool) {
	derr := &DisconnectError{Reason: reason}
	s.mu.Lock()
	if !s.closeLocked(derr) {
		s.mu.Unlock()
		return
	}
	acks := s.acks
	s.acks = nil
	s.mu.Unlock()

	for _, pa := range acks {
		if pa.timer != nil && !pa.timer.Stop() {
			continue
		}
		pa.fn(nil, derr)
	}
	persist := s.pid != "" && recoverable(reason)
	s.nsp.remove(s)
	s.conn.removeSocket(s)
	s.queue.push(funcTask(func() {
		s.mu.Lock()
		before, after := s.viewLocked().onDisconnecting, s.onDisconnect
		s.mu.Unlock()
		for _, fn := range before {
			fn(reason)
		}
		var session *adapter.Session
		if persist {
			session = &adapter.Session{SID: s.id, PID: s.pid, Rooms: s.Rooms(), Data: s.Data()}
		}
		s.nsp.adapter.DelAll(s.id)
		if session != nil {
			// Persisted once the socket has left its rooms: a client
			// that recovers the session gets the socket's id again, and
			// the rooms it rejoins must not be the ones left here.
			_ = s.nsp.adapter.PersistSession(context.Background(), session)
		}
		for _, fn := range after {
			fn(reason)
		}
	}))
}

// recoverable reports whether a socket disconnected for reason keeps its
// session for connection state recovery.
func recoverable(reason string) bool {
	switch reason {
	case ReasonTransportError, ReasonTransportClose, ReasonForcedClose, ReasonPingTimeout,
		ReasonServerShuttingDown, ReasonForcedServerClose:
		return true
	}
	return false
}

package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/parser"
)

// Middleware runs when a socket connects to a namespace, before the
// connection handlers. A non-nil error refuses the connection: the client
// gets a connect_error with the error's message (and a *ConnectError's
// Data), and the socket leaves the rooms a middleware joined. A panic is
// logged and refuses the connection with the message "server error".
// Middlewares run in the order they were added, one connection at a time
// per client, and may block.
type Middleware func(s *Socket) error

// A Namespace is a communication channel that splits the logic of an
// application over a single shared connection. Its sockets, rooms and
// broadcasts go through its adapter.
type Namespace struct {
	srv     *Server
	name    string
	parent  *ParentNamespace
	adapter adapter.Adapter
	ids     atomic.Uint64 // ack ids of packets emitted with an ack
	initErr error         // from the adapter's Init
	sse     taskQueue     // server-side emits from other servers, in order
	ready   chan struct{} // closed when the OnNewNamespace hooks returned

	mu      sync.RWMutex
	sockets map[string]*Socket
	// listed are the connected sockets a broadcast to all reaches (see
	// DeliverAll), each at its Socket.listed index: a socket is listed
	// once it joined its own room and its CONNECT is queued, until it
	// is removed.
	listed      []*Socket
	bcast       *engineio.Group // the engine sessions of listed, for a broadcast to all
	bufs        sync.Pool       // *[]*Socket, copies of listed for DeliverAll
	middlewares []Middleware
	onConn      []func(*Socket)
	serverSide  map[string][]*handler
}

func newNamespace(ctx context.Context, srv *Server, name string, parent *ParentNamespace) *Namespace {
	n := &Namespace{
		srv:        srv,
		name:       name,
		parent:     parent,
		sockets:    make(map[string]*Socket),
		serverSide: make(map[string][]*handler),
		ready:      make(chan struct{}),
		bcast:      srv.eio.NewGroup(),
	}
	n.sse.srv = srv
	n.adapter = srv.opts.Adapter((*nspView)(n))
	ctx, cancel := context.WithTimeout(ctx, srv.opts.AdapterInitTimeout)
	defer cancel()
	if err := n.adapter.Init(ctx); err != nil {
		n.initErr = err
		srv.opts.Logger.Error("socketio: adapter init failed", "nsp", name, "err", err)
	}
	return n
}

// announce calls the Server's OnNewNamespace hooks with the new namespace,
// outside every lock, then lets sockets connect to it.
func (n *Namespace) announce(hooks []func(*Namespace)) {
	defer close(n.ready)
	for _, fn := range hooks {
		fn(n)
	}
}

// nextAckID returns a fresh acknowledgement id.
func (n *Namespace) nextAckID() uint64 { return n.ids.Add(1) - 1 }

// Name returns the namespace's name, such as "/" or "/admin".
func (n *Namespace) Name() string { return n.name }

// Adapter returns the namespace's adapter.
func (n *Namespace) Adapter() adapter.Adapter { return n.adapter }

// Server returns the server the namespace belongs to.
func (n *Namespace) Server() *Server { return n.srv }

// Use adds a connection middleware.
func (n *Namespace) Use(mw Middleware) {
	n.mu.Lock()
	n.middlewares = append(n.middlewares, mw)
	n.mu.Unlock()
}

// OnConnection adds a handler called with each socket that connected,
// after the client got its CONNECT reply. Register the socket's event
// handlers there.
func (n *Namespace) OnConnection(fn func(*Socket)) {
	n.mu.Lock()
	n.onConn = append(n.onConn, fn)
	n.mu.Unlock()
}

// OnServerSideEmit registers a handler for events other servers of the
// cluster send with ServerSideEmit. The handler is called as a socket
// event handler is (see Socket.On); a final Ack parameter answers a
// ServerSideEmitWithAck.
func (n *Namespace) OnServerSideEmit(event string, fn any) {
	h := newHandler(fn)
	n.mu.Lock()
	n.serverSide[event] = append(n.serverSide[event], h)
	n.mu.Unlock()
}

func (n *Namespace) runServerSideEmit(event string, args []parser.Value, ack func(arg any)) {
	n.mu.RLock()
	hs := n.serverSide[event]
	n.mu.RUnlock()
	var a Ack = func(...any) error { return ErrNoAck }
	if ack != nil {
		var sent atomic.Bool
		a = func(vals ...any) error {
			if sent.Swap(true) {
				return ErrAckAlreadySent
			}
			var first any
			if len(vals) > 0 {
				first = vals[0]
			}
			ack(first)
			return nil
		}
	}
	for _, h := range hs {
		if err := h.call(event, Args(args), a); err != nil {
			if ae := (*ArgumentError)(nil); errors.As(err, &ae) {
				n.srv.opts.Logger.Warn("socketio: server-side event argument does not decode; handler not called", append([]any{"nsp", n.name}, ae.logArgs()...)...)
				continue
			}
			n.srv.opts.Logger.Debug("socketio: server-side event handler", "nsp", n.name, "event", event, "err", err)
		}
	}
}

// LocalSocket returns the socket of this server with the given id, or nil.
func (n *Namespace) LocalSocket(id string) *Socket {
	n.mu.RLock()
	s := n.sockets[id]
	n.mu.RUnlock()
	return s
}

// SocketCount returns the number of sockets connected on this server.
func (n *Namespace) SocketCount() int {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return len(n.sockets)
}

// LocalSockets returns the sockets connected on this server.
func (n *Namespace) LocalSockets() []*Socket {
	n.mu.RLock()
	defer n.mu.RUnlock()
	out := make([]*Socket, 0, len(n.sockets))
	for _, s := range n.sockets {
		out = append(out, s)
	}
	return out
}

// handlers returns the middlewares and connection handlers to run.
func (n *Namespace) handlers() ([]Middleware, []func(*Socket)) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.middlewares, n.onConn
}

// add registers a socket that passed the middlewares.
func (n *Namespace) add(s *Socket) {
	n.mu.Lock()
	n.sockets[s.id] = s
	n.mu.Unlock()
}

// connectAndList queues frames (the CONNECT of s) and adds s to the sockets a
// broadcast to all reaches, unless it was removed meanwhile, in one step
// under n.mu: a broadcast to all either copied the list before (and was
// sent before the socket existed for its client) or comes after the
// CONNECT. A client that read its CONNECT is thus reached by every
// broadcast sent since, and by none ahead of it. SendAllHeld never calls
// back into the namespace (a slow client is cut by a later send), so the
// session's OnClose cannot run here under n.mu.
func (n *Namespace) connectAndList(s *Socket, frames []*engineio.Message) {
	n.mu.Lock()
	if n.sockets[s.id] == s && s.listed < 0 {
		// The group's broadcasts (see DeliverAll) are ordered with the
		// CONNECT as the list's are under n.mu.
		_ = n.bcast.SendAllAndAdd(s.eio, frames)
		s.listed = len(n.listed)
		n.listed = append(n.listed, s)
	} else {
		_ = s.eio.SendAllHeld(frames)
	}
	n.mu.Unlock()
}

// remove forgets a disconnected socket.
func (n *Namespace) remove(s *Socket) {
	n.mu.Lock()
	if n.sockets[s.id] == s {
		delete(n.sockets, s.id)
	}
	if i := s.listed; i >= 0 {
		last := len(n.listed) - 1
		n.listed[i] = n.listed[last]
		n.listed[i].listed = i
		n.listed[last] = nil
		n.listed = n.listed[:last]
		s.listed = -1
		n.bcast.Remove(s.eio)
		if cap(n.listed) > 64 && len(n.listed) < cap(n.listed)/4 {
			// Give back the room of a crowd that left.
			n.listed = append(make([]*Socket, 0, 2*len(n.listed)), n.listed...)
		}
	}
	empty := len(n.sockets) == 0
	n.mu.Unlock()
	if empty && n.parent != nil && n.srv.opts.CleanupEmptyChildNamespaces {
		n.parent.removeChild(n)
	}
}

func (n *Namespace) operator() BroadcastOperator { return BroadcastOperator{nsp: n} }

// To selects the sockets in rooms for a broadcast.
func (n *Namespace) To(rooms ...string) BroadcastOperator { return n.operator().To(rooms...) }

// In is the same as To.
func (n *Namespace) In(rooms ...string) BroadcastOperator { return n.operator().To(rooms...) }

// Except excludes the sockets in rooms from a broadcast.
func (n *Namespace) Except(rooms ...string) BroadcastOperator { return n.operator().Except(rooms...) }

// Local restricts a broadcast to this server.
func (n *Namespace) Local() BroadcastOperator { return n.operator().Local() }

// Volatile marks a broadcast as volatile: clients that cannot take it
// right away miss it.
func (n *Namespace) Volatile() BroadcastOperator { return n.operator().Volatile() }

// Compress sets the compress flag of a broadcast.
func (n *Namespace) Compress(compress bool) BroadcastOperator {
	return n.operator().Compress(compress)
}

// Emit emits an event to every socket of the namespace.
func (n *Namespace) Emit(event string, args ...any) error { return n.operator().Emit(event, args...) }

// A ParentNamespace creates child namespaces on demand for clients that
// connect to names it matches (see Server.OfFunc). Middlewares and
// connection handlers added to it are copied into each child when the
// child is created.
type ParentNamespace struct {
	srv   *Server
	match func(name string, auth json.RawMessage) bool
	re    *regexp.Regexp // OfRegexp's, which Of asks too

	mu          sync.Mutex
	children    map[string]*Namespace
	middlewares []Middleware
	onConn      []func(*Socket)
}

// Use adds a connection middleware for children created from now on.
func (p *ParentNamespace) Use(mw Middleware) {
	p.mu.Lock()
	p.middlewares = append(p.middlewares, mw)
	p.mu.Unlock()
}

// OnConnection adds a connection handler for children created from now on.
func (p *ParentNamespace) OnConnection(fn func(*Socket)) {
	p.mu.Lock()
	p.onConn = append(p.onConn, fn)
	p.mu.Unlock()
}

// Emit emits an event to every socket of every child namespace.
func (p *ParentNamespace) Emit(event string, args ...any) error {
	return p.operator().Emit(event, args...)
}

func (p *ParentNamespace) operator() ParentBroadcastOperator { return ParentBroadcastOperator{p: p} }

// To selects the sockets in rooms of every child namespace for a broadcast.
func (p *ParentNamespace) To(rooms ...string) ParentBroadcastOperator {
	return p.operator().To(rooms...)
}

// In is the same as To.
func (p *ParentNamespace) In(rooms ...string) ParentBroadcastOperator {
	return p.operator().To(rooms...)
}

// Except excludes the sockets in rooms from a broadcast to the children.
func (p *ParentNamespace) Except(rooms ...string) ParentBroadcastOperator {
	return p.operator().Except(rooms...)
}

// Local restricts a broadcast to the children to this server.
func (p *ParentNamespace) Local() ParentBroadcastOperator { return p.operator().Local() }

// Volatile marks a broadcast to the children as volatile.
func (p *ParentNamespace) Volatile() ParentBroadcastOperator { return p.operator().Volatile() }

// Compress sets the compress flag of a broadcast to the children.
func (p *ParentNamespace) Compress(compress bool) ParentBroadcastOperator {
	return p.operator().Compress(compress)
}

// A ParentBroadcastOperator selects the sockets of every child namespace
// of a ParentNamespace an event goes to, each child applying the same
// rooms and flags, as a BroadcastOperator does for one namespace. As in
// Node, it only emits: a parent namespace has no acknowledgements,
// FetchSockets, SocketsJoin, SocketsLeave or DisconnectSockets (a child
// exists only on the servers its clients reached); use those of each of
// Children.
type ParentBroadcastOperator struct {
	p  *ParentNamespace
	op BroadcastOperator // rooms and flags, without a namespace
}

// To adds rooms to the selection: sockets in any of the rooms receive.
func (o ParentBroadcastOperator) To(rooms ...string) ParentBroadcastOperator {
	o.op = o.op.To(rooms...)
	return o
}

// In is the same as To.
func (o ParentBroadcastOperator) In(rooms ...string) ParentBroadcastOperator { return o.To(rooms...) }

// Except excludes the sockets in any of rooms.
func (o ParentBroadcastOperator) Except(rooms ...string) ParentBroadcastOperator {
	o.op = o.op.Except(rooms...)
	return o
}

// Local restricts the broadcast to this server.
func (o ParentBroadcastOperator) Local() ParentBroadcastOperator {
	o.op = o.op.Local()
	return o
}

// Volatile lets clients that cannot take the packet right away miss it.
func (o ParentBroadcastOperator) Volatile() ParentBroadcastOperator {
	o.op = o.op.Volatile()
	return o
}

// Compress sets the compress flag; see BroadcastOperator.Compress.
func (o ParentBroadcastOperator) Compress(compress bool) ParentBroadcastOperator {
	o.op = o.op.Compress(compress)
	return o
}

// Emit sends an event to the selected sockets of every child namespace
// created so far. It returns the errors of the children it could not
// reach, after trying them all.
func (o ParentBroadcastOperator) Emit(event string, args ...any) error {
	if parser.IsReserved(event) {
		return fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	var errs []error
	for _, c := range o.p.Children() {
		b := o.op
		b.nsp = c
		if err := b.Emit(event, args...); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Children returns the child namespaces created so far.
func (p *ParentNamespace) Children() []*Namespace {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*Namespace, 0, len(p.children))
	for _, c := range p.children {
		out = append(out, c)
	}
	return out
}

// child returns the child namespace called name, creating it.
func (p *ParentNamespace) child(name string) *Namespace {
	srv := p.srv
	srv.mu.Lock()
	if n := srv.nsps[name]; n != nil {
		srv.mu.Unlock()
		return n
	}
	n := newNamespace(context.Background(), srv, name, p)
	p.mu.Lock()
	n.middlewares = slices.Clone(p.middlewares)
	n.onConn = slices.Clone(p.onConn)
	p.children[name] = n
	p.mu.Unlock()
	srv.nsps[name] = n
	hooks := srv.onNewNsp
	srv.mu.Unlock()
	n.announce(hooks)
	return n
}

func (p *ParentNamespace) removeChild(n *Namespace) {
	p.mu.Lock()
	if p.children[n.name] == n {
		delete(p.children, n.name)
	}
	p.mu.Unlock()
	p.srv.removeNamespace(n)
	_ = n.adapter.Close()
}

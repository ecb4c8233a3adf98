package socketio

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/parser"
)

// RemoteSocket is a socket returned by FetchSockets: on this server or on
// another server of the cluster. Its methods act through the adapter, so
// they work wherever the socket is.
type RemoteSocket struct {
	ID        string
	Handshake *Handshake
	Rooms     []string
	// Data is the socket's Data: the value itself for a local socket, its
	// decoded JSON (as parser.Unmarshal into any gives) for a remote one.
	Data any

	nsp   *Namespace
	local *Socket
}

// Local returns the socket when it is connected to this server, or nil.
func (r *RemoteSocket) Local() *Socket { return r.local }

func (r *RemoteSocket) op() BroadcastOperator { return r.nsp.operator().To(r.ID) }

// Emit sends an event to the socket.
func (r *RemoteSocket) Emit(event string, args ...any) error { return r.op().Emit(event, args...) }

// EmitWithAck sends an event and waits for the socket's acknowledgement
// until ctx is done. A local socket's acknowledgement comes with all its
// arguments; a remote one's with its first argument only, as the
// reference adapters forward it.
func (r *RemoteSocket) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	if r.local != nil {
		return r.local.EmitWithAck(ctx, event, args...)
	}
	b := r.op()
	b.flags.ExpectSingleResponse = true
	return b.EmitWithAck(ctx, event, args...)
}

// Join makes the socket join rooms.
func (r *RemoteSocket) Join(rooms ...string) error { return r.op().SocketsJoin(rooms...) }

// Leave makes the socket leave rooms.
func (r *RemoteSocket) Leave(rooms ...string) error { return r.op().SocketsLeave(rooms...) }

// Disconnect disconnects the socket; with close, its connection too.
func (r *RemoteSocket) Disconnect(close bool) error { return r.op().DisconnectSockets(close) }

// FetchSockets returns the selected sockets across the cluster.
func (b BroadcastOperator) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	infos, err := b.nsp.adapter.FetchSockets(ctx, b.options())
	out := make([]*RemoteSocket, 0, len(infos))
	for _, info := range infos {
		out = append(out, b.nsp.remoteSocket(info))
	}
	return out, err
}

func (n *Namespace) remoteSocket(info adapter.SocketInfo) *RemoteSocket {
	if info.ServerUID == "" {
		if s := n.LocalSocket(info.ID); s != nil {
			return &RemoteSocket{ID: s.id, Handshake: s.handshake, Rooms: s.Rooms(), Data: s.Data(), nsp: n, local: s}
		}
	}
	r := &RemoteSocket{ID: info.ID, Rooms: info.Rooms, nsp: n, Handshake: &Handshake{}}
	if len(info.Handshake) > 0 {
		_ = r.Handshake.UnmarshalJSON(info.Handshake) // not json.Unmarshal: one pass, not two
	}
	if len(info.Data.JSON) > 0 {
		_ = parser.Unmarshal(info.Data.JSON, info.Data.Attachments, &r.Data)
	}
	return r
}

// SocketsJoin makes the selected sockets join rooms, across the cluster.
// The local sockets join at once; the error reports what did not reach the
// other servers.
func (b BroadcastOperator) SocketsJoin(rooms ...string) error {
	return b.nsp.adapter.AddSockets(context.Background(), b.options(), rooms)
}

// SocketsLeave makes the selected sockets leave rooms, across the cluster.
func (b BroadcastOperator) SocketsLeave(rooms ...string) error {
	return b.nsp.adapter.DelSockets(context.Background(), b.options(), rooms)
}

// DisconnectSockets disconnects the selected sockets, across the cluster;
// with close, their connections too.
func (b BroadcastOperator) DisconnectSockets(close bool) error {
	return b.nsp.adapter.DisconnectSockets(context.Background(), b.options(), close)
}

// EmitWithAck broadcasts an event and collects the acknowledgement of every
// client it reached: the first argument of each, in arrival order. It
// returns when every client answered, at once with no responses when no
// client matched. It waits at most the Timeout set on the operator (and
// until ctx is done): then it returns the responses that did arrive with an
// error matching ErrAckTimeout. A reached client that disconnects before
// answering makes it return with a *DisconnectError once the others have
// answered. A reserved event name is refused with ErrReservedEvent, as
// Emit refuses it.
func (b BroadcastOperator) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	if parser.IsReserved(event) {
		return nil, fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	p, err := eventPacket(b.nsp.name, event, args)
	if err != nil {
		return nil, err
	}
	p.ID, p.HasID = b.nsp.nextAckID(), true
	if dl, ok := ctx.Deadline(); ok && b.flags.Timeout <= 0 {
		// The context's deadline is the timeout the other servers (and
		// their pending-request maps) need to know.
		b.flags.Timeout = max(time.Until(dl), time.Millisecond)
	}
	if b.flags.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.flags.Timeout)
		defer cancel()
	}
	servers := 1
	if !b.flags.Local {
		if servers, err = b.nsp.adapter.ServerCount(ctx); err != nil {
			return nil, err
		}
	}
	c := &ackCollector{servers: servers, done: make(chan struct{})}
	if err := b.nsp.adapter.BroadcastWithAck(ctx, p, b.options(), c.clientCount, c.ack); err != nil {
		return nil, err
	}
	select {
	case <-c.done:
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.responses, c.failure
	case <-ctx.Done():
		c.mu.Lock()
		defer c.mu.Unlock()
		return append(Args(nil), c.responses...), fmt.Errorf("%w: %d of %d responses: %w", ErrAckTimeout, len(c.responses), c.expected, ctx.Err())
	}
}

// EmitWithAckFunc broadcasts an event asking every client it reaches for
// an acknowledgement, and returns at once, as Node's
// io.timeout(ms).emit(event, ...args, callback) does. fn is called once,
// with the responses collected as EmitWithAck collects them: when every
// client answered; when the Timeout set on the operator passes first,
// with the responses that did arrive and an error matching ErrAckTimeout;
// with a *DisconnectError when a reached client disconnected before
// answering, once the others have answered. Without a Timeout, fn waits
// for every answer. It runs on a goroutine of the server's, never under a
// lock nor in a socket's handler queue. When EmitWithAckFunc returns an
// error, fn is not called.
func (b BroadcastOperator) EmitWithAckFunc(event string, fn func(responses Args, err error), args ...any) error {
	if parser.IsReserved(event) {
		return fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	p, err := eventPacket(b.nsp.name, event, args)
	if err != nil {
		return err
	}
	p.ID, p.HasID = b.nsp.nextAckID(), true
	ctx, cancel := context.WithCancel(context.Background())
	if b.flags.Timeout > 0 {
		ctx, cancel = context.WithTimeout(context.Background(), b.flags.Timeout)
	}
	srv := b.nsp.srv
	deliver := func(res Args, err error) {
		cancel() // the timeout's AfterFunc then finds c closed
		q := &taskQueue{srv: srv}
		q.push(funcTask(func() { fn(res, err) }))
	}
	c := &ackCollector{servers: 1, uncounted: !b.flags.Local, done: make(chan struct{})}
	if c.uncounted {
		c.servers = 0
	}
	err = b.nsp.adapter.BroadcastWithAck(ctx, p, b.options(), c.clientCount, c.ack)
	c.mu.Lock()
	if err != nil {
		c.closed = true // fn is never called
		c.mu.Unlock()
		cancel()
		return err
	}
	if c.closed { // no client reached, or every one answered already
		res, ferr := append(Args(nil), c.responses...), c.result
		c.mu.Unlock()
		deliver(res, ferr)
		return nil
	}
	c.onDone = deliver
	c.mu.Unlock()
	context.AfterFunc(ctx, func() {
		c.finish(func(c *ackCollector) error {
			return fmt.Errorf("%w: %d of %d responses: %w", ErrAckTimeout, len(c.responses), c.expected, ctx.Err())
		})
	})
	if !b.flags.Local {
		// The number of servers comes after the broadcast, as in Node: a
		// cluster adapter asks Redis for it.
		srv.workers.Run(serverCountTask{ctx, b.nsp, c})
	}
	return nil
}

// serverCountTask gives an ackCollector the number of servers to wait for.
type serverCountTask struct {
	ctx context.Context
	nsp *Namespace
	c   *ackCollector
}

func (t serverCountTask) Run() {
	n, err := t.nsp.adapter.ServerCount(t.ctx)
	if err != nil {
		t.c.finish(func(*ackCollector) error { return err })
		return
	}
	t.c.serverCount(n)
}

// ackCollector gathers the responses of a broadcast with acks.
type ackCollector struct {
	mu        sync.Mutex
	servers   int  // servers still to report their client count
	uncounted bool // servers does not include the server count yet
	expected  int
	answered  int
	responses Args
	failure   error // the first client's error
	result    error // the error the collection ended with
	done      chan struct{}
	closed    bool
	// onDone, when set, is called once with the result when done closes,
	// outside mu.
	onDone func(Args, error)
}

func (c *ackCollector) clientCount(n int) {
	c.mu.Lock()
	c.servers--
	c.expected += n
	c.checkLocked()
}

func (c *ackCollector) serverCount(n int) {
	c.mu.Lock()
	c.servers += n
	c.uncounted = false
	c.checkLocked()
}

func (c *ackCollector) ack(arg parser.Value, err error) {
	c.mu.Lock()
	c.answered++
	if err != nil {
		if c.failure == nil {
			c.failure = err
		}
	} else {
		c.responses = append(c.responses, arg)
	}
	c.checkLocked()
}

// checkLocked closes done when every server and client answered, and
// unlocks c.mu.
func (c *ackCollector) checkLocked() {
	if c.closed || c.uncounted || c.servers > 0 || c.answered < c.expected {
		c.mu.Unlock()
		return
	}
	c.closeLocked(c.failure)
}

// finish ends the collection early, unless it is done, with the error
// failure returns under c.mu.
func (c *ackCollector) finish(failure func(*ackCollector) error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closeLocked(failure(c))
}

// closeLocked closes done, unlocks c.mu and calls onDone.
func (c *ackCollector) closeLocked(err error) {
	c.closed, c.result = true, err
	close(c.done)
	res, onDone := append(Args(nil), c.responses...), c.onDone
	c.mu.Unlock()
	if onDone != nil {
		onDone(res, err)
	}
}

// FetchSockets returns the namespace's sockets across the cluster.
func (n *Namespace) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return n.operator().FetchSockets(ctx)
}

// SocketsJoin makes every socket of the namespace join rooms.
func (n *Namespace) SocketsJoin(rooms ...string) error { return n.operator().SocketsJoin(rooms...) }

// SocketsLeave makes every socket of the namespace leave rooms.
func (n *Namespace) SocketsLeave(rooms ...string) error { return n.operator().SocketsLeave(rooms...) }

// DisconnectSockets disconnects every socket of the namespace.
func (n *Namespace) DisconnectSockets(close bool) error { return n.operator().DisconnectSockets(close) }

// Timeout returns a broadcast operator whose EmitWithAck waits at most d.
func (n *Namespace) Timeout(d time.Duration) BroadcastOperator { return n.operator().Timeout(d) }

// EmitWithAckFunc broadcasts to the whole namespace asking for acks and
// returns at once; see BroadcastOperator.EmitWithAckFunc.
func (n *Namespace) EmitWithAckFunc(event string, fn func(responses Args, err error), args ...any) error {
	return n.operator().EmitWithAckFunc(event, fn, args...)
}

// EmitWithAck broadcasts to the whole namespace and collects acks; see
// BroadcastOperator.EmitWithAck.
func (n *Namespace) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	return n.operator().EmitWithAck(ctx, event, args...)
}

// ServerSideEmit sends an event to the same namespace on the other servers
// of the cluster, whose OnServerSideEmit handlers receive it.
func (n *Namespace) ServerSideEmit(event string, args ...any) error {
	if parser.IsReserved(event) {
		return fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	_, err := n.adapter.ServerSideEmit(context.Background(), event, args, false)
	return err
}

// ServerSideEmitWithAck sends an event to the other servers and waits for
// one response from each, until ctx is done or the adapter's request
// timeout passes: then it returns the responses that arrived with an error.
func (n *Namespace) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	if parser.IsReserved(event) {
		return nil, fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	res, err := n.adapter.ServerSideEmit(ctx, event, args, true)
	return Args(res), err
}

// ServerCount returns the number of servers in the cluster.
func (n *Namespace) ServerCount(ctx context.Context) (int, error) { return n.adapter.ServerCount(ctx) }

// Rooms returns the rooms of this server's sockets in the namespace,
// socket-id rooms included.
func (n *Namespace) Rooms() []string { return n.adapter.Rooms() }

// AllRooms returns the rooms of the namespace across the cluster.
func (n *Namespace) AllRooms(ctx context.Context) ([]string, error) { return n.adapter.AllRooms(ctx) }

// FetchSockets returns the main namespace's sockets across the cluster.
func (srv *Server) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return srv.mainNsp.FetchSockets(ctx)
}

// SocketsJoin makes every socket of the main namespace join rooms.
func (srv *Server) SocketsJoin(rooms ...string) error { return srv.mainNsp.SocketsJoin(rooms...) }

// SocketsLeave makes every socket of the main namespace leave rooms.
func (srv *Server) SocketsLeave(rooms ...string) error { return srv.mainNsp.SocketsLeave(rooms...) }

// DisconnectSockets disconnects every socket of the main namespace.
func (srv *Server) DisconnectSockets(close bool) error {
	return srv.mainNsp.DisconnectSockets(close)
}

// ServerSideEmit sends an event to the main namespace of the other servers.
func (srv *Server) ServerSideEmit(event string, args ...any) error {
	return srv.mainNsp.ServerSideEmit(event, args...)
}

// OnServerSideEmit registers a handler for the events other servers send
// to the main namespace with ServerSideEmit; see
// Namespace.OnServerSideEmit.
func (srv *Server) OnServerSideEmit(event string, fn any) { srv.mainNsp.OnServerSideEmit(event, fn) }

// ServerSideEmitWithAck sends an event to the other servers' main
// namespaces and waits for their responses.
func (srv *Server) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	return srv.mainNsp.ServerSideEmitWithAck(ctx, event, args...)
}

// ServerCount returns the number of servers in the cluster.
func (srv *Server) ServerCount(ctx context.Context) (int, error) { return srv.mainNsp.ServerCount(ctx) }

// Timeout returns a broadcast operator of the main namespace whose
// EmitWithAck waits at most d.
func (srv *Server) Timeout(d time.Duration) BroadcastOperator { return srv.mainNsp.Timeout(d) }

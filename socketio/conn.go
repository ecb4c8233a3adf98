package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/parser"
)

// conn is one client connection: an Engine.IO session carrying sockets of
// several namespaces.
//
// Packets are read on the session's reading goroutine. Acknowledgements are
// resolved there; everything that runs user code goes through a task queue
// run by the server's workers while it is not empty: the conn's queue runs
// the CONNECTs (connection middlewares), one at a time, and each socket's
// queue runs its connection, event and disconnect handlers in the order its
// packets arrived. So the handlers of one socket run one at a time, outside
// any lock, a socket never waits for another of the same client, and a
// handler that waits for an acknowledgement does not stop that
// acknowledgement from being read.
type conn struct {
	srv  *Server
	eio  *engineio.Session
	dec  *parser.Decoder      // used by the reading goroutine only, with the default parser
	pdec parser.PacketDecoder // instead of dec, with Options.Parser
	pkt  parser.Packet        // the reading goroutine's packet, reused for each message
	eio3 bool                 // a socket.io 2.x client: Socket.IO protocol v4 (see eio3.go)

	mu           sync.Mutex
	sockets      socketSet       // by namespace
	connecting   map[string]bool // CONNECT received, not yet answered; nil when none
	closed       bool
	connectTimer *time.Timer
	tasks        taskQueue // the CONNECTs
}

func newConn(srv *Server, s *engineio.Session) *conn {
	c := &conn{
		srv:  srv,
		eio:  s,
		eio3: s.Protocol() == 3,
	}
	c.tasks.srv, c.tasks.sid = srv, s.ID()
	if pp := srv.opts.Parser; pp != nil {
		c.pdec = pp.NewDecoder(srv.opts.MaxAttachments)
	} else {
		c.dec = parser.NewDecoder(srv.opts.MaxAttachments)
	}
	return c
}

func (c *conn) start() {
	c.eio.OnMessage(c.onMessage)
	c.eio.OnClose(c.onEngineClose)
	c.mu.Lock()
	c.connectTimer = time.AfterFunc(c.srv.opts.ConnectTimeout, c.onConnectTimeout)
	c.mu.Unlock()
	if c.eio3 {
		// A v4-protocol client joins the main namespace without a CONNECT.
		c.onPacket(&parser.Packet{Type: parser.Connect, Namespace: "/"})
	}
}

func (c *conn) onConnectTimeout() {
	c.mu.Lock()
	idle := c.sockets.len() == 0 && !c.closed
	c.mu.Unlock()
	if idle {
		c.srv.opts.Logger.Debug("socketio: no namespace joined in time", "sid", c.eio.ID())
		c.close(ReasonForcedServerClose)
	}
}

// dispatch queues fn to run after the CONNECTs already queued.
func (c *conn) dispatch(fn func()) { c.tasks.push(funcTask(fn)) }

// onMessage decodes one Engine.IO message.
func (c *conn) onMessage(data []byte, binary bool) {
	var p *parser.Packet
	var err error
	if c.pdec != nil {
		p, err = c.pdec.Decode(data, binary)
	} else if binary {
		p, err = c.dec.DecodeBinary(data)
	} else if complete, derr := c.dec.DecodeTextTo(&c.pkt, data); complete {
		p = &c.pkt
	} else {
		err = derr
	}
	if err != nil {
		c.srv.opts.Logger.Debug("socketio: bad packet", "sid", c.eio.ID(), "err", err)
		c.close(ReasonParseError)
		return
	}
	if p != nil {
		c.onPacket(p)
	}
}

// onPacket routes a decoded packet. p may be c.pkt, reused for the next
// message: nothing keeps p itself.
func (c *conn) onPacket(p *parser.Packet) {
	if c.eio3 && p.Type == parser.Connect {
		p.Namespace, p.Data = splitNamespaceV3(p.Namespace)
	}
	c.mu.Lock()
	s := c.sockets.get(p.Namespace)
	if p.Type == parser.Connect && s == nil && !c.connecting[p.Namespace] && !c.closed {
		if c.connecting == nil {
			c.connecting = make(map[string]bool, 1)
		}
		c.connecting[p.Namespace] = true
		c.mu.Unlock()
		name, auth := p.Namespace, p.Data
		c.dispatch(func() { c.connect(name, auth) })
		return
	}
	c.mu.Unlock()
	if s == nil || p.Type == parser.Connect || p.Type == parser.ConnectError {
		// As the reference does, close the connection on a packet for a
		// namespace the client has not joined (yet), a second CONNECT, or
		// a CONNECT_ERROR.
		c.srv.opts.Logger.Debug("socketio: packet in invalid state", "sid", c.eio.ID(), "type", p.Type.String(), "nsp", p.Namespace)
		c.close(ReasonForcedServerClose)
		return
	}
	switch p.Type {
	case parser.Event, parser.BinaryEvent:
		s.onEvent(p)
	case parser.Ack, parser.BinaryAck:
		s.onAck(p)
	case parser.Disconnect:
		s.onClose(ReasonClientNamespaceDisconnect, false)
	}
}

// connect runs the CONNECT of a namespace: middlewares, then the reply and
// the connection handlers.
func (c *conn) connect(name string, auth json.RawMessage) {
	done := func() {
		c.mu.Lock()
		c.connectedLocked(name)
		c.mu.Unlock()
	}
	nsp := c.srv.lookupNamespace(name, auth)
	if nsp == nil {
		done()
		_ = c.sendPacket(&parser.Packet{Type: parser.ConnectError, Namespace: name, Data: json.RawMessage(`{"message":"Invalid namespace"}`)}, false)
		return
	}
	csr := c.srv.opts.ConnectionStateRecovery
	var session *adapter.Session
	if csr != nil && !c.eio3 {
		if pid, offset := recoveryAuth(auth); pid != "" && offset != "" {
			session, _ = nsp.adapter.RestoreSession(context.Background(), pid, offset)
		}
	}
	s := newSocket(nsp, c, auth, session)
	mws, handlers := nsp.handlers()
	if session != nil && !csr.RunMiddlewares {
		mws = nil
	}
	for _, mw := range mws {
		if err := c.runMiddleware(mw, s); err != nil {
			// Rooms a middleware joined before it refused go with the
			// socket that never connected.
			s.refused(err)
			nsp.adapter.DelAll(s.id)
			done()
			payload := connectErrorPayload(err)
			if c.eio3 {
				payload = connectErrorPayloadV3(err)
			}
			_ = c.sendPacket(&parser.Packet{Type: parser.ConnectError, Namespace: name, Data: payload}, false)
			return
		}
	}
	s.admit()
	c.mu.Lock()
	c.connectedLocked(name)
	if c.closed {
		c.mu.Unlock()
		s.refused(&DisconnectError{Reason: ReasonTransportClose})
		nsp.adapter.DelAll(s.id)
		return
	}
	c.sockets.add(s)
	if c.connectTimer != nil {
		c.connectTimer.Stop()
		c.connectTimer = nil
	}
	c.mu.Unlock()

	nsp.add(s)
	if session != nil {
		missed := c.encodeMissed(session.MissedPackets)
		nsp.adapter.AddAll(s.id, session.Rooms)
		if len(missed) > 0 {
			_ = c.send(missed, false)
		}
	} else {
		nsp.adapter.AddAll(s.id, []string{s.id})
	}
	var reply json.RawMessage
	if !c.eio3 {
		reply, _ = json.Marshal(struct {
			SID string `json:"sid"`
			PID string `json:"pid,omitempty"`
		}{s.id, s.pid})
	}
	// A broadcast to all reaches the socket from its CONNECT on.
	if frames, err := adapter.EncodeWith(c.srv.opts.Parser, &parser.Packet{Type: parser.Connect, Namespace: name, Data: reply}); err == nil {
		nsp.connectAndList(s, frames)
	}
	// The connection handlers run first in the socket's queue, before the
	// events that arrived meanwhile, and without holding up the CONNECTs
	// of the client's other namespaces. They run even when the socket
	// disconnected since: as in Node, where the connection event comes
	// before anything else can happen, its disconnect handlers (queued
	// after these) then run too, so an OnDisconnect added here is called.
	s.queue.release(funcTask(func() {
		for _, h := range handlers {
			h(s)
		}
	}))
}

// connectedLocked forgets the CONNECT of name as under way. The map goes
// with the last one: an idle connection keeps none.
func (c *conn) connectedLocked(name string) {
	delete(c.connecting, name)
	if len(c.connecting) == 0 {
		c.connecting = nil
	}
}

// errMiddlewarePanic is what a client is told when a connection middleware
// panicked; the panic itself is logged.
var errMiddlewarePanic = errors.New("server error")

// runMiddleware calls mw with s, turning a panic into errMiddlewarePanic
// (logged with its stack), so that the client gets a CONNECT_ERROR rather
// than no answer.
func (c *conn) runMiddleware(mw Middleware, s *Socket) (err error) {
	defer func() {
		if r := recover(); r != nil {
			c.srv.opts.Logger.Error("socketio: middleware panicked", "sid", c.eio.ID(), "nsp", s.nsp.name, "panic", r, "stack", string(debug.Stack()))
			err = errMiddlewarePanic
		}
	}()
	return mw(s)
}

// sendPacket encodes and queues one packet.
func (c *conn) sendPacket(p *parser.Packet, volatile bool) error {
	frames, err := adapter.EncodeWith(c.srv.opts.Parser, p)
	if err != nil {
		return err
	}
	return c.send(frames, volatile)
}

// send queues encoded frames as one unit.
func (c *conn) send(frames []*engineio.Message, volatile bool) error {
	if volatile {
		c.eio.SendAllVolatile(frames)
		return nil
	}
	return c.eio.SendAll(frames)
}

// removeSocket forgets a disconnected socket.
func (c *conn) removeSocket(s *Socket) {
	c.mu.Lock()
	c.sockets.remove(s)
	c.mu.Unlock()
}

// closeSockets disconnects every socket of the connection with reason.
func (c *conn) closeSockets(reason string) {
	c.mu.Lock()
	socks := c.sockets.all()
	c.mu.Unlock()
	for _, s := range socks {
		s.onClose(reason, false)
	}
}

// close disconnects every socket with reason and closes the session.
func (c *conn) close(reason string) {
	c.closeSockets(reason)
	c.eio.Close()
}

// onEngineClose ends the connection when its Engine.IO session closed.
func (c *conn) onEngineClose(reason string, _ error) {
	c.mu.Lock()
	c.closed = true
	if c.connectTimer != nil {
		c.connectTimer.Stop()
	}
	c.mu.Unlock()
	c.closeSockets(reason)
	c.srv.forgetConn(c)
}

// recoveryAuth returns the pid and offset a recovering client puts in its
// CONNECT payload, or empty strings.
func recoveryAuth(auth json.RawMessage) (pid, offset string) {
	var a struct {
		PID    any `json:"pid"`
		Offset any `json:"offset"`
	}
	if json.Unmarshal(auth, &a) != nil {
		return "", ""
	}
	pid, _ = a.PID.(string)
	offset, _ = a.Offset.(string)
	return pid, offset
}

// socketSetSmall is how many sockets a socketSet holds in a slice; past
// it, a map keeps the lookup of a client with many namespaces constant.
const socketSetSmall = 8

// A socketSet holds a connection's sockets by namespace name. Nearly every
// client joins one or two namespaces: a slice searched in order is as fast
// as a map for them and a fraction of its size (a map with one socket is a
// 200-byte group).
type socketSet struct {
	few  []*Socket
	many map[string]*Socket // instead of few, past socketSetSmall sockets
}

func (t *socketSet) len() int { return len(t.few) + len(t.many) }

// get returns the socket of namespace name, or nil.
func (t *socketSet) get(name string) *Socket {
	if t.many != nil {
		return t.many[name]
	}
	for _, s := range t.few {
		if s.nsp.name == name {
			return s
		}
	}
	return nil
}

// add adds s, whose namespace has no socket in t.
func (t *socketSet) add(s *Socket) {
	if t.many == nil && len(t.few) < socketSetSmall {
		t.few = append(t.few, s)
		return
	}
	if t.many == nil {
		t.many = make(map[string]*Socket, 2*socketSetSmall)
		for _, x := range t.few {
			t.many[x.nsp.name] = x
		}
		t.few = nil
	}
	t.many[s.nsp.name] = s
}

// remove removes s if it is the socket of its namespace.
func (t *socketSet) remove(s *Socket) {
	if t.many != nil {
		if t.many[s.nsp.name] == s {
			delete(t.many, s.nsp.name)
		}
		return
	}
	if i := slices.Index(t.few, s); i >= 0 {
		t.few = slices.Delete(t.few, i, i+1)
	}
}

// all returns the sockets in a new slice.
func (t *socketSet) all() []*Socket {
	if t.many == nil {
		return slices.Clone(t.few)
	}
	socks := make([]*Socket, 0, len(t.many))
	for _, s := range t.many {
		socks = append(socks, s)
	}
	return socks
}

package socketio

import (
	"sync/atomic"
	"time"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/parser"
)

// The adapter of a namespace sees the namespace and its sockets through
// the views below, which implement package adapter's interfaces; the
// methods those interfaces need stay off the API of Namespace and Socket.
// A view is the same struct under another type, so converting a
// *Namespace or *Socket to its view costs nothing.

// nspView is the adapter.Namespace of a Namespace.
type nspView Namespace

// sockView is the adapter.Socket of a Socket.
type sockView Socket

var (
	_ adapter.ParserNamespace  = (*nspView)(nil)
	_ adapter.SocketsNamespace = (*nspView)(nil)
	_ adapter.DeliverNamespace = (*nspView)(nil)
	_ adapter.Socket           = (*sockView)(nil)
)

func (v *nspView) nsp() *Namespace { return (*Namespace)(v) }

// Name implements adapter.Namespace.
func (v *nspView) Name() string { return v.name }

// Socket implements adapter.Namespace.
func (v *nspView) Socket(id string) adapter.Socket {
	if s := v.nsp().LocalSocket(id); s != nil {
		return (*sockView)(s)
	}
	return nil
}

// AppendSockets implements adapter.SocketsNamespace: one read lock for
// the lot. It reads each socket's engine session as it goes (Protocol is
// on the line a delivery locks), so that the misses of a chunk of
// receivers overlap here rather than one by one behind each delivery's
// lock.
func (v *nspView) AppendSockets(dst []adapter.Socket, ids []string) []adapter.Socket {
	n := v.nsp()
	warm := 0
	n.mu.RLock()
	for _, id := range ids {
		if s := n.sockets[id]; s != nil {
			warm += s.eio.Protocol()
			dst = append(dst, (*sockView)(s))
		}
	}
	n.mu.RUnlock()
	warmSink.Store(int64(warm)) // keeps the reads
	return dst
}

// DeliverAll implements adapter.DeliverNamespace. A broadcast to every
// listed socket goes to the namespace's engine group, which copies it once
// into its log for the lot (see engineio.Group). With except or volatile
// it copies the listed sockets under the read lock and delivers outside it
// (a delivery may close a session, which removes its socket), a chunk at a
// time: the engine sessions of a chunk are read first, so that their
// misses overlap rather than queue behind each delivery's lock.
func (v *nspView) DeliverAll(frames []*engineio.Message, volatile bool, skip func(id string) bool) {
	n := v.nsp()
	if !volatile && skip == nil {
		n.bcast.QueueAll(frames)
		return
	}
	bp, _ := n.bufs.Get().(*[]*Socket)
	if bp == nil {
		bp = new([]*Socket)
	}
	n.mu.RLock()
	all := append((*bp)[:0], n.listed...)
	n.mu.RUnlock()
	for rest := all; len(rest) > 0; {
		chunk := rest[:min(len(rest), 64)]
		rest = rest[len(chunk):]
		warm := 0
		for _, s := range chunk {
			warm += s.eio.Protocol()
		}
		warmSink.Store(int64(warm))
		for _, s := range chunk {
			if skip != nil && skip(s.id) {
				continue
			}
			(*sockView)(s).Deliver(frames, volatile)
		}
	}
	clear(all)
	*bp = all[:0]
	n.bufs.Put(bp)
}

// warmSink takes what AppendSockets read, so that the compiler keeps the
// reads.
var warmSink atomic.Int64

// NextAckID implements adapter.Namespace.
func (v *nspView) NextAckID() uint64 { return v.nsp().nextAckID() }

// Recovery implements adapter.Namespace.
func (v *nspView) Recovery() (bool, time.Duration) {
	if csr := v.srv.opts.ConnectionStateRecovery; csr != nil {
		return true, csr.MaxDisconnectionDuration
	}
	return false, 0
}

// Parser implements adapter.ParserNamespace: broadcasts are encoded in the
// server's wire format (Options.Parser, nil for the default).
func (v *nspView) Parser() parser.Parser { return v.srv.opts.Parser }

// HandleServerSideEmit implements adapter.Namespace: the handlers run on
// the server's workers, one event at a time in arrival order.
func (v *nspView) HandleServerSideEmit(event string, args []parser.Value, ack func(arg any)) {
	n := v.nsp()
	n.sse.push(funcTask(func() { n.runServerSideEmit(event, args, ack) }))
}

func (v *sockView) sock() *Socket { return (*Socket)(v) }

// ID implements adapter.Socket.
func (v *sockView) ID() string { return v.id }

// Disconnect implements adapter.Socket.
func (v *sockView) Disconnect(close bool) { v.sock().Disconnect(close) }

// Deliver implements adapter.Socket.
func (v *sockView) Deliver(frames []*engineio.Message, volatile bool) {
	if volatile {
		v.eio.QueueAllVolatile(frames)
		return
	}
	_ = v.eio.QueueAll(frames)
}

// ExpectAck implements adapter.Socket.
func (v *sockView) ExpectAck(id uint64, timeout time.Duration, fn func(args []parser.Value, err error)) {
	err := v.sock().registerAck(id, timeout, func(a Args, err error) { fn(a, err) })
	if err != nil {
		fn(nil, err)
	}
}

// Info implements adapter.Socket.
func (v *sockView) Info() adapter.SocketInfo {
	s := v.sock()
	// MarshalJSON itself: json.Marshal would validate and compact its
	// output again, which was most of a fetchSockets' CPU.
	hs, _ := s.handshake.MarshalJSON()
	info := adapter.SocketInfo{ID: s.id, Handshake: hs, Rooms: s.Rooms()}
	if d := s.Data(); d != nil {
		// MarshalArgs writes "[value]": keep the value, with its binary.
		arr, atts, err := parser.MarshalArgs(nil, d)
		if err != nil {
			s.nsp.srv.opts.Logger.Debug("socketio: socket data cannot be encoded for fetchSockets", "nsp", s.nsp.name, "sid", s.id, "err", err)
			arr = []byte("[null]")
		}
		info.Data = parser.Value{JSON: arr[1 : len(arr)-1], Attachments: atts}
	}
	return info
}

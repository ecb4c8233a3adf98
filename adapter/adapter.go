// Package adapter defines how a Socket.IO namespace keeps its rooms and
// reaches its sockets, on one server or across a cluster, and provides the
// in-memory adapter used by default.
//
// # Adapters
//
// An Adapter holds the room index of one namespace (which local socket is in
// which room) and carries broadcasts and cluster requests. The in-memory
// adapter (NewMemory) serves a single server; the Redis adapters in
// adapter/redis implement the same interface across servers, wire-compatible
// with Node's @socket.io adapters.
//
// # Namespaces
//
// The adapter does not import package socketio. It works through the small
// Namespace and Socket interfaces below, which socketio implements: look up
// a local socket, deliver a packet encoded once to many sockets.
package adapter

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/parser"
)

// Namespace is what an adapter needs from the namespace it serves.
type Namespace interface {
	// Name returns the namespace's name, such as "/" or "/admin".
	Name() string
	// Socket returns the connected local socket with the given id, or nil.
	Socket(id string) Socket
	// NextAckID returns a fresh acknowledgement id from the namespace's
	// counter, the one its own emits with an ack use: a broadcast with
	// acknowledgements that another server asked for takes its id here.
	NextAckID() uint64
	// Recovery reports whether connection state recovery is on for the
	// namespace, and for how long a disconnected session may be restored.
	// Cluster adapters append offsets to broadcasts only when it is on.
	Recovery() (enabled bool, maxDisconnection time.Duration)
	// HandleServerSideEmit hands an event sent by another server with
	// ServerSideEmit to the namespace's listeners. ack is nil when the
	// sender expects no answer; otherwise it is called at most once. It
	// never blocks: the listeners run later, in arrival order, never on
	// the caller's goroutine (an adapter's inbound loop).
	HandleServerSideEmit(event string, args []parser.Value, ack func(arg any))
}

// Socket is what an adapter needs from one local socket.
type Socket interface {
	// ID returns the socket id, which is also the name of its own room.
	ID() string
	// Deliver queues a packet already encoded as frames (see Encode),
	// without blocking. Volatile frames are dropped when the connection
	// cannot take them right away.
	Deliver(frames []*engineio.Message, volatile bool)
	// ExpectAck registers fn to receive the socket's acknowledgement of the
	// packet with ack id id, for broadcasts with acknowledgements. fn is
	// called once, with nil args and an error if the socket disconnects or
	// the timeout passes first.
	ExpectAck(id uint64, timeout time.Duration, fn func(args []parser.Value, err error))
	// Info returns what FetchSockets reports of the socket.
	Info() SocketInfo
	// Disconnect disconnects the socket from its namespace; with close, it
	// closes the underlying connection too.
	Disconnect(close bool)
}

// SocketInfo describes a socket, local or on another server, as
// FetchSockets returns it.
type SocketInfo struct {
	ID string
	// Handshake is the socket's handshake as JSON, in the shape Node's
	// socket.io gives socket.handshake (lower-case header names, joined
	// duplicate headers, a JavaScript date string for time).
	Handshake json.RawMessage
	// Rooms are the socket's rooms in the order it joined them, its own
	// id first.
	Rooms []string
	// Data is the socket's Data as JSON with its binary attachments; a
	// nil Data.JSON means the socket has no data (undefined in Node).
	Data parser.Value
	// ServerUID identifies the server the socket is connected to; empty
	// for a local socket.
	ServerUID string
}

// BroadcastFlags modify a broadcast.
type BroadcastFlags struct {
	// Volatile packets may be lost: they are dropped for clients that
	// cannot take them right away.
	Volatile bool
	// Compress asks for compression of the packet where the transport
	// supports it.
	Compress bool
	// Local restricts the broadcast to this server.
	Local bool
	// Timeout bounds a broadcast with acknowledgements. Cluster adapters
	// carry it on the wire in whole milliseconds, as Node does.
	Timeout time.Duration
	// ExpectSingleResponse marks an emit with ack to one remote socket.
	ExpectSingleResponse bool
}

// BroadcastOptions selects the sockets a broadcast or a cluster-wide
// operation applies to: the sockets in any of Rooms (every socket of the
// namespace when Rooms is empty) and in none of Except.
type BroadcastOptions struct {
	Rooms  []string
	Except []string
	Flags  BroadcastFlags
}

// Session is what connection state recovery keeps of a disconnected socket.
type Session struct {
	SID   string   // socket id, restored on recovery
	PID   string   // private session id sent to the client
	Rooms []string // rooms, its own id included
	// Data is the socket's Data: the value itself in memory, its decoded
	// JSON or msgpack form after a trip through Redis.
	Data any
	// MissedPackets, on restore, are the packets broadcast to the
	// session's rooms after its offset, each already carrying its offset.
	MissedPackets []*parser.Packet
}

// Errors returned by adapters.
var (
	// ErrNotSupported is returned by operations an adapter cannot perform.
	ErrNotSupported = errors.New("adapter: operation not supported by this adapter")
	// ErrSessionNotFound is returned by RestoreSession for an unknown,
	// expired or unrecoverable session.
	ErrSessionNotFound = errors.New("adapter: session not found")
)

// TimeoutError reports a cluster request that did not get every expected
// response in time. Responses holds those that arrived (for FetchSockets,
// Sockets does), which Node's adapters discard for fetchSockets and give
// for serverSideEmit.
type TimeoutError struct {
	Op        string // the operation, such as "serverSideEmit"
	Responses []parser.Value
	Sockets   []SocketInfo
	// Message is the text Node's adapter gives its callers for the same
	// timeout, such as "timeout reached: only 1 responses received out
	// of 2"; empty when the adapter has no Node counterpart.
	Message string
}

// Error implements error: Message when set.
func (e *TimeoutError) Error() string {
	if e.Message != "" {
		return e.Message
	}
	return "adapter: timeout reached while waiting for " + e.Op + " responses"
}

// An Adapter keeps a namespace's rooms and carries its broadcasts. Methods
// are safe for concurrent use.
type Adapter interface {
	// Init starts the adapter (subscriptions for a cluster adapter).
	Init(ctx context.Context) error
	// Close stops the adapter and releases what it holds.
	Close() error

	// AddAll adds the local socket id to rooms.
	AddAll(id string, rooms []string)
	// Del removes the local socket id from room.
	Del(id, room string)
	// DelAll removes the local socket id from every room.
	DelAll(id string)
	// SocketRooms returns the rooms of the local socket id, or nil.
	SocketRooms(id string) []string
	// Sockets returns the ids of the local sockets in any of rooms, or of
	// every local socket when rooms is empty.
	Sockets(rooms []string) []string
	// Rooms returns the names of the local rooms.
	Rooms() []string

	// Broadcast sends p to every socket matching opts, across the cluster
	// unless opts.Flags.Local. Local sockets get it even when the cluster
	// cannot be reached; the error then says what was not sent.
	Broadcast(ctx context.Context, p *parser.Packet, opts *BroadcastOptions) error
	// BroadcastWithAck sends p, which carries an ack id, to every socket
	// matching opts and reports how many clients each server reached
	// (onClientCount, once per server) and each client's first ack
	// argument (onAck). A local client that disconnects before answering
	// is reported to onAck with a non-nil error.
	BroadcastWithAck(ctx context.Context, p *parser.Packet, opts *BroadcastOptions, onClientCount func(n int), onAck func(arg parser.Value, err error)) error

	// FetchSockets returns the sockets matching opts across the cluster.
	// When some server did not answer in time it returns those that did
	// with a *TimeoutError.
	FetchSockets(ctx context.Context, opts *BroadcastOptions) ([]SocketInfo, error)
	// AddSockets makes the sockets matching opts join rooms.
	AddSockets(ctx context.Context, opts *BroadcastOptions, rooms []string) error
	// DelSockets makes the sockets matching opts leave rooms.
	DelSockets(ctx context.Context, opts *BroadcastOptions, rooms []string) error
	// DisconnectSockets disconnects the sockets matching opts.
	DisconnectSockets(ctx context.Context, opts *BroadcastOptions, close bool) error
	// ServerSideEmit sends an event to the other servers' namespaces. With
	// ack set, it waits (bounded by ctx and the adapter's own timeout) for
	// one response per other server; on timeout it returns those that
	// arrived with a *TimeoutError.
	ServerSideEmit(ctx context.Context, event string, args []any, ack bool) ([]parser.Value, error)
	// ServerCount returns the number of servers in the cluster.
	ServerCount(ctx context.Context) (int, error)
	// AllRooms returns the rooms of every server, or ErrNotSupported.
	AllRooms(ctx context.Context) ([]string, error)

	// PersistSession keeps a disconnected socket's session for recovery.
	PersistSession(ctx context.Context, s *Session) error
	// RestoreSession returns the session pid with the packets missed
	// since offset, and forgets it; ErrSessionNotFound when it cannot.
	RestoreSession(ctx context.Context, pid, offset string) (*Session, error)
}

// Factory creates the adapter of a namespace.
type Factory func(nsp Namespace) Adapter

// Encode encodes p once into the Engine.IO messages every recipient gets:
// the packet's text, then one binary message per attachment.
func Encode(p *parser.Packet) []*engineio.Message {
	return encodeText(parser.AppendText(frameBuf(len(p.Data)), p), p.Attachments)
}

// EncodeArgs is Encode for p with args as its data array (p.Data and
// p.Attachments are ignored): parser.MarshalArgs writes the array straight
// into the frame, so that the packet is built once. It fails as MarshalArgs
// does.
func EncodeArgs(p *parser.Packet, args ...any) ([]*engineio.Message, error) {
	head := *p
	head.Data, head.Attachments = nil, nil
	text := parser.AppendText(frameBuf(0), &head)
	n := len(text)
	text, atts, err := parser.MarshalArgs(text, args...)
	if err != nil {
		return nil, err
	}
	if len(atts) > 0 {
		// The header counts the attachments: write it again.
		head.Data, head.Attachments = text[n:], atts
		return Encode(&head), nil
	}
	return encodeText(text, nil), nil
}

// frameBuf returns a buffer for a text frame of about n data bytes: room
// for the WebSocket header, then the Engine.IO message type.
func frameBuf(n int) []byte {
	const room = engineio.FrameHeadroom
	b := make([]byte, room+1, room+64+n)
	b[room] = '4'
	return b
}

// encodeText returns the messages of a packet whose text frame (made with
// frameBuf) is done.
func encodeText(text []byte, atts [][]byte) []*engineio.Message {
	frames := make([]*engineio.Message, 1+len(atts))
	frames[0] = engineio.NewTextMessageRoom(text)
	for i, a := range atts {
		frames[1+i] = engineio.NewBinaryMessage(a)
	}
	return frames
}

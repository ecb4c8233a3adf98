// Package emitter sends Socket.IO events, room changes, disconnections
// and server-side events to a cluster of Socket.IO servers from a process
// that is not a server itself, through Redis.
//
// Two emitters are offered, each writing exactly the bytes of its Node
// counterpart, so that Node and gosio servers alike receive them:
//
//   - New: Node's @socket.io/redis-emitter 5.1.0. It PUBLISHes to the
//     channels of the classic adapter (@socket.io/redis-adapter
//     createAdapter, or gosio's adapter/redis New). It cannot reach a
//     cluster of sharded adapters, which listen with SSUBSCRIBE.
//   - NewStreams: the streams emitter of the Socket.IO monorepo
//     (socket.io-redis-streams-emitter 0.1.1). It XADDs to the stream of
//     the streams adapter (@socket.io/redis-streams-adapter 0.3).
//
// An emitter cannot receive acknowledgements: an event carrying an ack
// function is refused with ErrAck.
package emitter

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/redis/rueidis"

	"github.com/gosio/gosio/internal/clusterwire"
	"github.com/gosio/gosio/parser"
)

// DefaultKey is the default channel prefix of New (Node: key).
const DefaultKey = "socket.io"

// DefaultStreamName ("socket.io") and DefaultMaxLen (10000) are the
// defaults of NewStreams (Node: streamName, maxLen).
const (
	DefaultStreamName = clusterwire.DefaultStreamName
	DefaultMaxLen     = clusterwire.DefaultStreamMaxLen
)

// ErrReservedEvent is returned by Emit for an event name that Socket.IO
// reserves: connect, connect_error, disconnect, disconnecting,
// newListener and removeListener.
var ErrReservedEvent = errors.New("emitter: reserved event name")

// ErrAck is returned when an argument is a function: an emitter cannot
// receive acknowledgements.
var ErrAck = errors.New("emitter: acknowledgements are not supported")

// Parser selects how New encodes broadcasts (Node: parser). Requests
// (socketsJoin, socketsLeave, disconnectSockets, serverSideEmit) are JSON
// whatever the parser, as in Node. It must match the parser of the
// cluster's adapters (adapter/redis Options.Parser).
type Parser int

const (
	// MessagePack writes what notepack.io writes, Node's default.
	MessagePack Parser = iota
	// JSON writes JSON text, as Node's emitter with
	// parser: {encode: JSON.stringify} does; binary values are written as
	// Node's JSON form of a Buffer, {"type":"Buffer","data":[...]}.
	JSON
)

// Options configure New. The zero value of each field is Node's default.
type Options struct {
	// Key prefixes every channel (Node: key). Zero means "socket.io".
	Key string
	// Parser is the encoding of broadcasts (Node: parser). Zero means
	// MessagePack.
	Parser Parser
}

// StreamsOptions configure NewStreams. The zero value of each field is
// Node's default.
type StreamsOptions struct {
	// StreamName is the Redis stream, or the streams' name prefix when
	// StreamCount > 1 (Node: streamName). Zero means "socket.io".
	StreamName string
	// MaxLen bounds the stream, with almost-exact trimming (MAXLEN ~)
	// (Node: maxLen). Zero means 10000; a negative value writes no MAXLEN,
	// leaving the stream unbounded.
	MaxLen int64
	// StreamCount must equal the streamCount of the cluster's adapters.
	// Zero or 1 means one stream, StreamName, as Node's emitter always
	// writes. Above 1, each namespace is written to the stream its
	// adapters read (StreamName-i, i the streams adapter's hash of the
	// namespace), which Node's emitter cannot do.
	StreamCount int
}

type kind uint8

const (
	pubsub kind = iota
	streams
)

// An Emitter sends to one namespace of a cluster. It is immutable and safe
// for concurrent use; Of returns an Emitter for another namespace of the
// same cluster.
type Emitter struct {
	client rueidis.Client
	batch  *batcher // Pipeline's, shared by the emitters Of returns
	kind   kind
	nsp    string

	// pubsub
	key        string
	msgpack    bool
	bcast      string // K#nsp#
	requestsCh string // K-request#nsp#
	nspTail    []byte // the "nsp" member of a msgpack broadcast (encode.go)

	// streams
	stream string // the stream of nsp
	name   string
	maxLen int64
	count  int
}

// New returns an emitter for namespace "/" of a cluster of classic
// Redis adapters (Node's @socket.io/redis-emitter). opts may be nil. The
// client must not be nil; an unknown Parser panics.
func New(client rueidis.Client, opts *Options) *Emitter {
	if client == nil {
		panic("emitter: nil client")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Key == "" {
		o.Key = DefaultKey
	}
	if o.Parser != MessagePack && o.Parser != JSON {
		panic(fmt.Sprintf("emitter: unknown Parser %d", o.Parser))
	}
	e := &Emitter{client: client, batch: &batcher{client: client}, kind: pubsub, key: o.Key, msgpack: o.Parser == MessagePack}
	return e.withNsp("/")
}

// NewStreams returns an emitter for namespace "/" of a cluster of streams
// adapters (the Socket.IO monorepo's streams emitter). opts may be nil.
// The client must not be nil.
func NewStreams(client rueidis.Client, opts *StreamsOptions) *Emitter {
	if client == nil {
		panic("emitter: nil client")
	}
	var o StreamsOptions
	if opts != nil {
		o = *opts
	}
	if o.StreamName == "" {
		o.StreamName = DefaultStreamName
	}
	if o.MaxLen == 0 {
		o.MaxLen = DefaultMaxLen
	}
	if o.StreamCount < 1 {
		o.StreamCount = 1
	}
	e := &Emitter{client: client, batch: &batcher{client: client}, kind: streams, name: o.StreamName, maxLen: o.MaxLen, count: o.StreamCount}
	return e.withNsp("/")
}

// Of returns an emitter for namespace nsp of the same cluster; a missing
// leading "/" is added ("admin" is "/admin"), by both emitters. Node's
// streams emitter does not add it, and so writes to a namespace no server
// can have.
func (e *Emitter) Of(nsp string) *Emitter {
	if len(nsp) == 0 || nsp[0] != '/' {
		nsp = "/" + nsp
	}
	return e.withNsp(nsp)
}

func (e *Emitter) withNsp(nsp string) *Emitter {
	c := *e
	c.nsp = nsp
	if c.kind == pubsub {
		c.bcast = clusterwire.BroadcastChannel(c.key, nsp)
		c.requestsCh = clusterwire.RequestChannel(c.key, nsp)
		c.nspTail = nspTail(nsp)
	} else {
		c.stream = clusterwire.StreamKey(c.name, c.count, nsp)
	}
	return &c
}

// Namespace returns the emitter's namespace, such as "/" or "/admin".
func (e *Emitter) Namespace() string { return e.nsp }

// To returns an operator that targets the sockets in any of rooms.
func (e *Emitter) To(rooms ...string) Operator { return Operator{e: e}.To(rooms...) }

// In is To.
func (e *Emitter) In(rooms ...string) Operator { return e.To(rooms...) }

// Except returns an operator that excludes the sockets in any of rooms.
func (e *Emitter) Except(rooms ...string) Operator { return Operator{e: e}.Except(rooms...) }

// Volatile returns an operator whose events may be dropped for clients
// that are not ready to receive them.
func (e *Emitter) Volatile() Operator { return Operator{e: e}.Volatile() }

// Compress returns an operator with the compress flag set to compress.
func (e *Emitter) Compress(compress bool) Operator { return Operator{e: e}.Compress(compress) }

// Emit sends event with args to every client of the namespace; see
// Operator.Emit.
func (e *Emitter) Emit(ctx context.Context, event string, args ...any) error {
	return Operator{e: e}.Emit(ctx, event, args...)
}

// SocketsJoin makes every socket of the namespace join rooms.
func (e *Emitter) SocketsJoin(ctx context.Context, rooms ...string) error {
	return Operator{e: e}.SocketsJoin(ctx, rooms...)
}

// SocketsLeave makes every socket of the namespace leave rooms.
func (e *Emitter) SocketsLeave(ctx context.Context, rooms ...string) error {
	return Operator{e: e}.SocketsLeave(ctx, rooms...)
}

// DisconnectSockets disconnects every socket of the namespace; with close,
// their underlying connections are closed too.
func (e *Emitter) DisconnectSockets(ctx context.Context, close bool) error {
	return Operator{e: e}.DisconnectSockets(ctx, close)
}

// ServerSideEmit sends event with args to every server of the cluster
// (the servers' serverSideEmit listeners of the namespace). Arguments are
// encoded as by Emit. A reserved event name is refused with
// ErrReservedEvent (Node's emitter sends it, and a Node server would then
// run its own connect or disconnect listeners with the emitter's
// arguments); an ack function with ErrAck.
func (e *Emitter) ServerSideEmit(ctx context.Context, event string, args ...any) (err error) {
	defer wrap(&err, "serverSideEmit")
	data, err := eventData(event, args)
	if err != nil {
		return err
	}
	b := &clusterwire.Builder{}
	if e.kind == pubsub {
		b.Raw("{").Key("uid").Str(clusterwire.EmitterUID).Key("type").Int(clusterwire.ServerSideEmit).Key("data").Val(data).Raw("}")
		msg, err := clusterwire.Encode(b.Value(), false)
		if err != nil {
			return err
		}
		return e.client.Do(ctx, e.publishCmd(e.requestsCh, msg)).Error()
	}
	b.Raw("{").Key("packet").Val(data).Raw("}")
	cmd, err := e.xaddCmd(clusterwire.MsgServerSideEmit, b.Value())
	if err != nil {
		return err
	}
	return e.client.Do(ctx, cmd).Error()
}

// checkEvent refuses a reserved event name and a function argument.
func checkEvent(event string, args []any) error {
	if parser.IsReserved(event) {
		return fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	for _, a := range args {
		if a != nil && reflect.TypeOf(a).Kind() == reflect.Func {
			return ErrAck
		}
	}
	return nil
}

// eventData checks event and args and returns [event, ...args] as JSON
// with binary placeholders.
func eventData(event string, args []any) (parser.Value, error) {
	if err := checkEvent(event, args); err != nil {
		return parser.Value{}, err
	}
	all := make([]any, 0, 1+len(args))
	all = append(all, event)
	all = append(all, args...)
	arr, atts, err := parser.MarshalArgs(nil, all...)
	if err != nil {
		return parser.Value{}, err
	}
	return parser.Value{JSON: arr, Attachments: atts}, nil
}

// publishCmd returns the PUBLISH of msg to channel.
func (e *Emitter) publishCmd(channel string, msg []byte) rueidis.Completed {
	return e.client.B().Publish().Channel(channel).Message(rueidis.BinaryString(msg)).Build().Pin()
}

// wrap prefixes a non-nil *err with the operation, once, at the exported
// boundary. Sentinel errors of this package keep their own text.
func wrap(err *error, op string) {
	if *err == nil || errors.Is(*err, ErrReservedEvent) || errors.Is(*err, ErrAck) {
		return
	}
	*err = fmt.Errorf("emitter: %s: %w", op, *err)
}

package emitter

import (
	"context"
	"slices"
	"strconv"

	"github.com/redis/rueidis"

	"github.com/gosio/gosio/internal/clusterwire"
	"github.com/gosio/gosio/parser"
)

// An Operator is a selection of sockets (rooms, excluded rooms) and flags,
// obtained from an Emitter's To, In, Except, Volatile or Compress. It is an
// immutable value: each method returns a new Operator and leaves its
// receiver unchanged, so one Operator may be shared and extended by
// concurrent goroutines. The zero Operator is not usable.
type Operator struct {
	e      *Emitter
	rooms  []string
	except []string
	flags  []flag // in the order first set, as Node's flags object keeps them
}

type flag struct {
	name string
	on   bool
}

// To returns an operator that also targets the sockets in any of rooms. A
// room already targeted is not repeated.
func (o Operator) To(rooms ...string) Operator {
	o.rooms = addSet(o.rooms, rooms)
	return o
}

// In is To.
func (o Operator) In(rooms ...string) Operator { return o.To(rooms...) }

// Except returns an operator that also excludes the sockets in any of
// rooms.
func (o Operator) Except(rooms ...string) Operator {
	o.except = addSet(o.except, rooms)
	return o
}

// Volatile returns an operator whose events may be dropped for clients
// that are not ready to receive them.
func (o Operator) Volatile() Operator { return o.setFlag("volatile", true) }

// Compress returns an operator with the compress flag set to compress.
func (o Operator) Compress(compress bool) Operator { return o.setFlag("compress", compress) }

func (o Operator) setFlag(name string, on bool) Operator {
	i := slices.IndexFunc(o.flags, func(f flag) bool { return f.name == name })
	o.flags = slices.Clone(o.flags)
	if i >= 0 {
		o.flags[i].on = on
	} else {
		o.flags = append(o.flags, flag{name, on})
	}
	return o
}

// addSet returns set with the elements of add not yet in it appended, in a
// new slice when anything is added, so that operators never share a
// backing array they append to.
func addSet(set, add []string) []string {
	var out []string
	for _, r := range add {
		if slices.Contains(set, r) || slices.Contains(out, r) {
			continue
		}
		out = append(out, r)
	}
	if out == nil {
		return set
	}
	return append(slices.Clip(set), out...)
}

// Emit sends event with args to the selected clients. Arguments are
// encoded as parser.MarshalArgs does: a []byte becomes a binary
// attachment and arrives as binary, anything else as its JSON form. A
// reserved event name is refused with ErrReservedEvent, a function
// argument (an ack) with ErrAck; an error from Redis is returned.
//
// The pub/sub emitter PUBLISHes to the namespace's broadcast channel, or
// to the room's channel when exactly one room is targeted; the streams
// emitter XADDs to the namespace's stream.
func (o Operator) Emit(ctx context.Context, event string, args ...any) (err error) {
	defer wrap(&err, "emit")
	cmd, err := o.emitCommand(event, args)
	if err != nil {
		return err
	}
	return o.e.client.Do(ctx, cmd).Error()
}

// emitCommand checks and encodes an emit, once, into its PUBLISH or XADD.
func (o Operator) emitCommand(event string, args []any) (rueidis.Completed, error) {
	e := o.e
	if e.kind == pubsub {
		ch, msg, err := o.encodeBroadcast(event, args)
		if err != nil {
			return rueidis.Completed{}, err
		}
		return e.publishCmd(ch, msg), nil
	}
	data, err := eventData(event, args)
	if err != nil {
		return rueidis.Completed{}, err
	}
	b := &clusterwire.Builder{}
	b.Raw("{").Key("packet")
	o.packet(b, data)
	b.Key("opts")
	o.broadcastOpts(b)
	b.Raw("}")
	return e.xaddCmd(clusterwire.MsgBroadcast, b.Value())
}

// encodeBroadcast returns the channel and the message of a pub/sub
// emitter's broadcast: msgpack written directly (encode.go), or through
// JSON for the JSON parser and for strings that are not valid UTF-8.
func (o Operator) encodeBroadcast(event string, args []any) (string, []byte, error) {
	if err := checkEvent(event, args); err != nil {
		return "", nil, err
	}
	e := o.e
	ch := e.bcast
	if len(o.rooms) == 1 {
		ch = clusterwire.RoomChannel(e.key, e.nsp, o.rooms[0])
	}
	if e.msgpack && o.directOK(event) {
		msg, err := o.appendBroadcast(make([]byte, 0, 256), event, args)
		return ch, msg, err
	}
	msg, err := o.encodeBroadcastJSON(event, args)
	return ch, msg, err
}

// encodeBroadcastJSON encodes a broadcast as JSON text, converted to
// msgpack for the MessagePack parser.
func (o Operator) encodeBroadcastJSON(event string, args []any) ([]byte, error) {
	data, err := eventData(event, args)
	if err != nil {
		return nil, err
	}
	b := &clusterwire.Builder{}
	b.Raw("[").Str(clusterwire.EmitterUID).Raw(",")
	o.packet(b, data)
	b.Raw(",")
	o.broadcastOpts(b)
	b.Raw("]")
	return clusterwire.Encode(b.Value(), o.e.msgpack)
}

// packet writes {"type":2,"data":[..],"nsp":".."}.
func (o Operator) packet(b *clusterwire.Builder, data parser.Value) {
	b.Raw("{").Key("type").Int(int64(parser.Event)).Key("data").Val(data).Key("nsp").Str(o.e.nsp).Raw("}")
}

// broadcastOpts writes a broadcast's opts in the emitters' key order,
// rooms, flags, except (the adapters write rooms, except, flags).
func (o Operator) broadcastOpts(b *clusterwire.Builder) {
	b.Raw("{").Key("rooms").Strings(o.rooms).Key("flags").Raw("{")
	for _, f := range o.flags {
		b.Key(f.name).Bool(f.on)
	}
	b.Raw("}").Key("except").Strings(o.except).Raw("}")
}

// SocketsJoin makes the selected sockets join rooms, on every server.
func (o Operator) SocketsJoin(ctx context.Context, rooms ...string) (err error) {
	defer wrap(&err, "socketsJoin")
	return o.request(ctx, clusterwire.RemoteJoin, clusterwire.MsgSocketsJoin, func(b *clusterwire.Builder) {
		b.Key("rooms").Strings(rooms)
	})
}

// SocketsLeave makes the selected sockets leave rooms, on every server.
func (o Operator) SocketsLeave(ctx context.Context, rooms ...string) (err error) {
	defer wrap(&err, "socketsLeave")
	return o.request(ctx, clusterwire.RemoteLeave, clusterwire.MsgSocketsLeave, func(b *clusterwire.Builder) {
		b.Key("rooms").Strings(rooms)
	})
}

// DisconnectSockets disconnects the selected sockets, on every server;
// with close, their underlying connections are closed too.
func (o Operator) DisconnectSockets(ctx context.Context, close bool) (err error) {
	defer wrap(&err, "disconnectSockets")
	return o.request(ctx, clusterwire.RemoteDisconnect, clusterwire.MsgDisconnectSockets, func(b *clusterwire.Builder) {
		b.Key("close").Bool(close)
	})
}

// request sends a socketsJoin, socketsLeave or disconnectSockets: for the
// pub/sub emitter {"type":T,"opts":{rooms,except},...} as JSON on the
// request channel (flags are ignored, as in Node), for the streams
// emitter {"opts":{rooms,except,flags:{}},...} in the stream.
func (o Operator) request(ctx context.Context, reqType, msgType int64, tail func(*clusterwire.Builder)) error {
	e := o.e
	b := &clusterwire.Builder{}
	opts := &clusterwire.Opts{Rooms: o.rooms, Except: o.except}
	if e.kind == pubsub {
		b.Raw("{").Key("type").Int(reqType).Key("opts").Opts(opts, false)
		tail(b)
		b.Raw("}")
		return e.client.Do(ctx, e.publishCmd(e.requestsCh, b.Value().JSON)).Error()
	}
	b.Raw("{").Key("opts").Opts(opts, true)
	tail(b)
	b.Raw("}")
	cmd, err := e.xaddCmd(msgType, b.Value())
	if err != nil {
		return err
	}
	return e.client.Do(ctx, cmd).Error()
}

// xaddCmd returns the XADD of a message to the namespace's stream, as the
// streams adapter reads it: fields uid, nsp, type and data
// (clusterwire.StreamData).
func (e *Emitter) xaddCmd(typ int64, data parser.Value) (rueidis.Completed, error) {
	field, err := clusterwire.StreamData(int(typ), data, false)
	if err != nil {
		return rueidis.Completed{}, err
	}
	args := make([]string, 0, 12)
	if e.maxLen > 0 {
		args = append(args, "MAXLEN", "~", strconv.FormatInt(e.maxLen, 10))
	}
	args = append(args, "*",
		"uid", clusterwire.EmitterUID,
		"nsp", e.nsp,
		"type", strconv.FormatInt(typ, 10),
		"data", field)
	return e.client.B().Arbitrary("XADD").Keys(e.stream).Args(args...).Build().Pin(), nil
}

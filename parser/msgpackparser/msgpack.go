// Package msgpackparser is the MessagePack wire format of Socket.IO
// packets, compatible with the npm package socket.io-msgpack-parser 3.x
// (which encodes with notepack.io 2.2). Use it on a server and on its
// clients alike:
//
//	srv := socketio.NewServer(&socketio.Options{Parser: msgpackparser.Parser{}})
//	c, err := socketio.Connect(ctx, url, &socketio.ClientOptions{
//		ManagerOptions: socketio.ManagerOptions{Parser: msgpackparser.Parser{}},
//	})
//
// and, in JavaScript, new Server({ parser: require("socket.io-msgpack-parser") })
// or io(url, { parser: require("socket.io-msgpack-parser") }). Every server
// and client of one application must use the same parser.
//
// # Wire format
//
// Each packet is one binary Engine.IO message: the msgpack map
//
//	{"type": <0..4>, "data": <payload>, "nsp": <namespace>, "id": <ack id>}
//
// "data" is left out when the packet has none and "id" when it asks for
// no acknowledgement. There are no BINARY_EVENT or BINARY_ACK packets and
// no attachments: binary values are msgpack bin where they stand in the
// data. Numbers follow notepack's rule (the smallest integer form for
// integral values, float64 otherwise).
//
// In Go the packets keep the form of package parser: Data is JSON and each
// bin is a {"_placeholder":true,"num":N} placeholder referring to
// Attachments[N], so handlers see the same arguments ([]byte for binary)
// whatever the parser. An EVENT or ACK is decoded with Type Event or Ack,
// attachments or not; BinaryEvent and BinaryAck are encoded as EVENT and
// ACK.
//
// # Decoding
//
// The decoder makes the checks of socket.io-msgpack-parser: the message
// is binary and one msgpack map (no trailing bytes); "type" is an integer
// from 0 to 4; "nsp" is a string; "id" is absent or an integer; "data" is
// absent or an object for CONNECT, absent for DISCONNECT, a string or an
// object for CONNECT_ERROR, an array for EVENT and ACK. Other keys are
// ignored; notepack's undefined (fixext1 type 0) counts as absent. It is
// stricter where the rest of gosio relies on what the default parser
// guarantees, and where Go cannot represent the value:
//
//   - an EVENT must start with an event name, a string that is not
//     reserved (see [parser.IsReserved]) or a finite number, as with the
//     default parser;
//   - an ack id must be a non-negative integer below 2^64;
//   - a map that reads as a placeholder ("_placeholder": true) in data that
//     also has binary values is refused, since it could not be told from
//     one.
//
// Binary values in the data of a CONNECT or CONNECT_ERROR become the JSON
// that JSON.stringify writes for a Buffer, {"type":"Buffer","data":[...]},
// which is what such a value becomes with the default parser. The number
// of binary values in a packet is not limited (socket.io-msgpack-parser
// has no limit): maxAttachments does not apply. Values decode as notepack
// 3 does (see package internal/msgpack), which differs from notepack 2.2
// only for the msgpack timestamp extension (-1), decoded to a date string
// rather than to [-1, <bytes>]; no JavaScript peer of this parser sends it.
//
// Every decoding error is a *[parser.DecodeError]; a server closes the
// connection that sent it, and only that one.
package msgpackparser

import (
	"errors"
	"fmt"
	"math"

	"github.com/gosio/gosio/internal/msgpack"
	"github.com/gosio/gosio/parser"
)

// Parser is the socket.io-msgpack-parser wire format, a [parser.Parser].
// Its zero value is ready to use; it is stateless.
type Parser struct{}

var _ parser.Parser = Parser{}

// AppendPacket implements parser.Parser: it appends the msgpack map of p
// to dst. The message is binary and nothing follows it. It fails when
// p.Type is not a Socket.IO v5 type, or when p.Data is not valid JSON or
// has a placeholder that does not refer to one of p.Attachments.
func (Parser) AppendPacket(dst []byte, p *parser.Packet) ([]byte, bool, [][]byte, error) {
	t := p.Type
	switch t {
	case parser.BinaryEvent:
		t = parser.Event
	case parser.BinaryAck:
		t = parser.Ack
	}
	if t > parser.ConnectError {
		return dst, true, nil, errors.New("msgpackparser: cannot encode a packet of type " + p.Type.String())
	}
	n := 2
	if len(p.Data) > 0 {
		n++
	}
	if p.HasID {
		n++
	}
	b := msgpack.AppendMapHeader(dst, n)
	b = msgpack.AppendString(b, "type")
	b = msgpack.AppendUint(b, uint64(t))
	if len(p.Data) > 0 {
		v := parser.Value{JSON: p.Data}
		if t == parser.Event || t == parser.Ack {
			v.Attachments = p.Attachments
		}
		b = msgpack.AppendString(b, "data")
		var err error
		if b, err = msgpack.AppendJSON(b, v, msgpack.Notepack); err != nil {
			return dst, true, nil, fmt.Errorf("msgpackparser: cannot encode the data of %v: %w", t, err)
		}
	}
	nsp := p.Namespace
	if nsp == "" {
		nsp = "/"
	}
	b = msgpack.AppendString(b, "nsp")
	b = msgpack.AppendString(b, nsp)
	if p.HasID {
		b = msgpack.AppendString(b, "id")
		b = msgpack.AppendUint(b, p.ID)
	}
	return b, true, nil, nil
}

// NewDecoder implements parser.Parser. maxAttachments is ignored: see
// the package documentation.
func (Parser) NewDecoder(int) parser.PacketDecoder { return decoder{} }

// decoder is stateless: every packet is one message.
type decoder struct{}

// Decode implements parser.PacketDecoder.
func (decoder) Decode(msg []byte, binary bool) (*parser.Packet, error) {
	if !binary {
		return nil, fail(parser.ErrUnexpectedText, "a text message (with socket.io-msgpack-parser every packet is one binary message; does the peer use the default parser?)")
	}
	p := new(parser.Packet)
	if err := decode(p, msg); err != nil {
		return nil, err
	}
	return p, nil
}

func fail(kind error, reason string) *parser.DecodeError {
	return &parser.DecodeError{Kind: kind, Reason: "msgpackparser: " + reason}
}

// undefined is notepack's encoding of JavaScript's undefined (fixext1
// type 0), which it also writes for an object member set to undefined.
func isUndefined(raw []byte) bool {
	return len(raw) == 3 && raw[0] == 0xd4 && raw[1] == 0 && raw[2] == 0
}

// decode decodes the packet msg, one binary message, into *p, which it
// overwrites; the Data and Attachments of p alias msg. Every error is a
// *parser.DecodeError.
func decode(p *parser.Packet, msg []byte) error {
	r := msgpack.NewReader(msg)
	n, err := r.ReadMapHeader()
	if err != nil {
		return fail(parser.ErrInvalidPayload, "the packet is not a msgpack map: "+err.Error())
	}
	var typ, data, nsp, id []byte
	for range n {
		var key string
		if k, _ := r.Peek(); k == msgpack.KindString {
			key, _ = r.ReadString()
		} else if err := r.Skip(); err != nil {
			return fail(parser.ErrInvalidPayload, "malformed msgpack: "+err.Error())
		}
		raw, err := r.Raw()
		if err != nil {
			return fail(parser.ErrInvalidPayload, "malformed msgpack: "+err.Error())
		}
		if isUndefined(raw) {
			raw = nil // a member set to undefined is as good as absent
		}
		switch key { // as in JavaScript, the last of repeated keys wins
		case "type":
			typ = raw
		case "data":
			data = raw
		case "nsp":
			nsp = raw
		case "id":
			id = raw
		}
	}
	if !r.Done() {
		return fail(parser.ErrInvalidPayload, "trailing bytes after the packet")
	}

	f, ok := integer(typ)
	if !ok || f < 0 || f > float64(parser.ConnectError) {
		return fail(parser.ErrUnknownType, "invalid packet type")
	}
	*p = parser.Packet{Type: parser.PacketType(f)}

	if nsp == nil {
		return fail(parser.ErrInvalidPayload, "invalid namespace: none")
	}
	nr := msgpack.NewReader(nsp)
	if p.Namespace, err = nr.ReadString(); err != nil {
		return fail(parser.ErrInvalidPayload, "invalid namespace: not a string")
	}

	if id != nil {
		f, ok := integer(id)
		if !ok || f < 0 || f >= 1<<64 {
			return fail(parser.ErrInvalidPayload, "invalid packet id: not an integer from 0 to 2^64-1")
		}
		p.ID, p.HasID = uint64(f), true
	}

	if data == nil {
		switch p.Type {
		case parser.Connect, parser.Disconnect:
			return nil
		}
		return fail(parser.ErrInvalidPayload, "invalid payload: "+p.Type.String()+" must have data")
	}
	kind, _ := msgpack.NewReader(data).Peek()
	switch p.Type {
	case parser.Disconnect:
		return fail(parser.ErrInvalidPayload, "invalid payload: DISCONNECT must not carry data")
	case parser.Connect:
		if kind != msgpack.KindMap {
			return fail(parser.ErrInvalidPayload, "invalid payload: CONNECT data must be an object")
		}
	case parser.ConnectError:
		if kind != msgpack.KindMap && kind != msgpack.KindString {
			return fail(parser.ErrInvalidPayload, "invalid payload: CONNECT_ERROR data must be a string or an object")
		}
	case parser.Ack:
		if kind != msgpack.KindArray {
			return fail(parser.ErrInvalidPayload, "invalid payload: ACK data must be an array")
		}
	case parser.Event:
		if reason := checkEvent(data); reason != "" {
			return fail(parser.ErrInvalidPayload, "invalid payload: "+reason)
		}
	}
	v, err := msgpack.ToJSON(data)
	if err != nil {
		return fail(parser.ErrInvalidPayload, "invalid payload: "+err.Error())
	}
	if len(v.Attachments) > 0 && (p.Type == parser.Connect || p.Type == parser.ConnectError) {
		// Binary has no place in these packets' JSON: write it as
		// JSON.stringify writes a Buffer, as the default parser would
		// carry it.
		if v.JSON, err = msgpack.BufferJSON(v); err != nil {
			return fail(parser.ErrInvalidPayload, "invalid payload: "+err.Error())
		}
		v.Attachments = nil
	}
	p.Data, p.Attachments = v.JSON, v.Attachments
	return nil
}

// integer returns the msgpack number raw as a float64, as JavaScript
// reads it, and whether it is an integer (Number.isInteger).
func integer(raw []byte) (float64, bool) {
	if raw == nil {
		return 0, false
	}
	f, err := msgpack.NewReader(raw).ReadFloat()
	if err != nil || math.IsInf(f, 0) || f != math.Trunc(f) {
		return 0, false
	}
	return f, true
}

// checkEvent returns why the msgpack value data is not an EVENT's data,
// or "": it must be an array starting with an event name, a number or a
// string that is not reserved.
func checkEvent(data []byte) string {
	r := msgpack.NewReader(data)
	n, err := r.ReadArrayHeader()
	if err != nil {
		return "EVENT data must be an array"
	}
	if n == 0 {
		return "EVENT data must not be an empty array"
	}
	switch k, _ := r.Peek(); k {
	case msgpack.KindInt, msgpack.KindUint, msgpack.KindFloat:
		if f, _ := r.ReadFloat(); math.IsNaN(f) || math.IsInf(f, 0) {
			return "EVENT name must be a finite number" // JSON would make it null
		}
	case msgpack.KindString:
		name, _ := r.ReadString()
		if parser.IsReserved(name) {
			return "event name " + name + " is reserved"
		}
	default:
		return "EVENT data must start with an event name (a string or a number)"
	}
	return ""
}

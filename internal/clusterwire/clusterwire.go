// Package clusterwire is the wire format of Node's Socket.IO cluster
// adapters and emitters, shared by gosio's Redis adapters and emitters so
// that they can never drift apart: message types, channel names, and the
// encoding and decoding of messages (JSON, or msgpack as notepack.io
// writes it). It does no I/O.
//
// Messages are built as JSON text with binary placeholders (a
// parser.Value), in the key order Node writes, and transcoded to msgpack
// when the adapter's encoding asks for it; received messages, JSON or
// msgpack, are turned into the same form before they are read.
package clusterwire

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/gosio/gosio/internal/jsonscan"
	"github.com/gosio/gosio/internal/msgpack"
	"github.com/gosio/gosio/parser"
)

// Request types of the classic adapter (@socket.io/redis-adapter
// RequestType).
const (
	Sockets              = 0
	AllRooms             = 1
	RemoteJoin           = 2
	RemoteLeave          = 3
	RemoteDisconnect     = 4
	RemoteFetch          = 5
	ServerSideEmit       = 6
	Broadcast            = 7
	BroadcastClientCount = 8
	BroadcastAck         = 9
)

// Message types of the ClusterAdapter model (socket.io-adapter
// MessageType), used by the sharded and streams adapters.
const (
	MsgInitialHeartbeat       = 1
	MsgHeartbeat              = 2
	MsgBroadcast              = 3
	MsgSocketsJoin            = 4
	MsgSocketsLeave           = 5
	MsgDisconnectSockets      = 6
	MsgFetchSockets           = 7
	MsgFetchSocketsResponse   = 8
	MsgServerSideEmit         = 9
	MsgServerSideEmitResponse = 10
	MsgBroadcastClientCount   = 11
	MsgBroadcastAck           = 12
	MsgAdapterClose           = 13
)

// EmitterUID is the uid the Node emitters put in their messages.
const EmitterUID = "emitter"

// ErrMalformed is returned for a message that does not decode or does not
// have the shape its type requires.
var ErrMalformed = errors.New("clusterwire: malformed message")

// Channel names of the classic adapter, for key K and namespace nsp.

// BroadcastChannel is K#nsp#, the channel of broadcasts to 0 or 2+ rooms;
// nodes PSUBSCRIBE BroadcastChannel + "*".
func BroadcastChannel(key, nsp string) string { return key + "#" + nsp + "#" }

// RoomChannel is K#nsp#room#, the channel of broadcasts to exactly one
// room (classic), or a sharded adapter's channel for a room or a uid.
func RoomChannel(key, nsp, room string) string { return key + "#" + nsp + "#" + room + "#" }

// RequestChannel is K-request#nsp#.
func RequestChannel(key, nsp string) string { return key + "-request#" + nsp + "#" }

// ResponseChannel is K-response#nsp#, the shared response channel.
func ResponseChannel(key, nsp string) string { return key + "-response#" + nsp + "#" }

// SpecificResponseChannel is K-response#nsp#uid#.
func SpecificResponseChannel(key, nsp, uid string) string {
	return key + "-response#" + nsp + "#" + uid + "#"
}

// Defaults of the streams adapter and the streams emitter.
const (
	DefaultStreamName       = "socket.io"
	DefaultSessionKeyPrefix = "sio:session:"
	DefaultStreamMaxLen     = 10000
)

// StreamKey returns the stream that the streams adapter writes namespace
// nsp to: name itself when count is 1 or less, else name-i with i Node's
// hashCode(nsp) % count. The hash runs over UTF-16 code units and wraps
// to int32, and JavaScript's % keeps the sign, so i can be negative
// ("socket.io--1"): Node writes there although its readers never read
// it, and gosio writes and reads the same name.
func StreamKey(name string, count int, nsp string) string {
	if count <= 1 {
		return name
	}
	return name + "-" + strconv.Itoa(StreamIndex(nsp, count))
}

// StreamIndex is Node's hashCode(nsp) % count, negative for a negative
// hash; count must be positive.
func StreamIndex(nsp string, count int) int {
	var h int32
	for _, r := range nsp {
		if r >= 0x10000 {
			r -= 0x10000
			h = h*31 + int32(0xD800+(r>>10))
			h = h*31 + int32(0xDC00+(r&0x3FF))
			continue
		}
		h = h*31 + int32(r)
	}
	return int(h) % count // Go's % keeps the dividend's sign, as JavaScript's
}

// MayHaveBinary reports the message types of the ClusterAdapter model
// whose data Node's adapters encode as msgpack when it holds binary.
func MayHaveBinary(typ int) bool {
	switch typ {
	case MsgBroadcast, MsgBroadcastAck, MsgFetchSocketsResponse, MsgServerSideEmit, MsgServerSideEmitResponse:
		return true
	}
	return false
}

// StreamData returns the data field of a stream entry of type typ, as the
// streams adapter writes it (and its emitter, and its readers expect):
// JSON text, or base64 of @msgpack/msgpack's encoding when the type may
// carry binary and data does. With plaintext (the adapter's onlyPlaintext)
// binary is written as Node's JSON form of a Buffer instead.
func StreamData(typ int, data parser.Value, plaintext bool) (string, error) {
	switch {
	case len(data.Attachments) == 0:
		return string(data.JSON), nil
	case !plaintext && MayHaveBinary(typ):
		b, err := msgpack.AppendJSON(nil, data, msgpack.MsgpackJS)
		if err != nil {
			return "", err
		}
		return base64.StdEncoding.EncodeToString(b), nil
	}
	b, err := msgpack.BufferJSON(data)
	return string(b), err
}

// LooksLikeSocketID reports whether room has the length of a socket id
// (20 UTF-16 code units), the sharded adapter's test for publishing to a
// room on the main channel.
func LooksLikeSocketID(room string) bool { return JSLength(room) == 20 }

// JSLength returns the length of s in UTF-16 code units, as JavaScript's
// String.length.
func JSLength(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// Flags are the broadcast flags that travel on the wire.
type Flags struct {
	Volatile             bool
	Compress             bool
	TimeoutMS            int64 // 0: none
	ExpectSingleResponse bool
}

// Opts are a broadcast's or a request's socket selection.
type Opts struct {
	Rooms  []string
	Except []string
	Flags  Flags
}

// Decode turns a received payload, JSON text or msgpack, into JSON with
// binary placeholders: binary data decoded from msgpack become attachments.
func Decode(payload []byte) (parser.Value, error) {
	if len(payload) > 0 && (payload[0] == '{' || payload[0] == '[') {
		if !json.Valid(payload) {
			return parser.Value{}, ErrMalformed
		}
		return parser.Value{JSON: payload}, nil
	}
	v, err := msgpack.ToJSON(payload)
	if err != nil {
		return parser.Value{}, errors.Join(ErrMalformed, err)
	}
	return v, nil
}

// Encode writes v as msgpack (notepack.io's rules) when asMsgpack is set,
// else as JSON text with every binary written as Node's JSON form of a
// Buffer ({"type":"Buffer","data":[...]}).
func Encode(v parser.Value, asMsgpack bool) ([]byte, error) {
	if asMsgpack {
		return msgpack.AppendJSON(nil, v, msgpack.Notepack)
	}
	if len(v.Attachments) == 0 {
		return v.JSON, nil
	}
	return msgpack.BufferJSON(v)
}

// A Builder writes a JSON message in a chosen key order, collecting the
// attachments of the binary values it embeds.
type Builder struct {
	buf  []byte
	atts [][]byte
}

// Value returns the message built.
func (b *Builder) Value() parser.Value { return parser.Value{JSON: b.buf, Attachments: b.atts} }

// Raw appends JSON text.
func (b *Builder) Raw(s string) *Builder { b.buf = append(b.buf, s...); return b }

// Key appends "k": (with a comma before it unless it opens the object).
func (b *Builder) Key(k string) *Builder {
	if n := len(b.buf); n > 0 && b.buf[n-1] != '{' && b.buf[n-1] != '[' {
		b.buf = append(b.buf, ',')
	}
	b.buf = AppendString(b.buf, k)
	b.buf = append(b.buf, ':')
	return b
}

// Str appends a JSON string.
func (b *Builder) Str(s string) *Builder { b.buf = AppendString(b.buf, s); return b }

// Int appends an integer.
func (b *Builder) Int(n int64) *Builder { b.buf = strconv.AppendInt(b.buf, n, 10); return b }

// Bool appends a boolean.
func (b *Builder) Bool(v bool) *Builder { b.buf = strconv.AppendBool(b.buf, v); return b }

// Strings appends an array of strings.
func (b *Builder) Strings(ss []string) *Builder {
	b.buf = append(b.buf, '[')
	for i, s := range ss {
		if i > 0 {
			b.buf = append(b.buf, ',')
		}
		b.buf = AppendString(b.buf, s)
	}
	b.buf = append(b.buf, ']')
	return b
}

// Val appends v, renumbering its placeholders after the attachments
// already embedded. A zero Value is written as null.
func (b *Builder) Val(v parser.Value) *Builder {
	if len(v.JSON) == 0 {
		b.buf = append(b.buf, "null"...)
		return b
	}
	if len(v.Attachments) == 0 {
		b.buf = append(b.buf, v.JSON...)
		return b
	}
	// MarshalArgs renumbers from 0: write the value alone, then shift.
	arr, atts, err := parser.MarshalArgs(nil, v)
	if err != nil {
		b.buf = append(b.buf, "null"...)
		return b
	}
	inner := arr[1 : len(arr)-1]
	if len(b.atts) == 0 {
		b.buf = append(b.buf, inner...)
	} else {
		b.buf = shiftPlaceholders(b.buf, inner, len(b.atts))
	}
	b.atts = append(b.atts, atts...)
	return b
}

// Flags appends a flags object as Node writes it: only the flags set.
func (b *Builder) Flags(f Flags) *Builder {
	b.buf = append(b.buf, '{')
	if f.Volatile {
		b.Key("volatile").Bool(true)
	}
	if f.Compress {
		b.Key("compress").Bool(true)
	}
	if f.TimeoutMS > 0 {
		b.Key("timeout").Int(f.TimeoutMS)
	}
	if f.ExpectSingleResponse {
		b.Key("expectSingleResponse").Bool(true)
	}
	b.buf = append(b.buf, '}')
	return b
}

// Opts appends {"rooms":[..],"except":[..]} and, with flags, "flags".
func (b *Builder) Opts(o *Opts, flags bool) *Builder {
	b.Raw("{").Key("rooms").Strings(nonNil(o.Rooms)).Key("except").Strings(nonNil(o.Except))
	if flags {
		b.Key("flags").Flags(o.Flags)
	}
	return b.Raw("}")
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// shiftPlaceholders appends the JSON v to dst with every placeholder
// number increased by by. v was written by parser.MarshalArgs, so its
// placeholders are exactly {"_placeholder":true,"num":N}.
func shiftPlaceholders(dst, v []byte, by int) []byte {
	const marker = `{"_placeholder":true,"num":`
	for {
		i := indexOf(v, marker)
		if i < 0 {
			return append(dst, v...)
		}
		dst = append(dst, v[:i+len(marker)]...)
		v = v[i+len(marker):]
		j := 0
		for j < len(v) && v[j] >= '0' && v[j] <= '9' {
			j++
		}
		n, _ := strconv.Atoi(string(v[:j]))
		dst = strconv.AppendInt(dst, int64(n+by), 10)
		v = v[j:]
	}
}

func indexOf(s []byte, sub string) int {
outer:
	for i := 0; i+len(sub) <= len(s); i++ {
		for j := 0; j < len(sub); j++ {
			if s[i+j] != sub[j] {
				continue outer
			}
		}
		return i
	}
	return -1
}

// AppendString appends s as a JSON string the way JavaScript's
// JSON.stringify writes it: only '"', '\\' and control characters are
// escaped; invalid UTF-8 becomes U+FFFD.
func AppendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c >= 0x20:
				dst = append(dst, c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c == '\b':
				dst = append(dst, '\\', 'b')
			case c == '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, "\ufffd"...)
		} else {
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return append(dst, '"')
}

// Rooms is a list of room names read from JSON: strings, or numbers (Node
// allows io.to(123)), which become their JavaScript string form.
type Rooms []string

// UnmarshalJSON implements json.Unmarshaler; null is an empty list.
func (r *Rooms) UnmarshalJSON(b []byte) error {
	if i := jsonscan.WS(b, 0); i < len(b) && b[i] == 'n' {
		if end, err := jsonscan.Skip(b, i); err != nil || jsonscan.WS(b, end) != len(b) {
			return ErrMalformed
		}
		*r = []string{}
		return nil
	}
	out, end, err := ReadRooms(b, 0)
	if err != nil {
		return err
	}
	if jsonscan.WS(b, end) != len(b) {
		return ErrMalformed
	}
	*r = out
	return nil
}

// ReadRooms reads the JSON array of room names at b[i:] as Rooms does and
// returns the offset just past it.
func ReadRooms(b []byte, i int) ([]string, int, error) {
	a := jsonscan.NewArray(b, i)
	out := []string{}
	for at, ok := a.Next(); ok; at, ok = a.Next() {
		if b[at] == '"' {
			s, end, err := jsonscan.String(b, at)
			if err != nil {
				return nil, 0, err
			}
			out = append(out, s)
			a.Done(end)
			continue
		}
		end, err := jsonscan.Skip(b, at)
		if err != nil {
			return nil, 0, err
		}
		var f float64
		if err := json.Unmarshal(b[at:end], &f); err != nil {
			return nil, 0, ErrMalformed
		}
		out = append(out, strconv.FormatFloat(f, 'f', -1, 64))
		a.Done(end)
	}
	end, err := a.End()
	if err != nil {
		return nil, 0, err
	}
	return out, end, nil
}

// WireFlags is the flags object as received; unknown keys are ignored.
type WireFlags struct {
	Volatile             *bool   `json:"volatile"` // nil: no such key (Node's offset test looks for it)
	Compress             *bool   `json:"compress"`
	Timeout              float64 `json:"timeout"`
	ExpectSingleResponse bool    `json:"expectSingleResponse"`
	Local                bool    `json:"local"`
}

// WireOpts is a broadcast's opts as received.
type WireOpts struct {
	Rooms  Rooms     `json:"rooms"`
	Except Rooms     `json:"except"`
	Flags  WireFlags `json:"flags"`
}

// WirePacket is a broadcast packet as received: {type, data, nsp?, id?}.
type WirePacket struct {
	Type int             `json:"type"`
	Data json.RawMessage `json:"data"`
	ID   json.RawMessage `json:"id"` // set by socket.emit with an ack under recovery
	Nsp  *string         `json:"nsp"`
}

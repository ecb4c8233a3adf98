package emitter

import (
	"reflect"
	"unicode/utf8"

	"github.com/gosio/gosio/internal/clusterwire"
	"github.com/gosio/gosio/internal/msgpack"
	"github.com/gosio/gosio/parser"
)

// The msgpack broadcast of the pub/sub emitter is written directly, with
// no JSON text in between:
//
//	["emitter", {"type":2, "data":[event, ...args], "nsp":N}, {"rooms":[..], "flags":{..}, "except":[..]}]
//
// Strings, booleans, nil, integers of at most 53 bits, []byte and structs
// of plain fields (structenc.go) are written as they are; any other
// argument is encoded by parser.MarshalArgs and converted to msgpack on
// its own (internal/msgpack AppendJSON), which gives the bytes the JSON
// route gives for the whole message. encodeBroadcastJSON is that route; TestDirectEncoding compares
// the two.

// bcastHead is the constant start of a broadcast, up to the "data" key.
var bcastHead = func() []byte {
	b := msgpack.AppendArrayHeader(nil, 3)
	b = msgpack.AppendString(b, clusterwire.EmitterUID)
	b = msgpack.AppendMapHeader(b, 3)
	b = msgpack.AppendString(b, "type")
	b = msgpack.AppendNumber(b, float64(parser.Event), msgpack.Notepack)
	return msgpack.AppendString(b, "data")
}()

// nspTail returns the "nsp" member of a broadcast of namespace nsp.
func nspTail(nsp string) []byte {
	return msgpack.AppendString(msgpack.AppendString(nil, "nsp"), nsp)
}

const maxSafeInt = 1<<53 - 1

// directOK reports whether the strings of o and event can be written as
// they are (valid UTF-8; the JSON route replaces invalid sequences).
func (o Operator) directOK(event string) bool {
	if !utf8.ValidString(event) || !utf8.ValidString(o.e.nsp) {
		return false
	}
	for _, r := range o.rooms {
		if !utf8.ValidString(r) {
			return false
		}
	}
	for _, r := range o.except {
		if !utf8.ValidString(r) {
			return false
		}
	}
	return true
}

// appendBroadcast appends the msgpack broadcast of event and args (already
// checked by checkEvent) to b.
func (o Operator) appendBroadcast(b []byte, event string, args []any) ([]byte, error) {
	b = append(b, bcastHead...)
	b = msgpack.AppendArrayHeader(b, 1+len(args))
	b = msgpack.AppendString(b, event)
	for _, a := range args {
		var err error
		if b, err = appendArg(b, a); err != nil {
			return nil, err
		}
	}
	b = append(b, o.e.nspTail...)
	b = msgpack.AppendMapHeader(b, 3)
	b = appendStrings(msgpack.AppendString(b, "rooms"), o.rooms)
	b = msgpack.AppendMapHeader(msgpack.AppendString(b, "flags"), len(o.flags))
	for _, f := range o.flags {
		b = msgpack.AppendBool(msgpack.AppendString(b, f.name), f.on)
	}
	return appendStrings(msgpack.AppendString(b, "except"), o.except), nil
}

func appendStrings(b []byte, ss []string) []byte {
	b = msgpack.AppendArrayHeader(b, len(ss))
	for _, s := range ss {
		b = msgpack.AppendString(b, s)
	}
	return b
}

// appendArg appends one argument as the JSON route would write it.
func appendArg(b []byte, a any) ([]byte, error) {
	switch v := a.(type) {
	case nil:
		return msgpack.AppendNil(b), nil
	case string:
		if utf8.ValidString(v) {
			return msgpack.AppendString(b, v), nil
		}
	case bool:
		return msgpack.AppendBool(b, v), nil
	case int:
		if v >= -maxSafeInt && v <= maxSafeInt {
			return msgpack.AppendNumber(b, float64(v), msgpack.Notepack), nil
		}
	case int64:
		if v >= -maxSafeInt && v <= maxSafeInt {
			return msgpack.AppendNumber(b, float64(v), msgpack.Notepack), nil
		}
	case int32:
		return msgpack.AppendNumber(b, float64(v), msgpack.Notepack), nil
	case uint32:
		return msgpack.AppendNumber(b, float64(v), msgpack.Notepack), nil
	case []byte:
		return msgpack.AppendBin(b, v), nil
	default:
		if rv := reflect.ValueOf(a); rv.Kind() == reflect.Struct {
			if out, ok := appendStruct(b, rv); ok {
				return out, nil
			}
		}
	}
	// [a] as JSON, converted, without its one-byte array header.
	j, atts, err := parser.MarshalArgs(nil, a)
	if err != nil {
		return nil, err
	}
	start := len(b)
	b, err = msgpack.AppendJSON(b, parser.Value{JSON: j, Attachments: atts}, msgpack.Notepack)
	if err != nil {
		return nil, err
	}
	return append(b[:start], b[start+1:]...), nil
}

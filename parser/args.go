package parser

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Value is a JSON value received from a peer, with the attachments its
// placeholders refer to: typically one element of a binary packet's data,
// as split by SplitArray, with all of the packet's Attachments.
//
// Passing a Value to MarshalArgs re-emits it: the same JSON text, byte for
// byte when it has no placeholders, and the same binary data. Without
// Attachments, placeholder-like objects in JSON are plain JSON.
type Value struct {
	JSON        json.RawMessage
	Attachments [][]byte
}

// maxDepth bounds the nesting MarshalArgs follows, which also stops it on
// a cyclic value.
const maxDepth = 10000

var errTooDeep = errors.New("parser: MarshalArgs: nesting deeper than 10000 levels (a cycle?)")

// MarshalArgs appends the JSON array of args to dst and returns the
// extended buffer and the attachments, as the Data and Attachments of an
// EVENT or ACK packet.
//
// A []byte, even nil, anywhere in the arguments (at the top level, in a
// []any, a map or a slice, in a field of a struct at any depth) becomes a
// placeholder {"_placeholder":true,"num":N} and its bytes attachment N,
// numbered depth-first in text order, as Node sends a Buffer; Unmarshal
// decodes it back into a []byte field. A Value is written
// as received, its placeholders renumbered into the returned attachments;
// a json.RawMessage is written verbatim (both are checked to be valid
// JSON). A map[string]any has its keys sorted, as encoding/json does.
// Strings, numbers and booleans are written as JavaScript's JSON.stringify
// writes them. Other values follow encoding/json's rules (field tags,
// omitempty, embedded structs, sorted map keys), without HTML escaping; a
// type with a MarshalJSON or MarshalText method is marshalled by
// encoding/json, so a []byte inside it stays base64 text.
//
// The returned attachments alias the []byte arguments. On error, dst is
// returned unchanged.
func MarshalArgs(dst []byte, args ...any) ([]byte, [][]byte, error) {
	e := argEncoder{buf: append(dst, '[')}
	for i, a := range args {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.encode(a, 0); err != nil {
			return dst, nil, err
		}
	}
	return append(e.buf, ']'), e.atts, nil
}

type argEncoder struct {
	buf  []byte
	atts [][]byte
}

func (e *argEncoder) encode(v any, depth int) error {
	if depth > maxDepth {
		return errTooDeep
	}
	switch v := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case string:
		e.buf = appendString(e.buf, v)
	case bool:
		e.buf = strconv.AppendBool(e.buf, v)
	case int:
		e.buf = strconv.AppendInt(e.buf, int64(v), 10)
	case int8:
		e.buf = strconv.AppendInt(e.buf, int64(v), 10)
	case int16:
		e.buf = strconv.AppendInt(e.buf, int64(v), 10)
	case int32:
		e.buf = strconv.AppendInt(e.buf, int64(v), 10)
	case int64:
		e.buf = strconv.AppendInt(e.buf, v, 10)
	case uint:
		e.buf = strconv.AppendUint(e.buf, uint64(v), 10)
	case uint8:
		e.buf = strconv.AppendUint(e.buf, uint64(v), 10)
	case uint16:
		e.buf = strconv.AppendUint(e.buf, uint64(v), 10)
	case uint32:
		e.buf = strconv.AppendUint(e.buf, uint64(v), 10)
	case uint64:
		e.buf = strconv.AppendUint(e.buf, v, 10)
	case float32:
		return e.float(float64(v), 32)
	case float64:
		return e.float(v, 64)
	case []byte:
		e.placeholder(v)
	case [][]byte:
		if v == nil {
			e.buf = append(e.buf, "null"...)
			break
		}
		e.buf = append(e.buf, '[')
		for i, b := range v {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.placeholder(b)
		}
		e.buf = append(e.buf, ']')
	case json.RawMessage:
		return e.raw(v, nil)
	case Value:
		return e.raw(v.JSON, v.Attachments)
	case *Value:
		if v == nil {
			e.buf = append(e.buf, "null"...)
			break
		}
		return e.raw(v.JSON, v.Attachments)
	case []any:
		if v == nil {
			e.buf = append(e.buf, "null"...)
			break
		}
		e.buf = append(e.buf, '[')
		for i, x := range v {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			if err := e.encode(x, depth+1); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, ']')
	case map[string]any:
		if v == nil {
			e.buf = append(e.buf, "null"...)
			break
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		e.buf = append(e.buf, '{')
		for i, k := range keys {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.buf = appendString(e.buf, k)
			e.buf = append(e.buf, ':')
			if err := e.encode(v[k], depth+1); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, '}')
	default:
		if rv := reflect.ValueOf(v); walked(rv.Type()) {
			return e.value(rv, depth)
		}
		w := bytes.NewBuffer(e.buf)
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("parser: MarshalArgs: %w", err)
		}
		e.buf = bytes.TrimSuffix(w.Bytes(), []byte{'\n'})
	}
	return nil
}

func (e *argEncoder) placeholder(b []byte) {
	e.buf = append(e.buf, `{"_placeholder":true,"num":`...)
	e.buf = strconv.AppendInt(e.buf, int64(len(e.atts)), 10)
	e.buf = append(e.buf, '}')
	e.atts = append(e.atts, b)
}

// raw writes the JSON text j, renumbering its placeholders into e.atts when
// it comes with attachments.
func (e *argEncoder) raw(j []byte, atts [][]byte) error {
	if len(j) == 0 {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	if !validJSON(j) {
		return fmt.Errorf("parser: MarshalArgs: invalid JSON %q", truncate(j))
	}
	if len(atts) == 0 {
		e.buf = append(e.buf, j...)
		return nil
	}
	var buf [8]placeholder
	phs, ok := findPlaceholders(j, buf[:0])
	if !ok {
		return fmt.Errorf("parser: MarshalArgs: invalid JSON %q", truncate(j))
	}
	if err := checkPlaceholders(j, phs, len(atts)); err != nil {
		return err
	}
	last := 0
	for _, ph := range phs {
		e.buf = append(e.buf, j[last:ph.start]...)
		e.placeholder(atts[ph.num])
		last = ph.end
	}
	e.buf = append(e.buf, j[last:]...)
	return nil
}

func (e *argEncoder) float(f float64, bits int) error {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return fmt.Errorf("parser: MarshalArgs: unsupported value %v", f)
	}
	if f == 0 {
		f = 0 // JSON.stringify(-0) is "0"
	}
	// Same format as encoding/json and JavaScript's Number#toString.
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) ||
			bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	e.buf = strconv.AppendFloat(e.buf, f, format, -1, bits)
	if format == 'e' { // 1e-07 -> 1e-7
		n := len(e.buf)
		if n >= 4 && e.buf[n-4] == 'e' && e.buf[n-3] == '-' && e.buf[n-2] == '0' {
			e.buf[n-2] = e.buf[n-1]
			e.buf = e.buf[:n-1]
		}
	}
	return nil
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string the way JSON.stringify does:
// only '"', '\\' and control characters are escaped. Invalid UTF-8 becomes
// \ufffd, as with encoding/json.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// checkPlaceholders returns an ErrInvalidPlaceholder error when one of
// phs, found in j, does not refer to one of n attachments.
func checkPlaceholders(j []byte, phs []placeholder, n int) error {
	for _, ph := range phs {
		if ph.num < 0 || ph.num >= n {
			return &DecodeError{Kind: ErrInvalidPlaceholder,
				Reason: fmt.Sprintf("%s does not refer to one of the %d attachment(s)", truncate(j[ph.start:ph.end]), n)}
		}
	}
	return nil
}

// SplitArray splits the JSON array data into its elements, each the exact
// bytes of data without surrounding whitespace. It returns an
// ErrInvalidPayload error when data is not a valid JSON array.
func SplitArray(data json.RawMessage) ([]json.RawMessage, error) {
	var buf [8]json.RawMessage
	elems, err := splitArray(data, buf[:0])
	if err != nil {
		return nil, err
	}
	return append(make([]json.RawMessage, 0, len(elems)), elems...), nil
}

// SplitValues is SplitArray returning each element as a Value with the
// attachments atts, in one allocation: the arguments of an EVENT or ACK
// packet, with the packet's Attachments.
func SplitValues(data json.RawMessage, atts [][]byte) ([]Value, error) {
	var buf [8]json.RawMessage
	elems, err := splitArray(data, buf[:0])
	if err != nil {
		return nil, err
	}
	vals := make([]Value, len(elems))
	for i, e := range elems {
		vals[i] = Value{JSON: e, Attachments: atts}
	}
	return vals, nil
}

// splitArray appends the elements of the JSON array data to buf, for
// SplitArray and SplitValues.
func splitArray(data json.RawMessage, buf []json.RawMessage) ([]json.RawMessage, error) {
	elems, ok := scanJSON(data, true, buf)
	if !ok {
		return nil, decodeErr(ErrInvalidPayload, "%s is not valid JSON", truncate(data))
	}
	if elems == nil {
		return nil, decodeErr(ErrInvalidPayload, "%s is not a JSON array", truncate(data))
	}
	return elems, nil
}

// Unmarshal decodes the JSON value data into v, as json.Unmarshal does,
// resolving placeholders against attachments:
//
//   - a placeholder decoded into a []byte gets the attachment (not a copy);
//   - into an interface value (v of type *any, *[]any or *map[string]any,
//     and every element below them) a placeholder becomes a []byte, and
//     numbers become float64 as with encoding/json;
//   - for other targets, placeholders are decoded as if they were base64
//     strings of their attachments, so that []byte fields and elements at
//     any depth get the bytes (a copy), but an interface field of a struct
//     gets the base64 string;
//   - v of type *Value gets data and attachments as they are.
//
// Without attachments, data is plain JSON. A placeholder that does not
// refer to one of the attachments is an ErrInvalidPlaceholder error.
func Unmarshal(data json.RawMessage, attachments [][]byte, v any) error {
	if !validJSON(data) {
		return decodeErr(ErrInvalidPayload, "%s is not valid JSON", truncate(data))
	}
	if val, ok := v.(*Value); ok && val != nil {
		val.JSON, val.Attachments = data, attachments
		return nil
	}
	if len(attachments) == 0 {
		return wrapJSON(json.Unmarshal(data, v))
	}
	var buf [8]placeholder
	phs, ok := findPlaceholders(data, buf[:0])
	if !ok {
		return decodeErr(ErrInvalidPayload, "malformed JSON")
	}
	if len(phs) == 0 {
		return wrapJSON(json.Unmarshal(data, v))
	}
	if err := checkPlaceholders(data, phs, len(attachments)); err != nil {
		return err
	}
	whole := len(phs) == 1 && bytes.Equal(trimSpace(data), data[phs[0].start:phs[0].end])
	switch t := v.(type) {
	case *[]byte:
		if whole && t != nil {
			*t = attachments[phs[0].num]
			return nil
		}
	case *any:
		if t != nil {
			var x any
			if err := json.Unmarshal(data, &x); err != nil {
				return wrapJSON(err)
			}
			*t = resolve(x, attachments)
			return nil
		}
	case *[]any:
		if t != nil {
			if err := json.Unmarshal(data, t); err != nil {
				return wrapJSON(err)
			}
			for i, x := range *t {
				(*t)[i] = resolve(x, attachments)
			}
			return nil
		}
	case *map[string]any:
		if t != nil {
			if whole {
				return fmt.Errorf("parser: cannot unmarshal a binary attachment into %T", *t)
			}
			if err := json.Unmarshal(data, t); err != nil {
				return wrapJSON(err)
			}
			for k, x := range *t {
				(*t)[k] = resolve(x, attachments)
			}
			return nil
		}
	}
	n := len(data)
	for _, ph := range phs {
		n += base64.StdEncoding.EncodedLen(len(attachments[ph.num])) + 2
	}
	out := make([]byte, 0, n)
	last := 0
	for _, ph := range phs {
		out = append(out, data[last:ph.start]...)
		out = append(out, '"')
		out = base64.StdEncoding.AppendEncode(out, attachments[ph.num])
		out = append(out, '"')
		last = ph.end
	}
	out = append(out, data[last:]...)
	return wrapJSON(json.Unmarshal(out, v))
}

// resolve replaces the placeholders in x, as decoded by encoding/json, by
// their attachments.
func resolve(x any, atts [][]byte) any {
	switch x := x.(type) {
	case map[string]any:
		if b, _ := x["_placeholder"].(bool); b {
			if f, ok := x["num"].(float64); ok && f >= 0 && f < float64(len(atts)) && f == math.Trunc(f) {
				return atts[int(f)]
			}
			return x // not reached: the placeholders were checked
		}
		for k, e := range x {
			x[k] = resolve(e, atts)
		}
	case []any:
		for i, e := range x {
			x[i] = resolve(e, atts)
		}
	}
	return x
}

func wrapJSON(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("parser: %w", err)
}

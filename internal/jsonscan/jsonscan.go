// Package jsonscan walks JSON text in place, for the decoders of hot paths
// that want one pass over their input where encoding/json makes several
// (Unmarshal validates the whole input before it decodes, and a
// json.RawMessage field is scanned again by whoever decodes it).
//
// It validates what it walks exactly as encoding/json.Valid does (the same
// grammar, the same nesting limit, invalid UTF-8 accepted inside strings),
// and it decodes strings exactly as encoding/json.Unmarshal does: strings
// with escapes or non-ASCII bytes are handed to encoding/json itself, so
// the fast path only covers the plain ASCII strings most JSON is made of.
// A caller that meets a shape it does not expect falls back to
// encoding/json; FuzzSkipMatchesValid and FuzzStringMatchesUnmarshal keep
// the two in step.
package jsonscan

import (
	"encoding/json"
	"errors"
)

// ErrSyntax reports JSON text that encoding/json.Valid rejects.
var ErrSyntax = errors.New("jsonscan: invalid JSON")

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

// WS returns the offset of the first byte at or after i that is not JSON
// whitespace (len(b) at the end).
func WS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// Skip returns the offset just past the JSON value at b[i:] (after leading
// whitespace), or ErrSyntax when that value is not valid JSON.
func Skip(b []byte, i int) (int, error) {
	return skip(b, WS(b, i), 0)
}

// Valid reports whether b is one JSON value with optional whitespace
// around it, as encoding/json.Valid does.
func Valid(b []byte) bool {
	end, err := Skip(b, 0)
	return err == nil && WS(b, end) == len(b)
}

func skip(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return 0, ErrSyntax
	}
	switch c := b[i]; {
	case c == '"':
		return skipString(b, i)
	case c == '{':
		if depth+1 > maxDepth {
			return 0, ErrSyntax
		}
		i = WS(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1, nil
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return 0, ErrSyntax
			}
			var err error
			if i, err = skipString(b, i); err != nil {
				return 0, err
			}
			i = WS(b, i)
			if i >= len(b) || b[i] != ':' {
				return 0, ErrSyntax
			}
			if i, err = skip(b, WS(b, i+1), depth+1); err != nil {
				return 0, err
			}
			i = WS(b, i)
			if i >= len(b) {
				return 0, ErrSyntax
			}
			switch b[i] {
			case ',':
				i = WS(b, i+1)
			case '}':
				return i + 1, nil
			default:
				return 0, ErrSyntax
			}
		}
	case c == '[':
		if depth+1 > maxDepth {
			return 0, ErrSyntax
		}
		i = WS(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1, nil
		}
		for {
			var err error
			if i, err = skip(b, i, depth+1); err != nil {
				return 0, err
			}
			i = WS(b, i)
			if i >= len(b) {
				return 0, ErrSyntax
			}
			switch b[i] {
			case ',':
				i = WS(b, i+1)
			case ']':
				return i + 1, nil
			default:
				return 0, ErrSyntax
			}
		}
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	case c == '-' || c >= '0' && c <= '9':
		return skipNumber(b, i)
	}
	return 0, ErrSyntax
}

func literal(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return 0, ErrSyntax
	}
	return i + len(lit), nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// skipNumber checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func skipNumber(b []byte, i int) (int, error) {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return 0, ErrSyntax
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return 0, ErrSyntax
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return 0, ErrSyntax
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	return i, nil
}

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// skipString returns the offset past the string at b[i] (a '"').
func skipString(b []byte, i int) (int, error) {
	end, _, err := scanString(b, i)
	return end, err
}

// scanString returns the offset past the string at b[i] (a '"') and
// whether its contents are plain: printable ASCII without escapes.
func scanString(b []byte, i int) (end int, plain bool, err error) {
	plain = true
	for i++; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '"':
			return i + 1, plain, nil
		case c < 0x20:
			return 0, false, ErrSyntax
		case c == '\\':
			plain = false
			i++
			if i >= len(b) {
				return 0, false, ErrSyntax
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(b)-i < 5 || !isHex(b[i+1]) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) {
					return 0, false, ErrSyntax
				}
				i += 4
			default:
				return 0, false, ErrSyntax
			}
		case c >= 0x80:
			plain = false
		}
	}
	return 0, false, ErrSyntax
}

// String decodes the JSON string at b[i:] (after leading whitespace) and
// returns it with the offset just past it. It fails with ErrSyntax when
// the value there is not a valid JSON string.
func String(b []byte, i int) (string, int, error) {
	i = WS(b, i)
	if i >= len(b) || b[i] != '"' {
		return "", 0, ErrSyntax
	}
	end, plain, err := scanString(b, i)
	if err != nil {
		return "", 0, err
	}
	if plain {
		return string(b[i+1 : end-1]), end, nil
	}
	var s string
	if err := json.Unmarshal(b[i:end], &s); err != nil {
		return "", 0, ErrSyntax
	}
	return s, end, nil
}

// An Object walks the members of the JSON object at the start of its
// input, one Next call per member.
type Object struct {
	b     []byte
	i     int
	first bool
	err   error
}

// NewObject starts walking the object at b[i:] (after leading whitespace).
// An input that does not start with '{' makes the first Next fail.
func NewObject(b []byte, i int) Object {
	o := Object{b: b, first: true}
	o.i = WS(b, i)
	if o.i >= len(b) || b[o.i] != '{' {
		o.err = ErrSyntax
		return o
	}
	o.i++
	return o
}

// Next returns the key of the next member and the offset of its value
// (after whitespace, before the end of the input), which the caller must
// consume and report with Done. It returns ok false at the end of the object or on an error (see End).
func (o *Object) Next() (key string, valueAt int, ok bool) {
	if o.err != nil {
		return "", 0, false
	}
	i := WS(o.b, o.i)
	if i >= len(o.b) {
		o.err = ErrSyntax
		return "", 0, false
	}
	if o.first {
		o.first = false
		if o.b[i] == '}' {
			o.i, o.err = i+1, errEnd
			return "", 0, false
		}
	} else {
		switch o.b[i] {
		case '}':
			o.i, o.err = i+1, errEnd
			return "", 0, false
		case ',':
			i = WS(o.b, i+1)
		default:
			o.err = ErrSyntax
			return "", 0, false
		}
	}
	k, i, err := String(o.b, i)
	if err != nil {
		o.err = err
		return "", 0, false
	}
	i = WS(o.b, i)
	if i >= len(o.b) || o.b[i] != ':' {
		o.err = ErrSyntax
		return "", 0, false
	}
	if i = WS(o.b, i+1); i >= len(o.b) {
		o.err = ErrSyntax
		return "", 0, false
	}
	return k, i, true
}

// Done records that the value of the member Next returned ends at end.
func (o *Object) Done(end int) { o.i = end }

// Fail stops the walk with err.
func (o *Object) Fail(err error) { o.err = err }

// End returns the offset just past the object's closing brace, or the
// error that stopped the walk.
func (o *Object) End() (int, error) {
	if o.err == errEnd {
		return o.i, nil
	}
	if o.err == nil {
		return 0, errors.New("jsonscan: object not walked to its end")
	}
	return 0, o.err
}

var errEnd = errors.New("end of object")

// An Array walks the elements of the JSON array at the start of its
// input, one Next call per element.
type Array struct {
	b     []byte
	i     int
	first bool
	err   error
}

// NewArray starts walking the array at b[i:] (after leading whitespace).
// An input that does not start with '[' makes the first Next fail.
func NewArray(b []byte, i int) Array {
	a := Array{b: b, first: true}
	a.i = WS(b, i)
	if a.i >= len(b) || b[a.i] != '[' {
		a.err = ErrSyntax
		return a
	}
	a.i++
	return a
}

// Next returns the offset of the next element (after whitespace, before
// the end of the input), which the caller must consume and report with Done. It returns ok false at the
// end of the array or on an error (see End).
func (a *Array) Next() (valueAt int, ok bool) {
	if a.err != nil {
		return 0, false
	}
	i := WS(a.b, a.i)
	if i >= len(a.b) {
		a.err = ErrSyntax
		return 0, false
	}
	if a.b[i] == ']' && a.first {
		a.i, a.err = i+1, errEnd
		return 0, false
	}
	if !a.first {
		switch a.b[i] {
		case ']':
			a.i, a.err = i+1, errEnd
			return 0, false
		case ',':
			i = WS(a.b, i+1)
		default:
			a.err = ErrSyntax
			return 0, false
		}
	}
	a.first = false
	if i >= len(a.b) {
		a.err = ErrSyntax
		return 0, false
	}
	return i, true
}

// Done records that the element Next returned ends at end.
func (a *Array) Done(end int) { a.i = end }

// Fail stops the walk with err.
func (a *Array) Fail(err error) { a.err = err }

// End returns the offset just past the array's closing bracket, or the
// error that stopped the walk.
func (a *Array) End() (int, error) {
	if a.err == errEnd {
		return a.i, nil
	}
	if a.err == nil {
		return 0, errors.New("jsonscan: array not walked to its end")
	}
	return 0, a.err
}

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
			var done bool
			if i, done, err = afterItem(b, i, '}'); err != nil || done {
				return i, err
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
			var done bool
			if i, done, err = afterItem(b, i, ']'); err != nil || done {
				return i, err
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

// afterItem moves past what follows a container's item that ends at i:
// the comma (it returns the offset of the next item) or the closing byte c
// (done, the offset past it).
func afterItem(b []byte, i int, c byte) (next int, done bool, err error) {
	i = WS(b, i)
	switch {
	case i >= len(b):
		return 0, false, ErrSyntax
	case b[i] == ',':
		return WS(b, i+1), false, nil
	case b[i] == c:
		return i + 1, true, nil
	}
	return 0, false, ErrSyntax
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

// container is what Object and Array share: the input, where the walk
// stands, and what stopped it.
type container struct {
	b     []byte
	i     int
	first bool
	err   error
}

// open starts a walk of the container opened by c at b[i:] (after
// leading whitespace).
func open(b []byte, i int, c byte) container {
	w := container{b: b, first: true, i: WS(b, i)}
	if w.i >= len(b) || b[w.i] != c {
		w.err = ErrSyntax
		return w
	}
	w.i++
	return w
}

// step moves past the separator before the next item, or past the closing
// byte c, and returns the offset of the next item (ok false at the end or
// on an error).
func (w *container) step(c byte) (int, bool) {
	if w.err != nil {
		return 0, false
	}
	i := WS(w.b, w.i)
	if i >= len(w.b) {
		w.err = ErrSyntax
		return 0, false
	}
	switch {
	case w.b[i] == c:
		w.i, w.err = i+1, errEnd
		return 0, false
	case w.first:
		w.first = false
	case w.b[i] == ',':
		i = WS(w.b, i+1)
	default:
		w.err = ErrSyntax
		return 0, false
	}
	if i >= len(w.b) {
		w.err = ErrSyntax
		return 0, false
	}
	return i, true
}

// Done records that the item Next returned ends at end.
func (w *container) Done(end int) { w.i = end }

// Fail stops the walk with err.
func (w *container) Fail(err error) { w.err = err }

// End returns the offset just past the closing byte, or the error that
// stopped the walk.
func (w *container) End() (int, error) {
	switch w.err {
	case errEnd:
		return w.i, nil
	case nil:
		return 0, errors.New("jsonscan: container not walked to its end")
	}
	return 0, w.err
}

var errEnd = errors.New("end of container")

// An Object walks the members of the JSON object at the start of its
// input, one Next call per member; Done, Fail and End as for Array.
type Object struct{ container }

// NewObject starts walking the object at b[i:] (after leading whitespace).
// An input that does not start with '{' makes the first Next fail.
func NewObject(b []byte, i int) Object { return Object{open(b, i, '{')} }

// Next returns the key of the next member and the offset of its value
// (after whitespace, before the end of the input), which the caller must
// consume and report with Done. It returns ok false at the end of the
// object or on an error (see End).
func (o *Object) Next() (key string, valueAt int, ok bool) {
	i, ok := o.step('}')
	if !ok {
		return "", 0, false
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

// An Array walks the elements of the JSON array at the start of its
// input, one Next call per element.
type Array struct{ container }

// NewArray starts walking the array at b[i:] (after leading whitespace).
// An input that does not start with '[' makes the first Next fail.
func NewArray(b []byte, i int) Array { return Array{open(b, i, '[')} }

// Next returns the offset of the next element (after whitespace, before
// the end of the input), which the caller must consume and report with
// Done. It returns ok false at the end of the array or on an error (see
// End).
func (a *Array) Next() (valueAt int, ok bool) { return a.step(']') }

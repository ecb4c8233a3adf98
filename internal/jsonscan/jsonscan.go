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
	"bytes"
	"encoding/binary"
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

// skipNumber returns the offset past the number at b[i].
func skipNumber(b []byte, i int) (int, error) {
	if i = ScanNumber(b, i); i < 0 {
		return 0, ErrSyntax
	}
	return i, nil
}

// skipString returns the offset past the string at b[i] (a '"').
func skipString(b []byte, i int) (int, error) {
	if i = ScanString(b, i); i < 0 {
		return 0, ErrSyntax
	}
	return i, nil
}

// scanString returns the offset past the string at b[i] (a '"') and
// whether its contents are plain: printable ASCII without escapes.
func scanString(b []byte, i int) (end int, plain bool, err error) {
	if end, err = skipString(b, i); err != nil {
		return 0, false, err
	}
	for _, c := range b[i+1 : end-1] {
		if c == '\\' || c >= 0x80 {
			return end, false, nil
		}
	}
	return end, true, nil
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

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// ScanString checks the string whose quote is at d[i] and returns the
// index past its closing quote, or -1. Runs of plain bytes are skipped
// eight at a time, which ends most keys and short values; after 64 plain
// bytes the rest of the string goes to scanLong.
func ScanString(d []byte, i int) int {
	i++
	words := 0
	for {
		for len(d)-i >= 8 && special(binary.LittleEndian.Uint64(d[i:])) == 0 {
			i += 8
			if words++; words == 8 {
				return scanLong(d, i)
			}
		}
		if i >= len(d) {
			return -1
		}
		switch c := d[i]; {
		case c == '"':
			return i + 1
		case c == '\\':
			if i = escape(d, i); i < 0 {
				return -1
			}
		case c < 0x20:
			return -1
		default:
			i++
		}
	}
}

// special reports, in the high bit of each byte, the bytes of v that end
// a run of plain string bytes: a byte below 0x20, a quote or a backslash
// (and possibly bytes after the first such one).
func special(v uint64) uint64 {
	ctl := (v - lsb*0x20) &^ v
	quote := v ^ (lsb * '"')
	bslash := v ^ (lsb * '\\')
	return (ctl | (quote-lsb)&^quote | (bslash-lsb)&^bslash) & msb
}

// scanLong is ScanString from d[i] on for a long string: it splits the
// string at its quotes and backslashes with bytes.IndexByte (vector code)
// and checks each run between them for control bytes 32 bytes at a time.
// Every byte is looked at a bounded number of times, however many escapes
// the string holds.
func scanLong(d []byte, i int) int {
	for {
		q := bytes.IndexByte(d[i:], '"')
		if q < 0 {
			return -1
		}
		end := i + q // the closing quote, unless a backslash escapes it
		for {
			b := bytes.IndexByte(d[i:end], '\\')
			if b < 0 {
				if !controlFree(d[i:end]) {
					return -1
				}
				return end + 1
			}
			if !controlFree(d[i : i+b]) {
				return -1
			}
			if i = escape(d, i+b); i < 0 {
				return -1
			}
			if i > end { // it escaped the quote at end
				break
			}
		}
	}
}

// escape checks the escape sequence whose backslash is at d[i] and returns
// the index past it, or -1.
func escape(d []byte, i int) int {
	i++
	if i >= len(d) {
		return -1
	}
	switch d[i] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i + 1
	case 'u':
		if len(d)-i < 5 {
			return -1
		}
		for _, h := range d[i+1 : i+5] {
			if !isHex(h) {
				return -1
			}
		}
		return i + 5
	}
	return -1
}

// controlFree reports whether b holds no byte below 0x20, checking 32
// bytes per step.
func controlFree(b []byte) bool {
	var acc uint64
	for len(b) >= 32 {
		v0 := binary.LittleEndian.Uint64(b)
		v1 := binary.LittleEndian.Uint64(b[8:])
		v2 := binary.LittleEndian.Uint64(b[16:])
		v3 := binary.LittleEndian.Uint64(b[24:])
		acc |= (v0-lsb*0x20)&^v0 | (v1-lsb*0x20)&^v1 | (v2-lsb*0x20)&^v2 | (v3-lsb*0x20)&^v3
		b = b[32:]
	}
	for len(b) >= 8 {
		v := binary.LittleEndian.Uint64(b)
		acc |= (v - lsb*0x20) &^ v
		b = b[8:]
	}
	for _, c := range b {
		if c < 0x20 {
			return false
		}
	}
	return acc&msb == 0
}

func isHex(c byte) bool {
	return isDigit(c) || (c|0x20) >= 'a' && (c|0x20) <= 'f'
}

// ScanNumber checks the number starting at d[i] and returns the index
// past it, or -1.
func ScanNumber(d []byte, i int) int {
	if d[i] == '-' {
		i++
	}
	switch {
	case i >= len(d) || !isDigit(d[i]):
		return -1
	case d[i] == '0':
		i++
	default:
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || !isDigit(d[i]) {
			return -1
		}
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || !isDigit(d[i]) {
			return -1
		}
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	return i
}

package msgpack

import (
	"encoding/json"
	"math"
	"strconv"
	"sync"

	"github.com/gosio/gosio/parser"
)

// AppendJSON appends the msgpack encoding of the JSON value v, as the
// library of mode m encodes the value JavaScript gets from it: JSON.parse,
// then socket.io-parser's reconstruction, which puts attachment N in place
// of each placeholder {"_placeholder":true,"num":N}.
//
//   - Numbers are parsed as doubles (1.0 is 1, 1e400 is Infinity) and
//     written by the mode's rule ([Notepack], [MsgpackJS]).
//   - Strings are unescaped (surrogate pairs joined; a lone surrogate, and
//     raw ill-formed UTF-8, become U+FFFD) and written as str.
//   - Objects keep JavaScript's key order: the order of the text, except
//     that array-index keys ("0", "7") come first in ascending order and a
//     repeated key keeps its first place and its last value.
//   - When v has attachments, an object whose "_placeholder" is true is
//     replaced by bin(Attachments[num]); a "num" that is not an integer
//     index into the attachments is an error, as socket.io-parser's
//     "illegal attachments". Without attachments such objects are plain
//     objects. Objects inside a placeholder are not looked at.
//
// An empty v.JSON is null, as in [parser.MarshalArgs]. Invalid JSON, or
// nesting deeper than 10000 levels, is an error wrapping [ErrInvalidJSON];
// b is then returned unchanged.
func AppendJSON(b []byte, v parser.Value, m Mode) ([]byte, error) {
	if len(v.JSON) == 0 {
		return AppendNil(b), nil
	}
	s := scanners.Get().(*scanner)
	defer s.release()
	*s = scanner{j: v.JSON, natts: len(v.Attachments), recs: s.recs[:0], frames: s.frames[:0],
		kt: keyTracker{buf: s.kt.buf[:0], ends: s.kt.ends[:0]}}
	err := s.scan()
	if err == errSlow {
		p := jparser{j: v.JSON}
		t, err := p.parse()
		if err != nil {
			return b, err
		}
		if err := resolvePlaceholders(&t, v.Attachments); err != nil {
			return b, err
		}
		return appendTree(b, t, m), nil
	}
	if err != nil {
		return b, err
	}
	return encodeFast(b, v.JSON, s.recs, v.Attachments, m), nil
}

// encRec is what the scan learnt about one JSON array or object, in the
// order they open: the element count, or the attachment a placeholder
// stands for (ph >= 0) and the offset just past it.
type encRec struct {
	count int
	ph    int
	end   int
}

type sframe struct {
	obj      bool
	rec      int
	count    int
	kf       keyFrame
	curKey   int8 // member being read: 0 other, 1 "_placeholder", 2 "num"
	phTrue   bool
	numStart int // span of the "num" value; -1 none, -2 not a number
	numEnd   int
}

// scanner is the first pass of AppendJSON: it validates the JSON, counts
// elements, finds placeholders and checks that JavaScript would keep the
// keys of every object in text order (else errSlow).
type scanner struct {
	j      []byte
	natts  int
	recs   []encRec
	frames []sframe
	kt     keyTracker
	badPh  bool // an invalid placeholder was seen
}

// scanners are reused: a scanner on AppendJSON's stack escaped (its
// slices do), which cost two allocations of every call.
var scanners = sync.Pool{New: func() any {
	return &scanner{recs: make([]encRec, 0, 16), frames: make([]sframe, 0, 8)}
}}

// release returns s to the pool, unless a large value made its buffers
// large.
func (s *scanner) release() {
	if cap(s.recs) > 1024 || cap(s.frames) > 256 || cap(s.kt.buf) > 4096 {
		return
	}
	s.j = nil
	clear(s.frames[:cap(s.frames)]) // key sets of the frames
	scanners.Put(s)
}

// phInvalid marks the encRec of a placeholder whose "num" is invalid.
const phInvalid = -2

const (
	stValue = iota
	stValueOrClose
	stKey
	stKeyOrClose
	stColon
	stComma
	stDone
)

func skipWS(j []byte, i int) int {
	for i < len(j) && (j[i] == ' ' || j[i] == '\t' || j[i] == '\n' || j[i] == '\r') {
		i++
	}
	return i
}

// scanString returns the offset past the JSON string starting at the
// quote j[i], or -1 when it is invalid.
func scanString(j []byte, i int) int {
	for k := i + 1; k < len(j); {
		switch c := j[k]; {
		case c == '"':
			return k + 1
		case c == '\\':
			if k+1 >= len(j) {
				return -1
			}
			switch j[k+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				k += 2
			case 'u':
				if k+6 > len(j) || hexVal(j[k+2]) < 0 || hexVal(j[k+3]) < 0 || hexVal(j[k+4]) < 0 || hexVal(j[k+5]) < 0 {
					return -1
				}
				k += 6
			default:
				return -1
			}
		case c < 0x20:
			return -1
		default:
			k++
		}
	}
	return -1
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// scanNumber returns the offset past the JSON number at j[i], or -1.
func scanNumber(j []byte, i int) int {
	if i < len(j) && j[i] == '-' {
		i++
	}
	switch {
	case i < len(j) && j[i] == '0':
		i++
	case i < len(j) && isDigit(j[i]):
		for i < len(j) && isDigit(j[i]) {
			i++
		}
	default:
		return -1
	}
	if i < len(j) && j[i] == '.' {
		i++
		if i >= len(j) || !isDigit(j[i]) {
			return -1
		}
		for i < len(j) && isDigit(j[i]) {
			i++
		}
	}
	if i < len(j) && (j[i] == 'e' || j[i] == 'E') {
		i++
		if i < len(j) && (j[i] == '+' || j[i] == '-') {
			i++
		}
		if i >= len(j) || !isDigit(j[i]) {
			return -1
		}
		for i < len(j) && isDigit(j[i]) {
			i++
		}
	}
	return i
}

func literalAt(j []byte, i int, lit string) bool {
	return len(j)-i >= len(lit) && string(j[i:i+len(lit)]) == lit
}

// parseNumber returns the double JSON.parse gives for the valid JSON
// number tok.
func parseNumber(tok []byte) float64 {
	neg := tok[0] == '-'
	digits := tok
	if neg {
		digits = tok[1:]
	}
	if len(digits) <= 15 {
		v := int64(0)
		ok := true
		for _, c := range digits {
			if !isDigit(c) {
				ok = false
				break
			}
			v = v*10 + int64(c-'0')
		}
		if ok {
			f := float64(v)
			if neg {
				f = -f
			}
			return f
		}
	}
	f, _ := strconv.ParseFloat(string(tok), 64) // ±Inf or ±0 on ErrRange
	return f
}

// placeholderIndex returns the attachment index the placeholder's "num"
// literal tok denotes, or false.
func placeholderIndex(tok []byte, natts int) (int, bool) {
	if len(tok) == 0 || tok[0] != '-' && !isDigit(tok[0]) {
		return 0, false
	}
	f := parseNumber(tok)
	if f != math.Trunc(f) || f < 0 || f >= float64(natts) {
		return 0, false
	}
	return int(f), true
}

func (s *scanner) top() *sframe { return &s.frames[len(s.frames)-1] }

// assign records, for the placeholder check, the value j[start:end] of
// the member being read in the innermost object.
func (s *scanner) assign(start, end int, isTrue bool) {
	if len(s.frames) == 0 {
		return
	}
	f := s.top()
	if !f.obj {
		return
	}
	switch f.curKey {
	case 1:
		f.phTrue = isTrue
	case 2:
		f.numStart, f.numEnd = start, end
	}
	f.curKey = 0
}

func (s *scanner) close(end int) error {
	f := s.frames[len(s.frames)-1]
	s.frames = s.frames[:len(s.frames)-1]
	s.recs[f.rec].count = f.count
	if f.obj {
		s.kt.end(&f.kf)
		if f.phTrue && s.natts > 0 {
			var num int
			ok := f.numStart >= 0
			if ok {
				num, ok = placeholderIndex(s.j[f.numStart:f.numEnd], s.natts)
			}
			if !ok {
				// An error only if no enclosing placeholder swallows it.
				num = phInvalid
				s.badPh = true
			}
			s.recs[f.rec] = encRec{ph: num, end: end}
			s.recs = s.recs[:f.rec+1]
		}
	}
	s.assign(-2, -2, false)
	return nil
}

func (s *scanner) afterValue() int {
	if len(s.frames) == 0 {
		return stDone
	}
	return stComma
}

func (s *scanner) scan() error {
	j := s.j
	state := stValue
	i := 0
	for {
		i = skipWS(j, i)
		if i >= len(j) {
			break
		}
		c := j[i]
		switch state {
		case stDone:
			return invalidJSON(i, "data after the JSON value")
		case stKey, stKeyOrClose:
			if c == '}' && state == stKeyOrClose {
				i++
				if err := s.close(i); err != nil {
					return err
				}
				state = s.afterValue()
				continue
			}
			if c != '"' {
				return invalidJSON(i, "want an object key")
			}
			end := scanString(j, i)
			if end < 0 {
				return invalidJSON(i, "invalid string")
			}
			f := s.top()
			kstart := len(s.kt.buf)
			s.kt.buf = appendUnescape(s.kt.buf, j[i+1:end-1], true)
			switch string(s.kt.buf[kstart:]) {
			case "_placeholder":
				f.curKey = 1
			case "num":
				f.curKey = 2
			default:
				f.curKey = 0
			}
			if !s.kt.commit(&f.kf, kstart, 0) {
				return errSlow
			}
			f.count++
			i = end
			state = stColon
		case stColon:
			if c != ':' {
				return invalidJSON(i, "want ':'")
			}
			i++
			state = stValue
		case stComma:
			f := s.top()
			switch {
			case c == ',':
				i++
				if f.obj {
					state = stKey
				} else {
					state = stValue
				}
			case c == '}' && f.obj, c == ']' && !f.obj:
				i++
				if err := s.close(i); err != nil {
					return err
				}
				state = s.afterValue()
			default:
				return invalidJSON(i, "want ',' or the end of the array or object")
			}
		default: // stValue, stValueOrClose
			if c == ']' && state == stValueOrClose {
				i++
				if err := s.close(i); err != nil {
					return err
				}
				state = s.afterValue()
				continue
			}
			if len(s.frames) > 0 && !s.top().obj {
				s.top().count++
			}
			switch {
			case c == '{' || c == '[':
				if len(s.frames) >= maxDepth {
					return invalidJSON(i, "nesting deeper than 10000 levels")
				}
				s.recs = append(s.recs, encRec{ph: -1})
				f := sframe{obj: c == '{', rec: len(s.recs) - 1, numStart: -1}
				if f.obj {
					f.kf = s.kt.begin()
					state = stKeyOrClose
				} else {
					state = stValueOrClose
				}
				s.frames = append(s.frames, f)
				i++
			case c == '"':
				end := scanString(j, i)
				if end < 0 {
					return invalidJSON(i, "invalid string")
				}
				s.assign(-2, -2, false)
				i = end
				state = s.afterValue()
			case c == 't' || c == 'f' || c == 'n':
				lit := "null"
				if c == 't' {
					lit = "true"
				} else if c == 'f' {
					lit = "false"
				}
				if !literalAt(j, i, lit) {
					return invalidJSON(i, "invalid literal")
				}
				s.assign(-2, -2, c == 't')
				i += len(lit)
				state = s.afterValue()
			default:
				end := scanNumber(j, i)
				if end < 0 {
					return invalidJSON(i, "invalid value")
				}
				s.assign(i, end, false)
				i = end
				state = s.afterValue()
			}
		}
	}
	if state != stDone {
		return invalidJSON(len(j), "unexpected end of JSON")
	}
	if s.badPh {
		for _, r := range s.recs {
			if r.ph == phInvalid {
				return invalidJSON(r.end, "placeholder does not refer to one of the "+strconv.Itoa(s.natts)+" attachment(s)")
			}
		}
	}
	return nil
}

// stringEnd returns the offset past the valid JSON string at j[i].
func stringEnd(j []byte, i int) int {
	for k := i + 1; k < len(j); k++ {
		switch j[k] {
		case '\\':
			k++
		case '"':
			return k + 1
		}
	}
	return len(j)
}

// appendStrJSON appends as a str the string of the JSON string content raw.
func appendStrJSON(b []byte, raw []byte) []byte {
	if plainString(raw) {
		return append(appendStrHeader(b, len(raw)), raw...)
	}
	start := len(b)
	b = appendUnescape(b, raw, false)
	return insertStrHeader(b, start)
}

// insertStrHeader turns b[start:] into a str by inserting its header.
func insertStrHeader(b []byte, start int) []byte {
	n := len(b) - start
	h := strHeaderLen(n)
	for k := 0; k < h; k++ {
		b = append(b, 0)
	}
	copy(b[start+h:], b[start:start+n])
	appendStrHeader(b[:start], n)
	return b
}

// encodeFast is the second pass of AppendJSON, over JSON the scanner
// accepted: a flat walk, since msgpack needs no closing tokens.
func encodeFast(b []byte, j []byte, recs []encRec, atts [][]byte, m Mode) []byte {
	r := 0
	for i := 0; i < len(j); {
		switch c := j[i]; c {
		case ' ', '\t', '\n', '\r', ',', ':', ']', '}':
			i++
		case '{', '[':
			rec := recs[r]
			r++
			if rec.ph >= 0 {
				b = AppendBin(b, atts[rec.ph])
				i = rec.end
				continue
			}
			if c == '{' {
				b = AppendMapHeader(b, rec.count)
			} else {
				b = AppendArrayHeader(b, rec.count)
			}
			i++
		case '"':
			end := stringEnd(j, i)
			b = appendStrJSON(b, j[i+1:end-1])
			i = end
		case 't':
			b = append(b, 0xc3)
			i += 4
		case 'f':
			b = append(b, 0xc2)
			i += 5
		case 'n':
			b = append(b, 0xc0)
			i += 4
		default:
			end := scanNumber(j, i)
			b = AppendNumber(b, parseNumber(j[i:end]), m)
			i = end
		}
	}
	return b
}

// jparser parses JSON into a jsv tree with JavaScript's object semantics;
// strings are kept in WTF-8 so that distinct JavaScript strings stay
// distinct.
type jparser struct {
	j       []byte
	i       int
	scratch []byte
}

func (p *jparser) parse() (jsv, error) {
	v, err := p.value(0)
	if err != nil {
		return jsv{}, err
	}
	if p.i = skipWS(p.j, p.i); p.i != len(p.j) {
		return jsv{}, invalidJSON(p.i, "data after the JSON value")
	}
	return v, nil
}

func (p *jparser) str() (string, error) {
	end := scanString(p.j, p.i)
	if end < 0 {
		return "", invalidJSON(p.i, "invalid string")
	}
	p.scratch = appendUnescape(p.scratch[:0], p.j[p.i+1:end-1], true)
	p.i = end
	return string(p.scratch), nil
}

func (p *jparser) value(depth int) (jsv, error) {
	p.i = skipWS(p.j, p.i)
	if p.i >= len(p.j) {
		return jsv{}, invalidJSON(p.i, "unexpected end of JSON")
	}
	switch c := p.j[p.i]; {
	case c == '{' || c == '[':
		if depth >= maxDepth {
			return jsv{}, invalidJSON(p.i, "nesting deeper than 10000 levels")
		}
		p.i++
		obj := c == '{'
		var o jsObject
		var elems []jsv
		closer := byte(']')
		if obj {
			closer = '}'
		}
		if p.i = skipWS(p.j, p.i); p.i < len(p.j) && p.j[p.i] == closer {
			p.i++
		} else {
			for {
				var key string
				if obj {
					if p.i = skipWS(p.j, p.i); p.i >= len(p.j) || p.j[p.i] != '"' {
						return jsv{}, invalidJSON(p.i, "want an object key")
					}
					var err error
					if key, err = p.str(); err != nil {
						return jsv{}, err
					}
					if p.i = skipWS(p.j, p.i); p.i >= len(p.j) || p.j[p.i] != ':' {
						return jsv{}, invalidJSON(p.i, "want ':'")
					}
					p.i++
				}
				v, err := p.value(depth + 1)
				if err != nil {
					return jsv{}, err
				}
				if obj {
					o.set(key, v)
				} else {
					elems = append(elems, v)
				}
				p.i = skipWS(p.j, p.i)
				if p.i < len(p.j) && p.j[p.i] == ',' {
					p.i++
					continue
				}
				if p.i < len(p.j) && p.j[p.i] == closer {
					p.i++
					break
				}
				return jsv{}, invalidJSON(p.i, "want ',' or the end of the array or object")
			}
		}
		if obj {
			return o.finish(0), nil
		}
		return jsv{kind: kArr, elems: elems}, nil
	case c == '"':
		s, err := p.str()
		return jsv{kind: kStr, s: s}, err
	case c == 't' || c == 'f' || c == 'n':
		lit := "null"
		if c == 't' {
			lit = "true"
		} else if c == 'f' {
			lit = "false"
		}
		if !literalAt(p.j, p.i, lit) {
			return jsv{}, invalidJSON(p.i, "invalid literal")
		}
		p.i += len(lit)
		if c == 'n' {
			return jsv{kind: kNull}, nil
		}
		return jsv{kind: kBool, b: c == 't'}, nil
	default:
		end := scanNumber(p.j, p.i)
		if end < 0 {
			return jsv{}, invalidJSON(p.i, "invalid value")
		}
		f := parseNumber(p.j[p.i:end])
		p.i = end
		return jsv{kind: kNum, num: f}, nil
	}
}

// resolvePlaceholders replaces, as socket.io-parser's reconstructPacket
// does, every object whose "_placeholder" is true by its attachment.
func resolvePlaceholders(v *jsv, atts [][]byte) error {
	if len(atts) == 0 {
		return nil
	}
	switch v.kind {
	case kObj:
		o := jsObject{keys: v.keys, vals: v.elems}
		if ph, ok := o.get("_placeholder"); ok && ph.kind == kBool && ph.b {
			num, ok := o.get("num")
			if !ok || num.kind != kNum || num.num != math.Trunc(num.num) || num.num < 0 || num.num >= float64(len(atts)) {
				return invalidJSON(0, "placeholder does not refer to one of the "+strconv.Itoa(len(atts))+" attachment(s)")
			}
			*v = jsv{kind: kBin, bin: atts[int(num.num)]}
			return nil
		}
		fallthrough
	case kArr:
		for i := range v.elems {
			if err := resolvePlaceholders(&v.elems[i], atts); err != nil {
				return err
			}
		}
	}
	return nil
}

func appendStrWTF8(b []byte, s string) []byte {
	start := len(b)
	b = appendUTF8FromWTF8(b, s)
	return insertStrHeader(b, start)
}

// appendTree encodes a parsed JSON tree.
func appendTree(b []byte, v jsv, m Mode) []byte {
	switch v.kind {
	case kNull:
		return AppendNil(b)
	case kBool:
		return AppendBool(b, v.b)
	case kNum:
		return AppendNumber(b, v.num, m)
	case kStr:
		return appendStrWTF8(b, v.s)
	case kBin:
		return AppendBin(b, v.bin)
	case kArr:
		b = AppendArrayHeader(b, len(v.elems))
		for _, e := range v.elems {
			b = appendTree(b, e, m)
		}
		return b
	case kObj:
		b = AppendMapHeader(b, len(v.keys))
		for i, e := range v.elems {
			b = appendStrWTF8(b, v.keys[i])
			b = appendTree(b, e, m)
		}
		return b
	}
	return AppendNil(b)
}

// BufferJSON returns the text JSON.stringify writes for the value
// JavaScript gets from v (JSON.parse, then socket.io-parser's
// reconstruction of the attachments), where each attachment is a Buffer:
// {"type":"Buffer","data":[1,2,3]}. This is how the classic Redis
// adapter's JSON requests carry binary. Like JSON.stringify, it also
// normalizes the rest of the text: no whitespace, numbers and strings in
// JavaScript's form, keys in JavaScript's order. An empty v.JSON is null.
// Errors wrap [ErrInvalidJSON], as for [AppendJSON].
func BufferJSON(v parser.Value) (json.RawMessage, error) {
	if len(v.JSON) == 0 {
		return json.RawMessage("null"), nil
	}
	p := jparser{j: v.JSON}
	t, err := p.parse()
	if err != nil {
		return nil, err
	}
	if err := resolvePlaceholders(&t, v.Attachments); err != nil {
		return nil, err
	}
	return appendBufferJSON(make([]byte, 0, len(v.JSON)+16), t), nil
}

func appendBufferJSON(b []byte, v jsv) []byte {
	switch v.kind {
	case kBool:
		return strconv.AppendBool(b, v.b)
	case kNum:
		return appendJSONNumber(b, v.num)
	case kStr:
		return appendJSONString(b, []byte(v.s), true, false)
	case kBin:
		b = append(b, `{"type":"Buffer","data":[`...)
		for i, c := range v.bin {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendUint(b, uint64(c), 10)
		}
		return append(b, ']', '}')
	case kArr:
		b = append(b, '[')
		for i, e := range v.elems {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendBufferJSON(b, e)
		}
		return append(b, ']')
	case kObj:
		b = append(b, '{')
		for i, e := range v.elems {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, []byte(v.keys[i]), true, false)
			b = append(b, ':')
			b = appendBufferJSON(b, e)
		}
		return append(b, '}')
	}
	return append(b, "null"...)
}

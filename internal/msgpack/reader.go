package msgpack

import (
	"encoding/binary"
	"math"
)

// maxDepth bounds the nesting of arrays and maps (and of JSON arrays and
// objects) the package follows.
const maxDepth = 10000

// Kind is the type of a msgpack value, by its encoding.
type Kind int

// The kinds of msgpack values. KindUint is the positive fixint and the
// uint8..uint64 forms (cc..cf); KindInt the negative fixint and the
// int8..int64 forms (d0..d3), whatever their value.
const (
	KindInvalid Kind = iota // no value: end of input or a malformed header
	KindNil
	KindBool
	KindInt
	KindUint
	KindFloat // float32 ca or float64 cb
	KindString
	KindBin
	KindArray
	KindMap
	KindExt // fixext, ext8/16/32, the timestamp ext -1 included
)

var kindNames = [...]string{"invalid", "nil", "bool", "int", "uint", "float", "string", "bin", "array", "map", "ext"}

// String returns the kind's lower-case name, such as "map".
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "invalid"
}

// head is the decoded header of the value at some offset.
type head struct {
	kind Kind
	c    byte // the first byte
	size int  // header bytes, the ext type included; the whole value for scalars
	n    int  // payload bytes of str, bin and ext; elements of array, pairs of map
	ext  int8 // ext type
}

// end returns the offset just past the value, for the kinds that have no
// elements.
func (h head) end(p int) int { return p + h.size + h.n }

func be16(p []byte) int { return int(binary.BigEndian.Uint16(p)) }
func be32(p []byte) int { return int(binary.BigEndian.Uint32(p)) }

// parseHead decodes the header at d[p:], checking that the value's fixed
// part and payload fit in d and that an array's or map's declared count
// does not exceed the bytes left (each element takes at least one).
func parseHead(d []byte, p int) (head, error) {
	if p >= len(d) {
		return head{}, malformed(p, "unexpected end of input")
	}
	c := d[p]
	h := head{c: c, size: 1}
	lenBytes := 0 // bytes of a length field after c
	switch {
	case c <= 0x7f:
		h.kind = KindUint
		return h, nil
	case c <= 0x8f:
		h.kind, h.n = KindMap, int(c&0x0f)
	case c <= 0x9f:
		h.kind, h.n = KindArray, int(c&0x0f)
	case c <= 0xbf:
		h.kind, h.n = KindString, int(c&0x1f)
	case c >= 0xe0:
		h.kind = KindInt
		return h, nil
	default:
		switch c {
		case 0xc0:
			h.kind = KindNil
			return h, nil
		case 0xc1:
			return head{}, malformed(p, "reserved byte 0xc1")
		case 0xc2, 0xc3:
			h.kind = KindBool
			return h, nil
		case 0xc4, 0xc5, 0xc6:
			h.kind, lenBytes = KindBin, 1<<(c-0xc4)
		case 0xc7, 0xc8, 0xc9:
			h.kind, lenBytes = KindExt, 1<<(c-0xc7)
		case 0xca:
			h.kind, h.size = KindFloat, 5
		case 0xcb:
			h.kind, h.size = KindFloat, 9
		case 0xcc, 0xcd, 0xce, 0xcf:
			h.kind, h.size = KindUint, 1+1<<(c-0xcc)
		case 0xd0, 0xd1, 0xd2, 0xd3:
			h.kind, h.size = KindInt, 1+1<<(c-0xd0)
		case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
			h.kind, h.size, h.n = KindExt, 2, 1<<(c-0xd4)
		case 0xd9, 0xda, 0xdb:
			h.kind, lenBytes = KindString, 1<<(c-0xd9)
		case 0xdc, 0xdd:
			h.kind, lenBytes = KindArray, 2<<(c-0xdc)
		case 0xde, 0xdf:
			h.kind, lenBytes = KindMap, 2<<(c-0xde)
		}
	}
	if lenBytes > 0 {
		h.size += lenBytes
		if h.kind == KindExt {
			h.size++
		}
		if len(d)-p < h.size {
			return head{}, malformed(p, "truncated "+h.kind.String()+" header")
		}
		switch lenBytes {
		case 1:
			h.n = int(d[p+1])
		case 2:
			h.n = be16(d[p+1:])
		case 4:
			h.n = be32(d[p+1:])
		}
	} else if len(d)-p < h.size {
		return head{}, malformed(p, "truncated "+h.kind.String())
	}
	if h.kind == KindExt {
		h.ext = int8(d[p+h.size-1])
	}
	left := len(d) - p - h.size
	switch h.kind {
	case KindString, KindBin, KindExt:
		if h.n > left {
			return head{}, malformed(p, h.kind.String()+" longer than the input")
		}
	case KindArray:
		if h.n > left {
			return head{}, malformed(p, "array count exceeds the input")
		}
	case KindMap:
		if 2*h.n > left {
			return head{}, malformed(p, "map count exceeds the input")
		}
	}
	return h, nil
}

// numberAt returns the number whose header h is at d[p:] as the double
// JavaScript gets (64-bit integers rounded to nearest).
func numberAt(d []byte, p int, h head) float64 {
	switch c := h.c; {
	case c <= 0x7f:
		return float64(c)
	case c >= 0xe0:
		return float64(int8(c))
	case c == 0xca:
		return float64(math.Float32frombits(binary.BigEndian.Uint32(d[p+1:])))
	case c == 0xcb:
		return math.Float64frombits(binary.BigEndian.Uint64(d[p+1:]))
	case c == 0xcf:
		return float64(binary.BigEndian.Uint64(d[p+1:]))
	case c == 0xd3:
		return float64(int64(binary.BigEndian.Uint64(d[p+1:])))
	}
	i, _ := intAt(d, p, h)
	return float64(i)
}

// intAt returns the integer forms other than uint64 exactly; for cf it
// returns ok false when the value exceeds MaxInt64.
func intAt(d []byte, p int, h head) (int64, bool) {
	switch c := h.c; {
	case c <= 0x7f:
		return int64(c), true
	case c >= 0xe0:
		return int64(int8(c)), true
	case c == 0xcc:
		return int64(d[p+1]), true
	case c == 0xcd:
		return int64(be16(d[p+1:])), true
	case c == 0xce:
		return int64(be32(d[p+1:])), true
	case c == 0xcf:
		u := binary.BigEndian.Uint64(d[p+1:])
		return int64(u), u <= math.MaxInt64
	case c == 0xd0:
		return int64(int8(d[p+1])), true
	case c == 0xd1:
		return int64(int16(binary.BigEndian.Uint16(d[p+1:]))), true
	case c == 0xd2:
		return int64(int32(binary.BigEndian.Uint32(d[p+1:]))), true
	case c == 0xd3:
		return int64(binary.BigEndian.Uint64(d[p+1:])), true
	}
	return 0, false
}

// skipValue returns the offset just past the value at d[p:]. It keeps an
// explicit stack of the elements left at each level, so depth costs no Go
// stack.
func skipValue(d []byte, p int) (int, error) {
	var buf [32]int
	stack := buf[:0]
	for {
		h, err := parseHead(d, p)
		if err != nil {
			return 0, err
		}
		switch h.kind {
		case KindArray, KindMap:
			if len(stack) >= maxDepth {
				return 0, malformed(p, "nesting deeper than 10000 levels")
			}
			p += h.size
			n := h.n
			if h.kind == KindMap {
				n *= 2
			}
			if n > 0 {
				stack = append(stack, n)
				continue
			}
		default:
			p = h.end(p)
		}
		for {
			if len(stack) == 0 {
				return p, nil
			}
			stack[len(stack)-1]--
			if stack[len(stack)-1] > 0 {
				break
			}
			stack = stack[:len(stack)-1]
		}
	}
}

// Reader is a cursor over a msgpack message, to read it value by value
// without building trees. Its methods never panic; on error they leave
// the position unchanged. Slices it returns alias the input.
type Reader struct {
	data []byte
	pos  int
}

// NewReader returns a Reader at the start of b.
func NewReader(b []byte) *Reader { return &Reader{data: b} }

// Pos returns the offset of the next value in the input.
func (r *Reader) Pos() int { return r.pos }

// Done reports whether no bytes are left.
func (r *Reader) Done() bool { return r.pos >= len(r.data) }

// Peek returns the kind of the next value without consuming it; an error
// when the input ends or the header is malformed or truncated.
func (r *Reader) Peek() (Kind, error) {
	h, err := parseHead(r.data, r.pos)
	if err != nil {
		return KindInvalid, err
	}
	return h.kind, nil
}

func (r *Reader) expect(kinds ...Kind) (head, error) {
	h, err := parseHead(r.data, r.pos)
	if err != nil {
		return h, err
	}
	for _, k := range kinds {
		if h.kind == k {
			return h, nil
		}
	}
	return h, malformed(r.pos, "want "+kinds[0].String()+", have "+h.kind.String())
}

// ReadNil consumes a nil.
func (r *Reader) ReadNil() error {
	if _, err := r.expect(KindNil); err != nil {
		return err
	}
	r.pos++
	return nil
}

// ReadBool consumes a boolean.
func (r *Reader) ReadBool() (bool, error) {
	h, err := r.expect(KindBool)
	if err != nil {
		return false, err
	}
	r.pos++
	return h.c == 0xc3, nil
}

// ReadInt consumes an integer in any int or uint form, or a float32 or
// float64 with an integral value in the int64 range. A uint64 above
// MaxInt64 is an error.
func (r *Reader) ReadInt() (int64, error) {
	h, err := r.expect(KindInt, KindUint, KindFloat)
	if err != nil {
		return 0, err
	}
	var v int64
	if h.kind == KindFloat {
		f := numberAt(r.data, r.pos, h)
		if f != math.Trunc(f) || f < -two63 || f >= two63 {
			return 0, malformed(r.pos, "number is not an int64")
		}
		v = int64(f)
	} else {
		var ok bool
		if v, ok = intAt(r.data, r.pos, h); !ok {
			return 0, malformed(r.pos, "uint64 overflows int64")
		}
	}
	r.pos += h.size
	return v, nil
}

// ReadFloat consumes any number and returns it as the double JavaScript
// gets (64-bit integers rounded to nearest).
func (r *Reader) ReadFloat() (float64, error) {
	h, err := r.expect(KindFloat, KindInt, KindUint)
	if err != nil {
		return 0, err
	}
	f := numberAt(r.data, r.pos, h)
	r.pos += h.size
	return f, nil
}

// ReadString consumes a str (not a bin) and returns it as Node decodes it:
// ill-formed UTF-8 becomes U+FFFD.
func (r *Reader) ReadString() (string, error) {
	h, err := r.expect(KindString)
	if err != nil {
		return "", err
	}
	s := jsString(r.data[r.pos+h.size : h.end(r.pos)])
	r.pos = h.end(r.pos)
	return s, nil
}

// ReadStringOrNumber consumes a str, as ReadString, or a number, returned
// in the string form JavaScript gives it (String(x): "123", "1.5",
// "1e+21", "NaN"), as a room given as a number (io.to(123)) arrives.
func (r *Reader) ReadStringOrNumber() (string, error) {
	h, err := r.expect(KindString, KindInt, KindUint, KindFloat)
	if err != nil {
		return "", err
	}
	if h.kind == KindString {
		return r.ReadString()
	}
	var buf [32]byte
	s := string(appendJSNumber(buf[:0], numberAt(r.data, r.pos, h)))
	r.pos += h.size
	return s, nil
}

// ReadBin consumes a bin and returns its bytes, aliasing the input (with
// the capacity cut to the length).
func (r *Reader) ReadBin() ([]byte, error) {
	h, err := r.expect(KindBin)
	if err != nil {
		return nil, err
	}
	start, end := r.pos+h.size, h.end(r.pos)
	r.pos = end
	return r.data[start:end:end], nil
}

// ReadArrayHeader consumes an array header and returns its element count;
// the elements follow.
func (r *Reader) ReadArrayHeader() (int, error) {
	h, err := r.expect(KindArray)
	if err != nil {
		return 0, err
	}
	r.pos += h.size
	return h.n, nil
}

// ReadMapHeader consumes a map header and returns its count of key/value
// pairs; the keys and values follow, alternating.
func (r *Reader) ReadMapHeader() (int, error) {
	h, err := r.expect(KindMap)
	if err != nil {
		return 0, err
	}
	r.pos += h.size
	return h.n, nil
}

// Skip consumes the next value, with all its elements.
func (r *Reader) Skip() error {
	end, err := skipValue(r.data, r.pos)
	if err != nil {
		return err
	}
	r.pos = end
	return nil
}

// Raw consumes the next value and returns its encoding, aliasing the
// input (with the capacity cut to the length).
func (r *Reader) Raw() ([]byte, error) {
	start := r.pos
	end, err := skipValue(r.data, start)
	if err != nil {
		return nil, err
	}
	r.pos = end
	return r.data[start:end:end], nil
}

package msgpack

import (
	"encoding/binary"
	"strconv"

	"github.com/gosio/gosio/parser"
)

// ToJSON transcodes the msgpack value data (exactly one value; trailing
// bytes are an error) to the JSON a Node server sends its Socket.IO
// clients for the value notepack.io decodes, as socket.io-parser encodes
// it: see [ToJSONMode].
func ToJSON(data []byte) (parser.Value, error) { return ToJSONMode(data, Notepack) }

// ToJSONMode is [ToJSON] with the decoding rules of the library of mode m.
// The result is the JSON text socket.io-parser writes for the decoded
// value, taken as an element of a packet's data array, and its
// attachments:
//
//   - nil is null; undefined (notepack's fixext1 type 0) is null in an
//     array and omits the member in a map;
//   - numbers are written as JSON.stringify writes a double (integers
//     beyond 2^53 as the rounded double, 18446744073709551615 as
//     18446744073709552000; NaN and ±Inf as null; -0 as 0);
//   - strings are decoded as the library does (Notepack: ill-formed UTF-8
//     becomes U+FFFD; MsgpackJS: its lenient decoder for strings up to 200
//     bytes, lone surrogates written as \udxxx, and TextDecoder beyond,
//     which drops a leading BOM) and escaped as JSON.stringify escapes;
//   - bin becomes a placeholder {"_placeholder":true,"num":N} and
//     attachment N, numbered in text order; the attachments alias data;
//   - maps become objects in JavaScript's key order (array-index keys
//     first, ascending; a repeated key keeps its first place and its last
//     value); number keys become their JavaScript string form; Notepack
//     also takes nil, boolean, bin and undefined keys (as "null", "true",
//     the bin's text, "undefined") and drops a "__proto__" member, while
//     MsgpackJS refuses them, as the libraries do;
//   - the timestamp ext -1 becomes the ISO string of Date.toJSON
//     ("1970-01-01T00:00:00.000Z"), or null out of the Date range. Notepack
//     reads it in fixext4, fixext8 and ext8 (length 12) only, MsgpackJS in
//     any ext of length 4, 8 or 12 (other lengths are an error);
//   - Notepack's legacy forms: ext8/16/32 type 0 is an ArrayBuffer (an
//     attachment), fixext8 type 0 a Date of int64 milliseconds; another
//     ext is the array [type, <attachment>]. MsgpackJS gives another ext
//     as its ExtData object, {"type":type,"data":<attachment>}.
//
// A map that would read as a placeholder ("_placeholder": true) in a
// value that has attachments is an error: socket.io-parser's client could
// not tell it from one.
//
// The JSON is valid and its placeholders are consistent with the
// attachments, as [parser.MarshalArgs] requires.
func ToJSONMode(data []byte, m Mode) (parser.Value, error) {
	out := make([]byte, 0, len(data)+len(data)/2+16)
	j, atts, n, err := AppendValueJSONMode(out, data, nil, m)
	if err != nil {
		return parser.Value{}, err
	}
	if n != len(data) {
		return parser.Value{}, malformed(n, strconv.Itoa(len(data)-n)+" trailing bytes")
	}
	return parser.Value{JSON: j, Attachments: atts}, nil
}

// AppendValueJSON transcodes, as [ToJSON] does, the msgpack value at the
// start of data, appending its JSON to dst and its attachments to atts
// (placeholders are numbered from len(atts)). It returns the extended
// buffers and the number of bytes of data the value took. On error dst and
// atts are returned with their original lengths.
func AppendValueJSON(dst []byte, data []byte, atts [][]byte) (json []byte, newAtts [][]byte, n int, err error) {
	return AppendValueJSONMode(dst, data, atts, Notepack)
}

// AppendValueJSONMode is [AppendValueJSON] with the decoding rules of mode
// m, as described at [ToJSONMode].
func AppendValueJSONMode(dst []byte, data []byte, atts [][]byte, m Mode) (json []byte, newAtts [][]byte, n int, err error) {
	d := decoder{data: data, mode: m, out: dst, atts: atts}
	undef, err := d.value(0)
	if err == errSlow {
		d.pos, d.out, d.atts, d.fakePh = 0, dst, atts, false
		d.kt.buf, d.kt.ends = d.kt.buf[:0], d.kt.ends[:0]
		var v jsv
		if v, err = d.tree(0); err == nil {
			d.writeTree(v)
		}
	} else if err == nil && undef {
		d.out = append(d.out, "null"...)
	}
	if err == nil && d.fakePh && len(d.atts) > 0 {
		err = malformed(0, `a map reads as a placeholder ("_placeholder": true) in a value with attachments`)
	}
	if err != nil {
		return dst, atts, 0, err
	}
	return d.out, d.atts, d.pos, nil
}

type decoder struct {
	data  []byte
	pos   int
	mode  Mode
	out   []byte
	atts  [][]byte
	kt    keyTracker
	units []uint16
	// fakePh is set when a decoded map has "_placeholder": true, which
	// socket.io-parser could not tell from an attachment.
	fakePh bool
}

// lenientMax is the longest string @msgpack/msgpack decodes with its own
// (lenient) decoder rather than TextDecoder.
const lenientMax = 200

// str appends the JSON literal of the str with header h at p.
func (d *decoder) str(dst []byte, h head, p int) []byte {
	s := d.data[p+h.size : h.end(p)]
	if d.mode == MsgpackJS {
		if h.n > lenientMax {
			return appendJSONString(dst, s, false, true)
		}
		if !wellFormed(s) {
			d.units = lenientUnits(d.units[:0], d.data, p+h.size, h.n)
			return appendJSONUnits(dst, d.units)
		}
	}
	return appendJSONString(dst, s, false, false)
}

func (d *decoder) placeholder(b []byte) {
	d.out = append(d.out, `{"_placeholder":true,"num":`...)
	d.out = strconv.AppendInt(d.out, int64(len(d.atts)), 10)
	d.out = append(d.out, '}')
	d.atts = append(d.atts, b)
}

// scalar appends the JSON of a nil, boolean, number or str.
func (d *decoder) scalar(dst []byte, h head, p int) []byte {
	switch h.kind {
	case KindNil:
		return append(dst, "null"...)
	case KindBool:
		if h.c == 0xc3 {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case KindInt, KindUint:
		if v, ok := intAt(d.data, p, h); ok && v < two53 && v > -two53 {
			return strconv.AppendInt(dst, v, 10)
		}
		return appendJSONNumber(dst, numberAt(d.data, p, h))
	case KindFloat:
		return appendJSONNumber(dst, numberAt(d.data, p, h))
	case KindString:
		return d.str(dst, h, p)
	}
	return dst
}

// extShape is what an ext value decodes to.
type extShape int

const (
	extUndef  extShape = iota // undefined
	extDate                   // a Date (ms, valid)
	extBuffer                 // an ArrayBuffer: an attachment
	extPair                   // notepack's [type, Buffer]
	extData                   // @msgpack/msgpack's ExtData {type, data}
)

func (d *decoder) extShape(h head, p int) (shape extShape, ms int64, valid bool, err error) {
	payload := d.data[p+h.size : h.end(p)]
	if d.mode == MsgpackJS {
		if h.ext != -1 {
			return extData, 0, false, nil
		}
		if h.n != 4 && h.n != 8 && h.n != 12 {
			return 0, 0, false, malformed(p, "timestamp of "+strconv.Itoa(h.n)+" bytes")
		}
		ms, valid = timestamp(payload)
		return extDate, ms, valid, nil
	}
	switch {
	case h.c == 0xd4 && h.ext == 0:
		return extUndef, 0, false, nil
	case h.c == 0xd6 && h.ext == -1, h.c == 0xd7 && h.ext == -1:
		ms, valid = timestamp(payload)
		return extDate, ms, valid, nil
	case h.c == 0xd7 && h.ext == 0:
		ms, valid = timeClip(float64(int64(binary.BigEndian.Uint64(payload))))
		return extDate, ms, valid, nil
	case h.c == 0xc7 && h.ext == -1:
		if h.n != 12 {
			return 0, 0, false, malformed(p, "timestamp ext8 of "+strconv.Itoa(h.n)+" bytes")
		}
		ms, valid = timestamp(payload)
		return extDate, ms, valid, nil
	case h.c >= 0xc7 && h.c <= 0xc9 && h.ext == 0:
		return extBuffer, 0, false, nil
	}
	return extPair, 0, false, nil
}

// timestamp decodes a timestamp ext payload of 4, 8 or 12 bytes to the
// time value of the Date both libraries create.
func timestamp(p []byte) (int64, bool) {
	switch len(p) {
	case 4:
		return dateFromSecNsec(float64(binary.BigEndian.Uint32(p)), 0)
	case 8:
		hi, lo := binary.BigEndian.Uint32(p), binary.BigEndian.Uint32(p[4:])
		return dateFromSecNsec(float64(hi&3)*4294967296+float64(lo), hi>>2)
	}
	return dateFromSecNsec(float64(int64(binary.BigEndian.Uint64(p[4:]))), binary.BigEndian.Uint32(p))
}

func appendDate(b []byte, ms int64, valid bool) []byte {
	if !valid {
		return append(b, "null"...)
	}
	return appendISODate(b, ms)
}

// value transcodes the value at d.pos, at the given depth (the number of
// enclosing arrays and maps). undef reports an undefined value, for
// which nothing was written.
func (d *decoder) value(depth int) (undef bool, err error) {
	p := d.pos
	h, err := parseHead(d.data, p)
	if err != nil {
		return false, err
	}
	switch h.kind {
	case KindBin:
		d.pos = h.end(p)
		d.placeholder(d.data[p+h.size : d.pos : d.pos])
	case KindArray:
		if depth >= maxDepth {
			return false, malformed(p, "nesting deeper than 10000 levels")
		}
		d.pos += h.size
		d.out = append(d.out, '[')
		for i := 0; i < h.n; i++ {
			if i > 0 {
				d.out = append(d.out, ',')
			}
			u, err := d.value(depth + 1)
			if err != nil {
				return false, err
			}
			if u {
				d.out = append(d.out, "null"...)
			}
		}
		d.out = append(d.out, ']')
	case KindMap:
		if depth >= maxDepth {
			return false, malformed(p, "nesting deeper than 10000 levels")
		}
		return false, d.mapValue(h, depth)
	case KindExt:
		shape, ms, valid, err := d.extShape(h, p)
		if err != nil {
			return false, err
		}
		end := h.end(p)
		d.pos = end
		payload := d.data[p+h.size : end : end]
		switch shape {
		case extUndef:
			return true, nil
		case extDate:
			d.out = appendDate(d.out, ms, valid)
		case extBuffer:
			d.placeholder(payload)
		case extPair:
			d.out = append(d.out, '[')
			d.out = strconv.AppendInt(d.out, int64(h.ext), 10)
			d.out = append(d.out, ',')
			d.placeholder(payload)
			d.out = append(d.out, ']')
		case extData:
			d.out = append(d.out, `{"type":`...)
			d.out = strconv.AppendInt(d.out, int64(h.ext), 10)
			d.out = append(d.out, `,"data":`...)
			d.placeholder(payload)
			d.out = append(d.out, '}')
		}
	default:
		d.out = d.scalar(d.out, h, p)
		d.pos = h.end(p)
	}
	return false, nil
}

const protoKey = `"__proto__"`

// key appends the JSON literal of the property key JavaScript makes of the
// map key at d.pos.
func (d *decoder) key(dst []byte) ([]byte, error) {
	p := d.pos
	h, err := parseHead(d.data, p)
	if err != nil {
		return dst, err
	}
	switch h.kind {
	case KindString:
		d.pos = h.end(p)
		return d.str(dst, h, p), nil
	case KindInt, KindUint, KindFloat:
		d.pos = h.end(p)
		dst = append(dst, '"')
		dst = appendJSNumber(dst, numberAt(d.data, p, h))
		return append(dst, '"'), nil
	}
	if d.mode == Notepack {
		switch {
		case h.kind == KindNil || h.kind == KindBool:
			d.pos = h.end(p)
			return append(append(append(dst, '"'), d.scalar(nil, h, p)...), '"'), nil
		case h.kind == KindBin:
			d.pos = h.end(p)
			return appendJSONString(dst, d.data[p+h.size:d.pos], false, false), nil
		case h.kind == KindExt && h.c == 0xd4 && h.ext == 0:
			d.pos = h.end(p)
			return append(dst, `"undefined"`...), nil
		}
	}
	return dst, malformed(p, "unsupported map key of kind "+h.kind.String())
}

// protoValue checks the value of a "__proto__" member at d.pos: notepack
// assigns it to the object's prototype, which is invisible in JSON unless
// it is a Buffer, an ArrayBuffer, a Date or an ext array.
func (d *decoder) protoValue() error {
	if d.mode == MsgpackJS {
		return malformed(d.pos, "the key __proto__ is not allowed")
	}
	h, err := parseHead(d.data, d.pos)
	if err != nil {
		return err
	}
	if h.kind == KindBin || h.kind == KindExt && !(h.c == 0xd4 && h.ext == 0) {
		return malformed(d.pos, "unsupported __proto__ value of kind "+h.kind.String())
	}
	return nil
}

func (d *decoder) mapValue(h head, depth int) error {
	d.pos += h.size
	d.out = append(d.out, '{')
	f := d.kt.begin()
	emitted := 0
	for i := 0; i < h.n; i++ {
		kstart := len(d.kt.buf)
		var err error
		if d.kt.buf, err = d.key(d.kt.buf); err != nil {
			return err
		}
		key := d.kt.buf[kstart:]
		if string(key) == protoKey {
			if err := d.protoValue(); err != nil {
				return err
			}
			d.kt.buf = d.kt.buf[:kstart]
			mark, amark := len(d.out), len(d.atts)
			if _, err := d.value(depth + 1); err != nil {
				return err
			}
			d.out, d.atts = d.out[:mark], d.atts[:amark]
			continue
		}
		if !d.kt.commit(&f, kstart, 1) {
			return errSlow
		}
		mstart := len(d.out)
		if emitted > 0 {
			d.out = append(d.out, ',')
		}
		d.out = append(d.out, key...)
		d.out = append(d.out, ':')
		u, err := d.value(depth + 1)
		if err != nil {
			return err
		}
		if u {
			d.out = d.out[:mstart]
		} else {
			emitted++
			if string(key) == `"_placeholder"` && string(d.out[len(d.out)-4:]) == "true" {
				d.fakePh = true
			}
		}
	}
	d.kt.end(&f)
	d.out = append(d.out, '}')
	return nil
}

// tree decodes the value at d.pos into a jsv, for maps that need
// JavaScript's reordering.
func (d *decoder) tree(depth int) (jsv, error) {
	p := d.pos
	h, err := parseHead(d.data, p)
	if err != nil {
		return jsv{}, err
	}
	switch h.kind {
	case KindBin:
		d.pos = h.end(p)
		return jsv{kind: kBin, bin: d.data[p+h.size : d.pos : d.pos]}, nil
	case KindArray:
		if depth >= maxDepth {
			return jsv{}, malformed(p, "nesting deeper than 10000 levels")
		}
		d.pos += h.size
		elems := make([]jsv, 0, h.n)
		for i := 0; i < h.n; i++ {
			v, err := d.tree(depth + 1)
			if err != nil {
				return jsv{}, err
			}
			elems = append(elems, v)
		}
		return jsv{kind: kArr, elems: elems}, nil
	case KindMap:
		if depth >= maxDepth {
			return jsv{}, malformed(p, "nesting deeper than 10000 levels")
		}
		d.pos += h.size
		var o jsObject
		for i := 0; i < h.n; i++ {
			kb, err := d.key(nil)
			if err != nil {
				return jsv{}, err
			}
			if string(kb) == protoKey {
				if err := d.protoValue(); err != nil {
					return jsv{}, err
				}
				if _, err := d.tree(depth + 1); err != nil {
					return jsv{}, err
				}
				continue
			}
			v, err := d.tree(depth + 1)
			if err != nil {
				return jsv{}, err
			}
			o.set(string(kb), v)
		}
		if v, ok := o.get(`"_placeholder"`); ok && v.kind == kRaw && v.s == "true" {
			d.fakePh = true
		}
		return o.finish(1), nil
	case KindExt:
		shape, ms, valid, err := d.extShape(h, p)
		if err != nil {
			return jsv{}, err
		}
		end := h.end(p)
		d.pos = end
		bin := jsv{kind: kBin, bin: d.data[p+h.size : end : end]}
		typ := jsv{kind: kRaw, s: strconv.Itoa(int(h.ext))}
		switch shape {
		case extUndef:
			return jsv{kind: kUndef}, nil
		case extDate:
			return jsv{kind: kRaw, s: string(appendDate(nil, ms, valid))}, nil
		case extBuffer:
			return bin, nil
		case extPair:
			return jsv{kind: kArr, elems: []jsv{typ, bin}}, nil
		}
		return jsv{kind: kObj, keys: []string{`"type"`, `"data"`}, elems: []jsv{typ, bin}}, nil
	}
	d.pos = h.end(p)
	return jsv{kind: kRaw, s: string(d.scalar(nil, h, p))}, nil
}

// writeTree writes the JSON of a decoded tree.
func (d *decoder) writeTree(v jsv) {
	switch v.kind {
	case kRaw:
		d.out = append(d.out, v.s...)
	case kBin:
		d.placeholder(v.bin)
	case kArr:
		d.out = append(d.out, '[')
		for i, e := range v.elems {
			if i > 0 {
				d.out = append(d.out, ',')
			}
			d.writeTree(e)
		}
		d.out = append(d.out, ']')
	case kObj:
		d.out = append(d.out, '{')
		n := 0
		for i, e := range v.elems {
			if e.kind == kUndef {
				continue
			}
			if n > 0 {
				d.out = append(d.out, ',')
			}
			n++
			d.out = append(d.out, v.keys[i]...)
			d.out = append(d.out, ':')
			d.writeTree(e)
		}
		d.out = append(d.out, '}')
	default: // undefined in an array or at the top
		d.out = append(d.out, "null"...)
	}
}

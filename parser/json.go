package parser

// Helpers that walk JSON text already checked by validJSON. They never
// recurse, so nesting depth costs no stack, and they bound every index so
// that malformed input cannot make them panic.

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
)

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func skipSpace(d []byte, i int) int {
	for i < len(d) && isSpace(d[i]) {
		i++
	}
	return i
}

// trimSpace returns d without leading and trailing JSON whitespace.
func trimSpace(d []byte) []byte {
	i, j := 0, len(d)
	for i < j && isSpace(d[i]) {
		i++
	}
	for j > i && isSpace(d[j-1]) {
		j--
	}
	return d[i:j]
}

// skipString returns the index just past the string starting with the
// quote at d[i], or -1.
func skipString(d []byte, i int) int {
	for i++; i < len(d); i++ {
		switch d[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// skipValue returns the index just past the value starting at d[i], or -1.
func skipValue(d []byte, i int) int {
	if i >= len(d) {
		return -1
	}
	switch d[i] {
	case '"':
		return skipString(d, i)
	case '{', '[':
		depth := 0
		for ; i < len(d); i++ {
			switch d[i] {
			case '"':
				j := skipString(d, i)
				if j < 0 {
					return -1
				}
				i = j - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(d) && !isSpace(d[j]) && d[j] != ',' && d[j] != ']' && d[j] != '}' && d[j] != ':' {
		j++
	}
	if j == i {
		return -1
	}
	return j
}

// stringEquals reports whether the JSON string literal lit (with its
// quotes) denotes s.
func stringEquals(lit []byte, s string) bool {
	if len(lit) < 2 {
		return false
	}
	raw := lit[1 : len(lit)-1]
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw) == s
	}
	var u string
	if json.Unmarshal(lit, &u) != nil {
		return false
	}
	return u == s
}

// placeholder is a {"_placeholder":true,...} object at d[start:end]; num
// is its index, or -1 when "num" is missing or not a non-negative integer.
type placeholder struct {
	start, end int
	num        int
}

type phFrame struct {
	start    int  // index of '{' or '['
	obj      bool // object, not array
	wantKey  bool // the next string is a key
	key      int8 // the member being read: 0 other, 1 "_placeholder", 2 "num"
	ph       bool
	num0     int // span of the "num" value
	num1     int
	hasNum   bool
	outStart int // len(out) when the object opened
}

// findPlaceholders appends to out the placeholders of the valid JSON d, in
// text order. Like the reference implementation it does not look inside a
// placeholder. ok is false when d turns out to be malformed.
func findPlaceholders(d []byte, out []placeholder) (_ []placeholder, ok bool) {
	if !bytes.Contains(d, []byte("placeholder")) && bytes.IndexByte(d, '\\') < 0 {
		return out, true // fast path: no key can spell "_placeholder"
	}
	var stackBuf [16]phFrame
	stack := stackBuf[:0]
	// assign records the value d[v0:v1] for the member being read.
	assign := func(v0, v1 int) {
		if len(stack) == 0 {
			return
		}
		f := &stack[len(stack)-1]
		if !f.obj {
			return
		}
		switch f.key {
		case 1:
			f.ph = string(d[v0:v1]) == "true"
		case 2:
			f.num0, f.num1, f.hasNum = v0, v1, true
		}
		f.key = 0
	}
	for i := 0; i < len(d); {
		switch c := d[i]; c {
		case ' ', '\t', '\n', '\r', ':':
			i++
		case ',':
			if len(stack) > 0 && stack[len(stack)-1].obj {
				stack[len(stack)-1].wantKey = true
			}
			i++
		case '{', '[':
			stack = append(stack, phFrame{start: i, obj: c == '{', wantKey: c == '{', outStart: len(out)})
			i++
		case '}', ']':
			if len(stack) == 0 {
				return out, false
			}
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if f.obj && f.ph {
				out = out[:f.outStart] // drop placeholders nested in this one
				num := -1
				if f.hasNum {
					num = parseIndex(d[f.num0:f.num1])
				}
				out = append(out, placeholder{start: f.start, end: i + 1, num: num})
			}
			i++
			assign(f.start, i)
		case '"':
			j := skipString(d, i)
			if j < 0 {
				return out, false
			}
			if len(stack) > 0 && stack[len(stack)-1].wantKey {
				f := &stack[len(stack)-1]
				f.wantKey = false
				switch {
				case stringEquals(d[i:j], "_placeholder"):
					f.key = 1
				case stringEquals(d[i:j], "num"):
					f.key = 2
				default:
					f.key = 0
				}
			} else {
				assign(i, j)
			}
			i = j
		default:
			j := skipValue(d, i)
			if j < 0 {
				return out, false
			}
			assign(i, j)
			i = j
		}
	}
	return out, len(stack) == 0
}

// parseIndex returns the JSON number lit as a non-negative int when it is
// an integer (0, 2.0 and 1e1 are), or -1.
func parseIndex(lit []byte) int {
	if len(lit) == 0 || len(lit) > 32 {
		return -1
	}
	if len(lit) <= 9 {
		n := 0
		for _, c := range lit {
			if !isDigit(c) {
				n = -1
				break
			}
			n = n*10 + int(c-'0')
		}
		if n >= 0 {
			return n
		}
	}
	if c := lit[0]; c != '-' && !isDigit(c) {
		return -1 // a string, object, array or literal
	}
	var buf [32]byte
	f, err := strconv.ParseFloat(string(append(buf[:0], lit...)), 64)
	if err != nil || f != math.Trunc(f) || f < 0 || f > math.MaxInt32 {
		return -1
	}
	return int(f)
}

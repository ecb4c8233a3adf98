package parser

import (
	"encoding/binary"
	"encoding/json"
)

// maxNesting is the deepest nesting of arrays and objects validJSON
// accepts: encoding/json's limit, so that both agree.
const maxNesting = 10000

// validJSON reports whether d is one valid JSON value with optional
// surrounding whitespace, exactly as json.Valid does, several times
// faster on long strings: a packet's JSON is checked on each decode and
// send, and payloads are mostly string bytes. It does not recurse.
func validJSON(d []byte) bool {
	_, ok := scanJSON(d, false, nil)
	return ok
}

// scanJSON checks d as validJSON does and, when split is set and d is an
// array, appends its elements to elems and returns them non-nil, each the
// exact text of one element (no surrounding whitespace, capacity clipped):
// validation and splitting in one pass.
func scanJSON(d []byte, split bool, elems []json.RawMessage) ([]json.RawMessage, bool) {
	// stack[k] says whether nesting level k+1 is an object.
	var stackBuf [64]bool
	stack := stackBuf[:0]
	elems = elems[:0]
	start := 0 // where the current top-level element began
	i := skipSpace(d, 0)
	if split && (i >= len(d) || d[i] != '[') {
		split = false
	}
	for {
		// A value starts at d[i].
		if i >= len(d) {
			return nil, false
		}
		if split && len(stack) == 1 {
			start = i
		}
		switch c := d[i]; {
		case c == '{' || c == '[':
			if len(stack) == maxNesting {
				return nil, false
			}
			stack = append(stack, c == '{')
			i = skipSpace(d, i+1)
			if i < len(d) && d[i] == "]}"[b2i(c == '{')] {
				i++
				stack = stack[:len(stack)-1]
				break // an empty container is a whole value
			}
			if c == '{' {
				if i = objectKey(d, i); i < 0 {
					return nil, false
				}
			}
			continue // its first element
		case c == '"':
			if i = scanString(d, i); i < 0 {
				return nil, false
			}
		case c == '-' || isDigit(c):
			if i = scanNumber(d, i); i < 0 {
				return nil, false
			}
		case c == 't':
			if !hasAt(d, i, "true") {
				return nil, false
			}
			i += 4
		case c == 'f':
			if !hasAt(d, i, "false") {
				return nil, false
			}
			i += 5
		case c == 'n':
			if !hasAt(d, i, "null") {
				return nil, false
			}
			i += 4
		default:
			return nil, false
		}
		// A value ended before d[i]: close containers, or go on to the
		// next element.
		for {
			if split && len(stack) == 1 {
				elems = append(elems, d[start:i:i])
			}
			i = skipSpace(d, i)
			if len(stack) == 0 {
				if i != len(d) {
					return nil, false
				}
				if !split {
					return nil, true
				}
				if elems == nil {
					elems = []json.RawMessage{} // an empty array
				}
				return elems, true
			}
			if i >= len(d) {
				return nil, false
			}
			obj := stack[len(stack)-1]
			if d[i] == ',' {
				i = skipSpace(d, i+1)
				if obj {
					if i = objectKey(d, i); i < 0 {
						return nil, false
					}
				}
				break
			}
			if d[i] != "]}"[b2i(obj)] {
				return nil, false
			}
			i++
			stack = stack[:len(stack)-1]
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func hasAt(d []byte, i int, lit string) bool {
	return len(d)-i >= len(lit) && string(d[i:i+len(lit)]) == lit
}

// objectKey checks `"key" :` at d[i] and returns the index of the value
// after it (past whitespace), or -1.
func objectKey(d []byte, i int) int {
	if i >= len(d) || d[i] != '"' {
		return -1
	}
	if i = scanString(d, i); i < 0 {
		return -1
	}
	i = skipSpace(d, i)
	if i >= len(d) || d[i] != ':' {
		return -1
	}
	return skipSpace(d, i+1)
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// scanString checks the string whose quote is at d[i] and returns the
// index past its closing quote, or -1. Plain bytes are skipped eight at a
// time.
func scanString(d []byte, i int) int {
	i++
	for {
		for len(d)-i >= 8 {
			v := binary.LittleEndian.Uint64(d[i:])
			// A byte below 0x20, a quote or a backslash in v?
			ctl := (v - lsb*0x20) &^ v
			quote := v ^ (lsb * '"')
			bslash := v ^ (lsb * '\\')
			if (ctl|(quote-lsb)&^quote|(bslash-lsb)&^bslash)&msb != 0 {
				break
			}
			i += 8
		}
		if i >= len(d) {
			return -1
		}
		switch c := d[i]; {
		case c == '"':
			return i + 1
		case c == '\\':
			i++
			if i >= len(d) {
				return -1
			}
			switch d[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if len(d)-i < 5 {
					return -1
				}
				for _, h := range d[i+1 : i+5] {
					if !isHex(h) {
						return -1
					}
				}
				i += 5
			default:
				return -1
			}
		case c < 0x20:
			return -1
		default:
			i++
		}
	}
}

func isHex(c byte) bool {
	return isDigit(c) || (c|0x20) >= 'a' && (c|0x20) <= 'f'
}

// scanNumber checks the number starting at d[i] and returns the index
// past it, or -1.
func scanNumber(d []byte, i int) int {
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

package parser

import (
	"encoding/json"

	"github.com/gosio/gosio/internal/jsonscan"
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
			if i = jsonscan.ScanString(d, i); i < 0 {
				return nil, false
			}
		case c == '-' || isDigit(c):
			if i = jsonscan.ScanNumber(d, i); i < 0 {
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
	if i = jsonscan.ScanString(d, i); i < 0 {
		return -1
	}
	i = skipSpace(d, i)
	if i >= len(d) || d[i] != ':' {
		return -1
	}
	return skipSpace(d, i+1)
}

// Package whatwg decodes UTF-8 as the WHATWG decoder does (Node's
// Buffer#toString, TextDecoder): each maximal subpart of an ill-formed
// sequence becomes one U+FFFD, so that gosio reads bytes exactly as the
// reference implementations read them.
package whatwg

import "unicode/utf8"

// SubpartLen returns the length of the maximal subpart of an ill-formed
// UTF-8 sequence at the start of p (len(p) > 0): the bytes one U+FFFD
// replaces. "\xe2\x82" is one subpart, "\xff\xfe" two.
func SubpartLen(p []byte) int {
	lo, hi, need := byte(0x80), byte(0xbf), 0
	switch c := p[0]; {
	case c >= 0xc2 && c <= 0xdf:
		need = 1
	case c == 0xe0:
		lo, need = 0xa0, 2
	case c == 0xed:
		hi, need = 0x9f, 2
	case c >= 0xe1 && c <= 0xef:
		need = 2
	case c == 0xf0:
		lo, need = 0x90, 3
	case c == 0xf4:
		hi, need = 0x8f, 3
	case c >= 0xf1 && c <= 0xf3:
		need = 3
	default:
		return 1
	}
	n := 1
	for ; n <= need && n < len(p); n++ {
		if p[n] < lo || p[n] > hi {
			break
		}
		lo, hi = 0x80, 0xbf
	}
	return n
}

// Append appends s decoded as the WHATWG decoder decodes it, re-encoded:
// valid characters as they are, each maximal subpart of an ill-formed
// sequence as U+FFFD.
func Append(b, s []byte) []byte {
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			b = append(b, s[i])
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, "\uFFFD"...)
			i += SubpartLen(s[i:])
			continue
		}
		b = append(b, s[i:i+size]...)
		i += size
	}
	return b
}

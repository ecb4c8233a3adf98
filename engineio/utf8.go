package engineio

import "unicode/utf8"

// wellFormed returns b with every ill-formed UTF-8 sequence replaced by
// U+FFFD, or b itself when it is valid. As the WHATWG decoder the
// reference server reads polling bodies with (and the Unicode standard's
// "substitution of maximal subparts"), each maximal prefix of a sequence
// that could have begun a valid character becomes one U+FFFD, and any other
// invalid byte one U+FFFD of its own: "\xe2\x82" is one, "\xff\xfe" two.
func wellFormed(b []byte) []byte {
	if utf8.Valid(b) {
		return b
	}
	out := make([]byte, 0, len(b)+8)
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			out = append(out, b[i])
			i++
			continue
		}
		if r, n := utf8.DecodeRune(b[i:]); r != utf8.RuneError || n > 1 {
			out = append(out, b[i:i+n]...)
			i += n
			continue
		}
		out = utf8.AppendRune(out, utf8.RuneError)
		i += maximalSubpart(b[i:])
	}
	return out
}

// maximalSubpart returns how many bytes at the start of b, which does not
// begin with a valid character, form the longest prefix of a well-formed
// sequence (at least 1).
func maximalSubpart(b []byte) int {
	lead := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xbf) // the range of the second byte
	switch {
	case lead >= 0xc2 && lead <= 0xdf:
		need = 1
	case lead == 0xe0:
		need, lo = 2, 0xa0
	case lead == 0xed:
		need, hi = 2, 0x9f
	case lead >= 0xe1 && lead <= 0xef:
		need = 2
	case lead == 0xf0:
		need, lo = 3, 0x90
	case lead == 0xf4:
		need, hi = 3, 0x8f
	case lead >= 0xf1 && lead <= 0xf3:
		need = 3
	default:
		return 1
	}
	n := 1
	for ; n <= need && n < len(b); n++ {
		c := b[n]
		if n > 1 {
			lo, hi = 0x80, 0xbf
		}
		if c < lo || c > hi {
			break
		}
	}
	return n
}

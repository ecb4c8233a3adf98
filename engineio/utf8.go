package engineio

import (
	"unicode/utf8"

	"github.com/gosio/gosio/internal/whatwg"
)

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
	return whatwg.Append(make([]byte, 0, len(b)+8), b)
}

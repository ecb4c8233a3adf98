package msgpack

import (
	"unicode/utf8"

	"github.com/gosio/gosio/internal/whatwg"
)

const hexDigits = "0123456789abcdef"

// appendEscapedASCII appends the ASCII byte c as JSON.stringify writes it.
func appendEscapedASCII(b []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(b, '\\', c)
	case '\b':
		return append(b, '\\', 'b')
	case '\f':
		return append(b, '\\', 'f')
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	if c < 0x20 {
		return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
	}
	return append(b, c)
}

func needsEscape(c byte) bool { return c < 0x20 || c == '"' || c == '\\' }

func appendUnitEscape(b []byte, u uint16) []byte {
	return append(b, '\\', 'u', hexDigits[u>>12], hexDigits[u>>8&0xf], hexDigits[u>>4&0xf], hexDigits[u&0xf])
}

// appendJSONString appends the JSON string literal that JSON.stringify
// writes for the bytes s decoded as Node decodes UTF-8 (ill-formed
// sequences become U+FFFD by maximal subparts). With wtf8, a three-byte
// encoded surrogate (ED A0..BF xx) stands for a lone UTF-16 surrogate and
// is written as JSON.stringify writes one, \udxxx. With stripBOM a leading
// U+FEFF BOM is dropped, as TextDecoder does.
func appendJSONString(b []byte, s []byte, wtf8, stripBOM bool) []byte {
	b = append(b, '"')
	if stripBOM && len(s) >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf {
		s = s[3:]
	}
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if !needsEscape(c) {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			b = appendEscapedASCII(b, c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r != utf8.RuneError || size > 1 {
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		if wtf8 && c == 0xed && i+2 < len(s) && s[i+1] >= 0xa0 && s[i+1] <= 0xbf && s[i+2] >= 0x80 && s[i+2] <= 0xbf {
			u := uint16(0xd000) | uint16(s[i+1]&0x3f)<<6 | uint16(s[i+2]&0x3f)
			b = appendUnitEscape(b, u)
			i += 3
		} else {
			b = append(b, "\uFFFD"...)
			i += whatwg.SubpartLen(s[i:])
		}
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// wellFormed reports whether s is valid UTF-8 (the WHATWG decoder then
// returns it unchanged).
func wellFormed(s []byte) bool { return utf8.Valid(s) }

// jsString returns the Go form (UTF-8) of the string Node gets from s.
func jsString(s []byte) string {
	if wellFormed(s) {
		return string(s)
	}
	return string(whatwg.Append(make([]byte, 0, len(s)+8), s))
}

// lenientUnits appends the UTF-16 units @msgpack/msgpack's utf8DecodeJs
// produces for the n bytes at data[start:]: it does not validate, reads
// continuation bytes past the string's end (and 0 past the input's end)
// and may produce lone surrogates.
func lenientUnits(units []uint16, data []byte, start, n int) []uint16 {
	at := func(i int) uint32 {
		if i < len(data) {
			return uint32(data[i]) & 0x3f
		}
		return 0
	}
	end := start + n
	for off := start; off < end; {
		b1 := uint32(data[off])
		off++
		switch {
		case b1&0x80 == 0:
			units = append(units, uint16(b1))
		case b1&0xe0 == 0xc0:
			b2 := at(off)
			off++
			units = append(units, uint16((b1&0x1f)<<6|b2))
		case b1&0xf0 == 0xe0:
			b2, b3 := at(off), at(off+1)
			off += 2
			units = append(units, uint16((b1&0x1f)<<12|b2<<6|b3))
		case b1&0xf8 == 0xf0:
			b2, b3, b4 := at(off), at(off+1), at(off+2)
			off += 3
			unit := (b1&0x07)<<18 | b2<<12 | b3<<6 | b4
			if unit > 0xffff {
				unit -= 0x10000
				units = append(units, uint16(unit>>10&0x3ff|0xd800))
				unit = 0xdc00 | unit&0x3ff
			}
			units = append(units, uint16(unit))
		default:
			units = append(units, uint16(b1))
		}
	}
	return units
}

// appendJSONUnits appends the JSON.stringify literal of the UTF-16 string
// units.
func appendJSONUnits(b []byte, units []uint16) []byte {
	b = append(b, '"')
	for i := 0; i < len(units); i++ {
		u := units[i]
		switch {
		case u < 0x80:
			b = appendEscapedASCII(b, byte(u))
		case u >= 0xd800 && u <= 0xdbff && i+1 < len(units) && units[i+1] >= 0xdc00 && units[i+1] <= 0xdfff:
			r := 0x10000 + (rune(u)-0xd800)<<10 + rune(units[i+1]) - 0xdc00
			b = utf8.AppendRune(b, r)
			i++
		case u >= 0xd800 && u <= 0xdfff:
			b = appendUnitEscape(b, u)
		default:
			b = utf8.AppendRune(b, rune(u))
		}
	}
	return append(b, '"')
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// hex4 decodes 4 hex digits (already validated).
func hex4(p []byte) rune {
	return rune(hexVal(p[0])<<12 | hexVal(p[1])<<8 | hexVal(p[2])<<4 | hexVal(p[3]))
}

func appendSurrogate(b []byte, r rune, wtf8 bool) []byte {
	if !wtf8 {
		return append(b, "\uFFFD"...)
	}
	return append(b, 0xe0|byte(r>>12), 0x80|byte(r>>6)&0x3f, 0x80|byte(r)&0x3f)
}

// appendUnescape appends the string that JSON.parse gives for the
// content raw of a syntactically valid JSON string literal (without its
// quotes), in UTF-8. Raw ill-formed UTF-8 becomes U+FFFD by maximal
// subparts; an escaped lone surrogate becomes U+FFFD, or with wtf8 its
// three-byte WTF-8 form (so that distinct JavaScript strings stay
// distinct).
func appendUnescape(b []byte, raw []byte, wtf8 bool) []byte {
	start := 0
	for i := 0; i < len(raw); {
		c := raw[i]
		if c == '\\' && i+1 < len(raw) {
			b = append(b, raw[start:i]...)
			e := raw[i+1]
			i += 2
			switch e {
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				if i+4 > len(raw) {
					i = len(raw)
					break
				}
				r := hex4(raw[i:])
				i += 4
				switch {
				case r >= 0xd800 && r <= 0xdbff:
					if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
						if r2 := hex4(raw[i+2:]); r2 >= 0xdc00 && r2 <= 0xdfff {
							b = utf8.AppendRune(b, 0x10000+(r-0xd800)<<10+r2-0xdc00)
							i += 6
							break
						}
					}
					b = appendSurrogate(b, r, wtf8)
				case r >= 0xdc00 && r <= 0xdfff:
					b = appendSurrogate(b, r, wtf8)
				default:
					b = utf8.AppendRune(b, r)
				}
			default: // '"', '\\', '/'
				b = append(b, e)
			}
			start = i
			continue
		}
		if c < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(raw[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, raw[start:i]...)
			b = append(b, "\uFFFD"...)
			i += whatwg.SubpartLen(raw[i:])
			start = i
			continue
		}
		i += size
	}
	return append(b, raw[start:]...)
}

// plainString reports whether the JSON string content raw decodes to
// itself: no escapes, valid UTF-8.
func plainString(raw []byte) bool {
	ascii := true
	for _, c := range raw {
		if c == '\\' {
			return false
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	return ascii || utf8.Valid(raw)
}

// appendUTF8FromWTF8 appends s with every WTF-8 surrogate (ED A0..BF xx)
// replaced by U+FFFD, as Buffer.from writes a lone surrogate.
func appendUTF8FromWTF8(b []byte, s string) []byte {
	start := 0
	for i := 0; i+2 < len(s); i++ {
		if s[i] == 0xed && s[i+1] >= 0xa0 && s[i+1] <= 0xbf {
			b = append(b, s[start:i]...)
			b = append(b, "\uFFFD"...)
			i += 2
			start = i + 1
		}
	}
	return append(b, s[start:]...)
}

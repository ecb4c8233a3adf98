package msgpack

import (
	"math"
	"strconv"
)

// appendJSNumber appends f as JavaScript's Number.prototype.toString()
// writes it: the shortest digits that round-trip, in plain notation when
// the decimal exponent n (value = 0.d1d2... × 10^n) is in -6 < n <= 21 and
// in exponent notation ("1e+21", "1.5e-7") otherwise; NaN, Infinity,
// -Infinity; -0 as "0".
func appendJSNumber(b []byte, f float64) []byte {
	switch {
	case f != f:
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	case f == 0:
		return append(b, '0')
	}
	if f == math.Trunc(f) && math.Abs(f) < two53 {
		return strconv.AppendInt(b, int64(f), 10)
	}
	if f < 0 {
		b = append(b, '-')
		f = -f
	}
	var tmp [32]byte
	s := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64) // d[.ddd]e±XX
	epos := 0
	for epos < len(s) && s[epos] != 'e' {
		epos++
	}
	var dbuf [24]byte
	digits := append(dbuf[:0], s[0])
	if epos > 1 {
		digits = append(digits, s[2:epos]...)
	}
	exp := 0
	neg := s[epos+1] == '-'
	for _, c := range s[epos+2:] {
		exp = exp*10 + int(c-'0')
	}
	if neg {
		exp = -exp
	}
	k, n := len(digits), exp+1
	switch {
	case k <= n && n <= 21:
		b = append(b, digits...)
		for i := k; i < n; i++ {
			b = append(b, '0')
		}
	case 0 < n && n <= 21:
		b = append(b, digits[:n]...)
		b = append(b, '.')
		b = append(b, digits[n:]...)
	case -6 < n && n <= 0:
		b = append(b, '0', '.')
		for i := n; i < 0; i++ {
			b = append(b, '0')
		}
		b = append(b, digits...)
	default:
		b = append(b, digits[0])
		if k > 1 {
			b = append(b, '.')
			b = append(b, digits[1:]...)
		}
		b = append(b, 'e')
		if n-1 < 0 {
			b = append(b, '-')
			b = strconv.AppendInt(b, int64(1-n), 10)
		} else {
			b = append(b, '+')
			b = strconv.AppendInt(b, int64(n-1), 10)
		}
	}
	return b
}

// appendJSONNumber appends f as JSON.stringify writes a number: as
// appendJSNumber, but NaN and infinities become null.
func appendJSONNumber(b []byte, f float64) []byte {
	if f != f || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	return appendJSNumber(b, f)
}

// maxTime is the largest absolute time value of a JavaScript Date, in ms.
const maxTime = 8.64e15

// timeClip is ECMAScript's TimeClip: the time value a Date gets from t, or
// ok false for an invalid Date.
func timeClip(t float64) (ms int64, ok bool) {
	if t != t || math.Abs(t) > maxTime {
		return 0, false
	}
	return int64(math.Trunc(t)), true
}

// dateFromSecNsec is new Date(sec * 1e3 + nsec / 1e6) computed with the
// roundings of JavaScript. The explicit conversions keep the compiler
// from fusing the multiply and add.
func dateFromSecNsec(sec float64, nsec uint32) (int64, bool) {
	return timeClip(float64(sec*1e3) + float64(nsec)/1e6)
}

// appendISODate appends, quoted, the string Date.prototype.toJSON gives
// for the time value ms: YYYY-MM-DDTHH:mm:ss.sssZ, with a signed six-digit
// year outside 0000..9999.
func appendISODate(b []byte, ms int64) []byte {
	days := ms / 86400000
	rem := ms % 86400000
	if rem < 0 {
		rem += 86400000
		days--
	}
	y, m, d := civilFromDays(days)
	b = append(b, '"')
	if y >= 0 && y <= 9999 {
		b = appendPad(b, y, 4)
	} else {
		if y < 0 {
			b = append(b, '-')
			b = appendPad(b, -y, 6)
		} else {
			b = append(b, '+')
			b = appendPad(b, y, 6)
		}
	}
	b = append(b, '-')
	b = appendPad(b, m, 2)
	b = append(b, '-')
	b = appendPad(b, d, 2)
	b = append(b, 'T')
	b = appendPad(b, rem/3600000, 2)
	b = append(b, ':')
	b = appendPad(b, rem/60000%60, 2)
	b = append(b, ':')
	b = appendPad(b, rem/1000%60, 2)
	b = append(b, '.')
	b = appendPad(b, rem%1000, 3)
	return append(b, 'Z', '"')
}

func appendPad(b []byte, v int64, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], v, 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// civilFromDays converts days since 1970-01-01 to a proleptic Gregorian
// date (year 0 is 1 BC, as in ISO 8601 and JavaScript).
func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// arrayIndex reports whether the property key s is an array index in
// JavaScript's sense (a canonical decimal below 2^32-1), which orders it
// before the other keys of an object.
func arrayIndex(s []byte) (int64, bool) {
	if len(s) == 0 || len(s) > 10 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	var v int64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, v < 1<<32-1
}

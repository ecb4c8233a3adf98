package msgpack

import (
	"encoding/binary"
	"math"
)

// Mode selects whose encoding rules a JavaScript number follows, and whose
// decoding rules the transcoder to JSON follows.
type Mode int

const (
	// Notepack follows notepack.io 3.0.1 (classic and sharded adapters,
	// redis-emitter). Every finite integral number is written as the
	// smallest integer form (positive fixint, uint8/16/32 cc/cd/ce,
	// negative fixint, int8/16/32 d0/d1/d2); beyond 32 bits it is uint64 cf
	// (x >= 2^32) or int64 d3 (x < -2^31) of x modulo 2^64, so that 2^64
	// wraps to cf 00..00 as notepack writes it. Other numbers (fractions,
	// NaN, ±Inf) are float64 cb; -0 is 00.
	Notepack Mode = iota

	// MsgpackJS follows @msgpack/msgpack 2.8 (streams adapter and
	// emitter): only safe integers, |x| <= 2^53-1, are written as
	// integers (smallest form, as above); every other number is float64 cb.
	MsgpackJS
)

// String returns "Notepack" or "MsgpackJS".
func (m Mode) String() string {
	if m == MsgpackJS {
		return "MsgpackJS"
	}
	return "Notepack"
}

// AppendNil appends nil (c0).
func AppendNil(b []byte) []byte { return append(b, 0xc0) }

// AppendBool appends false (c2) or true (c3).
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 0xc3)
	}
	return append(b, 0xc2)
}

// AppendUint appends v in the smallest unsigned form, as both JavaScript
// libraries write a non-negative integer: positive fixint below 128, then
// uint8 cc, uint16 cd, uint32 ce and uint64 cf.
func AppendUint(b []byte, v uint64) []byte {
	switch {
	case v < 0x80:
		return append(b, byte(v))
	case v < 0x100:
		return append(b, 0xcc, byte(v))
	case v < 0x10000:
		return append(b, 0xcd, byte(v>>8), byte(v))
	case v < 0x100000000:
		return append(b, 0xce, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xcf), v)
}

// AppendInt appends v in the smallest form, as both JavaScript libraries
// write an integer: non-negative values as [AppendUint] does, negative
// ones as negative fixint from -32, then int8 d0, int16 d1, int32 d2 and
// int64 d3.
func AppendInt(b []byte, v int64) []byte {
	switch {
	case v >= 0:
		return AppendUint(b, uint64(v))
	case v >= -0x20:
		return append(b, byte(v))
	case v >= -0x80:
		return append(b, 0xd0, byte(v))
	case v >= -0x8000:
		return append(b, 0xd1, byte(v>>8), byte(v))
	case v >= -0x80000000:
		return append(b, 0xd2, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(v))
}

// AppendFloat64 appends v as float64 (cb), NaN and infinities included.
func AppendFloat64(b []byte, v float64) []byte {
	return binary.BigEndian.AppendUint64(append(b, 0xcb), math.Float64bits(v))
}

const (
	two32 = 1 << 32
	two53 = 1 << 53
	two63 = 1 << 63
	two64 = 18446744073709551616.0
)

// AppendNumber appends the JavaScript number f as the library of mode m
// writes it (see [Notepack] and [MsgpackJS]). A mode other than the two
// defined ones is treated as Notepack.
func AppendNumber(b []byte, f float64, m Mode) []byte {
	if math.IsInf(f, 0) || f != math.Trunc(f) { // NaN fails f == Trunc(f)
		return AppendFloat64(b, f)
	}
	if m == MsgpackJS {
		if math.Abs(f) <= two53-1 {
			return AppendInt(b, int64(f))
		}
		return AppendFloat64(b, f)
	}
	if f >= 0 { // -0 too
		if f < two32 {
			return AppendUint(b, uint64(f))
		}
		u := uint64(0)
		if f < two64 {
			u = uint64(f)
		} else {
			u = uint64(math.Mod(f, two64))
		}
		return binary.BigEndian.AppendUint64(append(b, 0xcf), u)
	}
	if f >= -0x80000000 {
		return AppendInt(b, int64(f))
	}
	var u uint64
	if f >= -two63 {
		u = uint64(int64(f))
	} else {
		r := math.Mod(f, two64) // exact, in (-2^64, 0]
		u = -uint64(-r)
	}
	return binary.BigEndian.AppendUint64(append(b, 0xd3), u)
}

// appendStrHeader appends the header of a str of n bytes: fixstr below 32
// bytes, then str8 d9 (both libraries use it), str16 da and str32 db.
func appendStrHeader(b []byte, n int) []byte {
	switch {
	case n < 32:
		return append(b, 0xa0|byte(n))
	case n < 0x100:
		return append(b, 0xd9, byte(n))
	case n < 0x10000:
		return append(b, 0xda, byte(n>>8), byte(n))
	}
	return append(b, 0xdb, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

func strHeaderLen(n int) int {
	switch {
	case n < 32:
		return 1
	case n < 0x100:
		return 2
	case n < 0x10000:
		return 3
	}
	return 5
}

// AppendString appends s as a str in the smallest form: fixstr, str8 d9,
// str16 da or str32 db. The bytes of s are written as they are; s should
// be valid UTF-8.
func AppendString(b []byte, s string) []byte {
	return append(appendStrHeader(b, len(s)), s...)
}

// AppendBin appends p as a bin in the smallest form: bin8 c4, bin16 c5 or
// bin32 c6 (an empty or nil p is c4 00).
func AppendBin(b []byte, p []byte) []byte {
	n := len(p)
	switch {
	case n < 0x100:
		b = append(b, 0xc4, byte(n))
	case n < 0x10000:
		b = append(b, 0xc5, byte(n>>8), byte(n))
	default:
		b = append(b, 0xc6, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, p...)
}

// AppendArrayHeader appends the header of an array of n elements:
// fixarray below 16, then array16 dc and array32 dd. The n elements must
// follow. A negative n is taken as 0.
func AppendArrayHeader(b []byte, n int) []byte {
	switch {
	case n < 0:
		return append(b, 0x90)
	case n < 16:
		return append(b, 0x90|byte(n))
	case n < 0x10000:
		return append(b, 0xdc, byte(n>>8), byte(n))
	}
	return append(b, 0xdd, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// AppendMapHeader appends the header of a map of n key/value pairs:
// fixmap below 16, then map16 de and map32 df. The 2n keys and values must
// follow. A negative n is taken as 0.
func AppendMapHeader(b []byte, n int) []byte {
	switch {
	case n < 0:
		return append(b, 0x80)
	case n < 16:
		return append(b, 0x80|byte(n))
	case n < 0x10000:
		return append(b, 0xde, byte(n>>8), byte(n))
	}
	return append(b, 0xdf, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

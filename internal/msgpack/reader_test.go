package msgpack

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/gosio/gosio/internal/testutil"
)

func h(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

func TestPeekKinds(t *testing.T) {
	for _, c := range []struct {
		hex  string
		kind Kind
	}{
		{"c0", KindNil}, {"c2", KindBool}, {"c3", KindBool},
		{"00", KindUint}, {"7f", KindUint}, {"cc ff", KindUint}, {"cd ffff", KindUint}, {"ce ffffffff", KindUint}, {"cf 0000000000000001", KindUint},
		{"e0", KindInt}, {"ff", KindInt}, {"d0 80", KindInt}, {"d1 8000", KindInt}, {"d2 80000000", KindInt}, {"d3 8000000000000000", KindInt},
		{"ca 3f800000", KindFloat}, {"cb 3ff8000000000000", KindFloat},
		{"a0", KindString}, {"d9 01 41", KindString}, {"da 0001 41", KindString}, {"db 00000001 41", KindString},
		{"c4 00", KindBin}, {"c5 0001 01", KindBin}, {"c6 00000001 01", KindBin},
		{"90", KindArray}, {"dc 0001 01", KindArray}, {"dd 00000001 01", KindArray},
		{"80", KindMap}, {"de 0001 0101", KindMap}, {"df 00000001 0101", KindMap},
		{"d4 05 01", KindExt}, {"d5 05 0102", KindExt}, {"d6 ff 00000000", KindExt}, {"d7 ff 0000000000000000", KindExt},
		{"d8 05 00000000000000000000000000000000", KindExt}, {"c7 00 05", KindExt}, {"c8 0000 05", KindExt}, {"c9 00000000 05", KindExt},
	} {
		data := h(c.hex)
		r := NewReader(data)
		k, err := r.Peek()
		testutil.NoErr(t, err)
		if k != c.kind {
			t.Errorf("Peek(%s) = %v, want %v", c.hex, k, c.kind)
		}
		if err := r.Skip(); err != nil || !r.Done() || r.Pos() != len(data) {
			t.Errorf("Skip(%s): %v, pos %d", c.hex, err, r.Pos())
		}
	}
	if KindMap.String() != "map" || Kind(99).String() != "invalid" {
		t.Error("Kind.String")
	}
}

func TestReaderScalars(t *testing.T) {
	r := NewReader(h("c0 c3 c2 ff d3ffffffffffffffff cf7fffffffffffffff cb4059000000000000 ca3fc00000"))
	testutil.NoErr(t, r.ReadNil())
	b, err := r.ReadBool()
	testutil.NoErr(t, err)
	testutil.Equal(t, b, true)
	b, err = r.ReadBool()
	testutil.NoErr(t, err)
	testutil.Equal(t, b, false)
	i, err := r.ReadInt()
	testutil.NoErr(t, err)
	testutil.Equal(t, i, int64(-1))
	i, err = r.ReadInt()
	testutil.NoErr(t, err)
	testutil.Equal(t, i, int64(-1))
	i, err = r.ReadInt()
	testutil.NoErr(t, err)
	testutil.Equal(t, i, int64(math.MaxInt64))
	i, err = r.ReadInt() // float64 100
	testutil.NoErr(t, err)
	testutil.Equal(t, i, int64(100))
	_, err = r.ReadInt() // float32 1.5: not integral
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("ReadInt(1.5) = %v", err)
	}
	f, err := r.ReadFloat()
	testutil.NoErr(t, err)
	testutil.Equal(t, f, 1.5)
	if !r.Done() {
		t.Fatal("not done")
	}
	if err := r.ReadNil(); err == nil {
		t.Fatal("ReadNil at the end succeeded")
	}

	for _, c := range []struct {
		hex string
		v   int64
	}{
		{"00", 0}, {"7f", 127}, {"cc80", 128}, {"cdffff", 65535}, {"ceffffffff", 1<<32 - 1}, {"e0", -32},
		{"d080", -128}, {"d18000", -32768}, {"d280000000", -1 << 31}, {"d38000000000000000", math.MinInt64},
		{"cbc3e0000000000000", math.MinInt64},
	} {
		v, err := NewReader(h(c.hex)).ReadInt()
		testutil.NoErr(t, err)
		if v != c.v {
			t.Errorf("ReadInt(%s) = %d, want %d", c.hex, v, c.v)
		}
	}
	for _, bad := range []string{"cf8000000000000000", "cb43e0000000000000", "cb7ff8000000000000", "a0", "c0"} {
		r := NewReader(h(bad))
		if _, err := r.ReadInt(); !errors.Is(err, ErrMalformed) || r.Pos() != 0 {
			t.Errorf("ReadInt(%s): %v, pos %d", bad, err, r.Pos())
		}
	}
	f, err = NewReader(h("cfffffffffffffffff")).ReadFloat()
	testutil.NoErr(t, err)
	testutil.Equal(t, f, 18446744073709551615.0)
}

func TestReaderStrings(t *testing.T) {
	r := NewReader(h("a3616263 a3e28241 c40101 7b cb3ff8000000000000 cfffffffffffffffff cb7ff8000000000000 a0"))
	s, err := r.ReadString()
	testutil.NoErr(t, err)
	testutil.Equal(t, s, "abc")
	s, err = r.ReadString()
	testutil.NoErr(t, err)
	testutil.Equal(t, s, "\uFFFDA") // one U+FFFD for the maximal subpart e2 82
	if _, err := r.ReadString(); !errors.Is(err, ErrMalformed) {
		t.Fatalf("ReadString(bin) = %v", err)
	}
	if _, err := r.ReadStringOrNumber(); err == nil {
		t.Fatal("ReadStringOrNumber(bin) succeeded")
	}
	bin, err := r.ReadBin()
	testutil.NoErr(t, err)
	if !bytes.Equal(bin, []byte{1}) || cap(bin) != 1 {
		t.Fatalf("ReadBin = %x (cap %d)", bin, cap(bin))
	}
	for _, want := range []string{"123", "1.5", "18446744073709552000", "NaN", ""} {
		s, err := r.ReadStringOrNumber()
		testutil.NoErr(t, err)
		testutil.Equal(t, s, want)
	}
	if !r.Done() {
		t.Fatal("not done")
	}
}

func TestReaderContainers(t *testing.T) {
	msg := h("93 a6397077586862 83a474797065 02 a464617461 94a2657601a374776f81a57468726565c3 a36e7370a12f 83a5726f6f6d7390a6657863657074 90a5666c61677380")
	r := NewReader(msg)
	n, err := r.ReadArrayHeader()
	testutil.NoErr(t, err)
	testutil.Equal(t, n, 3)
	uid, err := r.ReadString()
	testutil.NoErr(t, err)
	testutil.Equal(t, uid, "9pwXhb")
	n, err = r.ReadMapHeader()
	testutil.NoErr(t, err)
	testutil.Equal(t, n, 3)
	k, _ := r.ReadString()
	testutil.Equal(t, k, "type")
	typ, _ := r.ReadInt()
	testutil.Equal(t, typ, int64(2))
	k, _ = r.ReadString()
	testutil.Equal(t, k, "data")
	start := r.Pos()
	raw, err := r.Raw()
	testutil.NoErr(t, err)
	testutil.Equal(t, raw, msg[start:r.Pos()])
	v, err := ToJSON(raw)
	testutil.NoErr(t, err)
	testutil.Equal(t, string(v.JSON), `["ev",1,"two",{"three":true}]`)
	testutil.NoErr(t, r.Skip()) // "nsp"
	testutil.NoErr(t, r.Skip()) // "/"
	testutil.NoErr(t, r.Skip()) // opts
	if !r.Done() {
		t.Fatal("not done")
	}
	if _, err := NewReader(h("80")).ReadArrayHeader(); err == nil {
		t.Fatal("ReadArrayHeader(map) succeeded")
	}
	if _, err := NewReader(h("90")).ReadMapHeader(); err == nil {
		t.Fatal("ReadMapHeader(array) succeeded")
	}
}

func TestReaderHostile(t *testing.T) {
	for _, c := range []string{
		"", "c1", "dd ffffffff", "df 7fffffff", "de ffff 00", "dc 0002 01", "c6 ffffffff", "db 00000002 41",
		"c9 00000001", "c9 00000001 05", "d8 05 00", "cf 00", "d9", "92 01", "81 01", "81 c1 01",
	} {
		data := h(c)
		r := NewReader(data)
		if err := r.Skip(); err == nil || !errors.Is(err, ErrMalformed) || r.Pos() != 0 {
			t.Errorf("Skip(%q): %v, pos %d", c, err, r.Pos())
		}
		if _, err := r.Raw(); err == nil {
			t.Errorf("Raw(%q) succeeded", c)
		}
		if _, err := ToJSON(data); err == nil {
			t.Errorf("ToJSON(%q) succeeded", c)
		}
	}
	// Nesting: 10000 levels are fine, 10001 are not, for Skip and ToJSON.
	for _, depth := range []int{maxDepth, maxDepth + 1} {
		for _, open := range []byte{0x91, 0x81} {
			var data []byte
			for range depth {
				data = append(data, open)
				if open == 0x81 {
					data = append(data, 0xa0)
				}
			}
			data = append(data, 0xc0)
			err := NewReader(data).Skip()
			_, err2 := ToJSON(data)
			_, err3 := ToJSONMode(data, MsgpackJS)
			if (err == nil) != (depth == maxDepth) || (err2 == nil) != (depth == maxDepth) || (err3 == nil) != (depth == maxDepth) {
				t.Errorf("depth %d (%x): Skip %v, ToJSON %v, %v", depth, open, err, err2, err3)
			}
		}
	}
	var e *Error
	_, err := ToJSON(h("c1"))
	if !errors.As(err, &e) || e.Offset != 0 || !strings.Contains(err.Error(), "0xc1") {
		t.Errorf("error %v", err)
	}
}

func TestAppendPrimitives(t *testing.T) {
	for _, c := range []struct {
		got  []byte
		want string
	}{
		{AppendNil(nil), "c0"}, {AppendBool(nil, true), "c3"}, {AppendBool(nil, false), "c2"},
		{AppendInt(nil, 0), "00"}, {AppendInt(nil, -1), "ff"}, {AppendInt(nil, 127), "7f"}, {AppendInt(nil, 128), "cc80"},
		{AppendInt(nil, 255), "ccff"}, {AppendInt(nil, 256), "cd0100"}, {AppendInt(nil, -32), "e0"}, {AppendInt(nil, -33), "d0df"},
		{AppendInt(nil, -128), "d080"}, {AppendInt(nil, -129), "d1ff7f"}, {AppendInt(nil, 1<<31), "ce80000000"},
		{AppendInt(nil, -1<<31-1), "d3ffffffff7fffffff"}, {AppendInt(nil, 1<<32), "cf0000000100000000"},
		{AppendInt(nil, math.MinInt64), "d38000000000000000"}, {AppendUint(nil, math.MaxUint64), "cfffffffffffffffff"},
		{AppendFloat64(nil, 1.5), "cb3ff8000000000000"},
		{AppendString(nil, ""), "a0"}, {AppendString(nil, strings.Repeat("a", 31))[:1], "bf"},
		{AppendString(nil, strings.Repeat("a", 32))[:2], "d920"}, {AppendString(nil, strings.Repeat("a", 256))[:3], "da0100"},
		{AppendString(nil, strings.Repeat("a", 65536))[:5], "db00010000"},
		{AppendBin(nil, nil), "c400"}, {AppendBin(nil, make([]byte, 256))[:3], "c50100"}, {AppendBin(nil, make([]byte, 65536))[:5], "c600010000"},
		{AppendArrayHeader(nil, 15), "9f"}, {AppendArrayHeader(nil, 16), "dc0010"}, {AppendArrayHeader(nil, 65536), "dd00010000"},
		{AppendArrayHeader(nil, -1), "90"}, {AppendMapHeader(nil, 15), "8f"}, {AppendMapHeader(nil, 16), "de0010"},
		{AppendMapHeader(nil, 65536), "df00010000"}, {AppendMapHeader(nil, -1), "80"},
		{AppendNumber(nil, math.Copysign(0, -1), Notepack), "00"}, {AppendNumber(nil, math.Copysign(0, -1), MsgpackJS), "00"},
		{AppendNumber(nil, math.NaN(), Notepack), "cb7ff8000000000001"[:2]},
	} {
		got := hex.EncodeToString(c.got)
		if c.want == "cb" {
			got = got[:2]
		}
		if got != c.want {
			t.Errorf("got %s, want %s", got, c.want)
		}
	}
	if Notepack.String() != "Notepack" || MsgpackJS.String() != "MsgpackJS" {
		t.Error("Mode.String")
	}
	if n := testing.AllocsPerRun(100, func() {
		var buf [64]byte
		b := AppendString(buf[:0], "hello")
		b = AppendNumber(b, 1.5, Notepack)
		_ = AppendInt(b, -100)
	}); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

package emitter

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/gosio/gosio/parser"
)

// testOperators are selections of a pub/sub msgpack emitter, no client
// needed to encode.
func testOperators() []Operator {
	e := (&Emitter{kind: pubsub, key: DefaultKey, msgpack: true}).withNsp("/")
	u := e.Of("/ünï")
	return []Operator{
		{e: e},
		e.To("room1"),
		e.To("a", "b").Except("c").Volatile().Compress(false),
		u.To(strings.Repeat("r", 40)).Except("é", "").Compress(true),
		e.To("bad\xffroom"),
	}
}

type plain struct {
	T   int64  `json:"t"`
	S   int64  `json:"s"`
	P   string `json:"p"`
	Opt string `json:"opt,omitempty"`
	N   int    `json:",omitempty"`
	F   float64
	U   uint16 `json:"u"`
	B   bool   `json:"b,omitempty"`
	Ig  string `json:"-"`
	Dsh string `json:"-,"`
	low string
}

type badTag struct {
	Bad string `json:"a\\b"`
}

type idxKey struct {
	A int `json:"a"`
	Z int `json:"7"`
}

type withString struct {
	N int `json:"n,string"`
}

type named string

type withNamed struct {
	K named `json:"k"`
}

type selfMarshal struct{ X int }

func (selfMarshal) MarshalJSON() ([]byte, error) { return []byte(`"self"`), nil }

type text struct{ X int }

func (*text) MarshalText() ([]byte, error) { return []byte("t"), nil }

type withMarshalField struct {
	M selfMarshal `json:"m"`
}

type embeds struct {
	plain
	E int `json:"e"`
}

type point struct {
	T int64  `json:"t"`
	S string `json:"s,omitempty"`
	B []byte `json:"b"`
}

// TestDirectEncoding checks that the direct msgpack encoding of a
// broadcast writes the bytes of the JSON route, which the golden tests
// compare with Node's.
func TestDirectEncoding(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 70000)
	args := [][]any{
		nil,
		{"hello", 42, map[string]any{"k": "v"}},
		{"", "é漢🎉", strings.Repeat("y", 31), strings.Repeat("y", 32), strings.Repeat("y", 300), long, "bad\xff", "<&>\u2028"},
		{0, -1, 127, 128, 255, 256, 65535, 65536, -32, -33, -128, -129, -32768, -32769, math.MaxInt32, math.MinInt32,
			int64(math.MaxUint32), int64(math.MaxUint32 + 1), int64(math.MinInt32 - 1), int64(1<<53 - 1), int64(1 << 53),
			int64(-(1<<53 - 1)), int64(-(1 << 53)), int64(math.MaxInt64), int64(math.MinInt64), math.MaxInt, math.MinInt},
		{int32(-7), int32(math.MaxInt32), uint32(math.MaxUint32), uint(7), uint64(math.MaxUint64), int8(-3), uint8(200), int16(-300), uint16(60000)},
		{0.5, -0.0, 1e21, 1e-7, 3.0, float32(1.1), math.MaxFloat64, math.SmallestNonzeroFloat64, 2.5e-324},
		{true, false, nil},
		{[]byte{}, []byte(nil), []byte{1, 2, 3}, bytes.Repeat([]byte{7}, 300), bytes.Repeat([]byte{9}, 70000)},
		{map[string]any{"2": 1, "1": "a", "b": []any{1, []byte{5}}, "a": nil}, []any{[]byte{1}, "x", []any{}}, map[string]any{}, []any(nil)},
		{point{T: 5, B: []byte{1}}, &point{S: "s"}, json.RawMessage(`{"z":1,"a":[1,2]}`), parser.Value{JSON: []byte(`[{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{4}}}},
		{[][]byte{{1}, {2, 3}}, [][]byte(nil), time.Unix(0, 0).UTC(), struct{}{}, []string{"a"}, map[string]int{"b": 2, "a": 1}},
		{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17},
		{plain{T: 1, S: 2, P: "x", F: -0.0, U: 9, Ig: "i", Dsh: "d", low: "l"}, badTag{"b"}, plain{Opt: "o", N: 3, F: 1.5e300, B: true, P: "bad\xff"},
			plain{T: 1 << 60, F: 0.1}, plain{U: 65535, T: -(1 << 53)}, idxKey{1, 2}, withString{5}, withNamed{"v"}, selfMarshal{1}, text{2},
			withMarshalField{}, embeds{E: 1}, struct{ A, B int }{1, 2}, struct{}{}, struct {
				A int `json:"__proto__"`
			}{1}, struct {
				X int
				B int `json:"X"`
			}{1, 2}, struct{ F32 float32 }{1.1}},
	}
	for _, o := range testOperators() {
		for _, a := range args {
			for _, ev := range []string{"ev", "événement", "bad\xffev"} {
				_, got, err := o.encodeBroadcast(ev, a)
				if err != nil {
					t.Fatalf("%q %v: %v", ev, a, err)
				}
				want, err := o.encodeBroadcastJSON(ev, a)
				if err != nil {
					t.Fatalf("%q %v: JSON route: %v", ev, a, err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("rooms %q, %q %v:\n got %x\nwant %x", o.rooms, ev, a, got, want)
				}
			}
		}
	}
	// Errors are those of the JSON route.
	o := testOperators()[0]
	for _, a := range [][]any{{math.NaN()}, {math.Inf(1)}, {plain{F: math.NaN()}}, {json.RawMessage(`{`)}, {func() {}}} {
		_, _, err := o.encodeBroadcast("ev", a)
		_, werr := o.encodeBroadcastJSON("ev", a)
		if (err == nil) != (werr == nil) || err == nil {
			t.Errorf("%v: direct %v, JSON route %v", a, err, werr)
		}
	}
	if _, _, err := o.encodeBroadcast("connect", nil); err == nil {
		t.Error("reserved event accepted")
	}
}

// FuzzDirectEncoding compares the two encodings on arbitrary strings,
// numbers and bytes.
func FuzzDirectEncoding(f *testing.F) {
	f.Add("ev", "s", int64(1), 0.5, []byte{1}, "room")
	f.Add("\xff", "\xed\xa0\x80", int64(-1<<53), -0.0, []byte{}, "")
	f.Fuzz(func(t *testing.T, ev, s string, i int64, fl float64, p []byte, room string) {
		if parser.IsReserved(ev) || math.IsNaN(fl) || math.IsInf(fl, 0) {
			return
		}
		o := testOperators()[0].To(room)
		a := []any{s, i, fl, p, int(i), map[string]any{s: i}, []any{s, p}, plain{T: i, P: s, F: fl, Opt: s, N: int(i)}}
		_, got, err := o.encodeBroadcast(ev, a)
		want, werr := o.encodeBroadcastJSON(ev, a)
		if (err == nil) != (werr == nil) {
			t.Fatalf("direct %v, JSON route %v", err, werr)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("got %x\nwant %x", got, want)
		}
	})
}

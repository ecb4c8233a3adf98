package parser_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/gosio/gosio/internal/testutil"
	"github.com/gosio/gosio/parser"
)

type user struct {
	Name string `json:"name"`
	Age  int    `json:"age"`
	Blob []byte `json:"blob,omitempty"`
	Any  any    `json:"any,omitempty"`
}

func TestMarshalArgs(t *testing.T) {
	t.Parallel()
	a, b := []byte{0xa}, []byte{0xb}
	shared := [][]byte{a, b}
	for _, tc := range []struct {
		name     string
		args     []any
		want     string
		wantAtts [][]byte
	}{
		{"no args", nil, `[]`, nil},
		{"scalars", []any{"s", true, false, nil, 42, -7, 1.5}, `["s",true,false,null,42,-7,1.5]`, nil},
		{"integers", []any{int8(-128), int16(-1), int32(1 << 30), int64(math.MinInt64), uint(1), uint8(255), uint16(65535), uint32(1 << 31), uint64(math.MaxUint64)},
			`[-128,-1,1073741824,-9223372036854775808,1,255,65535,2147483648,18446744073709551615]`, nil},
		{"floats like JavaScript", []any{1e21, 1e20, 1e-7, 1e-6, 0.1, float32(0.1), math.Copysign(0, -1), 5e-324, -2.5e-8, float32(1e22)},
			`[1e+21,100000000000000000000,1e-7,0.000001,0.1,0.1,0,5e-324,-2.5e-8,1e+22]`, nil},
		{"strings like JSON.stringify", []any{"q\" b\\ \n\t\r\b\f \x00\x01\x1f\x7f <>& é 😀 \u2028 /"},
			`["q\" b\\ \n\t\r\b\f \u0000\u0001\u001f` + "\x7f" + ` <>& é 😀 ` + "\u2028" + ` /"]`, nil},
		{"invalid UTF-8", []any{"a\xffb\xc3"}, `["a\ufffdb\ufffd"]`, nil},
		{"binary at top level", []any{"up", []byte{1, 2}}, `["up",` + ph0 + `]`, [][]byte{{1, 2}}},
		{"nil and empty binary", []any{[]byte(nil), []byte{}}, `[` + ph0 + `,` + ph1 + `]`, [][]byte{nil, {}}},
		{"slice of binaries", []any{[][]byte{{1}, {2}}, [][]byte(nil)}, `[[` + ph0 + `,` + ph1 + `],null]`, [][]byte{{1}, {2}}},
		{"nested depth-first", []any{map[string]any{"z": []any{[]byte{3}}, "a": map[string]any{"k": []byte{1}}, "m": []byte{2}}, []byte{4}},
			`[{"a":{"k":` + ph0 + `},"m":` + ph1 + `,"z":[{"_placeholder":true,"num":2}]},{"_placeholder":true,"num":3}]`,
			[][]byte{{1}, {2}, {3}, {4}}},
		{"map keys sorted and escaped", []any{map[string]any{"b": 1, "a\"": 2, "A": 3, "é": 4}}, `[{"A":3,"a\"":2,"b":1,"é":4}]`, nil},
		{"nil containers", []any{[]any(nil), map[string]any(nil), []any{}, map[string]any{}}, `[null,null,[],{}]`, nil},
		{"raw message verbatim", []any{json.RawMessage(` {"b":1, "a":[ 2 ]} `), json.RawMessage(nil)}, `[ {"b":1, "a":[ 2 ]} ,null]`, nil},
		{"value without attachments verbatim", []any{parser.Value{JSON: raw(`{"_placeholder":true,"num":9, "z":0}`)}}, `[{"_placeholder":true,"num":9, "z":0}]`, nil},
		{"values renumbered", []any{
			parser.Value{JSON: raw(`{"x":{"num":1,"_placeholder":true}}`), Attachments: shared},
			[]byte{9},
			&parser.Value{JSON: raw(`[` + ph0 + `, ` + ph1 + `]`), Attachments: shared},
			(*parser.Value)(nil),
		}, `[{"x":` + ph0 + `},` + ph1 + `,[{"_placeholder":true,"num":2}, {"_placeholder":true,"num":3}],null]`, [][]byte{b, {9}, a, b}},
		{"binary in a struct", []any{user{Name: "<Ann>", Age: 3, Blob: []byte{1, 2}}}, `[{"name":"<Ann>","age":3,"blob":` + ph0 + `}]`, [][]byte{{1, 2}}},
		{"typed slice via encoding/json", []any{[]string{"a"}, map[string]int{"b": 1, "a": 2}}, `[["a"],{"a":2,"b":1}]`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, atts, err := parser.MarshalArgs([]byte("42"), tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			testutil.Equal(t, string(got), "42"+tc.want)
			testutil.Equal(t, atts, tc.wantAtts)
			if !json.Valid(got[2:]) {
				t.Fatalf("%s is not valid JSON", got[2:])
			}
		})
	}
}

func TestMarshalArgsErrors(t *testing.T) {
	t.Parallel()
	cyclic := []any{nil}
	cyclic[0] = cyclic
	for _, tc := range []struct {
		name string
		arg  any
		kind error
	}{
		{"NaN", math.NaN(), nil},
		{"infinity", math.Inf(-1), nil},
		{"float32 infinity", float32(math.Inf(1)), nil},
		{"invalid raw message", json.RawMessage(`{"a":`), nil},
		{"invalid value", parser.Value{JSON: raw(`[1,]`)}, nil},
		{"placeholder out of range", parser.Value{JSON: raw(`[` + ph1 + `]`), Attachments: [][]byte{{1}}}, parser.ErrInvalidPlaceholder},
		{"placeholder without num", parser.Value{JSON: raw(`{"_placeholder":true}`), Attachments: [][]byte{{1}}}, parser.ErrInvalidPlaceholder},
		{"unsupported type", make(chan int), nil},
		{"cycle", cyclic, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dst := []byte("prefix")
			got, atts, err := parser.MarshalArgs(dst, "ok", []byte{1}, tc.arg)
			if err == nil {
				t.Fatalf("got %s, want an error", got)
			}
			if !strings.HasPrefix(err.Error(), "parser: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if tc.kind != nil && !errors.Is(err, tc.kind) {
				t.Errorf("error %v is not %v", err, tc.kind)
			}
			if string(got) != "prefix" || atts != nil {
				t.Errorf("got (%q, %v), want dst unchanged and no attachments", got, atts)
			}
		})
	}
}

func TestMarshalArgsDoesNotAllocate(t *testing.T) {
	args := []any{"message", 1.5, 42, true, nil, []any{"x", false}}
	if !raceEnabled { // json.Valid uses a sync.Pool
		args = append(args, json.RawMessage(`{"a":1}`), parser.Value{JSON: raw(`["v"]`)})
	}
	dst := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() { dst, _, _ = parser.MarshalArgs(dst[:0], args...) }); n != 0 {
		t.Fatalf("MarshalArgs allocates %v times per run for text arguments, want 0", n)
	}
}

func TestSplitArray(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`[]`, nil},
		{` [ ] `, nil},
		{`["a"]`, []string{`"a"`}},
		{"\t[ 1 , \"a,]b\" ,{\"x\":[1,2], \"y\":\"]\"},[],null ,true,-1.5e3, \"\\\"\" ]\n",
			[]string{`1`, `"a,]b"`, `{"x":[1,2], "y":"]"}`, `[]`, `null`, `true`, `-1.5e3`, `"\""`}},
		{`[[[1]],{"a":{"b":{}}}]`, []string{`[[1]]`, `{"a":{"b":{}}}`}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			elems, err := parser.SplitArray(raw(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range elems {
				got = append(got, string(e))
				if cap(e) != len(e) {
					t.Errorf("element %s has spare capacity: appending would overwrite the array", e)
				}
			}
			testutil.Equal(t, got, tc.want)
		})
	}
	for _, in := range []string{``, ` `, `{}`, `1`, `"[1]"`, `[1,`, `[1]x`, `[1,]`, `null`} {
		t.Run("invalid "+in, func(t *testing.T) {
			t.Parallel()
			elems, err := parser.SplitArray(raw(in))
			if !errors.Is(err, parser.ErrInvalidPayload) || elems != nil {
				t.Fatalf("got (%q, %v), want an ErrInvalidPayload error", elems, err)
			}
		})
	}
}

func TestUnmarshal(t *testing.T) {
	t.Parallel()
	atts := [][]byte{{1}, {2, 2}}
	t.Run("bytes", func(t *testing.T) {
		t.Parallel()
		var b []byte
		testutil.NoErr(t, parser.Unmarshal(raw(" "+ph1+" "), atts, &b))
		if &b[0] != &atts[1][0] {
			t.Fatal("want the attachment itself")
		}
	})
	t.Run("bytes from base64 string", func(t *testing.T) {
		t.Parallel()
		var b []byte
		testutil.NoErr(t, parser.Unmarshal(raw(`"AQI="`), atts, &b))
		testutil.Equal(t, b, []byte{1, 2})
	})
	t.Run("any", func(t *testing.T) {
		t.Parallel()
		var v any
		testutil.NoErr(t, parser.Unmarshal(raw(`["a",`+ph0+`,{"b":[`+ph1+`,3]},{"_placeholder":false}]`), atts, &v))
		testutil.Equal(t, v, any([]any{"a", []byte{1}, map[string]any{"b": []any{[]byte{2, 2}, 3.0}}, map[string]any{"_placeholder": false}}))
	})
	t.Run("any placeholder", func(t *testing.T) {
		t.Parallel()
		var v any
		testutil.NoErr(t, parser.Unmarshal(raw(ph0), atts, &v))
		testutil.Equal(t, v, any([]byte{1}))
	})
	t.Run("slice of any", func(t *testing.T) {
		t.Parallel()
		var v []any
		testutil.NoErr(t, parser.Unmarshal(raw(`[`+ph1+`,[`+ph0+`]]`), atts, &v))
		testutil.Equal(t, v, []any{[]byte{2, 2}, []any{[]byte{1}}})
	})
	t.Run("map of any", func(t *testing.T) {
		t.Parallel()
		var v map[string]any
		testutil.NoErr(t, parser.Unmarshal(raw(`{"x":`+ph1+`,"y":{"z":`+ph0+`}}`), atts, &v))
		testutil.Equal(t, v, map[string]any{"x": []byte{2, 2}, "y": map[string]any{"z": []byte{1}}})
	})
	t.Run("map of any from a placeholder", func(t *testing.T) {
		t.Parallel()
		var v map[string]any
		if err := parser.Unmarshal(raw(ph0), atts, &v); err == nil || !strings.HasPrefix(err.Error(), "parser: ") {
			t.Fatalf("got %v, want an error", err)
		}
	})
	t.Run("struct", func(t *testing.T) {
		t.Parallel()
		var u user
		testutil.NoErr(t, parser.Unmarshal(raw(`{"name":"Ann","age":3,"blob":`+ph1+`,"any":`+ph0+`}`), atts, &u))
		testutil.Equal(t, u, user{Name: "Ann", Age: 3, Blob: []byte{2, 2}, Any: "AQ=="}) // documented: base64 in an interface field
	})
	t.Run("slice of bytes", func(t *testing.T) {
		t.Parallel()
		var bs [][]byte
		testutil.NoErr(t, parser.Unmarshal(raw(`[`+ph1+`,`+ph0+`,null]`), atts, &bs))
		testutil.Equal(t, bs, [][]byte{{2, 2}, {1}, nil})
	})
	t.Run("without attachments placeholders are plain JSON", func(t *testing.T) {
		t.Parallel()
		var v any
		testutil.NoErr(t, parser.Unmarshal(raw(ph1), nil, &v))
		testutil.Equal(t, v, any(map[string]any{"_placeholder": true, "num": 1.0}))
	})
	t.Run("value", func(t *testing.T) {
		t.Parallel()
		var v parser.Value
		testutil.NoErr(t, parser.Unmarshal(raw(`[`+ph0+`]`), atts, &v))
		testutil.Equal(t, v, parser.Value{JSON: raw(`[` + ph0 + `]`), Attachments: atts})
	})
	for _, target := range []any{new(any), new([]any), new(map[string]any), new([]byte), new(user), new([][]byte)} {
		t.Run("invalid placeholder", func(t *testing.T) {
			t.Parallel()
			err := parser.Unmarshal(raw(`[{"_placeholder":true,"num":2}]`), atts, target)
			if !errors.Is(err, parser.ErrInvalidPlaceholder) {
				t.Fatalf("%T: got %v, want ErrInvalidPlaceholder", target, err)
			}
		})
	}
	t.Run("invalid JSON", func(t *testing.T) {
		t.Parallel()
		var v any
		if err := parser.Unmarshal(raw(`[1,`), atts, &v); !errors.Is(err, parser.ErrInvalidPayload) {
			t.Fatalf("got %v, want ErrInvalidPayload", err)
		}
	})
	t.Run("type mismatch", func(t *testing.T) {
		t.Parallel()
		var n int
		err := parser.Unmarshal(raw(`"x"`), nil, &n)
		var ute *json.UnmarshalTypeError
		if !errors.As(err, &ute) || !strings.HasPrefix(err.Error(), "parser: ") {
			t.Fatalf("got %v, want a wrapped *json.UnmarshalTypeError", err)
		}
	})
}

func TestMarshalUnmarshalRoundTrip(t *testing.T) {
	t.Parallel()
	args := []any{"ev", []byte{1}, map[string]any{"k": []any{[]byte{2}, "s", 1.5, nil}}, [][]byte{{3}, {}}}
	data, atts, err := parser.MarshalArgs(nil, args...)
	testutil.NoErr(t, err)
	var got []any
	testutil.NoErr(t, parser.Unmarshal(data, atts, &got))
	testutil.Equal(t, got, []any{"ev", []byte{1}, map[string]any{"k": []any{[]byte{2}, "s", 1.5, nil}}, []any{[]byte{3}, []byte{}}})
}

// TestEcho reproduces what the official suite's "message" tests expect
// from a server that re-emits what it got: the arguments go back byte for
// byte, binary included.
func TestEcho(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		text string
		atts [][]byte
		want string
	}{
		{"plain", `2["message",1,"2",{"3":[true]}]`, nil, `2["message-back",1,"2",{"3":[true]}]`},
		{"binary", `52-["message",` + ph0 + `,` + ph1 + `]`, [][]byte{{1, 2, 3}, {4, 5, 6}}, `52-["message-back",` + ph0 + `,` + ph1 + `]`},
		{"ack", `2456["message-with-ack",1,"2",{"3":[false]}]`, nil, `3456[1,"2",{"3":[false]}]`},
		{"binary ack", `52-789["message-with-ack",` + ph0 + `,` + ph1 + `]`, [][]byte{{1, 2, 3}, {4, 5, 6}}, `62-789[` + ph0 + `,` + ph1 + `]`},
		{"keys keep their order", `2["message",{"z":1,"a":{"y":` + ph0 + `,"b":2}}, 3 ]`, nil, `2["message-back",{"z":1,"a":{"y":` + ph0 + `,"b":2}},3]`},
		{"binary out of order", `52-["message",` + ph1 + `,` + ph0 + `]`, [][]byte{{1}, {2}}, `52-["message-back",` + ph0 + `,` + ph1 + `]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := decode(t, tc.text, tc.atts...)
			elems, err := parser.SplitArray(in.Data)
			testutil.NoErr(t, err)
			var args []any
			for _, e := range elems[1:] {
				args = append(args, parser.Value{JSON: e, Attachments: in.Attachments})
			}
			out := &parser.Packet{Type: parser.Event, Namespace: in.Namespace}
			if in.HasID {
				out.Type, out.ID, out.HasID = parser.Ack, in.ID, true
			} else {
				args = append([]any{"message-back"}, args...)
			}
			out.Data, out.Attachments, err = parser.MarshalArgs(nil, args...)
			testutil.NoErr(t, err)
			testutil.Equal(t, string(parser.AppendText(nil, out)), tc.want)
			want := tc.atts
			if tc.name == "binary out of order" {
				want = [][]byte{{2}, {1}}
			}
			testutil.Equal(t, out.Attachments, want)
		})
	}
}

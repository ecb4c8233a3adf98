package parser_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/gosio/gosio/parser"
)

// payloadSizes are the sizes of the string argument in the benchmarks.
var payloadSizes = []int{16, 1 << 10, 64 << 10}

func textEvent(size int) *parser.Packet {
	data, _, err := parser.MarshalArgs(nil, "message", strings.Repeat("x", size), 42, map[string]any{"ok": true})
	if err != nil {
		panic(err)
	}
	return &parser.Packet{Type: parser.Event, Namespace: "/chat", ID: 7, HasID: true, Data: data}
}

func binaryEvent(size int) *parser.Packet {
	data, atts, err := parser.MarshalArgs(nil, "upload", "name.bin", bytes.Repeat([]byte{1}, size), []byte{2, 3})
	if err != nil {
		panic(err)
	}
	return &parser.Packet{Type: parser.Event, Namespace: "/chat", ID: 7, HasID: true, Data: data, Attachments: atts}
}

func BenchmarkAppendText(b *testing.B) {
	for _, size := range payloadSizes {
		for _, kind := range []string{"text", "binary"} {
			p := textEvent(size)
			if kind == "binary" {
				p = binaryEvent(size)
			}
			b.Run(fmt.Sprintf("%s/%d", kind, size), func(b *testing.B) {
				dst := parser.AppendText(nil, p)
				b.SetBytes(int64(len(dst)))
				b.ReportAllocs()
				for b.Loop() {
					dst = parser.AppendText(dst[:0], p)
				}
			})
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, size := range payloadSizes {
		b.Run(fmt.Sprintf("text/%d", size), func(b *testing.B) {
			msg := parser.AppendText(nil, textEvent(size))
			d := parser.NewDecoder(0)
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				if p, err := d.DecodeText(msg); p == nil || err != nil {
					b.Fatal(p, err)
				}
			}
		})
		b.Run(fmt.Sprintf("binary/%d", size), func(b *testing.B) {
			p := binaryEvent(size)
			msg := parser.AppendText(nil, p)
			d := parser.NewDecoder(0)
			b.SetBytes(int64(len(msg) + len(p.Attachments[0]) + len(p.Attachments[1])))
			b.ReportAllocs()
			for b.Loop() {
				_, _ = d.DecodeText(msg)
				_, _ = d.DecodeBinary(p.Attachments[0])
				if q, err := d.DecodeBinary(p.Attachments[1]); q == nil || err != nil {
					b.Fatal(q, err)
				}
			}
		})
	}
}

func BenchmarkMarshalArgs(b *testing.B) {
	blob := bytes.Repeat([]byte{1}, 1024)
	value := parser.Value{JSON: json.RawMessage(`{"file":{"_placeholder":true,"num":0},"name":"a.bin"}`), Attachments: [][]byte{blob}}
	for _, bc := range []struct {
		name string
		args []any
	}{
		{"strings", []any{"message", "hello world", "second argument"}},
		{"mixed", []any{"message", 1.5, 42, true, nil, []any{"a", "b"}, json.RawMessage(`{"k":[1,2,3]}`)}},
		{"map", []any{"message", map[string]any{"user": "ann", "age": 30, "tags": []any{"x", "y"}}}},
		{"binary", []any{"upload", "name.bin", blob, []any{blob, blob}}},
		{"value", []any{"message-back", value}},
		{"struct", []any{"user", user{Name: "Ann", Age: 30}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			dst, _, err := parser.MarshalArgs(nil, bc.args...)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(dst)))
			b.ReportAllocs()
			for b.Loop() {
				dst, _, _ = parser.MarshalArgs(dst[:0], bc.args...)
			}
		})
	}
}

func BenchmarkSplitArray(b *testing.B) {
	data := textEvent(1 << 10).Data
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parser.SplitArray(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshal(b *testing.B) {
	p := binaryEvent(1 << 10)
	elems, err := parser.SplitArray(p.Data)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("bytes", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v []byte
			if err := parser.Unmarshal(elems[2], p.Attachments, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("any", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v []any
			if err := parser.Unmarshal(p.Data, p.Attachments, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

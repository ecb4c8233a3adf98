package msgpack

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/gosio/gosio/parser"
)

func fuzzSeeds(f *testing.F) {
	raw, _ := hex.DecodeString(observedBroadcast)
	f.Add(raw)
	f.Add([]byte("\x92\xa2ev\xc4\x03\x01\x02\x03"))
	f.Add([]byte("\xcf\xff\xff\xff\xff\xff\xff\xff\xff"))
	f.Add([]byte("\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte("\xd6\xff\x00\x00\x00\x01"))
	f.Add([]byte("\x81\xac_placeholder\xc3"))
	f.Add([]byte("\xdd\xff\xff\xff\xff"))
}

// FuzzRoundTrip checks that ToJSON never panics on any input, that what
// it returns is valid JSON whose placeholders MarshalArgs accepts, and
// that encoding it again and decoding gives the same JSON.
func FuzzRoundTrip(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := ToJSON(data)
		if err != nil {
			return
		}
		if !json.Valid(v.JSON) {
			t.Fatalf("invalid JSON %q from %x", v.JSON, data)
		}
		if _, _, err := parser.MarshalArgs(nil, v); err != nil {
			t.Fatalf("MarshalArgs refuses %q: %v", v.JSON, err)
		}
		// Notepack wraps integers of 2^64 and more, as notepack.io does;
		// @msgpack/msgpack's rules keep every value.
		if _, err := AppendJSON(nil, v, Notepack); err != nil {
			t.Fatalf("AppendJSON(%q, Notepack): %v", v.JSON, err)
		}
		b, err := AppendJSON(nil, v, MsgpackJS)
		if err != nil {
			t.Fatalf("AppendJSON(%q): %v", v.JSON, err)
		}
		v2, err := ToJSON(b)
		if err != nil {
			t.Fatalf("ToJSON of re-encoded %x: %v", b, err)
		}
		if string(v2.JSON) != string(v.JSON) {
			t.Fatalf("round trip %q -> %q", v.JSON, v2.JSON)
		}
	})
}

// FuzzToJSON decodes any input in both modes: never a panic, valid JSON
// when it succeeds, and BufferJSON accepts what ToJSONMode returns.
func FuzzToJSON(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, m := range []Mode{Notepack, MsgpackJS} {
			v, err := ToJSONMode(data, m)
			if err != nil {
				continue
			}
			if !json.Valid(v.JSON) {
				t.Fatalf("%v: invalid JSON %q from %x", m, v.JSON, data)
			}
			bj, err := BufferJSON(v)
			if err != nil {
				t.Fatalf("%v: BufferJSON(%q): %v", m, v.JSON, err)
			}
			if !json.Valid(bj) {
				t.Fatalf("%v: BufferJSON gave invalid JSON %q", m, bj)
			}
		}
	})
}

// FuzzReader walks any input with the Reader: every read either fails
// or advances, Skip and Raw agree, and nothing panics.
func FuzzReader(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(data)
		for steps := 0; !r.Done() && steps < 10000; steps++ {
			start := r.Pos()
			k, err := r.Peek()
			if err != nil {
				return
			}
			r2 := NewReader(data[start:])
			raw, rawErr := r2.Raw()
			switch k {
			case KindArray:
				_, err = r.ReadArrayHeader()
			case KindMap:
				_, err = r.ReadMapHeader()
			case KindString:
				_, err = r.ReadString()
			case KindBin:
				_, err = r.ReadBin()
			default:
				err = r.Skip()
				if err == nil && rawErr == nil && !bytes.Equal(raw, data[start:r.Pos()]) {
					t.Fatalf("Raw %x and Skip %x disagree", raw, data[start:r.Pos()])
				}
			}
			if err != nil {
				return
			}
			if r.Pos() <= start {
				t.Fatalf("no progress at %d (%v)", start, k)
			}
		}
	})
}

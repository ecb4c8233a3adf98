package parser_test

import (
	"github.com/google/go-cmp/cmp"

	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/gosio/gosio/internal/testutil"
	"github.com/gosio/gosio/parser"
)

// Seeds shared by the fuzz tests, besides the corpus in testdata/fuzz.
func seedTexts() []string {
	s := []string{"", "abc", "2{}", `2abc["message-with-ack",1]`, `2["connect"]`, `5`, `50-[]`, `511-[]`, `2/admin`, `2/,`,
		`51-["a",{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":9}}]`,
		`52-["a",{"\u005fplaceholder":true,"num":1.0},{"_placeholder":true,"num":-0}]`,
		`318446744073709551616[]`}
	for _, tc := range specCases {
		s = append(s, tc.text)
	}
	return s
}

// checkPacket fails the test unless p, a complete decoded packet, is
// consistent and survives AppendText and a second decode unchanged.
func checkPacket(t *testing.T, p *parser.Packet) {
	t.Helper()
	if p.Type > parser.BinaryAck || !strings.HasPrefix(p.Namespace, "/") || strings.Contains(p.Namespace, ",") {
		t.Fatalf("bad packet %+v", p)
	}
	binary := p.Type == parser.BinaryEvent || p.Type == parser.BinaryAck
	if binary != (len(p.Attachments) > 0) {
		t.Fatalf("packet %+v: binary type and attachments disagree", p)
	}
	if p.Data != nil && !json.Valid(p.Data) {
		t.Fatalf("packet %+v: invalid JSON data", p)
	}
	text := parser.AppendText(nil, p)
	d := parser.NewDecoder(len(p.Attachments))
	got, err := d.DecodeText(text)
	for _, a := range p.Attachments {
		if err != nil || got != nil {
			break
		}
		got, err = d.DecodeBinary(a)
	}
	if err != nil || got == nil {
		t.Fatalf("re-decoding %q (from %+v): (%v, %v)", text, p, got, err)
	}
	testutil.Equal(t, *got, *p)
}

func checkError(t *testing.T, err error) {
	t.Helper()
	var de *parser.DecodeError
	if !errors.As(err, &de) || !strings.HasPrefix(err.Error(), "parser: ") {
		t.Fatalf("error %#v is not a *DecodeError", err)
	}
	for _, kind := range []error{parser.ErrUnknownType, parser.ErrIllegalAttachments, parser.ErrTooManyAttachments,
		parser.ErrInvalidPayload, parser.ErrUnexpectedBinary, parser.ErrUnexpectedText, parser.ErrInvalidPlaceholder} {
		if errors.Is(err, kind) {
			return
		}
	}
	t.Fatalf("error %v has no known kind", err)
}

// FuzzDecode decodes one text message, completes a binary packet with
// attachments cut from the input, and checks the result round-trips.
func FuzzDecode(f *testing.F) {
	for _, s := range seedTexts() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		d := parser.NewDecoder(0)
		p, err := d.DecodeText(msg)

		// DecodeTextTo into a Packet that held another packet agrees.
		d2 := parser.NewDecoder(0)
		reused := parser.Packet{Type: parser.Ack, Namespace: "/x", ID: 7, HasID: true, Data: []byte("[1]"), Attachments: [][]byte{{1}}}
		complete, err2 := d2.DecodeTextTo(&reused, msg)
		if (err == nil) != (err2 == nil) || complete != (err == nil && p != nil) {
			t.Fatalf("DecodeText(%q) = %v, %v; DecodeTextTo: complete %v, %v", msg, p, err, complete, err2)
		}
		if complete {
			if diff := cmp.Diff(*p, reused); diff != "" {
				t.Fatalf("DecodeTextTo(%q) differs from DecodeText (-want +got):\n%s", msg, diff)
			}
		}

		for i := 0; err == nil && p == nil; i++ {
			att := msg[:min(i, len(msg))]
			p, err = d.DecodeBinary(att)
			p2, err2 := d2.DecodeBinary(att)
			if diff := cmp.Diff(p, p2); diff != "" || (err == nil) != (err2 == nil) {
				t.Fatalf("binary packet of %q after DecodeTextTo differs (%v, %v):\n%s", msg, err, err2, diff)
			}
		}
		if err != nil {
			checkError(t, err)
			return
		}
		checkPacket(t, p)
	})
}

// FuzzRoundTrip decodes a text message with up to three given attachments
// and checks that AppendText and a second decode give the same packet.
func FuzzRoundTrip(f *testing.F) {
	for _, tc := range specCases {
		a := [3][]byte{}
		copy(a[:], tc.atts)
		f.Add(tc.text, a[0], a[1], a[2])
	}
	f.Fuzz(func(t *testing.T, text string, a0, a1, a2 []byte) {
		d := parser.NewDecoder(3)
		p, err := d.DecodeText([]byte(text))
		for _, a := range [][]byte{a0, a1, a2} {
			if err != nil || p != nil {
				break
			}
			p, err = d.DecodeBinary(a)
		}
		if err != nil {
			checkError(t, err)
			return
		}
		if p != nil {
			checkPacket(t, p)
		}
	})
}

// FuzzMessageSequence feeds a Decoder an arbitrary sequence of messages:
// the input split at 0x1e, each part binary when it starts with 'b', text
// otherwise, and a Reset for an empty part. The Decoder must never panic,
// must report only DecodeErrors, and every packet must round-trip.
func FuzzMessageSequence(f *testing.F) {
	f.Add([]byte("51-[\"a\",{\"_placeholder\":true,\"num\":0}]\x1eb\x01\x1e2[\"b\"]"))
	f.Add([]byte("b\x01\x1e52-[\"a\"]\x1e2[1]\x1eb\x1eb\x1e\x1eb"))
	f.Add([]byte("61-/x,1[{\"_placeholder\":true,\"num\":1}]\x1eb\x1e3[]"))
	f.Fuzz(func(t *testing.T, in []byte) {
		d := parser.NewDecoder(4)
		for _, msg := range bytes.Split(in, []byte{0x1e}) {
			var p *parser.Packet
			var err error
			switch {
			case len(msg) == 0:
				d.Reset()
				continue
			case msg[0] == 'b':
				p, err = d.DecodeBinary(msg[1:])
			default:
				p, err = d.DecodeText(msg)
			}
			if err != nil {
				checkError(t, err)
				continue
			}
			if p != nil {
				checkPacket(t, p)
			}
		}
	})
}

// FuzzSplitArray checks SplitArray against encoding/json: it accepts what
// json.Unmarshal accepts as an array, with the same elements, each valid
// JSON without surrounding whitespace.
func FuzzSplitArray(f *testing.F) {
	for _, s := range []string{`[]`, ` [1, "a,]", {"b":[2]} ,null] `, `[[],[[]]]`, `{}`, `[1,`, `null`, `[ ]`, `[{"a":[1,{}]} , "x\"]"]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		elems, err := parser.SplitArray(data)
		var want []json.RawMessage
		werr := json.Unmarshal(data, &want)
		if string(bytes.TrimSpace(data)) == "null" {
			werr = errors.New("null is not an array") // Unmarshal leaves the slice nil
		}
		if (err == nil) != (werr == nil) {
			t.Fatalf("SplitArray(%q): error %v, json.Unmarshal: %v", data, err, werr)
		}
		if _, verr := parser.SplitValues(data, nil); (verr == nil) != (err == nil) {
			t.Fatalf("SplitValues(%q): error %v, SplitArray: %v", data, verr, err)
		}
		if err != nil {
			return
		}
		if len(elems) != len(want) {
			t.Fatalf("SplitArray(%q) = %q, json.Unmarshal: %q", data, elems, want)
		}
		for i, e := range elems {
			if !bytes.Equal(e, want[i]) || !json.Valid(e) || len(bytes.TrimSpace(e)) != len(e) || cap(e) != len(e) {
				t.Fatalf("element %d of %q is %q, json.Unmarshal: %q", i, data, e, want[i])
			}
		}
		// SplitValues splits the same way.
		atts := [][]byte{{1}}
		vals, err := parser.SplitValues(data, atts)
		if err != nil || len(vals) != len(elems) {
			t.Fatalf("SplitValues(%q) = %d values, %v; SplitArray: %d elements", data, len(vals), err, len(elems))
		}
		for i, v := range vals {
			if !bytes.Equal(v.JSON, elems[i]) || cap(v.JSON) != len(v.JSON) || len(v.Attachments) != 1 {
				t.Fatalf("value %d of %q is %q, SplitArray: %q", i, data, v.JSON, elems[i])
			}
		}
	})
}

// FuzzValue checks that re-emitting a Value with MarshalArgs keeps its
// meaning: the same Go value comes out of Unmarshal before and after.
func FuzzValue(f *testing.F) {
	for _, s := range []string{`{"_placeholder":true,"num":0}`, `[{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]`,
		`{"a":{"num":1,"_placeholder":true,"x":{"_placeholder":true,"num":7}}}`, `{"_placeholder":true,"num":"0"}`, `"x"`} {
		f.Add([]byte(s), []byte{1}, []byte{2})
	}
	f.Fuzz(func(t *testing.T, data, a0, a1 []byte) {
		if len(data) == 0 {
			return // MarshalArgs writes an empty Value as null
		}
		atts := [][]byte{a0, a1}
		var want any
		errWant := parser.Unmarshal(data, atts, &want)
		out, outAtts, errOut := parser.MarshalArgs(nil, parser.Value{JSON: data, Attachments: atts})
		switch {
		case errOut != nil && errWant == nil,
			errOut == nil && (errors.Is(errWant, parser.ErrInvalidPayload) || errors.Is(errWant, parser.ErrInvalidPlaceholder)):
			t.Fatalf("Unmarshal error %v but MarshalArgs error %v", errWant, errOut)
		case errOut != nil || errWant != nil:
			return // such as a number out of float64's range
		}
		var got []any
		testutil.NoErr(t, parser.Unmarshal(out, outAtts, &got))
		if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
			t.Fatalf("re-emitted %s as %s: got %#v, want %#v", data, out, got, want)
		}
		// Typed targets must not panic either.
		var u user
		_ = parser.Unmarshal(data, atts, &u)
		var b []byte
		_ = parser.Unmarshal(data, atts, &b)
		var m map[string]any
		_ = parser.Unmarshal(data, atts, &m)
	})
}

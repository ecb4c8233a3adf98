package msgpackparser_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/gosio/gosio/parser"
	"github.com/gosio/gosio/parser/msgpackparser"
)

// FuzzDecode feeds arbitrary messages to the decoder. It must never panic;
// it either refuses the message with a *parser.DecodeError or returns a
// packet that gosio can use as a packet of the default parser: valid JSON
// data of the right shape for its type, placeholders that refer to its
// attachments, and the same packet again after encoding it in both
// formats and decoding it back.
func FuzzDecode(f *testing.F) {
	for _, b := range goldenSeeds(f) {
		f.Add(b, true)
	}
	f.Add(pkt("type", "02", "nsp", root, "data", "91"+str("connect")), true)
	f.Add(pkt("type", "02", "nsp", root, "data", "92cb7ff8000000000000"+str("x")), true)
	f.Add(pkt("type", "03", "nsp", root, "data", "90", "id", "cf8000000000000000"), true)
	f.Add(pkt("type", "02", "nsp", str("/a,b"), "data", "9101"), true)
	f.Add([]byte(`2["x"]`), false)
	f.Fuzz(func(t *testing.T, msg []byte, binary bool) {
		p, err := msgpackparser.Parser{}.NewDecoder(0).Decode(msg, binary)
		if err != nil {
			var de *parser.DecodeError
			if p != nil || !errors.As(err, &de) || de.Kind == nil || de.Reason == "" {
				t.Fatalf("error %v (%T) with packet %v", err, err, p)
			}
			return
		}
		checkDecoded(t, p)
	})
}

func goldenSeeds(f *testing.F) [][]byte {
	g := loadGolden(f)
	out := make([][]byte, 0, len(g))
	for _, b := range g {
		out = append(out, b)
	}
	return out
}

func checkDecoded(t *testing.T, p *parser.Packet) {
	t.Helper()
	if p.Type > parser.ConnectError {
		t.Fatalf("type %v", p.Type)
	}
	if p.Data != nil && !json.Valid(p.Data) {
		t.Fatalf("invalid JSON %q", p.Data)
	}
	if len(p.Attachments) > 0 && p.Type != parser.Event && p.Type != parser.Ack {
		t.Fatalf("%v with attachments", p.Type)
	}
	// Encoded again and decoded, it is the same packet once normalized:
	// notepack's integer rule wraps integral numbers beyond 2^64 (which
	// JSON can write), so the first round may change a number, never the
	// second.
	b := encode(t, p)
	q := decodeAgain(t, b)
	same(t, "msgpack", decodeAgain(t, encode(t, q)), q)

	// The default parser takes it too: the packet is what gosio expects
	// of any packet. (A namespace the text form cannot carry is left out.)
	if !strings.HasPrefix(p.Namespace, "/") || strings.Contains(p.Namespace, ",") {
		return
	}
	text, _, atts, err := parser.Default.AppendPacket(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	d := parser.NewDecoder(len(atts) + 1)
	r, err := d.Decode(text, false)
	for _, a := range atts {
		if err != nil || r != nil {
			break
		}
		r, err = d.Decode(a, true)
	}
	if err != nil || r == nil {
		t.Fatalf("default parser refuses %q (from %x): %v", text, b, err)
	}
	if r.Type == parser.BinaryEvent {
		r.Type = parser.Event
	}
	if r.Type == parser.BinaryAck {
		r.Type = parser.Ack
	}
	same(t, "text", r, p)
}

func same(t *testing.T, what string, got, want *parser.Packet) {
	t.Helper()
	if got.Type != want.Type || got.Namespace != want.Namespace || got.ID != want.ID || got.HasID != want.HasID ||
		!bytes.Equal(got.Data, want.Data) || !equalAtts(got.Attachments, want.Attachments) {
		t.Fatalf("%s round trip:\n got %v %q %d,%v %s %q\nwant %v %q %d,%v %s %q", what,
			got.Type, got.Namespace, got.ID, got.HasID, got.Data, got.Attachments,
			want.Type, want.Namespace, want.ID, want.HasID, want.Data, want.Attachments)
	}
}

func encode(t *testing.T, p *parser.Packet) []byte {
	t.Helper()
	b, binary, more, err := msgpackparser.Parser{}.AppendPacket(nil, p)
	if err != nil || !binary || more != nil {
		t.Fatalf("encoding %v %s: %v", p.Type, p.Data, err)
	}
	return b
}

func decodeAgain(t *testing.T, b []byte) *parser.Packet {
	t.Helper()
	q, err := msgpackparser.Parser{}.NewDecoder(0).Decode(b, true)
	if err != nil {
		t.Fatalf("decoding %x again: %v", b, err)
	}
	return q
}

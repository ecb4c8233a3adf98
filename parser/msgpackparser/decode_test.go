package msgpackparser_test

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/gosio/gosio/internal/msgpack"
	"github.com/gosio/gosio/parser"
	"github.com/gosio/gosio/parser/msgpackparser"
)

// pkt builds a msgpack map from key/value pairs whose values are raw
// msgpack (hex) so that the tests can write what a hostile peer sends.
func pkt(kv ...string) []byte {
	b := msgpack.AppendMapHeader(nil, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		b = msgpack.AppendString(b, kv[i])
		v, err := hex.DecodeString(kv[i+1])
		if err != nil {
			panic(err)
		}
		b = append(b, v...)
	}
	return b
}

func str(s string) string { return hex.EncodeToString(msgpack.AppendString(nil, s)) }

const root = "a12f" // "/"

func TestDecodeRejects(t *testing.T) {
	cases := []struct {
		name string
		msg  []byte
		kind error
		text string
	}{
		{"empty", nil, parser.ErrInvalidPayload, "not a msgpack map"},
		{"not a map", []byte{0x92, 0x01, 0x02}, parser.ErrInvalidPayload, "not a msgpack map"},
		{"truncated", pkt("type", "02", "data", "92a1")[:10], parser.ErrInvalidPayload, "malformed"},
		{"trailing bytes", append(pkt("type", "01", "nsp", root), 0xc0), parser.ErrInvalidPayload, "trailing"},
		{"no type", pkt("nsp", root), parser.ErrUnknownType, "invalid packet type"},
		{"type 5", pkt("type", "05", "nsp", root, "data", "91a161"), parser.ErrUnknownType, "invalid packet type"},
		{"type 6", pkt("type", "06", "nsp", root, "data", "91a161"), parser.ErrUnknownType, "invalid packet type"},
		{"type -1", pkt("type", "ff", "nsp", root), parser.ErrUnknownType, "invalid packet type"},
		{"type 1.5", pkt("type", "cb3ff8000000000000", "nsp", root), parser.ErrUnknownType, "invalid packet type"},
		{"type string", pkt("type", str("2"), "nsp", root), parser.ErrUnknownType, "invalid packet type"},
		{"type undefined", pkt("type", "d40000", "nsp", root), parser.ErrUnknownType, "invalid packet type"},
		{"no nsp", pkt("type", "01"), parser.ErrInvalidPayload, "invalid namespace"},
		{"nsp number", pkt("type", "01", "nsp", "01"), parser.ErrInvalidPayload, "invalid namespace"},
		{"nsp nil", pkt("type", "01", "nsp", "c0"), parser.ErrInvalidPayload, "invalid namespace"},
		{"nsp bin", pkt("type", "01", "nsp", "c4012f"), parser.ErrInvalidPayload, "invalid namespace"},
		{"id nil", pkt("type", "02", "nsp", root, "data", "91a161", "id", "c0"), parser.ErrInvalidPayload, "invalid packet id"},
		{"id string", pkt("type", "02", "nsp", root, "data", "91a161", "id", str("1")), parser.ErrInvalidPayload, "invalid packet id"},
		{"id fraction", pkt("type", "02", "nsp", root, "data", "91a161", "id", "cb3ff8000000000000"), parser.ErrInvalidPayload, "invalid packet id"},
		{"id negative", pkt("type", "03", "nsp", root, "data", "90", "id", "ff"), parser.ErrInvalidPayload, "invalid packet id"},
		{"id infinite", pkt("type", "03", "nsp", root, "data", "90", "id", "cb7ff0000000000000"), parser.ErrInvalidPayload, "invalid packet id"},
		{"connect array", pkt("type", "00", "nsp", root, "data", "90"), parser.ErrInvalidPayload, "CONNECT data must be an object"},
		{"connect nil", pkt("type", "00", "nsp", root, "data", "c0"), parser.ErrInvalidPayload, "CONNECT data must be an object"},
		{"connect string", pkt("type", "00", "nsp", root, "data", str("x")), parser.ErrInvalidPayload, "CONNECT data must be an object"},
		{"disconnect data", pkt("type", "01", "nsp", root, "data", "80"), parser.ErrInvalidPayload, "DISCONNECT must not carry data"},
		{"disconnect nil data", pkt("type", "01", "nsp", root, "data", "c0"), parser.ErrInvalidPayload, "DISCONNECT must not carry data"},
		{"event no data", pkt("type", "02", "nsp", root), parser.ErrInvalidPayload, "must have data"},
		{"event object", pkt("type", "02", "nsp", root, "data", "80"), parser.ErrInvalidPayload, "must be an array"},
		{"event empty", pkt("type", "02", "nsp", root, "data", "90"), parser.ErrInvalidPayload, "empty array"},
		{"event name object", pkt("type", "02", "nsp", root, "data", "9180"), parser.ErrInvalidPayload, "must start with an event name"},
		{"event name nil", pkt("type", "02", "nsp", root, "data", "91c0"), parser.ErrInvalidPayload, "must start with an event name"},
		{"event reserved", pkt("type", "02", "nsp", root, "data", "91"+str("disconnecting")), parser.ErrInvalidPayload, "reserved"},
		{"ack object", pkt("type", "03", "nsp", root, "data", "80", "id", "01"), parser.ErrInvalidPayload, "ACK data must be an array"},
		{"ack no data", pkt("type", "03", "nsp", root, "id", "01"), parser.ErrInvalidPayload, "must have data"},
		{"connect error number", pkt("type", "04", "nsp", root, "data", "01"), parser.ErrInvalidPayload, "string or an object"},
		{"connect error no data", pkt("type", "04", "nsp", root), parser.ErrInvalidPayload, "must have data"},
		{"event bad element", pkt("type", "02", "nsp", root, "data", "92"+str("e")+"c1"), parser.ErrInvalidPayload, "malformed"},
		{"fake placeholder with binary", pkt("type", "02", "nsp", root, "data", "93"+str("e")+"c40101"+"82"+str("_placeholder")+"c3"+str("num")+"00"),
			parser.ErrInvalidPayload, "placeholder"},
	}
	for _, c := range cases {
		p, err := msgpackparser.Parser{}.NewDecoder(0).Decode(c.msg, true)
		var de *parser.DecodeError
		if p != nil || !errors.As(err, &de) || !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.text) {
			t.Errorf("%s: got %v, %v; want a %v error with %q", c.name, p, err, c.kind, c.text)
		}
	}
}

func TestDecodeTextMessage(t *testing.T) {
	_, err := msgpackparser.Parser{}.NewDecoder(0).Decode([]byte(`2["hello"]`), false)
	if !errors.Is(err, parser.ErrUnexpectedText) {
		t.Fatalf("text message: %v", err)
	}
}

func TestDecodeAccepts(t *testing.T) {
	cases := []struct {
		name string
		msg  []byte
		want parser.Packet
	}{
		{"float type and id", pkt("type", "cb4000000000000000", "nsp", root, "data", "91"+str("e"), "id", "cb4014000000000000"),
			parser.Packet{Type: parser.Event, Namespace: "/", ID: 5, HasID: true, Data: json.RawMessage(`["e"]`)}},
		{"last key wins, others ignored", pkt("type", "01", "x", "c0", "type", "02", "nsp", str("/a"), "data", "9101", "id", "d40000"),
			parser.Packet{Type: parser.Event, Namespace: "/a", Data: json.RawMessage(`[1]`)}},
		{"non-string key skipped", append(pkt("type", "01", "nsp", root)[:1:1], append([]byte{0x01, 0x02}, pkt("type", "01", "nsp", root)[1:]...)...),
			parser.Packet{Type: parser.Disconnect, Namespace: "/"}},
		{"empty namespace kept", pkt("type", "00", "nsp", "a0"), parser.Packet{Type: parser.Connect, Namespace: ""}},
		{"disconnect undefined data", pkt("type", "01", "nsp", root, "data", "d40000"), parser.Packet{Type: parser.Disconnect, Namespace: "/"}},
		{"ack empty", pkt("type", "03", "nsp", root, "data", "90", "id", "cf0000000000000001"),
			parser.Packet{Type: parser.Ack, Namespace: "/", ID: 1, HasID: true, Data: json.RawMessage(`[]`)}},
		{"placeholder-like map without binary", pkt("type", "02", "nsp", root, "data", "92"+str("e")+"82"+str("_placeholder")+"c3"+str("num")+"00"),
			parser.Packet{Type: parser.Event, Namespace: "/", Data: json.RawMessage(`["e",{"_placeholder":true,"num":0}]`)}},
		{"connect error with binary", pkt("type", "04", "nsp", root, "data", "81"+str("b")+"c401ff"),
			parser.Packet{Type: parser.ConnectError, Namespace: "/", Data: json.RawMessage(`{"b":{"type":"Buffer","data":[255]}}`)}},
	}
	// The first map header of "non-string key skipped" must count the
	// extra pair.
	cases[2].msg[0]++
	for _, c := range cases {
		got, err := msgpackparser.Parser{}.NewDecoder(0).Decode(c.msg, true)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got.Type != c.want.Type || got.Namespace != c.want.Namespace || got.ID != c.want.ID || got.HasID != c.want.HasID ||
			string(got.Data) != string(c.want.Data) || len(got.Attachments) != 0 {
			t.Errorf("%s: got %v %q %d,%v %s %d atts", c.name, got.Type, got.Namespace, got.ID, got.HasID, got.Data, len(got.Attachments))
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	for _, p := range []*parser.Packet{
		{Type: parser.PacketType(7), Namespace: "/"},
		{Type: parser.Event, Namespace: "/", Data: json.RawMessage(`["e",`)},
		{Type: parser.Event, Namespace: "/", Data: json.RawMessage(`["e",{"_placeholder":true,"num":3}]`), Attachments: [][]byte{{1}}},
	} {
		dst := []byte("x")
		got, _, _, err := msgpackparser.Parser{}.AppendPacket(dst, p)
		if err == nil || string(got) != "x" {
			t.Errorf("%v %s: got %q, %v; want an error and dst unchanged", p.Type, p.Data, got, err)
		}
	}
}

// The default parser, as a parser.Parser, writes what AppendText writes.
func TestDefaultParser(t *testing.T) {
	p := &parser.Packet{Type: parser.Event, Namespace: "/a", Data: json.RawMessage(`["e",` + ph(0) + `]`), Attachments: [][]byte{{1}}}
	msg, binary, more, err := parser.Default.AppendPacket([]byte("4"), p)
	if err != nil || binary || len(more) != 1 || string(msg) != `451-/a,["e",{"_placeholder":true,"num":0}]` {
		t.Fatalf("got %q %v %d %v", msg, binary, len(more), err)
	}
	d := parser.Default.NewDecoder(0)
	if q, err := d.Decode(msg[1:], false); q != nil || err != nil {
		t.Fatalf("text: %v %v", q, err)
	}
	q, err := d.Decode(more[0], true)
	if err != nil || q == nil || string(q.Data) != string(p.Data) {
		t.Fatalf("binary: %v %v", q, err)
	}
}

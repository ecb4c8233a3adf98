package parser_test

import (
	"testing"

	"github.com/gosio/gosio/internal/testutil"
	"github.com/gosio/gosio/parser"
)

func TestPacketTypeString(t *testing.T) {
	t.Parallel()
	for typ, want := range map[parser.PacketType]string{
		parser.Connect:      "CONNECT",
		parser.Disconnect:   "DISCONNECT",
		parser.Event:        "EVENT",
		parser.Ack:          "ACK",
		parser.ConnectError: "CONNECT_ERROR",
		parser.BinaryEvent:  "BINARY_EVENT",
		parser.BinaryAck:    "BINARY_ACK",
		7:                   "PacketType(7)",
		255:                 "PacketType(255)",
	} {
		testutil.Equal(t, typ.String(), want)
	}
}

func TestAppendText(t *testing.T) {
	t.Parallel()
	bin := [][]byte{{1}, {2}}
	for _, tc := range []struct {
		name string
		p    parser.Packet
		want string
	}{
		{"empty namespace is root", parser.Packet{Type: parser.Event, Data: raw(`["a"]`)}, `2["a"]`},
		{"root namespace omitted", parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`["a"]`)}, `2["a"]`},
		{"event with attachments becomes binary", parser.Packet{Type: parser.Event, Data: raw(`["a",` + ph0 + `,` + ph1 + `]`), Attachments: bin},
			`52-["a",` + ph0 + `,` + ph1 + `]`},
		{"ack with attachments becomes binary", parser.Packet{Type: parser.Ack, Namespace: "/x", ID: 0, HasID: true, Data: raw(`[` + ph0 + `]`), Attachments: bin[:1]},
			`61-/x,0[` + ph0 + `]`},
		{"binary event without attachments becomes text", parser.Packet{Type: parser.BinaryEvent, Data: raw(`["a"]`)}, `2["a"]`},
		{"binary ack without attachments becomes text", parser.Packet{Type: parser.BinaryAck, ID: 4, HasID: true, Data: raw(`[]`)}, `34[]`},
		{"attachments ignored on connect", parser.Packet{Type: parser.Connect, Data: raw(`{}`), Attachments: bin}, `0{}`},
		{"id zero", parser.Packet{Type: parser.Event, ID: 0, HasID: true, Data: raw(`["a"]`)}, `20["a"]`},
		{"id ignored without HasID", parser.Packet{Type: parser.Event, ID: 9, Data: raw(`["a"]`)}, `2["a"]`},
		{"max id", parser.Packet{Type: parser.Ack, ID: 1<<64 - 1, HasID: true, Data: raw(`[]`)}, `318446744073709551615[]`},
		{"namespace without data", parser.Packet{Type: parser.Disconnect, Namespace: "/chat"}, `1/chat,`},
		{"twelve attachments", parser.Packet{Type: parser.Event, Data: raw(`["a"]`), Attachments: make([][]byte, 12)}, `512-["a"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testutil.Equal(t, string(parser.AppendText(nil, &tc.p)), tc.want)
			// Appending keeps what dst held (an Engine.IO "4" prefix).
			testutil.Equal(t, string(parser.AppendText([]byte("4"), &tc.p)), "4"+tc.want)
		})
	}
}

func TestAppendTextDoesNotAllocate(t *testing.T) {
	p := &parser.Packet{Type: parser.Ack, Namespace: "/admin", ID: 123456, HasID: true,
		Data: raw(`["bar",` + ph0 + `]`), Attachments: [][]byte{{1, 2, 3}}}
	dst := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() { dst = parser.AppendText(dst[:0], p) }); n != 0 {
		t.Fatalf("AppendText allocates %v times per run, want 0", n)
	}
}

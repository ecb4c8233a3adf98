package parser_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gosio/gosio/internal/testutil"
	"github.com/gosio/gosio/parser"
)

const (
	ph0 = `{"_placeholder":true,"num":0}`
	ph1 = `{"_placeholder":true,"num":1}`
)

// decode feeds text and then atts to a fresh Decoder and returns the
// packet, failing the test unless it completes exactly with the last
// message.
func decode(t *testing.T, text string, atts ...[]byte) *parser.Packet {
	t.Helper()
	return decodeMax(t, 0, text, atts...)
}

// decodeMax is decode with a Decoder limited to maxAttachments.
func decodeMax(t *testing.T, maxAttachments int, text string, atts ...[]byte) *parser.Packet {
	t.Helper()
	d := parser.NewDecoder(maxAttachments)
	p, err := d.DecodeText([]byte(text))
	if err != nil {
		t.Fatalf("DecodeText(%q): %v", text, err)
	}
	for i, a := range atts {
		if p != nil {
			t.Fatalf("DecodeText(%q): packet complete before attachment %d", text, i)
		}
		if p, err = d.DecodeBinary(a); err != nil {
			t.Fatalf("DecodeBinary(#%d): %v", i, err)
		}
	}
	if p == nil {
		t.Fatalf("DecodeText(%q): packet incomplete after %d attachment(s)", text, len(atts))
	}
	return p
}

func raw(s string) []byte { return []byte(s) }

// specCases are the examples of the protocol spec and the messages of the
// official test suite (without Engine.IO's "4"). encoded is what AppendText
// writes for the decoded packet when it differs from text.
var specCases = []struct {
	name    string
	text    string
	atts    [][]byte
	want    parser.Packet
	encoded string
}{
	{name: "connect", text: `0`,
		want: parser.Packet{Type: parser.Connect, Namespace: "/"}},
	{name: "connect admin with sid", text: `0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}`,
		want: parser.Packet{Type: parser.Connect, Namespace: "/admin", Data: raw(`{"sid":"oSO0OpakMV_3jnilAAAA"}`)}},
	{name: "connect error", text: `4{"message":"Not authorized"}`,
		want: parser.Packet{Type: parser.ConnectError, Namespace: "/", Data: raw(`{"message":"Not authorized"}`)}},
	{name: "event", text: `2["foo"]`,
		want: parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`["foo"]`)}},
	{name: "event with ack", text: `212["foo"]`,
		want: parser.Packet{Type: parser.Event, Namespace: "/", ID: 12, HasID: true, Data: raw(`["foo"]`)}},
	{name: "ack admin", text: `3/admin,13["bar"]`,
		want: parser.Packet{Type: parser.Ack, Namespace: "/admin", ID: 13, HasID: true, Data: raw(`["bar"]`)}},
	{name: "disconnect", text: `1`,
		want: parser.Packet{Type: parser.Disconnect, Namespace: "/"}},
	{name: "disconnect admin", text: `1/admin,`,
		want: parser.Packet{Type: parser.Disconnect, Namespace: "/admin"}},
	{name: "binary event", text: `51-["baz",` + ph0 + `]`, atts: [][]byte{{1, 2, 3, 4}},
		want: parser.Packet{Type: parser.BinaryEvent, Namespace: "/", Data: raw(`["baz",` + ph0 + `]`), Attachments: [][]byte{{1, 2, 3, 4}}}},
	{name: "binary event admin", text: `52-/admin,["baz",` + ph0 + `,` + ph1 + `]`, atts: [][]byte{{1}, {2}},
		want: parser.Packet{Type: parser.BinaryEvent, Namespace: "/admin", Data: raw(`["baz",` + ph0 + `,` + ph1 + `]`), Attachments: [][]byte{{1}, {2}}}},
	{name: "binary ack", text: `61-15["bar",` + ph0 + `]`, atts: [][]byte{{5}},
		want: parser.Packet{Type: parser.BinaryAck, Namespace: "/", ID: 15, HasID: true, Data: raw(`["bar",` + ph0 + `]`), Attachments: [][]byte{{5}}}},
	{name: "binary ack admin", text: `61-/admin,1[` + ph0 + `]`, atts: [][]byte{{6}},
		want: parser.Packet{Type: parser.BinaryAck, Namespace: "/admin", ID: 1, HasID: true, Data: raw(`[` + ph0 + `]`), Attachments: [][]byte{{6}}}},
	{name: "suite connect with auth", text: `0{"token":"123"}`,
		want: parser.Packet{Type: parser.Connect, Namespace: "/", Data: raw(`{"token":"123"}`)}},
	{name: "suite connect custom", text: `0/custom,`,
		want: parser.Packet{Type: parser.Connect, Namespace: "/custom"}},
	{name: "suite connect custom with auth", text: `0/custom,{"token":"abc"}`,
		want: parser.Packet{Type: parser.Connect, Namespace: "/custom", Data: raw(`{"token":"abc"}`)}},
	{name: "suite connect random without comma", text: `0/random`, encoded: `0/random,`,
		want: parser.Packet{Type: parser.Connect, Namespace: "/random"}},
	{name: "suite disconnect custom without comma", text: `1/custom`, encoded: `1/custom,`,
		want: parser.Packet{Type: parser.Disconnect, Namespace: "/custom"}},
	{name: "suite invalid namespace reply", text: `4/random,{"message":"Invalid namespace"}`,
		want: parser.Packet{Type: parser.ConnectError, Namespace: "/random", Data: raw(`{"message":"Invalid namespace"}`)}},
	{name: "suite plain message", text: `2["message",1,"2",{"3":[true]}]`,
		want: parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`["message",1,"2",{"3":[true]}]`)}},
	{name: "suite binary message", text: `52-["message",` + ph0 + `,` + ph1 + `]`, atts: [][]byte{{1, 2, 3}, {4, 5, 6}},
		want: parser.Packet{Type: parser.BinaryEvent, Namespace: "/", Data: raw(`["message",` + ph0 + `,` + ph1 + `]`), Attachments: [][]byte{{1, 2, 3}, {4, 5, 6}}}},
	{name: "suite message with ack", text: `2456["message-with-ack",1,"2",{"3":[false]}]`,
		want: parser.Packet{Type: parser.Event, Namespace: "/", ID: 456, HasID: true, Data: raw(`["message-with-ack",1,"2",{"3":[false]}]`)}},
	{name: "suite binary message with ack", text: `52-789["message-with-ack",` + ph0 + `,` + ph1 + `]`, atts: [][]byte{{1, 2, 3}, {4, 5, 6}},
		want: parser.Packet{Type: parser.BinaryEvent, Namespace: "/", ID: 789, HasID: true, Data: raw(`["message-with-ack",` + ph0 + `,` + ph1 + `]`), Attachments: [][]byte{{1, 2, 3}, {4, 5, 6}}}},
	{name: "suite ack reply", text: `3456[1,"2",{"3":[false]}]`,
		want: parser.Packet{Type: parser.Ack, Namespace: "/", ID: 456, HasID: true, Data: raw(`[1,"2",{"3":[false]}]`)}},
	{name: "suite binary ack reply", text: `62-789[` + ph0 + `,` + ph1 + `]`, atts: [][]byte{{1, 2, 3}, {4, 5, 6}},
		want: parser.Packet{Type: parser.BinaryAck, Namespace: "/", ID: 789, HasID: true, Data: raw(`[` + ph0 + `,` + ph1 + `]`), Attachments: [][]byte{{1, 2, 3}, {4, 5, 6}}}},
}

func TestSpecExamples(t *testing.T) {
	t.Parallel()
	for _, tc := range specCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := decode(t, tc.text, tc.atts...)
			testutil.Equal(t, *got, tc.want)
			want := tc.text
			if tc.encoded != "" {
				want = tc.encoded
			}
			testutil.Equal(t, string(parser.AppendText(nil, &tc.want)), want)
		})
	}
}

func TestDecodeValid(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		text string
		atts [][]byte
		want parser.Packet
	}{
		{"event name not reserved", `2["connected"]`, nil,
			parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`["connected"]`)}},
		{"numeric event name", `2[-1.5e3,"x"]`, nil,
			parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`[-1.5e3,"x"]`)}},
		{"event without data", `2`, nil,
			parser.Packet{Type: parser.Event, Namespace: "/"}},
		{"whitespace kept", "2 [ \"foo\" ] \n", nil,
			parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(" [ \"foo\" ] \n")}},
		{"namespace without comma", `2/admin`, nil,
			parser.Packet{Type: parser.Event, Namespace: "/admin"}},
		{"root namespace written out", `2/,["a"]`, nil,
			parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`["a"]`)}},
		{"lone slash", `2/`, nil,
			parser.Packet{Type: parser.Event, Namespace: "/"}},
		{"namespace with odd characters", `2/a b[1]-:é,["x"]`, nil,
			parser.Packet{Type: parser.Event, Namespace: "/a b[1]-:é", Data: raw(`["x"]`)}},
		{"leading zeros in id", `2007["x"]`, nil,
			parser.Packet{Type: parser.Event, Namespace: "/", ID: 7, HasID: true, Data: raw(`["x"]`)}},
		{"max id", `318446744073709551615[]`, nil,
			parser.Packet{Type: parser.Ack, Namespace: "/", ID: 18446744073709551615, HasID: true, Data: raw(`[]`)}},
		{"empty ack", `3[]`, nil,
			parser.Packet{Type: parser.Ack, Namespace: "/", Data: raw(`[]`)}},
		{"ack of anything", `3[null,{"a":1}]`, nil,
			parser.Packet{Type: parser.Ack, Namespace: "/", Data: raw(`[null,{"a":1}]`)}},
		{"connect error string", `4"nope"`, nil,
			parser.Packet{Type: parser.ConnectError, Namespace: "/", Data: raw(`"nope"`)}},
		{"connect error with id", `41`, nil,
			parser.Packet{Type: parser.ConnectError, Namespace: "/", ID: 1, HasID: true}},
		{"connect with id", `01{}`, nil,
			parser.Packet{Type: parser.Connect, Namespace: "/", ID: 1, HasID: true, Data: raw(`{}`)}},
		{"escaped non-reserved name", `2["conn\u0065cted"]`, nil,
			parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`["conn\u0065cted"]`)}},
		{"attachment count with leading zero", `601-[` + ph0 + `]`, [][]byte{{1}},
			parser.Packet{Type: parser.BinaryAck, Namespace: "/", Data: raw(`[` + ph0 + `]`), Attachments: [][]byte{{1}}}},
		{"binary without data", `51-`, [][]byte{{1}},
			parser.Packet{Type: parser.BinaryEvent, Namespace: "/", Attachments: [][]byte{{1}}}},
		{"unused attachment", `52-["a",` + ph1 + `]`, [][]byte{{1}, {2}},
			parser.Packet{Type: parser.BinaryEvent, Namespace: "/", Data: raw(`["a",` + ph1 + `]`), Attachments: [][]byte{{1}, {2}}}},
		{"empty attachment", `51-["a",` + ph0 + `]`, [][]byte{{}},
			parser.Packet{Type: parser.BinaryEvent, Namespace: "/", Data: raw(`["a",` + ph0 + `]`), Attachments: [][]byte{{}}}},
		{"integral num forms", `53-["a",{"num":0.0,"_placeholder":true},{"_placeholder":true,"num":1e0},{"_placeholder":true,"num":-0}]`, [][]byte{{1}, {2}, {3}},
			parser.Packet{Type: parser.BinaryEvent, Namespace: "/", Data: raw(`["a",{"num":0.0,"_placeholder":true},{"_placeholder":true,"num":1e0},{"_placeholder":true,"num":-0}]`), Attachments: [][]byte{{1}, {2}, {3}}}},
		{"placeholder false is plain JSON", `51-["a",{"_placeholder":false,"num":9},` + ph0 + `]`, [][]byte{{1}},
			parser.Packet{Type: parser.BinaryEvent, Namespace: "/", Data: raw(`["a",{"_placeholder":false,"num":9},` + ph0 + `]`), Attachments: [][]byte{{1}}}},
		{"not looked into a placeholder", `51-["a",{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":9}}]`, [][]byte{{1}},
			parser.Packet{Type: parser.BinaryEvent, Namespace: "/", Data: raw(`["a",{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":9}}]`), Attachments: [][]byte{{1}}}},
		{"placeholders in a text event are plain JSON", `2["a",{"_placeholder":true,"num":5}]`, nil,
			parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`["a",{"_placeholder":true,"num":5}]`)}},
		{"ten attachments", `510-["a",` + strings.Repeat(ph0+",", 9) + ph0 + `]`, [][]byte{{0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}},
			parser.Packet{Type: parser.BinaryEvent, Namespace: "/", Data: raw(`["a",` + strings.Repeat(ph0+",", 9) + ph0 + `]`), Attachments: [][]byte{{0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testutil.Equal(t, *decode(t, tc.text, tc.atts...), tc.want)
		})
	}
}

func TestDecodeInvalid(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		text string
		kind error
	}{
		// The official suite's "close the connection upon invalid format".
		{"suite unknown type", `abc`, parser.ErrUnknownType},
		{"suite invalid payload", `2{}`, parser.ErrInvalidPayload},
		{"suite invalid ack id", `2abc["message-with-ack",1,"2",{"3":[false]}]`, parser.ErrInvalidPayload},

		{"empty", ``, parser.ErrUnknownType},
		{"type 7", `7[]`, parser.ErrUnknownType},
		{"type 9", `9`, parser.ErrUnknownType},
		{"leading space", ` 2["a"]`, parser.ErrUnknownType},
		{"minus", `-1`, parser.ErrUnknownType},

		{"binary without count", `5`, parser.ErrIllegalAttachments},
		{"binary without dash", `51["a"]`, parser.ErrIllegalAttachments},
		{"binary empty count", `5-["a"]`, parser.ErrIllegalAttachments},
		{"binary zero count", `50-["a"]`, parser.ErrIllegalAttachments},
		{"binary count not a number", `5a-["a"]`, parser.ErrIllegalAttachments},
		{"binary count with sign", `5+1-["a"]`, parser.ErrIllegalAttachments},
		{"binary count decimal", `51.0-["a"]`, parser.ErrIllegalAttachments},
		{"binary ack without dash", `6`, parser.ErrIllegalAttachments},
		{"too many", `511-["a"]`, parser.ErrTooManyAttachments},
		{"far too many", `6999999999999999999999999999-[]`, parser.ErrTooManyAttachments},

		{"event object", `2{"a":1}`, parser.ErrInvalidPayload},
		{"event string", `2"foo"`, parser.ErrInvalidPayload},
		{"event empty array", `2[]`, parser.ErrInvalidPayload},
		{"event name null", `2[null]`, parser.ErrInvalidPayload},
		{"event name object", `2[{}]`, parser.ErrInvalidPayload},
		{"event name array", `2[["a"]]`, parser.ErrInvalidPayload},
		{"event name bool", `2[true]`, parser.ErrInvalidPayload},
		{"event truncated JSON", `2["foo"`, parser.ErrInvalidPayload},
		{"event trailing garbage", `2["foo"]x`, parser.ErrInvalidPayload},
		{"event two values", `2["foo"] ["bar"]`, parser.ErrInvalidPayload},
		{"event only whitespace", `2 `, parser.ErrInvalidPayload},
		{"comma without namespace", `2,["foo"]`, parser.ErrInvalidPayload},
		{"garbage after namespace", `2/admin,abc`, parser.ErrInvalidPayload},
		{"second comma", `2/a,b,["x"]`, parser.ErrInvalidPayload},
		{"binary event object", `51-{}`, parser.ErrInvalidPayload},
		{"binary event reserved", `51-["disconnect",` + ph0 + `]`, parser.ErrInvalidPayload},
		{"id overflows", `218446744073709551616["a"]`, parser.ErrInvalidPayload},
		{"connect array", `0[]`, parser.ErrInvalidPayload},
		{"connect string", `0"x"`, parser.ErrInvalidPayload},
		{"connect null", `0null`, parser.ErrInvalidPayload},
		{"connect number after id", `01 2`, parser.ErrInvalidPayload},
		{"disconnect object", `1{}`, parser.ErrInvalidPayload},
		{"disconnect admin object", `1/admin,{}`, parser.ErrInvalidPayload},
		{"disconnect whitespace", `1 `, parser.ErrInvalidPayload},
		{"connect error array", `4[]`, parser.ErrInvalidPayload},
		{"connect error true", `4true`, parser.ErrInvalidPayload},
		{"ack object", `3{}`, parser.ErrInvalidPayload},
		{"ack string", `3"x"`, parser.ErrInvalidPayload},
		{"binary ack object", `61-{}`, parser.ErrInvalidPayload},
		{"invalid JSON escape", `2["\x"]`, parser.ErrInvalidPayload},
		{"control character in string", "2[\"a\x01\"]", parser.ErrInvalidPayload},
		{"single quotes", `2['a']`, parser.ErrInvalidPayload},
		{"too deep", `3` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001), parser.ErrInvalidPayload},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := parser.NewDecoder(0).DecodeText([]byte(tc.text))
			checkDecodeError(t, p, err, tc.kind)
		})
	}
}

func checkDecodeError(t *testing.T, p *parser.Packet, err, kind error) {
	t.Helper()
	if p != nil {
		t.Fatalf("got packet %+v, want an error", p)
	}
	if !errors.Is(err, kind) {
		t.Fatalf("got error %v, want %v", err, kind)
	}
	var de *parser.DecodeError
	if !errors.As(err, &de) || de.Kind != kind || de.Reason == "" {
		t.Fatalf("error %#v is not a *DecodeError of kind %v with a reason", err, kind)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, kind.Error()+": ") {
		t.Fatalf("error message %q does not start with %q", msg, kind.Error()+": ")
	}
}

func TestReservedEvents(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if !parser.IsReserved(name) {
				t.Errorf("IsReserved(%q) = false", name)
			}
			for _, text := range []string{
				`2["` + name + `"]`,
				`2/admin,5["` + name + `",1]`,
				`2 [ "` + name + `" ]`,
				fmt.Sprintf(`2["\u%04x%s"]`, name[0], name[1:]), // first letter escaped
				`51-["` + name + `",` + ph0 + `]`,
			} {
				p, err := parser.NewDecoder(0).DecodeText([]byte(text))
				checkDecodeError(t, p, err, parser.ErrInvalidPayload)
			}
			// Reserved names are fine as arguments and in acks.
			decode(t, `2["x","`+name+`"]`)
			decode(t, `3["`+name+`"]`)
		})
	}
	for _, name := range []string{"", "Connect", "connect ", "message", "newlistener", "error"} {
		if parser.IsReserved(name) {
			t.Errorf("IsReserved(%q) = true", name)
		}
	}
}

func TestDecoderAttachments(t *testing.T) {
	t.Parallel()
	type step struct {
		text    string // a text message, or
		bin     []byte // a binary message
		reset   bool
		want    string // the text of the completed packet's Data, or "" when none
		wantErr error
	}
	for _, tc := range []struct {
		name  string
		max   int
		steps []step
	}{
		{name: "binary when idle", steps: []step{
			{bin: []byte{1}, wantErr: parser.ErrUnexpectedBinary},
			{text: `2["a"]`, want: `["a"]`},
		}},
		{name: "text while waiting keeps the packet", steps: []step{
			{text: `52-["a",` + ph0 + `,` + ph1 + `]`},
			{bin: []byte{1}},
			{text: `2["b"]`, wantErr: parser.ErrUnexpectedText},
			{bin: []byte{2}, want: `["a",` + ph0 + `,` + ph1 + `]`},
			{bin: []byte{3}, wantErr: parser.ErrUnexpectedBinary},
		}},
		{name: "reset drops the packet", steps: []step{
			{text: `51-["a",` + ph0 + `]`},
			{reset: true},
			{bin: []byte{1}, wantErr: parser.ErrUnexpectedBinary},
			{text: `2["b"]`, want: `["b"]`},
		}},
		{name: "placeholder out of range", steps: []step{
			{text: `51-["a",` + ph1 + `]`},
			{bin: []byte{1}, wantErr: parser.ErrInvalidPlaceholder},
			{bin: []byte{1}, wantErr: parser.ErrUnexpectedBinary},
			{text: `2["b"]`, want: `["b"]`},
		}},
		{name: "placeholder negative", steps: []step{
			{text: `51-["a",{"_placeholder":true,"num":-1}]`},
			{bin: []byte{1}, wantErr: parser.ErrInvalidPlaceholder},
		}},
		{name: "placeholder num string", steps: []step{
			{text: `51-["a",{"_placeholder":true,"num":"0"}]`},
			{bin: []byte{1}, wantErr: parser.ErrInvalidPlaceholder},
		}},
		{name: "placeholder num fraction", steps: []step{
			{text: `52-["a",{"_placeholder":true,"num":0.5}]`},
			{bin: []byte{1}},
			{bin: []byte{2}, wantErr: parser.ErrInvalidPlaceholder},
		}},
		{name: "placeholder num huge", steps: []step{
			{text: `51-["a",{"_placeholder":true,"num":1e300}]`},
			{bin: []byte{1}, wantErr: parser.ErrInvalidPlaceholder},
		}},
		{name: "placeholder without num", steps: []step{
			{text: `51-["a",{"_placeholder":true}]`},
			{bin: []byte{1}, wantErr: parser.ErrInvalidPlaceholder},
		}},
		{name: "placeholder num object", steps: []step{
			{text: `51-["a",{"_placeholder":true,"num":{"n":0}}]`},
			{bin: []byte{1}, wantErr: parser.ErrInvalidPlaceholder},
		}},
		{name: "escaped placeholder key", steps: []step{
			{text: `51-["a",{"\u005fplaceholder":true,"num":3}]`},
			{bin: []byte{1}, wantErr: parser.ErrInvalidPlaceholder},
		}},
		{name: "last duplicate key wins", steps: []step{
			{text: `51-["a",{"_placeholder":true,"num":7,"num":0},{"_placeholder":true,"_placeholder":false,"num":9}]`},
			{bin: []byte{1}, want: `["a",{"_placeholder":true,"num":7,"num":0},{"_placeholder":true,"_placeholder":false,"num":9}]`},
		}},
		{name: "deep placeholder", steps: []step{
			{text: `51-["a",[[[[{"k":[{"x":1},` + ph0 + `]}]]]]]`},
			{bin: []byte{1}, want: `["a",[[[[{"k":[{"x":1},` + ph0 + `]}]]]]]`},
		}},
		{name: "placeholder lookalike in a string", steps: []step{
			{text: `51-["a","{\"_placeholder\":true,\"num\":5}",` + ph0 + `]`},
			{bin: []byte{1}, want: `["a","{\"_placeholder\":true,\"num\":5}",` + ph0 + `]`},
		}},
		{name: "custom limit", max: 2, steps: []step{
			{text: `53-["a"]`, wantErr: parser.ErrTooManyAttachments},
			{text: `52-["a",` + ph0 + `,` + ph1 + `]`},
			{bin: []byte{1}},
			{bin: []byte{2}, want: `["a",` + ph0 + `,` + ph1 + `]`},
		}},
		{name: "back to back binary packets", steps: []step{
			{text: `51-["a",` + ph0 + `]`},
			{bin: []byte{1}, want: `["a",` + ph0 + `]`},
			{text: `61-3[` + ph0 + `]`},
			{bin: []byte{2}, want: `[` + ph0 + `]`},
			{text: `2["c"]`, want: `["c"]`},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := parser.NewDecoder(tc.max)
			for i, s := range tc.steps {
				if s.reset {
					d.Reset()
					continue
				}
				var p *parser.Packet
				var err error
				if s.bin != nil {
					p, err = d.DecodeBinary(s.bin)
				} else {
					p, err = d.DecodeText([]byte(s.text))
				}
				if s.wantErr != nil {
					checkDecodeError(t, p, err, s.wantErr)
					continue
				}
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				switch {
				case s.want == "" && p != nil:
					t.Fatalf("step %d: got packet %+v, want none yet", i, p)
				case s.want != "" && p == nil:
					t.Fatalf("step %d: got no packet, want %s", i, s.want)
				case p != nil:
					testutil.Equal(t, string(p.Data), s.want)
				}
			}
		})
	}
}

func TestDecodeAliasesInput(t *testing.T) {
	t.Parallel()
	msg := []byte(`51-["a",` + ph0 + `]`)
	bin := []byte{1, 2}
	d := parser.NewDecoder(0)
	if _, err := d.DecodeText(msg); err != nil {
		t.Fatal(err)
	}
	p, err := d.DecodeBinary(bin)
	if err != nil {
		t.Fatal(err)
	}
	if &p.Data[0] != &msg[3] || &p.Attachments[0][0] != &bin[0] {
		t.Fatal("Data and Attachments should alias the messages")
	}
}

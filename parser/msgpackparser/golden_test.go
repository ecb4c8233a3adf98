package msgpackparser_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/gosio/gosio/parser"
	"github.com/gosio/gosio/parser/msgpackparser"
)

// golden is testdata/npm_golden.json, written by
// conformance/js/msgpack-parser-golden.mjs with the npm package's Encoder.
type golden struct {
	Parser   string `json:"socket.io-msgpack-parser"`
	Notepack string `json:"notepack.io"`
	Cases    []struct {
		Kind, Name, Hex string
	}
}

func loadGolden(t testing.TB) map[string][]byte {
	t.Helper()
	raw, err := os.ReadFile("testdata/npm_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(g.Parser, "3.") || g.Notepack == "" {
		t.Fatalf("golden file from socket.io-msgpack-parser %q, notepack.io %q", g.Parser, g.Notepack)
	}
	out := make(map[string][]byte, len(g.Cases))
	for _, c := range g.Cases {
		b, err := hex.DecodeString(c.Hex)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		out[c.Kind+"/"+c.Name] = b
	}
	return out
}

func ph(n int) string { return `{"_placeholder":true,"num":` + string(rune('0'+n)) + `}` }

// The packets of the golden file's "encode" cases, in gosio's form.
var encodeCases = map[string]*parser.Packet{
	"connect-root-no-data": {Type: parser.Connect, Namespace: "/"},
	"connect-reply":        {Type: parser.Connect, Namespace: "/", Data: json.RawMessage(`{"sid":"AbCdEf123"}`)},
	"connect-auth-admin":   {Type: parser.Connect, Namespace: "/admin", Data: json.RawMessage(`{"token":"s3cr3t","n":1.5,"ok":true}`)},
	"disconnect-admin":     {Type: parser.Disconnect, Namespace: "/admin"},
	"event-scalars":        {Type: parser.Event, Namespace: "/", Data: json.RawMessage(`["hello","world",42,-7,3.14,true,false,null]`)},
	"event-nested":         {Type: parser.Event, Namespace: "/", Data: json.RawMessage(`["nested",{"a":[1,2,{"b":"c"}],"d":{},"e":[]}]`)},
	"event-binary": {Type: parser.BinaryEvent, Namespace: "/",
		Data:        json.RawMessage(`["bin",` + ph(0) + `,{"inner":` + ph(1) + `,"list":[` + ph(2) + `]}]`),
		Attachments: [][]byte{{1, 2, 3}, {}, {255}}},
	"event-ack-id": {Type: parser.Event, Namespace: "/", ID: 7, HasID: true, Data: json.RawMessage(`["ask",1]`)},
	"ack-binary-admin": {Type: parser.Ack, Namespace: "/admin", ID: 300000, HasID: true,
		Data: json.RawMessage(`[` + ph(0) + `,"done"]`), Attachments: [][]byte{bytes.Repeat([]byte{0xab}, 300)}},
	"ack-empty":            {Type: parser.Ack, Namespace: "/", ID: 0, HasID: true, Data: json.RawMessage(`[]`)},
	"connect-error-object": {Type: parser.ConnectError, Namespace: "/", Data: json.RawMessage(`{"message":"not authorized","data":{"code":42}}`)},
	"connect-error-string": {Type: parser.ConnectError, Namespace: "/nope", Data: json.RawMessage(`"Invalid namespace"`)},
	"event-numbers": {Type: parser.Event, Namespace: "", Data: json.RawMessage(`["n",127,128,255,256,65535,65536,4294967295,4294967296,9007199254740991,` +
		`-32,-33,-128,-129,-32768,-32769,-2147483648,-2147483649,1e21,0.1,-2.5]`)},
	"event-strings": {Type: parser.Event, Namespace: "/", Data: json.RawMessage(`["é","日本語","\ud83d\ude00","` +
		strings.Repeat("x", 31) + `","` + strings.Repeat("x", 32) + `","` + strings.Repeat("x", 255) + `","` + strings.Repeat("x", 256) + `"]`)},
	"event-big-containers": {Type: parser.Event, Namespace: "/", Data: json.RawMessage(`["big",[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19],` +
		`{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":10,"k11":11,"k12":12,"k13":13,"k14":14,"k15":15,"k16":16}]`)},
	"event-number-name": {Type: parser.Event, Namespace: "/", Data: json.RawMessage(`[12,"a"]`)},
}

// TestGoldenEncode checks that gosio writes, byte for byte, what the npm
// Encoder writes for the same packet, and that the bytes decode back to a
// packet that encodes to them again.
func TestGoldenEncode(t *testing.T) {
	g := loadGolden(t)
	n := 0
	for name, p := range encodeCases {
		want, ok := g["encode/"+name]
		if !ok {
			t.Errorf("%s: not in the golden file", name)
			continue
		}
		n++
		prefix := []byte("keep")
		got, binary, more, err := msgpackparser.Parser{}.AppendPacket(append([]byte(nil), prefix...), p)
		if err != nil || !binary || len(more) != 0 {
			t.Errorf("%s: binary=%v more=%d err=%v", name, binary, len(more), err)
			continue
		}
		if !bytes.HasPrefix(got, prefix) {
			t.Errorf("%s: dst's content was not kept", name)
		}
		if got = got[len(prefix):]; !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %x\nwant %x", name, got, want)
		}
		q, err := msgpackparser.Parser{}.NewDecoder(0).Decode(want, true)
		if err != nil {
			t.Errorf("%s: decode: %v", name, err)
			continue
		}
		again, _, _, err := msgpackparser.Parser{}.AppendPacket(nil, q)
		if err != nil || !bytes.Equal(again, want) {
			t.Errorf("%s: decoded and encoded again:\n got %x\nwant %x (%v)", name, again, want, err)
		}
	}
	if n != len(encodeCases) {
		t.Fatalf("%d of %d cases checked", n, len(encodeCases))
	}
}

// TestGoldenDecode decodes packets as Node's server and client build them.
func TestGoldenDecode(t *testing.T) {
	g := loadGolden(t)
	cases := map[string]parser.Packet{
		"node-server-connect-reply":   {Type: parser.Connect, Namespace: "/", Data: json.RawMessage(`{"sid":"AbCdEf123"}`)},
		"node-client-connect-no-auth": {Type: parser.Connect, Namespace: "/"},
		"node-client-event-ack":       {Type: parser.Event, Namespace: "/admin", ID: 3, HasID: true, Data: json.RawMessage(`["ask",{"x":1}]`)},
		"node-ack":                    {Type: parser.Ack, Namespace: "/", ID: 5, HasID: true, Data: json.RawMessage(`["r",` + ph(0) + `]`), Attachments: [][]byte{[]byte("hi")}},
		"node-client-ack":             {Type: parser.Ack, Namespace: "/", ID: 6, HasID: true, Data: json.RawMessage(`[null,null]`)},
		"node-invalid-namespace":      {Type: parser.ConnectError, Namespace: "/nope", Data: json.RawMessage(`{"message":"Invalid namespace"}`)},
		"node-date-arraybuffer": {Type: parser.Event, Namespace: "/",
			Data: json.RawMessage(`["d","2023-11-14T22:13:20.123Z",` + ph(0) + `]`), Attachments: [][]byte{{9, 8}}},
		"node-connect-buffer-auth": {Type: parser.Connect, Namespace: "/", Data: json.RawMessage(`{"key":{"type":"Buffer","data":[1,2]}}`)},
	}
	for name, want := range cases {
		msg, ok := g["decode/"+name]
		if !ok {
			t.Errorf("%s: not in the golden file", name)
			continue
		}
		got, err := msgpackparser.Parser{}.NewDecoder(0).Decode(msg, true)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got.Type != want.Type || got.Namespace != want.Namespace || got.ID != want.ID || got.HasID != want.HasID ||
			string(got.Data) != string(want.Data) || !equalAtts(got.Attachments, want.Attachments) {
			t.Errorf("%s:\n got %v %q id=%d,%v %s %q\nwant %v %q id=%d,%v %s %q", name,
				got.Type, got.Namespace, got.ID, got.HasID, got.Data, got.Attachments,
				want.Type, want.Namespace, want.ID, want.HasID, want.Data, want.Attachments)
		}
	}
}

func equalAtts(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

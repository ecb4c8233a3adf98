package msgpack

import (
	"encoding/hex"
	"testing"

	"github.com/gosio/gosio/parser"
)

// The classic adapter's broadcast as notepack.io writes it (observed with
// redis-cli monitor, ../shared/reference/protocol-and-wire-formats.md §8.1).
const observedBroadcast = "93a6397077586862" + "83a47479706502a46461746194a2657601a374776f81a57468726565c3a36e7370a12f" + "83a5726f6f6d7390a6657863657074" + "90a5666c61677380"

func TestObservedBroadcast(t *testing.T) {
	raw, _ := hex.DecodeString(observedBroadcast)
	v, err := ToJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	const want = `["9pwXhb",{"type":2,"data":["ev",1,"two",{"three":true}],"nsp":"/"},{"rooms":[],"except":[],"flags":{}}]`
	if string(v.JSON) != want {
		t.Fatalf("ToJSON = %s, want %s", v.JSON, want)
	}
	back, err := AppendJSON(nil, v, Notepack)
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(back) != observedBroadcast {
		t.Fatalf("AppendJSON = %x, want %s", back, observedBroadcast)
	}
}

func TestBinaryBecomesAttachment(t *testing.T) {
	in := parser.Value{JSON: []byte(`["ev",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1, 2, 3}}}
	b, err := AppendJSON(nil, in, Notepack)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(b); got != "92a26576c403010203" {
		t.Fatalf("AppendJSON = %s", got)
	}
	v, err := ToJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	if string(v.JSON) != `["ev",{"_placeholder":true,"num":0}]` || len(v.Attachments) != 1 || string(v.Attachments[0]) != "\x01\x02\x03" {
		t.Fatalf("ToJSON = %s %v", v.JSON, v.Attachments)
	}
	j, err := BufferJSON(in)
	if err != nil || string(j) != `["ev",{"type":"Buffer","data":[1,2,3]}]` {
		t.Fatalf("BufferJSON = %s, %v", j, err)
	}
}

func TestHostileHeaders(t *testing.T) {
	for _, h := range []string{"dd7fffffff", "df7fffffff", "c6ffffffff", "dbffffffff", "c1", "92", "81a161", "d9"} {
		raw, _ := hex.DecodeString(h)
		if _, err := ToJSON(raw); err == nil {
			t.Errorf("ToJSON(%s) succeeded", h)
		}
	}
}

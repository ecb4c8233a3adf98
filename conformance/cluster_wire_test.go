package conformance

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/gosio/gosio/internal/clusterwire"
	"github.com/gosio/gosio/internal/testutil"
)

// TestWireBytesMatchNode (J1) makes a Node node and a Go node perform the
// same operations and compares what each published, byte for byte, once
// the random server and request ids are replaced by placeholders of the
// same length.
func TestWireBytesMatchNode(t *testing.T) {
	ops := []struct {
		name, method, path string
		body               any
		// request: the sharded recorder's SSUBSCRIBE of the main channel
		// counts as a server that never answers, so requests are compared
		// on the classic adapter only (its recorder's PSUBSCRIBE is not
		// counted).
		request bool
	}{
		{"broadcast", "POST", "/emit", map[string]any{"event": "ev", "args": []any{1, "two", map[string]any{"three": true}}}, false},
		{"room binary", "POST", "/emit", map[string]any{"rooms": []string{"room1"}, "event": "ev", "args": []any{map[string]string{"$bin": "AQID"}}}, false},
		{"rooms except volatile", "POST", "/emit", map[string]any{"rooms": []string{"room1", "room2"}, "except": []string{"room3"}, "event": "ev", "args": []any{"x", -1, 1.5, 300, 70000, 5000000000}, "flags": map[string]bool{"volatile": true}}, false},
		{"namespace", "POST", "/emit", map[string]any{"nsp": "/custom", "event": "ev", "args": []any{"y"}}, false},
		{"socketsJoin", "POST", "/sockets-join", map[string]any{"rooms": []string{"room1"}, "join": []string{"room9"}}, false},
		{"socketsLeave", "POST", "/sockets-leave", map[string]any{"except": []string{"room1"}, "leave": []string{"room9"}}, false},
		{"disconnectSockets", "POST", "/disconnect", map[string]any{"rooms": []string{"nobody"}, "close": true}, false},
		{"fetchSockets", "GET", "/fetch?rooms=room1&except=room2", nil, true},
		{"broadcast with ack", "POST", "/emit-ack", map[string]any{"event": "ackme", "args": []any{"q"}, "timeoutMs": 1000}, true},
		{"serverSideEmit with ack", "POST", "/sse-ack", map[string]any{"event": "hello", "args": []any{"x"}}, true},
		{"serverSideEmit", "POST", "/sse", map[string]any{"event": "hello", "args": []any{"world", 1, map[string]string{"$bin": "AQID"}}}, false},
	}
	for _, kind := range []string{"classic", "sharded", "streams"} {
		t.Run(kind, func(t *testing.T) {
			addr := testutil.StartRedis(t)
			node := mxStart(t, "node", kind, addr, "N")
			gonode := mxStart(t, "go", kind, addr, "G")
			rec := startRecorder(t, addr, kind)
			for _, op := range ops {
				if op.request && kind == "sharded" {
					continue
				}
				got := map[string][]string{}
				for _, n := range []*mxNode{node, gonode} {
					rec.reset()
					n.call(t, op.method, op.path, op.body, nil)
					time.Sleep(150 * time.Millisecond)
					if kind == "streams" {
						rec.readStream(t)
					}
					got[n.impl] = rec.normalized(t)
				}
				if len(got["node"]) == 0 {
					t.Fatalf("%s: the Node node published nothing we saw", op.name)
				}
				testutil.Equal(t, got["go"], got["node"])
			}
		})
	}
}

type wireRecorder struct {
	mu   sync.Mutex
	msgs []string // channel + "\x00" + payload

	// streams: the stream's entries are read after each operation, as
	// "socket.io\x00" + uid, nsp, type and data joined by "\x00" (data
	// base64-decoded when it is not JSON)
	client rueidis.Client
	last   string
}

// readStream records the stream entries added since the last call.
func (r *wireRecorder) readStream(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	es, err := r.client.Do(ctx, r.client.B().Xrange().Key("socket.io").Start("("+r.last).End("+").Build()).AsXRangeSlices()
	testutil.NoErr(t, err)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range es {
		r.last = e.ID
		var names []string
		f := map[string]string{}
		for _, kv := range e.FieldValues {
			names = append(names, kv.Field)
			f[kv.Field] = kv.Value
		}
		data := f["data"]
		if data != "" && data[0] != '{' {
			b, err := base64.StdEncoding.DecodeString(data)
			testutil.NoErr(t, err)
			data = "base64:" + string(b)
		}
		r.msgs = append(r.msgs, "socket.io\x00"+strings.Join(names, ",")+"\x00"+f["uid"]+"\x00"+f["nsp"]+"\x00"+f["type"]+"\x00"+data)
	}
}

func (r *wireRecorder) reset() {
	r.mu.Lock()
	r.msgs = nil
	r.mu.Unlock()
}

// normalized returns the recorded messages with uids and request ids
// replaced by same-length placeholders, as "channel <quoted payload>".
// The ids are collected from all the messages first: a response goes to
// a channel named after the requester, whose id is in the request.
func (r *wireRecorder) normalized(t *testing.T) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for _, m := range r.msgs {
		ch, payload, _ := bytes.Cut([]byte(m), []byte{0})
		if string(ch) == "socket.io" { // a stream entry: fields, uid, nsp, type, data
			parts := bytes.SplitN(payload, []byte{0}, 5)
			ids = append(ids, string(parts[1]))
			payload = bytes.TrimPrefix(parts[4], []byte("base64:"))
		}
		v, err := clusterwire.Decode(payload)
		if err != nil {
			t.Fatalf("recorded message does not decode: %q: %v", payload, err)
		}
		var arr []json.RawMessage
		if json.Unmarshal(v.JSON, &arr) == nil && len(arr) > 0 {
			var uid string
			_ = json.Unmarshal(arr[0], &uid)
			ids = append(ids, uid)
		}
		var obj struct {
			UID       string `json:"uid"`
			RequestID string `json:"requestId"`
			Data      struct {
				RequestID string `json:"requestId"`
			} `json:"data"`
		}
		_ = json.Unmarshal(v.JSON, &obj) // data may be an array: keep what decoded
		ids = append(ids, obj.UID, obj.RequestID, obj.Data.RequestID)
	}
	var out []string
	for _, m := range r.msgs {
		ch, payload, _ := bytes.Cut([]byte(m), []byte{0})
		for _, id := range ids {
			if id != "" && id != "emitter" {
				ph := bytes.Repeat([]byte("X"), len(id))
				payload = bytes.ReplaceAll(payload, []byte(id), ph)
				ch = bytes.ReplaceAll(ch, []byte(id), ph)
			}
		}
		// The server-side emit ack names the answering node.
		payload = bytes.ReplaceAll(payload, []byte(`"G:ack"`), []byte(`"?:ack"`))
		payload = bytes.ReplaceAll(payload, []byte(`"N:ack"`), []byte(`"?:ack"`))
		payload = bytes.ReplaceAll(payload, []byte("\xa5G:ack"), []byte("\xa5?:ack")) // msgpack
		payload = bytes.ReplaceAll(payload, []byte("\xa5N:ack"), []byte("\xa5?:ack"))
		out = append(out, fmt.Sprintf("%s %q", ch, payload))
	}
	return out
}

func startRecorder(t *testing.T, addr, kind string) *wireRecorder {
	t.Helper()
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	rec := &wireRecorder{}
	dc, cancel := c.Dedicate()
	t.Cleanup(cancel)
	wait := dc.SetPubSubHooks(rueidis.PubSubHooks{OnMessage: func(m rueidis.PubSubMessage) {
		rec.mu.Lock()
		rec.msgs = append(rec.msgs, m.Channel+"\x00"+m.Message)
		rec.mu.Unlock()
	}})
	_ = wait
	ctx, cc := context.WithTimeout(context.Background(), 5*time.Second)
	defer cc()
	switch kind {
	case "classic":
		testutil.NoErr(t, dc.Do(ctx, dc.B().Psubscribe().Pattern("*").Build()).Error())
	case "streams":
		// A pattern: the streams adapter counts servers with NUMSUB of its
		// public channel, which a PSUBSCRIBE does not add to.
		testutil.NoErr(t, dc.Do(ctx, dc.B().Psubscribe().Pattern("socket.io#*").Build()).Error())
		rec.client, rec.last = c, "0-0"
		rec.readStream(t)
	default:
		for _, ch := range []string{"socket.io#/#", "socket.io#/custom#", "socket.io#/#room1#"} {
			testutil.NoErr(t, dc.Do(ctx, dc.B().Ssubscribe().Channel(ch).Build()).Error())
		}
	}
	time.Sleep(50 * time.Millisecond)
	return rec
}

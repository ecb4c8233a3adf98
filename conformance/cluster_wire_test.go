package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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
	for _, kind := range []string{"classic", "sharded"} {
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
	msgs []string // channel + " " + payload
}

func (r *wireRecorder) reset() {
	r.mu.Lock()
	r.msgs = nil
	r.mu.Unlock()
}

// normalized returns the recorded messages with uids and request ids
// replaced by same-length placeholders, as "channel <quoted payload>".
func (r *wireRecorder) normalized(t *testing.T) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, m := range r.msgs {
		ch, payload, _ := bytes.Cut([]byte(m), []byte{0})
		v, err := clusterwire.Decode(payload)
		if err != nil {
			t.Fatalf("recorded message does not decode: %q: %v", payload, err)
		}
		var ids []string
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
	if kind == "classic" {
		testutil.NoErr(t, dc.Do(ctx, dc.B().Psubscribe().Pattern("*").Build()).Error())
	} else {
		for _, ch := range []string{"socket.io#/#", "socket.io#/custom#", "socket.io#/#room1#"} {
			testutil.NoErr(t, dc.Do(ctx, dc.B().Ssubscribe().Channel(ch).Build()).Error())
		}
	}
	time.Sleep(50 * time.Millisecond)
	return rec
}

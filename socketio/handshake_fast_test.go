package socketio

import (
	"encoding/json"
	"reflect"
	"testing"
)

// nodeHandshake is a browser socket's handshake as Node's socket.io writes
// it into a fetchSockets response.
const nodeHandshake = `{"headers":{"host":"localhost:3000","connection":"keep-alive","pragma":"no-cache","cache-control":"no-cache","user-agent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36","accept":"*/*","origin":"http://localhost:3000","sec-fetch-site":"same-origin","sec-fetch-mode":"cors","sec-fetch-dest":"empty","referer":"http://localhost:3000/","accept-encoding":"gzip, deflate, br","accept-language":"en-US,en;q=0.9","cookie":"io=abc; session=0123456789abcdef"},"time":"Thu Dec 03 2026 13:20:33 GMT+0000 (Coordinated Universal Time)","address":"::ffff:127.0.0.1","xdomain":false,"secure":false,"issued":1796304033123,"url":"/socket.io/?EIO=4&transport=polling&t=Pabc123","query":{"EIO":"4","transport":"polling","t":"Pabc123"},"auth":{"token":"abc"}}`

// FuzzHandshakeFastPath: where the one-pass decoder of a handshake takes
// an input, encoding/json takes it too and gives the same fields.
func FuzzHandshakeFastPath(f *testing.F) {
	for _, s := range []string{
		nodeHandshake, `{}`, `{"headers":{"set-cookie":["a","b"],"x":"\u00e9"},"issued":1.5e3,"auth":null}`,
		`{"Headers":{}}`, `{"time":"a","time":"b"}`, `{"issued":null}`, `{"issued":1e999}`, `{"xdomain":true,"other":[1,{"a":2}]}`,
		`{"headers":{"a":1}}`, `{"query":{"a":[]}}`, `{"auth":"x"} `, `{"url":"a"}x`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var fast wireHandshake
		if !fast.decodeFast([]byte(s)) {
			return
		}
		var slow wireHandshake
		if err := json.Unmarshal([]byte(s), &slow); err != nil {
			t.Fatalf("fast path took %q, encoding/json: %v", s, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q:\nfast %#v\nslow %#v", s, fast, slow)
		}
	})
}

// TestHandshakeFastPathTakesNodeShape: Node's handshakes take the one-pass
// decoder.
func TestHandshakeFastPathTakesNodeShape(t *testing.T) {
	var w wireHandshake
	if !w.decodeFast([]byte(nodeHandshake)) {
		t.Fatal("Node's handshake left to encoding/json")
	}
	var h Handshake
	if err := h.UnmarshalJSON([]byte(nodeHandshake)); err != nil {
		t.Fatal(err)
	}
	if h.Host != "localhost:3000" || h.Headers.Get("User-Agent") == "" || h.Query.Get("EIO") != "4" || string(h.Auth) != `{"token":"abc"}` || h.Time.IsZero() {
		t.Fatalf("%+v", h)
	}
}

// BenchmarkHandshakeUnmarshal decodes a browser's handshake as a
// fetchSockets response carries it, in one pass and by encoding/json.
func BenchmarkHandshakeUnmarshal(b *testing.B) {
	for _, fast := range []bool{true, false} {
		b.Run(map[bool]string{true: "onepass", false: "encoding-json"}[fast], func(b *testing.B) {
			defer func(old bool) { handshakeFastPath = old }(handshakeFastPath)
			handshakeFastPath = fast
			b.SetBytes(int64(len(nodeHandshake)))
			b.ReportAllocs()
			for b.Loop() {
				var h Handshake
				if err := h.UnmarshalJSON([]byte(nodeHandshake)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

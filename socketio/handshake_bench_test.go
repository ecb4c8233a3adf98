package socketio

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// BenchmarkHandshakeMarshal measures the handshake of a browser-like
// request as fetchSockets sends it, directly and through json.Marshal
// (which validates and compacts MarshalJSON's output again).
func BenchmarkHandshakeMarshal(b *testing.B) {
	h := &Handshake{
		Headers: http.Header{
			"User-Agent":      {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"},
			"Accept":          {"*/*"},
			"Accept-Language": {"en-US,en;q=0.9"},
			"Accept-Encoding": {"gzip, deflate, br"},
			"Cookie":          {"session=abcdef0123456789; theme=dark"},
			"Origin":          {"http://localhost:3000"},
			"Referer":         {"http://localhost:3000/"},
			"Connection":      {"keep-alive"},
		},
		Host: "localhost:3000", Time: time.Unix(1764748800, 0), Address: "127.0.0.1", XDomain: true,
		URL:   "/socket.io/?EIO=4&transport=polling&t=PabCdEf",
		Query: url.Values{"EIO": {"4"}, "transport": {"polling"}, "t": {"PabCdEf"}},
		Auth:  json.RawMessage(`{"token":"abc"}`),
	}
	b.Run("MarshalJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := h.MarshalJSON(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(h); err != nil {
				b.Fatal(err)
			}
		}
	})
}

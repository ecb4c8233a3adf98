package redis

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gosio/gosio/internal/clusterwire"
)

// browserHandshake is the handshake of a socket of a browser, as Node's
// socket.io writes it into a fetchSockets response.
const browserHandshake = `{"headers":{"host":"localhost:3000","connection":"keep-alive","pragma":"no-cache","cache-control":"no-cache","user-agent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36","accept":"*/*","origin":"http://localhost:3000","sec-fetch-site":"same-origin","sec-fetch-mode":"cors","sec-fetch-dest":"empty","referer":"http://localhost:3000/","accept-encoding":"gzip, deflate, br","accept-language":"en-US,en;q=0.9","cookie":"io=abc; session=0123456789abcdef"},"time":"Thu Dec 03 2026 13:20:33 GMT+0000 (Coordinated Universal Time)","address":"::ffff:127.0.0.1","xdomain":false,"secure":false,"issued":1796304033123,"url":"/socket.io/?EIO=4&transport=polling&t=Pabc123","query":{"EIO":"4","transport":"polling","t":"Pabc123"},"auth":{"token":"abc"}}`

// fetchResponse is a fetchSockets response of n sockets, as Node writes it.
func fetchResponse(id string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"requestId":%q,"sockets":[`, id)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		sid := fmt.Sprintf("sock%016d", i)
		fmt.Fprintf(&b, `{"id":%q,"handshake":%s,"rooms":[%q,"room1"],"data":{"user":"u%d"}}`, sid, browserHandshake, sid, i)
	}
	b.WriteString("]}")
	return b.String()
}

// BenchmarkFetchResponse decodes a fetchSockets response of 100 sockets
// in the requesting adapter.
func BenchmarkFetchResponse(b *testing.B) {
	a := fuzzAdapter(b, classicMode)
	msg := fetchResponse("req1", 100)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		r := &request{typ: clusterwire.RemoteFetch, expected: 2, done: make(chan struct{})}
		a.rmu.Lock()
		a.requests["req1"] = r
		a.rmu.Unlock()
		if err := a.onClassicResponse(inbound{channel: a.response, msg: msg}); err != nil {
			b.Fatal(err)
		}
		if len(r.sockets) != 100 {
			b.Fatalf("%d sockets", len(r.sockets))
		}
	}
}

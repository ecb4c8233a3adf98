package redis

import (
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/gosio/gosio/internal/clusterwire"
	"github.com/gosio/gosio/internal/jsonscan"
)

// fuzzAdapter returns a namespace adapter without Redis: what it publishes
// is drained and dropped.
func fuzzAdapter(t testing.TB, m mode) *nsAdapter {
	c := newCluster(nil, m, "self01", 16, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	c.key, c.prefix, c.requestsTimeout = DefaultKey, DefaultKey, DefaultRequestsTimeout
	c.pub = &publisher{c: c, ch: make(chan *pubItem, 1024), stop: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case it := <-c.pub.ch:
				if it.done != nil {
					it.done <- nil
				}
			case <-c.pub.stop:
				return
			}
		}
	}()
	t.Cleanup(func() { c.pub.close(); <-done })
	a := newNsAdapter(c, fakeNsp{})
	a.AddAll("sid1", []string{"sid1", "room1"})
	return a
}

// FuzzMessages feeds arbitrary payloads to every channel of a classic and
// a sharded namespace adapter: a message that does not decode returns an
// error, never a panic.
func FuzzMessages(f *testing.F) {
	for _, s := range []string{
		"\x93\xa6abcdef\x83\xa4type\x02\xa4data\x92\xa2ev\x01\xa3nsp\xa1/\x83\xa5rooms\x90\xa6except\x90\xa5flags\x80",
		`["x",{"type":2,"data":["ev",1],"nsp":"/"},{"rooms":["room1"],"except":[],"flags":{"volatile":true}}]`,
		`{"uid":"x","requestId":"r","type":5,"opts":{"rooms":[],"except":[]}}`,
		`{"uid":"x","requestId":"r","type":6,"data":["ev",{"type":"Buffer","data":[1]}]}`,
		`{"uid":"x","type":2,"opts":{"rooms":[1.5],"except":[]},"rooms":["a"]}`,
		`{"type":9,"requestId":"r","packet":"a"}`,
		`{"type":3,"data":{"packet":{"type":2,"data":["ev",1]},"opts":{"rooms":[],"except":[],"flags":{}}},"uid":"zz","nsp":"/"}`,
		`{"type":7,"data":{"opts":{"rooms":[],"except":[],"flags":{}},"requestId":"r"},"uid":"zz","nsp":"/"}`,
		`{"type":9,"data":{"packet":["ev"],"requestId":"r"},"uid":"zz","nsp":"/"}`,
		"\x84\xa4type\x03\xa4data\x82\xa6packet\x82\xa4type\x02\xa4data\x92\xa2ev\xc4\x01\x01\xa4opts\x83\xa5rooms\x90\xa6except\x90\xa5flags\x80\xa3uid\xa2zz\xa3nsp\xa1/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		ca := fuzzAdapter(t, classicMode)
		for _, ch := range []string{ca.bcast, ca.bcast + "room1#", ca.request, ca.response, ca.specific} {
			_ = ca.onClassicMessage(inbound{channel: ch, msg: msg})
		}
		sa := fuzzAdapter(t, shardedMode)
		_ = sa.onShardedMessage(inbound{channel: clusterwire.BroadcastChannel(DefaultKey, "/"), msg: msg})
	})
}

// FuzzWireSocketsOnePass: where the one-pass reader of fetchSockets
// entries takes an input, encoding/json reads every entry the same.
func FuzzWireSocketsOnePass(f *testing.F) {
	for _, s := range []string{
		`[]`, `[{"id":"a","handshake":{"headers":{}},"rooms":["a",1],"data":null}]`, `[{"ID":"a"}]`, `[{"id":1}]`,
		`[{"id":"a","rooms":null,"x":[1,{}]},{"id":"b","data":{"k":"\u00e9"}}]`, `[{"id":"a","id":"b"}]`, `[1]`, `[{"rooms":[true]}]`,
		fetchResponse("r", 2)[len(`{"requestId":"r","sockets":`) : len(fetchResponse("r", 2))-1],
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(s)
		got, end, err := readWireSockets(b, 0)
		if err != nil || jsonscan.WS(b, end) != len(b) {
			return
		}
		var raws []json.RawMessage
		if err := json.Unmarshal(b, &raws); err != nil {
			t.Fatalf("one pass took %q, encoding/json: %v", s, err)
		}
		if len(raws) != len(got) {
			t.Fatalf("%q: %d entries, encoding/json %d", s, len(got), len(raws))
		}
		for i, raw := range raws {
			var w wireSocket
			if err := json.Unmarshal(raw, &w); err != nil {
				t.Fatalf("one pass took entry %q, encoding/json: %v", raw, err)
			}
			g := got[i]
			if g.ID != w.ID || string(g.Handshake) != string(w.Handshake) || string(g.Data) != string(w.Data) || !slices.Equal(g.Rooms, w.Rooms) || (g.Rooms == nil) != (w.Rooms == nil) {
				t.Fatalf("entry %q:\none pass %+v\nencoding/json %+v", raw, g, w)
			}
		}
	})
}

package engineio

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"

	"github.com/gosio/gosio/internal/testutil"
)

// TestConnectionError checks that each refused request reaches
// OnConnectionError with the reference server's code, message and context
// name, after the client got the same code and message, and that Stats
// counts it.
func TestConnectionError(t *testing.T) {
	t.Parallel()
	type got struct {
		query string
		ce    ConnectionError
	}
	var mu sync.Mutex
	var seen []got
	denied := errors.New("who are you")
	opts := quietOptions()
	opts.AllowRequest = func(r *http.Request) error {
		if r.URL.Query().Has("deny") {
			return denied
		}
		return nil
	}
	opts.OnConnectionError = func(r *http.Request, err *ConnectionError) {
		mu.Lock()
		seen = append(seen, got{r.URL.RawQuery, *err})
		mu.Unlock()
	}
	ts := newTestServer(t, opts, nil)
	sid := ts.openPolling(t)
	ts.upgrade(t, sid)

	tests := []struct {
		name, method, query string
		header              http.Header
		status, code        int
		message, context    string
		err                 error
	}{
		{"no transport", "GET", "EIO=4", nil, 400, CodeUnknownTransport, "Transport unknown", "", nil},
		{"unknown sid", "GET", "EIO=4&transport=polling&sid=nope", nil, 400, CodeUnknownSID, "Session ID unknown", "", nil},
		{"polling after upgrade", "GET", pollQuery(sid), nil, 400, CodeBadRequest, "Bad request", "TRANSPORT_MISMATCH", nil},
		{"handshake by POST", "POST", "EIO=4&transport=polling", nil, 400, CodeBadHandshakeMethod, "Bad handshake method", "", nil},
		{"websocket without upgrade", "GET", "EIO=4&transport=websocket", nil, 400, CodeBadRequest, "Bad request", "TRANSPORT_HANDSHAKE_ERROR", nil},
		{"forbidden", "GET", "EIO=4&transport=polling&deny", nil, 403, CodeForbidden, "Forbidden", "", denied},
		{"EIO 3", "GET", "EIO=3&transport=polling", nil, 400, CodeUnsupportedVersion, "Unsupported protocol version", "", nil},
	}
	before := ts.eio.Stats().ConnectionErrors
	for i, tc := range tests {
		r := ts.do(t, tc.method, tc.query, nil, tc.header)
		answer := tc.message
		if tc.err != nil {
			answer = tc.err.Error()
		}
		wantError(t, r, tc.status, tc.code, answer)
		mu.Lock()
		if len(seen) != i+1 {
			t.Fatalf("%s: %d connection errors reported, want %d", tc.name, len(seen), i+1)
		}
		g := seen[i]
		mu.Unlock()
		testutil.Equal(t, g.query, tc.query)
		testutil.Equal(t, g.ce.Code, tc.code)
		testutil.Equal(t, g.ce.Message, tc.message)
		testutil.Equal(t, g.ce.Context, tc.context)
		if g.ce.Err != tc.err || (tc.err != nil && !errors.Is(&g.ce, tc.err)) {
			t.Errorf("%s: Err = %v, want %v", tc.name, g.ce.Err, tc.err)
		}
	}
	testutil.Equal(t, ts.eio.Stats().ConnectionErrors-before, uint64(len(tests)))
}

// TestHeaderHooks checks that InitialHeaders sees the opening response
// only and Headers every transport response, each with its own request,
// and that what they set reaches the client, over polling, a WebSocket
// upgrade and a WebSocket handshake.
func TestHeaderHooks(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var initial, every []string // the X-Req header of each request
	opts := quietOptions()
	opts.Cookie = &http.Cookie{Name: "io"}
	opts.InitialHeaders = func(h http.Header, r *http.Request) {
		if r.URL.Query().Get("transport") == TransportPolling && !strings.HasPrefix(h.Get("Set-Cookie"), "io=") {
			t.Errorf("InitialHeaders: no session cookie in %v", h)
		}
		h.Set("X-Initial", "yes")
		mu.Lock()
		initial = append(initial, r.Header.Get("X-Req"))
		mu.Unlock()
	}
	opts.Headers = func(h http.Header, r *http.Request) {
		h.Set("X-Every", r.Header.Get("X-Req"))
		mu.Lock()
		every = append(every, r.Header.Get("X-Req"))
		mu.Unlock()
	}
	ts := newTestServer(t, opts, nil)
	check := func(what string, h http.Header, wantInitial bool) {
		t.Helper()
		testutil.Equal(t, h.Get("X-Every"), what)
		testutil.Equal(t, h.Get("X-Initial") == "yes", wantInitial)
	}
	hdr := func(v string) http.Header { return http.Header{"X-Req": {v}} }

	r := ts.do(t, "GET", "EIO=4&transport=polling", nil, hdr("open"))
	check("open", r.header, true)
	sid := parseOpen(t, strings.Split(r.body, "\x1e")[0]).SID
	h := hdr("post")
	h.Set("Content-Type", "text/plain;charset=UTF-8")
	r = ts.do(t, "POST", pollQuery(sid), strings.NewReader("4hi"), h)
	check("post", r.header, false)
	r = ts.do(t, "GET", pollQuery(sid), nil, hdr("get"))
	testutil.Equal(t, r.body, "4hi")
	check("get", r.header, false)
	// A refused request calls neither hook.
	ts.do(t, "GET", "EIO=4&transport=polling&sid=nope", nil, hdr("refused"))

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	for _, tc := range []struct {
		name, query string
		initial     bool
	}{
		{"upgrade", "EIO=4&transport=websocket&sid=" + sid, false},
		{"ws-open", "EIO=4&transport=websocket", true},
	} {
		c, resp, err := websocket.Dial(ctx, ts.url+"?"+tc.query, &websocket.DialOptions{HTTPClient: ts.client, HTTPHeader: hdr(tc.name)})
		testutil.NoErr(t, err)
		check(tc.name, resp.Header, tc.initial)
		_ = c.CloseNow()
	}
	mu.Lock()
	defer mu.Unlock()
	testutil.Equal(t, initial, []string{"open", "ws-open"})
	testutil.Equal(t, every, []string{"open", "post", "get", "upgrade", "ws-open"})
}

// TestStats checks the counters and gauges of Stats through a polling
// session that upgrades, a WebSocket session, a volatile message dropped,
// a queue left waiting and a slow client cut.
func TestStats(t *testing.T) {
	t.Parallel()
	opts := quietOptions()
	opts.SendQueueLimit = 100
	sessions := make(chan *Session, 4)
	ts := newTestServer(t, opts, func(s *Session) {
		echo(s)
		sessions <- s
	})
	want := Stats{}
	check := func(what string) {
		t.Helper()
		if got := ts.eio.Stats(); got != want {
			t.Fatalf("%s: Stats() = %+v, want %+v", what, got, want)
		}
	}
	check("new server")

	sid := ts.openPolling(t)
	ps := <-sessions
	want.Polling, want.SessionsOpened = 1, 1
	check("polling session")

	ts.post(t, sid, "4hello\x1ebAQID") // a text message of 6 bytes, a binary one of 3
	want.MessagesIn, want.BytesIn = 2, 6+3
	want.MessagesOut, want.BytesOut = 2, 6+3 // the echoes, queued
	want.SendQueueBytes = 6 + 3
	check("messages in, echoes queued")

	if ps.SendVolatile(NewTextMessage([]byte("x"))) {
		t.Fatal("SendVolatile queued with no GET pending")
	}
	want.VolatileDropped = 1
	check("volatile dropped")

	testutil.Equal(t, ts.poll(t, sid).body, "4hello\x1ebAQID")
	want.SendQueueBytes = 0
	check("queue taken")

	c := ts.upgrade(t, sid)
	want.Polling, want.WebSocket = 0, 1
	check("upgraded")
	writeText(t, c, "4ws")
	testutil.Equal(t, readText(t, c), "4ws")
	want.MessagesIn, want.BytesIn = 3, 12
	want.MessagesOut, want.BytesOut = 3, 12
	check("message over WebSocket")
	_ = c.Close(websocket.StatusNormalClosure, "")
	ts.wantClose(t, sid, ReasonTransportClose, nil)
	want.WebSocket = 0
	check("closed")

	// A polling session whose queue passes 64 times SendQueueLimit is cut
	// as a slow client at once.
	sid = ts.openPolling(t)
	slow := <-sessions
	want.Polling, want.SessionsOpened = 1, 2
	testutil.NoErr(t, slow.SendText([]byte("a")))
	want.MessagesOut, want.BytesOut, want.SendQueueBytes = 4, 14, 2
	check("queued for a client that does not poll")
	if err := slow.SendText(make([]byte, 64*100)); !errors.Is(err, ErrSlowClient) {
		t.Fatalf("SendText past the hard bound: %v, want ErrSlowClient", err)
	}
	ts.wantClose(t, sid, ReasonTransportError, ErrSlowClient)
	want.Polling, want.SlowClients, want.SendQueueBytes = 0, 1, 0
	check("slow client cut")
}

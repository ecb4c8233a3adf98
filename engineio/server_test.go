package engineio

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/gosio/gosio/internal/testutil"
)

// The tests in this file follow the official Engine.IO v4 suite's 25
// behaviours (numbered as in the protocol reference, §2.2) and then the
// server's own options and lifecycle. Each test starts its own server.

// --- handshake (suite #1-#7) ---

func TestHandshakePolling(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, suiteOptions(), nil)
	r := ts.get(t, "EIO=4&transport=polling&t=abc")
	testutil.Equal(t, r.status, http.StatusOK)
	// Exactly these keys, in the reference server's order.
	open := regexp.MustCompile(`^0\{"sid":"[A-Za-z0-9_-]{20}","upgrades":\["websocket"\],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000\}$`)
	if !open.MatchString(r.body) {
		t.Fatalf("open packet %q does not match %v", r.body, open)
	}
	testutil.Equal(t, r.header.Get("Content-Type"), "text/plain; charset=UTF-8")
	testutil.Equal(t, r.header.Get("Cache-Control"), "no-store")
	testutil.Equal(t, r.header.Get("Content-Length"), strconv.Itoa(len(r.body)))

	sid := parseOpen(t, r.body).SID
	s := ts.eio.Session(sid)
	if s == nil {
		t.Fatal("Session(sid) = nil after the handshake")
	}
	testutil.Equal(t, s.ID(), sid)
	testutil.Equal(t, s.Transport(), TransportPolling)
	testutil.Equal(t, s.Request().Query.Get("t"), "abc")
	testutil.Equal(t, ts.eio.Count(), 1)
	if other := ts.openPolling(t); other == sid {
		t.Fatalf("two handshakes got the same sid %q", sid)
	}
	testutil.Equal(t, ts.eio.Count(), 2)
}

func TestHandshakeWebSocket(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, suiteOptions(), nil)
	c := ts.dial(t, "EIO=4&transport=websocket")
	msg := readText(t, c)
	open := regexp.MustCompile(`^0\{"sid":"[A-Za-z0-9_-]{20}","upgrades":\[\],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000\}$`)
	if !open.MatchString(msg) {
		t.Fatalf("open packet %q does not match %v", msg, open)
	}
	s := ts.eio.Session(parseOpen(t, msg).SID)
	if s == nil {
		t.Fatal("Session(sid) = nil after the handshake")
	}
	testutil.Equal(t, s.Transport(), TransportWebSocket)
}

func TestHandshakeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, method, query string
		status, code        int
		message             string
	}{
		{"no EIO", "GET", "transport=polling", 400, 5, "Unsupported protocol version"},
		{"EIO abc", "GET", "EIO=abc&transport=polling", 400, 5, "Unsupported protocol version"},
		{"EIO 3", "GET", "EIO=3&transport=polling", 400, 5, "Unsupported protocol version"},
		{"no transport", "GET", "EIO=4", 400, 0, "Transport unknown"},
		{"transport abc", "GET", "EIO=4&transport=abc", 400, 0, "Transport unknown"},
		{"transport checked before EIO", "GET", "transport=abc", 400, 0, "Transport unknown"},
		{"POST handshake", "POST", "EIO=4&transport=polling", 400, 2, "Bad handshake method"},
		{"PUT handshake", "PUT", "EIO=4&transport=polling", 400, 2, "Bad handshake method"},
		{"websocket without upgrade", "GET", "EIO=4&transport=websocket", 400, 3, "Bad request"},
		{"unknown sid GET", "GET", "EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA", 400, 1, "Session ID unknown"},
		{"unknown sid POST", "POST", "EIO=4&transport=polling&sid=nope", 400, 1, "Session ID unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, suiteOptions(), nil)
			r := ts.do(t, tc.method, tc.query, strings.NewReader(""), nil)
			wantError(t, r, tc.status, tc.code, tc.message)
			testutil.Equal(t, ts.eio.Count(), 0)
		})
	}
}

func TestHandshakeErrorsWebSocket(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, query string
		code        int
		message     string
	}{
		{"no EIO", "transport=websocket", 5, "Unsupported protocol version"},
		{"EIO abc", "EIO=abc&transport=websocket", 5, "Unsupported protocol version"},
		{"no transport", "EIO=4", 0, "Transport unknown"},
		{"transport abc", "EIO=4&transport=abc", 0, "Transport unknown"},
		{"unknown sid", "EIO=4&transport=websocket&sid=nope", 1, "Session ID unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, suiteOptions(), nil)
			c, resp, err := ts.dialErr(t, tc.query)
			if err == nil {
				// The suite accepts a close after the upgrade too, but we
				// reject before upgrading.
				t.Fatalf("dial succeeded (conn %v), want the upgrade refused", c != nil)
			}
			if resp == nil {
				t.Fatalf("no HTTP response: %v", err)
			}
			var body bytes.Buffer
			_, _ = body.ReadFrom(resp.Body)
			wantError(t, response{resp.StatusCode, body.String(), resp.Header}, 400, tc.code, tc.message)
			testutil.Equal(t, ts.eio.Count(), 0)
		})
	}
}

func TestDisabledTransport(t *testing.T) {
	t.Parallel()
	t.Run("polling only", func(t *testing.T) {
		t.Parallel()
		opts := quietOptions()
		opts.Transports = []string{TransportPolling}
		ts := newTestServer(t, opts, nil)
		_, resp, err := ts.dialErr(t, "EIO=4&transport=websocket")
		if err == nil || resp == nil || resp.StatusCode != 400 {
			t.Fatalf("WebSocket handshake with websocket disabled: resp %v, err %v; want 400", resp, err)
		}
		r := ts.get(t, "EIO=4&transport=polling")
		// No upgrade is offered when WebSocket is off.
		if !strings.Contains(r.body, `"upgrades":[]`) {
			t.Fatalf("open packet %q offers upgrades", r.body)
		}
	})
	t.Run("websocket only", func(t *testing.T) {
		t.Parallel()
		opts := quietOptions()
		opts.Transports = []string{TransportWebSocket}
		ts := newTestServer(t, opts, nil)
		wantError(t, ts.get(t, "EIO=4&transport=polling"), 400, 0, "Transport unknown")
		ts.openWS(t)
	})
	t.Run("upgrades disabled", func(t *testing.T) {
		t.Parallel()
		opts := quietOptions()
		opts.DisableUpgrades = true
		ts := newTestServer(t, opts, nil)
		r := ts.get(t, "EIO=4&transport=polling")
		if !strings.Contains(r.body, `"upgrades":[]`) {
			t.Fatalf("open packet %q offers upgrades", r.body)
		}
		sid := parseOpen(t, r.body).SID
		c := ts.dial(t, "EIO=4&transport=websocket&sid="+sid)
		readUntilClosed(t, c)
		// The session is still there, on polling.
		testutil.Equal(t, ts.post(t, sid, "4still").body, "ok")
		testutil.Equal(t, ts.poll(t, sid).body, "4still")
	})
}

func TestPathPrefix(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, quietOptions(), nil)
	get := func(path string) int {
		r, err := ts.client.Get(ts.hs.URL + path + "?EIO=4&transport=polling")
		testutil.NoErr(t, err)
		r.Body.Close()
		return r.StatusCode
	}
	for _, path := range []string{"/engine.io/", "/engine.io", "/engine.io/default/"} {
		if status := get(path); status != http.StatusOK {
			t.Errorf("%s: status %d, want 200", path, status)
		}
	}
	testutil.Equal(t, get("/other/"), http.StatusNotFound)
	testutil.Equal(t, get("/engine.iox/"), http.StatusNotFound)
}

// --- messages over polling (suite #8-#13) ---

func TestPollingMessages(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, payload string }{
		{"one text packet", "4hello"},
		{"several text packets", "4test1\x1e4test2\x1e4test3"},
		{"text and binary packets", "4hello\x1ebAQIDBA=="},
		{"empty text message", "4"},
		{"empty binary message", "b"},
		{"utf-8 text", "4h\u00e9llo \u20ac \U0001F600"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, quietOptions(), nil)
			sid := ts.openPolling(t)
			r := ts.post(t, sid, tc.payload)
			testutil.Equal(t, r.status, http.StatusOK)
			testutil.Equal(t, r.body, "ok")
			testutil.Equal(t, r.header.Get("Content-Type"), "text/html")
			testutil.Equal(t, r.header.Get("Cache-Control"), "no-store")
			// Every echo comes back in one poll response.
			r = ts.poll(t, sid)
			testutil.Equal(t, r.status, http.StatusOK)
			testutil.Equal(t, r.body, tc.payload)
		})
	}
}

func TestPollingInvalidPacketClosesSession(t *testing.T) {
	t.Parallel()
	for _, payload := range []string{"abc", "4ok\x1eabc", "4ok\x1e", "bAQ!D", "7", "\x1e4ok"} {
		t.Run(strconv.Quote(payload), func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, quietOptions(), nil)
			sid := ts.openPolling(t)
			r := ts.post(t, sid, payload)
			testutil.Equal(t, r.status, http.StatusBadRequest)
			wantError(t, ts.poll(t, sid), 400, 1, "Session ID unknown")
			ts.wantClose(t, sid, ReasonParseError, errParse)
		})
	}
}

func TestPollingDuplicateGet(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, quietOptions(), nil)
	sid := ts.openPolling(t)
	first := ts.pollAsync(context.Background(), sid)
	ts.waitPending(t, sid)
	second := ts.get(t, pollQuery(sid)+"&t=burst")
	if second.status != 400 && second.status != 500 {
		t.Errorf("second GET: status %d, want 400 (or 500)", second.status)
	}
	r := await(t, first)
	testutil.Equal(t, r.status, http.StatusOK)
	testutil.Equal(t, r.body, "1")
	wantError(t, ts.poll(t, sid), 400, 1, "Session ID unknown")
	ts.wantClose(t, sid, ReasonTransportError, ErrPollOverlap)
}

func TestPollingCancelledGet(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, quietOptions(), nil)
	sid := ts.openPolling(t)
	ctx, cancel := context.WithCancel(context.Background())
	pending := ts.pollAsync(ctx, sid)
	ts.waitPending(t, sid)
	cancel()
	select {
	case r := <-pending:
		if r.err == nil {
			t.Fatalf("cancelled GET got an answer: %+v", r.response)
		}
	case <-time.After(testTimeout):
		t.Fatal("cancelled GET did not return")
	}
	ts.wantClose(t, sid, ReasonTransportError, ErrPollAborted)
	wantError(t, ts.poll(t, sid), 400, 1, "Session ID unknown")
}

func TestPollingPostTooLarge(t *testing.T) {
	t.Parallel()
	const limit = 1000
	tests := []struct {
		name    string
		size    int
		chunked bool // no Content-Length: the limit applies while reading
	}{
		{"content-length", limit + 1, false},
		{"chunked", limit + 1, true},
		// Much larger: the client must still see the 413, not a reset.
		{"content-length, 1000x", 1000 * limit, false},
		{"chunked, 1000x", 1000 * limit, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := quietOptions()
			opts.MaxHTTPBufferSize = limit
			ts := newTestServer(t, opts, nil)
			sid := ts.openPolling(t)
			post := func(n int) response {
				var body io.Reader = strings.NewReader("4" + strings.Repeat("x", n-1))
				if tc.chunked {
					body = io.MultiReader(body) // hides the length
				}
				return ts.do(t, http.MethodPost, pollQuery(sid), body, nil)
			}
			r := post(tc.size)
			testutil.Equal(t, r.status, http.StatusRequestEntityTooLarge)
			if !ts.isOpen(sid) {
				t.Fatal("a POST over the limit closed the session")
			}
			// Exactly the limit is fine, and the session still works.
			r = post(limit)
			testutil.Equal(t, r.body, "ok")
			testutil.Equal(t, len(ts.poll(t, sid).body), limit)
		})
	}
}

func TestPollingPostBinaryContentType(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, quietOptions(), nil)
	sid := ts.openPolling(t)
	r := ts.do(t, http.MethodPost, pollQuery(sid), strings.NewReader("\x01\x02\x03\x04"),
		http.Header{"Content-Type": {"application/octet-stream"}})
	testutil.Equal(t, r.status, http.StatusBadRequest)
	testutil.Equal(t, r.body, "")
	ts.wantClose(t, sid, ReasonTransportError, errInvalidContent)
	wantError(t, ts.poll(t, sid), 400, 1, "Session ID unknown")
}

func TestPollingOtherMethodWithSID(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, quietOptions(), nil)
	sid := ts.openPolling(t)
	r := ts.do(t, http.MethodPut, pollQuery(sid), strings.NewReader("4x"), nil)
	testutil.Equal(t, r.status, http.StatusInternalServerError) // as the reference
}

// TestPollingOrdering checks that packets POSTed are handled in order and
// that what the application sends from its callbacks is queued before the
// POST is answered, so the next GET carries all of it in one payload.
func TestPollingOrdering(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, quietOptions(), func(s *Session) {
		s.OnMessage(func(data []byte, _ bool) {
			_ = s.SendText(append([]byte("a:"), data...))
			_ = s.SendText(append([]byte("b:"), data...))
		})
	})
	sid := ts.openPolling(t)
	var want []string
	for post := range 3 {
		var payload []string
		for i := range 20 {
			m := fmt.Sprintf("%d.%d", post, i)
			payload = append(payload, "4"+m)
			want = append(want, "4a:"+m, "4b:"+m)
		}
		testutil.Equal(t, ts.post(t, sid, strings.Join(payload, "\x1e")).body, "ok")
	}
	testutil.Equal(t, strings.Split(ts.poll(t, sid).body, "\x1e"), want)
}

// TestOnConnectionSend checks that what the connection callback sends
// follows the open packet in the handshake response.
func TestOnConnectionSend(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, quietOptions(), func(s *Session) { _ = s.SendText([]byte("welcome")) })
	r := ts.get(t, "EIO=4&transport=polling")
	open, rest, _ := strings.Cut(r.body, "\x1e")
	parseOpen(t, open)
	testutil.Equal(t, rest, "4welcome")

	c := ts.dial(t, "EIO=4&transport=websocket")
	parseOpen(t, readText(t, c))
	testutil.Equal(t, readText(t, c), "4welcome")
}

// --- messages over WebSocket (suite #14-#16) ---

func TestWebSocketEcho(t *testing.T) {
	t.Parallel()
	const text, binary = websocket.MessageText, websocket.MessageBinary
	tests := []struct {
		name    string
		typ     websocket.MessageType
		data    string
		wantTyp websocket.MessageType
		want    string
	}{
		{"text", text, "4hello", text, "4hello"},
		{"binary", binary, "\x01\x02\x03\x04", binary, "\x01\x02\x03\x04"},
		{"base64 binary in a text frame", text, "bAQIDBA==", binary, "\x01\x02\x03\x04"},
		{"empty text", text, "4", text, "4"},
		{"empty binary", binary, "", binary, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, quietOptions(), nil)
			c, _ := ts.openWS(t)
			writeMessage(t, c, tc.typ, []byte(tc.data))
			typ, data := readMessage(t, c)
			testutil.Equal(t, typ, tc.wantTyp)
			testutil.Equal(t, string(data), tc.want)
		})
	}
}

// TestWebSocketBase64 checks b64=1: binary goes out as "b"+base64 text.
func TestWebSocketBase64(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, quietOptions(), nil)
	c := ts.dial(t, "EIO=4&transport=websocket&b64=1")
	parseOpen(t, readText(t, c))
	writeMessage(t, c, websocket.MessageBinary, []byte{1, 2, 3, 4})
	testutil.Equal(t, readText(t, c), "bAQIDBA==")
}

func TestWebSocketInvalidPacket(t *testing.T) {
	t.Parallel()
	for _, payload := range []string{"abc", "", "b!!!", "9"} {
		t.Run(strconv.Quote(payload), func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, quietOptions(), nil)
			c, sid := ts.openWS(t)
			writeText(t, c, payload)
			readUntilClosed(t, c)
			ts.wantClose(t, sid, ReasonParseError, errParse)
		})
	}
}

func TestWebSocketTooLarge(t *testing.T) {
	t.Parallel()
	opts := quietOptions()
	opts.MaxHTTPBufferSize = 1000
	ts := newTestServer(t, opts, nil)
	c, sid := ts.openWS(t)
	writeText(t, c, "4"+strings.Repeat("x", 999)) // exactly the limit
	testutil.Equal(t, len(readText(t, c)), 1000)
	writeText(t, c, "4"+strings.Repeat("x", 1000))
	err := readUntilClosed(t, c)
	testutil.Equal(t, websocket.CloseStatus(err), websocket.StatusMessageTooBig)
	ts.waitClose(t, sid)
}

// --- heartbeat (suite #17-#20) ---

func TestHeartbeatPolling(t *testing.T) {
	t.Parallel()
	// The suite's 300 ms interval; a longer timeout than its 200 ms so that
	// a loaded machine cannot make the pong late. Exact timing is checked
	// in TestHeartbeatTiming.
	opts := suiteOptions()
	opts.PingTimeout = 2 * time.Second
	ts := newTestServer(t, opts, nil)
	sid := ts.openPolling(t)
	for range 3 {
		r := ts.poll(t, sid)
		testutil.Equal(t, r.status, http.StatusOK)
		testutil.Equal(t, r.body, "2")
		testutil.Equal(t, ts.post(t, sid, "3").body, "ok")
	}
	if !ts.isOpen(sid) {
		t.Fatal("session closed")
	}
}

func TestHeartbeatWebSocket(t *testing.T) {
	t.Parallel()
	opts := suiteOptions()
	opts.PingTimeout = 2 * time.Second
	ts := newTestServer(t, opts, nil)
	c, sid := ts.openWS(t)
	for range 3 {
		testutil.Equal(t, readText(t, c), "2")
		writeText(t, c, "3")
	}
	if !ts.isOpen(sid) {
		t.Fatal("session closed")
	}
}

func TestPingTimeoutPolling(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, suiteOptions(), nil)
	sid := ts.openPolling(t)
	// pingInterval + pingTimeout after the handshake, with no GET pending:
	// the session must be gone even if no timer has run yet.
	time.Sleep(500 * time.Millisecond)
	wantError(t, ts.poll(t, sid), 400, 1, "Session ID unknown")
	ts.wantClose(t, sid, ReasonPingTimeout, nil)
}

func TestPingTimeoutWebSocket(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, suiteOptions(), nil)
	c, sid := ts.openWS(t)
	readUntilClosed(t, c, "2") // never answer the ping
	ts.wantClose(t, sid, ReasonPingTimeout, nil)
}

// TestClientPing checks that a ping from the client, the wrong direction
// in v4, closes the session.
func TestClientPing(t *testing.T) {
	t.Parallel()
	t.Run("polling", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, quietOptions(), nil)
		sid := ts.openPolling(t)
		ts.post(t, sid, "2")
		ts.wantClose(t, sid, ReasonTransportError, ErrHeartbeatDirection)
	})
	t.Run("websocket", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, quietOptions(), nil)
		c, sid := ts.openWS(t)
		writeText(t, c, "2")
		readUntilClosed(t, c)
		ts.wantClose(t, sid, ReasonTransportError, ErrHeartbeatDirection)
	})
}

// --- close (suite #21-#22) ---

func TestForcefulClosePolling(t *testing.T) {
	t.Parallel()
	check := func(t *testing.T, ts *testServer, sid string, get response, post response) {
		t.Helper()
		testutil.Equal(t, post.status, http.StatusOK)
		testutil.Equal(t, post.body, "ok")
		testutil.Equal(t, get.status, http.StatusOK)
		testutil.Equal(t, get.body, "6")
		wantError(t, ts.poll(t, sid), 400, 1, "Session ID unknown")
		ts.wantClose(t, sid, ReasonTransportClose, nil)
	}
	t.Run("GET first", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, quietOptions(), nil)
		sid := ts.openPolling(t)
		get := ts.pollAsync(context.Background(), sid)
		ts.waitPending(t, sid)
		post := ts.post(t, sid, "1")
		check(t, ts, sid, await(t, get), post)
	})
	t.Run("POST first", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, quietOptions(), nil)
		sid := ts.openPolling(t)
		post := ts.post(t, sid, "1")
		check(t, ts, sid, ts.poll(t, sid), post)
	})
	t.Run("concurrent", func(t *testing.T) {
		t.Parallel()
		// As the suite does it: either request may be served first.
		ts := newTestServer(t, quietOptions(), nil)
		for range 10 {
			sid := ts.openPolling(t)
			get := ts.pollAsync(context.Background(), sid)
			post := ts.post(t, sid, "1")
			check(t, ts, sid, await(t, get), post)
		}
	})
}

func TestWebSocketClosePacket(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, quietOptions(), nil)
	c, sid := ts.openWS(t)
	writeText(t, c, "1")
	err := readUntilClosed(t, c)
	wantSessionClose(t, err)
	ts.wantClose(t, sid, ReasonTransportClose, nil)
}

func TestServerClosePolling(t *testing.T) {
	t.Parallel()
	t.Run("pending GET gets a close packet", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, quietOptions(), nil)
		sid := ts.openPolling(t)
		get := ts.pollAsync(context.Background(), sid)
		ts.waitPending(t, sid)
		ts.eio.Session(sid).Close()
		testutil.Equal(t, await(t, get).body, "1")
		wantError(t, ts.poll(t, sid), 400, 1, "Session ID unknown")
		ts.wantClose(t, sid, ReasonForcedClose, nil)
	})
	t.Run("next GET gets noop and close", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, quietOptions(), nil)
		sid := ts.openPolling(t)
		s := ts.eio.Session(sid)
		s.Close()
		s.Close() // idempotent
		ts.wantClose(t, sid, ReasonForcedClose, nil)
		if ts.eio.Session(sid) != nil {
			t.Error("Session returns a closed session")
		}
		testutil.Equal(t, ts.eio.Count(), 0)
		testutil.Equal(t, ts.poll(t, sid).body, "6\x1e1")
		wantError(t, ts.poll(t, sid), 400, 1, "Session ID unknown")
	})
	t.Run("queued messages go first", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, quietOptions(), nil)
		sid := ts.openPolling(t)
		s := ts.eio.Session(sid)
		testutil.NoErr(t, s.SendText([]byte("bye")))
		s.Close()
		if err := s.SendText([]byte("late")); !errors.Is(err, ErrClosed) {
			t.Errorf("Send after Close: %v, want ErrClosed", err)
		}
		// As the reference: the queued packets first, the close in the next poll.
		testutil.Equal(t, ts.poll(t, sid).body, "4bye")
		testutil.Equal(t, ts.poll(t, sid).body, "6\x1e1")
		wantError(t, ts.poll(t, sid), 400, 1, "Session ID unknown")
	})
	t.Run("POST after close", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, quietOptions(), nil)
		sid := ts.openPolling(t)
		ts.eio.Session(sid).Close()
		wantError(t, ts.post(t, sid, "4x"), 400, 1, "Session ID unknown")
	})
}

func TestServerCloseWebSocket(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, quietOptions(), nil)
	c, sid := ts.openWS(t)
	s := ts.eio.Session(sid)
	testutil.NoErr(t, s.SendText([]byte("bye")))
	s.Close()
	testutil.Equal(t, readText(t, c), "4bye") // queued messages are flushed first
	err := readUntilClosed(t, c)
	wantSessionClose(t, err)
	ts.wantClose(t, sid, ReasonForcedClose, nil)
}

// --- upgrade (suite #23-#25) ---

func TestUpgrade(t *testing.T) {
	t.Parallel()
	t.Run("probe, noop to polling, upgrade, echo", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, quietOptions(), nil)
		sid := ts.openPolling(t)
		c := ts.dial(t, "EIO=4&transport=websocket&sid="+sid)
		writeText(t, c, "2probe")
		testutil.Equal(t, readText(t, c), "3probe")
		// A GET during the upgrade is released with a noop.
		r := ts.poll(t, sid)
		testutil.Equal(t, r.status, http.StatusOK)
		testutil.Equal(t, r.body, "6")
		writeText(t, c, "5")
		writeText(t, c, "4hello")
		testutil.Equal(t, readText(t, c), "4hello")
		testutil.Equal(t, ts.eio.Session(sid).Transport(), TransportWebSocket)
	})
	t.Run("pending GET released by the probe", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, quietOptions(), nil)
		sid := ts.openPolling(t)
		get := ts.pollAsync(context.Background(), sid)
		ts.waitPending(t, sid)
		c := ts.dial(t, "EIO=4&transport=websocket&sid="+sid)
		writeText(t, c, "2probe")
		testutil.Equal(t, readText(t, c), "3probe")
		testutil.Equal(t, await(t, get).body, "6")
		writeText(t, c, "5")
		writeText(t, c, "4hello")
		testutil.Equal(t, readText(t, c), "4hello")
	})
	t.Run("HTTP request after upgrade", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, quietOptions(), nil)
		sid := ts.openPolling(t)
		c := ts.upgrade(t, sid)
		wantError(t, ts.poll(t, sid), 400, 3, "Bad request")
		wantError(t, ts.post(t, sid, "4x"), 400, 3, "Bad request")
		writeText(t, c, "4hello")
		testutil.Equal(t, readText(t, c), "4hello")
	})
	t.Run("second WebSocket after upgrade", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, quietOptions(), nil)
		sid := ts.openPolling(t)
		c := ts.upgrade(t, sid)
		c2 := ts.dial(t, "EIO=4&transport=websocket&sid="+sid)
		readUntilClosed(t, c2)
		writeText(t, c, "4hello")
		testutil.Equal(t, readText(t, c), "4hello")
	})
	t.Run("second WebSocket during upgrade", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, quietOptions(), nil)
		sid := ts.openPolling(t)
		c := ts.dial(t, "EIO=4&transport=websocket&sid="+sid)
		writeText(t, c, "2probe")
		testutil.Equal(t, readText(t, c), "3probe")
		c2 := ts.dial(t, "EIO=4&transport=websocket&sid="+sid)
		readUntilClosed(t, c2)
		writeText(t, c, "5")
		writeText(t, c, "4hello")
		testutil.Equal(t, readText(t, c), "4hello")
	})
	t.Run("messages queued during upgrade go over WebSocket", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, quietOptions(), nil)
		sid := ts.openPolling(t)
		s := ts.eio.Session(sid)
		c := ts.dial(t, "EIO=4&transport=websocket&sid="+sid)
		writeText(t, c, "2probe")
		testutil.Equal(t, readText(t, c), "3probe")
		testutil.NoErr(t, s.SendText([]byte("queued")))
		testutil.NoErr(t, s.SendBinary([]byte{1, 2}))
		writeText(t, c, "5")
		testutil.Equal(t, readText(t, c), "4queued")
		typ, data := readMessage(t, c)
		testutil.Equal(t, typ, websocket.MessageBinary)
		testutil.Equal(t, data, []byte{1, 2})
	})
	t.Run("other packet during probe aborts the upgrade", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, quietOptions(), nil)
		sid := ts.openPolling(t)
		c := ts.dial(t, "EIO=4&transport=websocket&sid="+sid)
		writeText(t, c, "4early")
		readUntilClosed(t, c)
		testutil.Equal(t, ts.post(t, sid, "4still").body, "ok")
		testutil.Equal(t, ts.poll(t, sid).body, "4still")
		testutil.Equal(t, ts.eio.Session(sid).Transport(), TransportPolling)
	})
	t.Run("upgrade timeout keeps polling", func(t *testing.T) {
		t.Parallel()
		opts := quietOptions()
		opts.UpgradeTimeout = 50 * time.Millisecond
		ts := newTestServer(t, opts, nil)
		sid := ts.openPolling(t)
		c := ts.dial(t, "EIO=4&transport=websocket&sid="+sid)
		writeText(t, c, "2probe")
		testutil.Equal(t, readText(t, c), "3probe")
		readUntilClosed(t, c) // never sends 5
		testutil.Equal(t, ts.post(t, sid, "4still").body, "ok")
		testutil.Equal(t, ts.poll(t, sid).body, "4still")
	})
	t.Run("client closes probe", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, quietOptions(), nil)
		sid := ts.openPolling(t)
		c := ts.dial(t, "EIO=4&transport=websocket&sid="+sid)
		writeText(t, c, "2probe")
		testutil.Equal(t, readText(t, c), "3probe")
		testutil.NoErr(t, c.CloseNow())
		s := ts.eio.lookup(sid)
		waitFor(t, "the upgrade to be abandoned", func() bool {
			s.mu.Lock()
			defer s.mu.Unlock()
			return !s.probe.ok()
		})
		testutil.Equal(t, ts.post(t, sid, "4still").body, "ok")
		testutil.Equal(t, ts.poll(t, sid).body, "4still")
	})
}

// --- limits and large messages ---

func TestLargeMessages(t *testing.T) {
	t.Parallel()
	const size = 1 << 20
	text := strings.Repeat("0123456789abcdef", size/16)
	bin := make([]byte, size)
	_, _ = rand.Read(bin)
	opts := func() *Options {
		o := quietOptions()
		o.MaxHTTPBufferSize = 4 << 20
		return o
	}
	t.Run("polling text", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, opts(), nil)
		sid := ts.openPolling(t)
		testutil.Equal(t, ts.post(t, sid, "4"+text).body, "ok")
		if got := ts.poll(t, sid).body; got != "4"+text {
			t.Fatalf("echo of %d bytes differs (got %d bytes)", size, len(got))
		}
	})
	t.Run("polling binary", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, opts(), nil)
		sid := ts.openPolling(t)
		payload := "b" + base64.StdEncoding.EncodeToString(bin)
		testutil.Equal(t, ts.post(t, sid, payload).body, "ok")
		if got := ts.poll(t, sid).body; got != payload {
			t.Fatalf("echo of %d bytes differs (got %d bytes)", size, len(got))
		}
	})
	t.Run("websocket text", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, opts(), nil)
		c, _ := ts.openWS(t)
		writeText(t, c, "4"+text)
		if got := readText(t, c); got != "4"+text {
			t.Fatalf("echo of %d bytes differs (got %d bytes)", size, len(got))
		}
	})
	t.Run("websocket binary", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, opts(), nil)
		c, _ := ts.openWS(t)
		writeMessage(t, c, websocket.MessageBinary, bin)
		typ, got := readMessage(t, c)
		testutil.Equal(t, typ, websocket.MessageBinary)
		if !bytes.Equal(got, bin) {
			t.Fatalf("echo of %d bytes differs (got %d bytes)", size, len(got))
		}
	})
}

func TestSendQueueLimit(t *testing.T) {
	t.Parallel()
	opts := func() *Options {
		o := quietOptions()
		o.SendQueueLimit = 100
		return o
	}
	t.Run("exceeded with no poll closes the session", func(t *testing.T) {
		t.Parallel()
		o := opts()
		o.SlowClientTimeout = 50 * time.Millisecond
		ts := newTestServer(t, o, nil)
		sid := ts.openPolling(t)
		s := ts.eio.Session(sid)
		msg := bytes.Repeat([]byte("x"), 59) // 60 bytes with the type
		testutil.NoErr(t, s.SendText(msg))
		testutil.NoErr(t, s.SendText(msg)) // past the limit: the client has SlowClientTimeout to poll
		ts.wantClose(t, sid, ReasonTransportError, ErrSlowClient)
		if err := s.SendText(msg); !errors.Is(err, ErrClosed) {
			t.Fatalf("Send after the close: %v, want ErrClosed", err)
		}
		wantError(t, ts.poll(t, sid), 400, 1, "Session ID unknown")
	})
	t.Run("past the hard bound closes the session at once", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, opts(), nil)
		sid := ts.openPolling(t)
		s := ts.eio.Session(sid)
		msg := bytes.Repeat([]byte("x"), 59) // 60 bytes with the type
		for range 100 * slowClientBound / 60 {
			testutil.NoErr(t, s.SendText(msg))
		}
		if err := s.SendText(msg); !errors.Is(err, ErrSlowClient) {
			t.Fatalf("Send past %d bytes: %v, want ErrSlowClient", 100*slowClientBound, err)
		}
		ts.wantClose(t, sid, ReasonTransportError, ErrSlowClient)
		if err := s.SendText(msg); !errors.Is(err, ErrClosed) {
			t.Fatalf("Send after the close: %v, want ErrClosed", err)
		}
		wantError(t, ts.poll(t, sid), 400, 1, "Session ID unknown")
	})
	t.Run("SendAllHeld past the hard bound leaves the cut to the next send", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, opts(), nil)
		sid := ts.openPolling(t)
		s := ts.eio.Session(sid)
		msg := bytes.Repeat([]byte("x"), 59) // 60 bytes with the type
		for range 100 * slowClientBound / 60 {
			testutil.NoErr(t, s.SendText(msg))
		}
		testutil.NoErr(t, s.SendAllHeld([]*Message{NewTextMessage(msg)}))
		select {
		case <-s.Done():
			t.Fatal("SendAllHeld closed the session")
		default:
		}
		if err := s.SendText(msg); !errors.Is(err, ErrSlowClient) {
			t.Fatalf("Send after SendAllHeld: %v, want ErrSlowClient", err)
		}
		ts.wantClose(t, sid, ReasonTransportError, ErrSlowClient)
		if err := s.SendAllHeld([]*Message{NewTextMessage(msg)}); !errors.Is(err, ErrClosed) {
			t.Fatalf("SendAllHeld after the close: %v, want ErrClosed", err)
		}
	})
	t.Run("up to the limit is fine", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, opts(), nil)
		sid := ts.openPolling(t)
		s := ts.eio.Session(sid)
		msg := bytes.Repeat([]byte("x"), 49) // 50 bytes with the type
		testutil.NoErr(t, s.SendText(msg))
		testutil.NoErr(t, s.SendText(msg))
		testutil.Equal(t, ts.poll(t, sid).body, "4"+string(msg)+"\x1e4"+string(msg))
		// The queue is empty again after the GET.
		testutil.NoErr(t, s.SendText(msg))
		testutil.NoErr(t, s.SendText(msg))
	})
	t.Run("an empty queue takes any message", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, opts(), nil)
		sid := ts.openPolling(t)
		big := bytes.Repeat([]byte("x"), 500)
		testutil.NoErr(t, ts.eio.Session(sid).SendText(big))
		testutil.Equal(t, ts.poll(t, sid).body, "4"+string(big))
	})
}

func TestSendVolatile(t *testing.T) {
	t.Parallel()
	t.Run("polling", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, quietOptions(), nil)
		sid := ts.openPolling(t)
		s := ts.eio.Session(sid)
		if s.SendVolatile(NewTextMessage([]byte("dropped"))) {
			t.Fatal("SendVolatile queued a message with no GET pending")
		}
		get := ts.pollAsync(context.Background(), sid)
		ts.waitPending(t, sid)
		if !s.SendVolatile(NewTextMessage([]byte("kept"))) {
			t.Fatal("SendVolatile dropped a message with a GET pending")
		}
		testutil.Equal(t, await(t, get).body, "4kept")
		s.Close()
		if s.SendVolatile(NewTextMessage([]byte("closed"))) {
			t.Fatal("SendVolatile queued on a closed session")
		}
	})
	t.Run("websocket", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, quietOptions(), nil)
		c, sid := ts.openWS(t)
		s := ts.eio.Session(sid)
		waitFor(t, "the open packet to be written", func() bool {
			s.mu.Lock()
			defer s.mu.Unlock()
			return s.queued == 0
		})
		if !s.SendVolatile(NewTextMessage([]byte("kept"))) {
			t.Fatal("SendVolatile dropped a message on an idle WebSocket")
		}
		testutil.Equal(t, readText(t, c), "4kept")
	})
}

// --- close reasons ---

func TestCloseReasons(t *testing.T) {
	t.Parallel()
	type env struct {
		ts  *testServer
		sid string
		c   *websocket.Conn // nil over polling
	}
	tests := []struct {
		name      string
		opts      func() *Options
		websocket bool
		action    func(t *testing.T, e env)
		reason    string
		err       error
	}{
		{"ping timeout, polling", suiteOptions, false, func(*testing.T, env) {}, ReasonPingTimeout, nil},
		{"ping timeout, websocket", suiteOptions, true, func(t *testing.T, e env) {
			readUntilClosed(t, e.c, "2")
		}, ReasonPingTimeout, nil},
		{"close packet, polling", quietOptions, false, func(t *testing.T, e env) {
			e.ts.post(t, e.sid, "1")
		}, ReasonTransportClose, nil},
		{"close packet, websocket", quietOptions, true, func(t *testing.T, e env) {
			writeText(t, e.c, "1")
		}, ReasonTransportClose, nil},
		{"connection closed, websocket", quietOptions, true, func(t *testing.T, e env) {
			_ = e.c.CloseNow()
		}, ReasonTransportClose, nil},
		{"close handshake, websocket", quietOptions, true, func(t *testing.T, e env) {
			_ = e.c.Close(websocket.StatusNormalClosure, "")
		}, ReasonTransportClose, nil},
		{"parse error, polling", quietOptions, false, func(t *testing.T, e env) {
			e.ts.post(t, e.sid, "abc")
		}, ReasonParseError, errParse},
		{"parse error, websocket", quietOptions, true, func(t *testing.T, e env) {
			writeText(t, e.c, "abc")
		}, ReasonParseError, errParse},
		{"Session.Close, polling", quietOptions, false, func(t *testing.T, e env) {
			e.ts.eio.Session(e.sid).Close()
		}, ReasonForcedClose, nil},
		{"Session.Close, websocket", quietOptions, true, func(t *testing.T, e env) {
			e.ts.eio.Session(e.sid).Close()
		}, ReasonForcedClose, nil},
		{"Server.Shutdown", quietOptions, true, func(t *testing.T, e env) {
			go func() { _ = readUntilClosedErr(e.c) }() // answers the close handshake
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			testutil.NoErr(t, e.ts.eio.Shutdown(ctx))
		}, ReasonForcedClose, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := env{ts: newTestServer(t, tc.opts(), nil)}
			if tc.websocket {
				e.c, e.sid = e.ts.openWS(t)
			} else {
				e.sid = e.ts.openPolling(t)
			}
			tc.action(t, e)
			e.ts.wantClose(t, e.sid, tc.reason, tc.err)
		})
	}
}

// --- options ---

func TestAllowRequest(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	calls := 0
	opts := quietOptions()
	opts.AllowRequest = func(r *http.Request) error {
		mu.Lock()
		calls++
		mu.Unlock()
		if r.URL.Query().Get("deny") != "" {
			return errors.New("no thanks")
		}
		return nil
	}
	ts := newTestServer(t, opts, nil)
	wantError(t, ts.get(t, "EIO=4&transport=polling&deny=1"), 403, 4, "no thanks")

	_, resp, err := ts.dialErr(t, "EIO=4&transport=websocket&deny=1")
	if err == nil || resp == nil {
		t.Fatalf("WebSocket handshake: resp %v, err %v; want 403", resp, err)
	}
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	wantError(t, response{resp.StatusCode, body.String(), resp.Header}, 403, 4, "no thanks")
	testutil.Equal(t, ts.eio.Count(), 0)

	sid := ts.openPolling(t)
	ts.openWS(t)
	// Requests of an open session are not handshakes.
	testutil.Equal(t, ts.post(t, sid, "4x").body, "ok")
	testutil.Equal(t, ts.poll(t, sid).body, "4x")
	mu.Lock()
	testutil.Equal(t, calls, 4)
	mu.Unlock()
}

func TestCORS(t *testing.T) {
	t.Parallel()
	preflight := http.Header{
		"Origin":                         {"https://app.example"},
		"Access-Control-Request-Method":  {"POST"},
		"Access-Control-Request-Headers": {"content-type"},
	}
	t.Run("any origin", func(t *testing.T) {
		t.Parallel()
		opts := quietOptions()
		opts.CORS = &CORSOptions{Origins: []string{"*"}}
		ts := newTestServer(t, opts, nil)
		r := ts.do(t, http.MethodOptions, "EIO=4&transport=polling", nil, preflight)
		testutil.Equal(t, r.status, http.StatusNoContent)
		testutil.Equal(t, r.body, "")
		testutil.Equal(t, r.header.Get("Access-Control-Allow-Origin"), "*")
		testutil.Equal(t, r.header.Get("Access-Control-Allow-Methods"), "GET,HEAD,PUT,PATCH,POST,DELETE")
		testutil.Equal(t, r.header.Get("Access-Control-Allow-Headers"), "content-type")
		testutil.Equal(t, r.header.Get("Access-Control-Allow-Credentials"), "")

		r = ts.do(t, http.MethodGet, "EIO=4&transport=polling", nil, http.Header{"Origin": {"https://app.example"}})
		testutil.Equal(t, r.status, http.StatusOK)
		testutil.Equal(t, r.header.Get("Access-Control-Allow-Origin"), "*")
	})
	t.Run("listed origins with credentials", func(t *testing.T) {
		t.Parallel()
		opts := quietOptions()
		opts.CORS = &CORSOptions{
			Origins:        []string{"https://app.example"},
			Credentials:    true,
			AllowedHeaders: []string{"content-type", "x-token"},
			MaxAge:         time.Hour,
		}
		ts := newTestServer(t, opts, nil)
		r := ts.do(t, http.MethodOptions, "EIO=4&transport=polling", nil, preflight)
		testutil.Equal(t, r.status, http.StatusNoContent)
		testutil.Equal(t, r.header.Get("Access-Control-Allow-Origin"), "https://app.example")
		testutil.Equal(t, r.header.Get("Access-Control-Allow-Credentials"), "true")
		testutil.Equal(t, r.header.Get("Access-Control-Allow-Headers"), "content-type,x-token")
		testutil.Equal(t, r.header.Get("Access-Control-Max-Age"), "3600")
		testutil.Equal(t, r.header.Values("Vary"), []string{"Origin"})

		other := http.Header{"Origin": {"https://evil.example"}}
		r = ts.do(t, http.MethodOptions, "EIO=4&transport=polling", nil, other)
		testutil.Equal(t, r.header.Get("Access-Control-Allow-Origin"), "")
	})
	t.Run("no CORS options", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, quietOptions(), nil)
		r := ts.do(t, http.MethodGet, "EIO=4&transport=polling", nil, http.Header{"Origin": {"https://app.example"}})
		testutil.Equal(t, r.header.Get("Access-Control-Allow-Origin"), "")
	})
}

func TestCookie(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		cookie *http.Cookie
		want   string // Set-Cookie without the value; "" for none
	}{
		{"none", nil, ""},
		{"defaults", &http.Cookie{HttpOnly: true, SameSite: http.SameSiteLaxMode}, "io=SID; Path=/; HttpOnly; SameSite=Lax"},
		{"custom", &http.Cookie{Name: "sticky", Path: "/x"}, "sticky=SID; Path=/x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := quietOptions()
			opts.Cookie = tc.cookie
			var before http.Cookie
			if tc.cookie != nil {
				before = *tc.cookie
			}
			ts := newTestServer(t, opts, nil)
			if tc.cookie != nil {
				testutil.Equal(t, tc.cookie.Name, before.Name) // not modified by NewServer
				testutil.Equal(t, tc.cookie.Path, before.Path)
			}
			r := ts.get(t, "EIO=4&transport=polling")
			sid := parseOpen(t, r.body).SID
			testutil.Equal(t, r.header.Get("Set-Cookie"), strings.ReplaceAll(tc.want, "SID", sid))
			// Only the handshake sets it.
			testutil.Equal(t, ts.post(t, sid, "4x").header.Get("Set-Cookie"), "")
			testutil.Equal(t, ts.poll(t, sid).header.Get("Set-Cookie"), "")
		})
	}
}

func TestInitialPacket(t *testing.T) {
	t.Parallel()
	opts := quietOptions()
	opts.InitialPacket = []byte("hello")
	ts := newTestServer(t, opts, nil)

	r := ts.get(t, "EIO=4&transport=polling")
	open, rest, _ := strings.Cut(r.body, "\x1e")
	parseOpen(t, open)
	testutil.Equal(t, rest, "4hello")

	c := ts.dial(t, "EIO=4&transport=websocket")
	parseOpen(t, readText(t, c))
	testutil.Equal(t, readText(t, c), "4hello")
}

func TestHTTPCompression(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		threshold int
		size      int // of the message's text
		accept    string
		want      string // Content-Encoding
	}{
		{"gzip above threshold", 0, 2000, "gzip, deflate", "gzip"},
		{"deflate above threshold", 0, 2000, "deflate", "deflate"},
		{"at threshold", 0, 1023, "gzip", "gzip"}, // 1024 bytes with the type
		{"below threshold", 0, 1022, "gzip", ""},
		{"not accepted", 0, 2000, "br", ""},
		{"refused with q=0", 0, 2000, "gzip;q=0", ""},
		{"disabled", -1, 2000, "gzip", ""},
		{"custom threshold", 10, 20, "gzip", "gzip"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := quietOptions()
			opts.HTTPCompressionThreshold = tc.threshold
			ts := newTestServer(t, opts, nil)
			sid := ts.openPolling(t)
			msg := "4" + strings.Repeat("a", tc.size)
			testutil.Equal(t, ts.post(t, sid, msg).body, "ok")
			// Setting Accept-Encoding ourselves stops the client from
			// decompressing on its own.
			r := ts.do(t, http.MethodGet, pollQuery(sid), nil, http.Header{"Accept-Encoding": {tc.accept}})
			testutil.Equal(t, r.status, http.StatusOK)
			testutil.Equal(t, r.header.Get("Content-Encoding"), tc.want)
			testutil.Equal(t, r.header.Get("Content-Length"), strconv.Itoa(len(r.body)))
			body := decompress(t, tc.want, []byte(r.body))
			testutil.Equal(t, string(body), msg)
			if tc.want != "" && tc.size >= 1000 && len(r.body) >= len(msg) {
				t.Errorf("compressed body of %d bytes for %d bytes", len(r.body), len(msg))
			}
		})
	}
}

func TestAcceptedEncoding(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"":                       "",
		"gzip":                   "gzip",
		"GZip":                   "gzip",
		"deflate":                "deflate",
		"gzip, deflate, br":      "gzip",
		"deflate, gzip":          "gzip",
		"br, identity":           "",
		"gzip;q=0, deflate":      "deflate",
		"gzip; q=0":              "",
		"gzip;q=0.0":             "",
		"gzip;q=0.000, deflate":  "deflate",
		"gzip;q=0.5":             "gzip",
		"gzip;q=1":               "gzip",
		"deflate;q=0.001":        "deflate",
		" gzip ; q=0.8 , br":     "gzip",
		"x-gzip":                 "",
		"gzip;q=0, deflate;q=0":  "",
		"identity;q=0, deflate ": "deflate",
	}
	for header, want := range tests {
		t.Run(strconv.Quote(header), func(t *testing.T) {
			t.Parallel()
			testutil.Equal(t, acceptedEncoding(header), want)
		})
	}
}

// --- lifecycle ---

func TestShutdown(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, quietOptions(), nil)

	pending := ts.openPolling(t) // a GET waiting
	get := ts.pollAsync(context.Background(), pending)
	ts.waitPending(t, pending)
	idle := ts.openPolling(t) // no GET
	c, wsid := ts.openWS(t)
	wsErr := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		_, _, err := c.Read(ctx)
		wsErr <- err
	}()
	closing := ts.openPolling(t) // closed by its client, owed an answer
	ts.post(t, closing, "1")

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	testutil.NoErr(t, ts.eio.Shutdown(ctx))

	testutil.Equal(t, await(t, get).body, "1")
	select {
	case err := <-wsErr:
		wantSessionClose(t, err)
	case <-time.After(testTimeout):
		t.Fatal("WebSocket not closed")
	}
	for _, sid := range []string{pending, idle, wsid} {
		ts.wantClose(t, sid, ReasonForcedClose, nil)
	}
	testutil.Equal(t, ts.eio.Count(), 0)

	// New requests are refused, whatever they are.
	testutil.Equal(t, ts.get(t, "EIO=4&transport=polling").status, http.StatusServiceUnavailable)
	testutil.Equal(t, ts.poll(t, idle).status, http.StatusServiceUnavailable)
	if _, resp, err := ts.dialErr(t, "EIO=4&transport=websocket"); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("WebSocket handshake after Shutdown: resp %v, err %v; want 503", resp, err)
	}
	testutil.NoErr(t, ts.eio.Shutdown(ctx)) // idempotent
}

// TestShutdownContext checks that Shutdown gives up when ctx ends before
// every request has finished, and succeeds once they have.
func TestShutdownContext(t *testing.T) {
	t.Parallel()
	entered := make(chan struct{})
	release := make(chan struct{})
	ts := newTestServer(t, quietOptions(), func(s *Session) {
		s.OnMessage(func([]byte, bool) {
			close(entered)
			<-release
		})
	})
	sid := ts.openPolling(t)
	post := make(chan result, 1)
	go func() {
		r, err := ts.doErr(context.Background(), http.MethodPost, pollQuery(sid), strings.NewReader("4block"), nil)
		post <- result{r, err}
	}()
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := ts.eio.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown with a blocked callback: %v, want context.DeadlineExceeded", err)
	}
	close(release)
	await(t, post)
	ctx2, cancel2 := context.WithTimeout(context.Background(), testTimeout)
	defer cancel2()
	testutil.NoErr(t, ts.eio.Shutdown(ctx2))
}

// TestShutdownDuringHandshakes races Shutdown against handshakes over
// both transports: no panic, every handshake ends (opened, refused or
// closed at once) and no session is left.
func TestShutdownDuringHandshakes(t *testing.T) {
	t.Parallel()
	for round := range 50 {
		ts := newTestServer(t, quietOptions(), nil)
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for range 4 {
			wg.Go(func() {
				for range 10 {
					r := serveDirect(ts.eio, http.MethodGet, "EIO=4&transport=polling", "")
					if r.status != http.StatusOK && r.status != http.StatusBadRequest && r.status != http.StatusServiceUnavailable {
						errs <- fmt.Errorf("polling handshake: status %d body %q", r.status, r.body)
					}
				}
			})
		}
		for range 2 {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
				defer cancel()
				c, _, err := websocket.Dial(ctx, ts.url+"?EIO=4&transport=websocket", &websocket.DialOptions{HTTPClient: ts.client})
				if err != nil {
					return // refused: the server was already shutting down
				}
				defer c.CloseNow()
				if err := readUntilClosedErr(c); websocket.CloseStatus(err) == -1 && ctx.Err() != nil {
					errs <- fmt.Errorf("WebSocket not closed by Shutdown: %v", err)
				}
			})
		}
		time.Sleep(time.Duration(round%5) * 100 * time.Microsecond)
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		testutil.NoErr(t, ts.eio.Shutdown(ctx))
		cancel()
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		testutil.Equal(t, ts.eio.Count(), 0)
	}
}

// TestConcurrentSessions runs many sessions at once over both transports;
// one misbehaving session of each kind is closed, the others do not notice.
func TestConcurrentSessions(t *testing.T) {
	t.Parallel()
	const sessions, rounds = 8, 20
	ts := newTestServer(t, quietOptions(), nil)

	var wg sync.WaitGroup
	errs := make(chan error, 4*sessions)
	for i := range sessions {
		sid := ts.openPolling(t)
		wg.Go(func() {
			for j := range rounds {
				msg := fmt.Sprintf("4p%d-%d", i, j)
				r, err := ts.doErr(context.Background(), http.MethodPost, pollQuery(sid), strings.NewReader(msg), nil)
				if err == nil && r.body != "ok" {
					err = fmt.Errorf("POST: status %d body %q", r.status, r.body)
				}
				if err == nil {
					r, err = ts.doErr(context.Background(), http.MethodGet, pollQuery(sid), nil, nil)
					if err == nil && r.body != msg {
						err = fmt.Errorf("GET: status %d body %q, want %q", r.status, r.body, msg)
					}
				}
				if err != nil {
					errs <- fmt.Errorf("polling session %d round %d: %w", i, j, err)
					return
				}
			}
		})
		c, _ := ts.openWS(t)
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			for j := range rounds {
				msg := fmt.Sprintf("4w%d-%d", i, j)
				err := c.Write(ctx, websocket.MessageText, []byte(msg))
				var got []byte
				if err == nil {
					_, got, err = c.Read(ctx)
				}
				if err == nil && string(got) != msg {
					err = fmt.Errorf("got %q, want %q", got, msg)
				}
				if err != nil {
					errs <- fmt.Errorf("WebSocket session %d round %d: %w", i, j, err)
					return
				}
			}
		})
	}
	badPoll := ts.openPolling(t)
	badWS, badWSID := ts.openWS(t)
	wg.Go(func() {
		_, _ = ts.doErr(context.Background(), http.MethodPost, pollQuery(badPoll), strings.NewReader("4ok\x1e!!"), nil)
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		_ = badWS.Write(ctx, websocket.MessageText, []byte("x"))
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	ts.wantClose(t, badPoll, ReasonParseError, errParse)
	ts.wantClose(t, badWSID, ReasonParseError, errParse)
	testutil.Equal(t, ts.eio.Count(), 2*sessions)
}

func TestOptionsDefaults(t *testing.T) {
	t.Parallel()
	got := NewServer(nil).Options()
	testutil.Equal(t, got.Path, DefaultPath)
	testutil.Equal(t, got.PingInterval, DefaultPingInterval)
	testutil.Equal(t, got.PingTimeout, DefaultPingTimeout)
	testutil.Equal(t, got.UpgradeTimeout, DefaultUpgradeTimeout)
	testutil.Equal(t, got.MaxHTTPBufferSize, int64(DefaultMaxHTTPBufferSize))
	testutil.Equal(t, got.HTTPCompressionThreshold, DefaultHTTPCompressionThreshold)
	testutil.Equal(t, got.SendQueueLimit, DefaultSendQueueLimit)
	testutil.Equal(t, got.Transports, []string{TransportPolling, TransportWebSocket})

	mine := &Options{Path: "/custom", Transports: []string{TransportPolling}}
	srv := NewServer(mine)
	testutil.Equal(t, srv.Options().Path, "/custom/")
	testutil.Equal(t, mine.Path, "/custom") // the caller's copy is untouched
	srv.Options().Transports[0] = "changed"
	testutil.Equal(t, mine.Transports, []string{TransportPolling})
}

func TestNewID(t *testing.T) {
	t.Parallel()
	valid := regexp.MustCompile(`^[A-Za-z0-9_-]{20}$`)
	seen := make(map[string]bool)
	for range 10000 {
		id := NewID()
		if !valid.MatchString(id) {
			t.Fatalf("NewID() = %q, want 20 characters of URL-safe base64", id)
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %q", id)
		}
		seen[id] = true
	}
}

func decompress(tb testing.TB, encoding string, body []byte) []byte {
	tb.Helper()
	var r io.Reader
	var err error
	switch encoding {
	case "":
		return body
	case "gzip":
		r, err = gzip.NewReader(bytes.NewReader(body))
	case "deflate":
		r, err = zlib.NewReader(bytes.NewReader(body))
	default:
		tb.Fatalf("unknown encoding %q", encoding)
	}
	testutil.NoErr(tb, err)
	out, err := io.ReadAll(r)
	testutil.NoErr(tb, err)
	return out
}

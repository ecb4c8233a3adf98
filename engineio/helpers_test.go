package engineio

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/gosio/gosio/internal/testutil"
)

// testTimeout bounds every wait in the tests: a request, a read, a close.
// Nothing in the tests waits longer, and no assertion depends on how fast
// something happens within it.
const testTimeout = 10 * time.Second

// suiteOptions are the settings of the official suite's reference server:
// a 300 ms ping interval and a 200 ms ping timeout.
func suiteOptions() *Options {
	return &Options{PingInterval: 300 * time.Millisecond, PingTimeout: 200 * time.Millisecond}
}

// quietOptions keep the heartbeat out of the way: tests of messages and
// closes expect exact poll bodies, which a ping queued mid-test would
// change, and a busy -race run can take longer than the suite's 500 ms.
func quietOptions() *Options {
	return &Options{PingInterval: time.Minute, PingTimeout: time.Minute}
}

// echo is the suite's application: every message goes back as it came.
func echo(s *Session) {
	s.OnMessage(func(data []byte, binary bool) {
		if binary {
			_ = s.SendBinary(data)
		} else {
			_ = s.SendText(data)
		}
	})
}

type closeEvent struct {
	reason string
	err    error
}

// testServer is an engineio Server on a loopback httptest server, with a
// record of how each session closed.
type testServer struct {
	eio    *Server
	hs     *httptest.Server
	client *http.Client
	url    string // http://127.0.0.1:port/engine.io/

	mu      sync.Mutex
	closes  map[string]chan closeEvent
	doubles atomic.Int32 // OnClose calls after the first, per session
}

// newTestServer starts a server running app (echo when nil) for the
// length of the test. Cleanup shuts it down: Shutdown, then the HTTP
// server's Close, which waits for every handler.
func newTestServer(tb testing.TB, opts *Options, app func(*Session)) *testServer {
	tb.Helper()
	if app == nil {
		app = echo
	}
	ts := &testServer{eio: NewServer(opts), closes: make(map[string]chan closeEvent)}
	ts.eio.OnConnection(func(s *Session) {
		ch := make(chan closeEvent, 1)
		app(s)
		prev := s.onClose.Load()
		s.OnClose(func(reason string, err error) {
			if prev != nil {
				(*prev)(reason, err)
			}
			select {
			case ch <- closeEvent{reason, err}:
			default:
				ts.doubles.Add(1)
			}
		})
		ts.mu.Lock()
		ts.closes[s.ID()] = ch
		ts.mu.Unlock()
	})
	ts.hs = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			// net/http would swallow a panic; make it fail the test.
			if v := recover(); v != nil {
				tb.Errorf("handler panicked: %v\n%s", v, debug.Stack())
			}
		}()
		ts.eio.ServeHTTP(w, r)
	}))
	ts.client = ts.hs.Client()
	ts.url = ts.hs.URL + ts.eio.Options().Path
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if err := ts.eio.Shutdown(ctx); err != nil {
			tb.Errorf("Shutdown: %v", err)
		}
		ts.hs.Close()
		if n := ts.doubles.Load(); n > 0 {
			tb.Errorf("OnClose called more than once (%d extra calls)", n)
		}
	})
	return ts
}

type response struct {
	status int
	body   string
	header http.Header
}

// doErr sends one request; query is appended to the server's path.
func (ts *testServer) doErr(ctx context.Context, method, query string, body io.Reader, header http.Header) (response, error) {
	ctx, cancel := context.WithTimeout(ctx, testTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, ts.url+"?"+query, body)
	if err != nil {
		return response{}, err
	}
	maps.Copy(req.Header, header)
	res, err := ts.client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, err
	}
	return response{res.StatusCode, string(b), res.Header}, nil
}

func (ts *testServer) do(tb testing.TB, method, query string, body io.Reader, header http.Header) response {
	tb.Helper()
	r, err := ts.doErr(context.Background(), method, query, body, header)
	testutil.NoErr(tb, err)
	return r
}

func (ts *testServer) get(tb testing.TB, query string) response {
	tb.Helper()
	return ts.do(tb, http.MethodGet, query, nil, nil)
}

func pollQuery(sid string) string { return "EIO=4&transport=polling&sid=" + sid }

// poll sends a GET for sid.
func (ts *testServer) poll(tb testing.TB, sid string) response {
	tb.Helper()
	return ts.get(tb, pollQuery(sid))
}

// post sends body for sid as text.
func (ts *testServer) post(tb testing.TB, sid, body string) response {
	tb.Helper()
	return ts.do(tb, http.MethodPost, pollQuery(sid), strings.NewReader(body),
		http.Header{"Content-Type": {"text/plain;charset=UTF-8"}})
}

type result struct {
	response
	err error
}

// pollAsync sends a GET for sid on its own goroutine; the request ends
// with ctx.
func (ts *testServer) pollAsync(ctx context.Context, sid string) <-chan result {
	ch := make(chan result, 1)
	go func() {
		r, err := ts.doErr(ctx, http.MethodGet, pollQuery(sid), nil, nil)
		ch <- result{r, err}
	}()
	return ch
}

// await returns the answer of an asynchronous request.
func await(tb testing.TB, ch <-chan result) response {
	tb.Helper()
	select {
	case r := <-ch:
		testutil.NoErr(tb, r.err)
		return r.response
	case <-time.After(testTimeout + time.Second):
		tb.Fatal("request did not complete")
		return response{}
	}
}

// openPacket is the JSON payload of an open packet.
type openPacket struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"`
	PingTimeout  int      `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}

func parseOpen(tb testing.TB, packet string) openPacket {
	tb.Helper()
	payload, ok := strings.CutPrefix(packet, "0")
	if !ok {
		tb.Fatalf("not an open packet: %q", packet)
	}
	var op openPacket
	dec := json.NewDecoder(strings.NewReader(payload))
	dec.DisallowUnknownFields()
	testutil.NoErr(tb, dec.Decode(&op))
	return op
}

// openPolling opens a polling session and returns its id.
func (ts *testServer) openPolling(tb testing.TB) string {
	tb.Helper()
	r := ts.get(tb, "EIO=4&transport=polling")
	if r.status != http.StatusOK {
		tb.Fatalf("handshake: status %d, body %q", r.status, r.body)
	}
	first, _, _ := strings.Cut(r.body, "\x1e")
	return parseOpen(tb, first).SID
}

// dialErr opens a WebSocket; query is appended to the server's path. The
// connection is closed at the end of the test.
func (ts *testServer) dialErr(tb testing.TB, query string) (*websocket.Conn, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, ts.url+"?"+query, &websocket.DialOptions{HTTPClient: ts.client})
	if c != nil {
		c.SetReadLimit(-1)
		tb.Cleanup(func() { _ = c.CloseNow() })
	}
	return c, resp, err
}

func (ts *testServer) dial(tb testing.TB, query string) *websocket.Conn {
	tb.Helper()
	c, _, err := ts.dialErr(tb, query)
	testutil.NoErr(tb, err)
	return c
}

// openWS opens a WebSocket session and returns it with its id.
func (ts *testServer) openWS(tb testing.TB) (*websocket.Conn, string) {
	tb.Helper()
	c := ts.dial(tb, "EIO=4&transport=websocket")
	sid := parseOpen(tb, readText(tb, c)).SID
	// Over WebSocket the open packet can reach the client while the
	// connection callback still runs; wait for it to return.
	waitFor(tb, "the connection callback", func() bool {
		ts.mu.Lock()
		defer ts.mu.Unlock()
		return ts.closes[sid] != nil
	})
	return c, sid
}

// upgrade upgrades the polling session sid to a WebSocket: probe, then
// the upgrade packet. It returns once the server has switched.
func (ts *testServer) upgrade(tb testing.TB, sid string) *websocket.Conn {
	tb.Helper()
	c := ts.dial(tb, "EIO=4&transport=websocket&sid="+sid)
	writeText(tb, c, "2probe")
	testutil.Equal(tb, readText(tb, c), "3probe")
	writeText(tb, c, "5")
	s := ts.eio.lookup(sid)
	waitFor(tb, "the switch to WebSocket", func() bool { return s.Transport() == TransportWebSocket })
	return c
}

func readMessage(tb testing.TB, c *websocket.Conn) (websocket.MessageType, []byte) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	typ, data, err := c.Read(ctx)
	testutil.NoErr(tb, err)
	return typ, data
}

func readText(tb testing.TB, c *websocket.Conn) string {
	tb.Helper()
	typ, data := readMessage(tb, c)
	if typ != websocket.MessageText {
		tb.Fatalf("got a binary message %x, want text", data)
	}
	return string(data)
}

func writeMessage(tb testing.TB, c *websocket.Conn, typ websocket.MessageType, data []byte) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	testutil.NoErr(tb, c.Write(ctx, typ, data))
}

func writeText(tb testing.TB, c *websocket.Conn, s string) {
	tb.Helper()
	writeMessage(tb, c, websocket.MessageText, []byte(s))
}

// readUntilClosed reads from c until the server closes it, failing on any
// message other than those in allowed, and returns the read error.
func readUntilClosed(tb testing.TB, c *websocket.Conn, allowed ...string) error {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				tb.Fatalf("the server did not close the WebSocket: %v", err)
			}
			return err
		}
		if !slices.Contains(allowed, string(data)) {
			tb.Fatalf("unexpected message %q before the close", data)
		}
	}
}

// wantSessionClose checks the error of a read on a WebSocket whose session
// the server closed: an empty close frame (the client sees 1005), as the
// reference server sends.
func wantSessionClose(tb testing.TB, err error) {
	tb.Helper()
	if got := websocket.CloseStatus(err); got != websocket.StatusNoStatusRcvd {
		tb.Errorf("WebSocket closed with %v (%v), want an empty close frame (1005)", got, err)
	}
}

// readUntilClosedErr reads from c until it fails, for at most testTimeout,
// and returns the error. It may run on any goroutine.
func readUntilClosedErr(c *websocket.Conn) error {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	for {
		if _, _, err := c.Read(ctx); err != nil {
			return err
		}
	}
}

// waitClose returns how the session sid closed.
func (ts *testServer) waitClose(tb testing.TB, sid string) closeEvent {
	tb.Helper()
	ts.mu.Lock()
	ch := ts.closes[sid]
	ts.mu.Unlock()
	if ch == nil {
		tb.Fatalf("no session %q", sid)
	}
	select {
	case ev := <-ch:
		ch <- ev // keep it for later calls
		return ev
	case <-time.After(testTimeout):
		tb.Fatalf("session %s did not close", sid)
		return closeEvent{}
	}
}

// isOpen reports whether sid has not closed yet.
func (ts *testServer) isOpen(sid string) bool {
	ts.mu.Lock()
	ch := ts.closes[sid]
	ts.mu.Unlock()
	return ch != nil && len(ch) == 0
}

// wantClose checks how the session sid closed.
func (ts *testServer) wantClose(tb testing.TB, sid, reason string, err error) {
	tb.Helper()
	ev := ts.waitClose(tb, sid)
	if ev.reason != reason {
		tb.Errorf("close reason %q (err %v), want %q", ev.reason, ev.err, reason)
	}
	if err != nil && !errors.Is(ev.err, err) {
		tb.Errorf("close error %v, want %v", ev.err, err)
	}
	if err == nil && ev.err != nil && reason != ReasonTransportClose {
		tb.Errorf("close error %v, want none", ev.err)
	}
}

// waitPending waits until the session sid has a GET waiting for packets.
func (ts *testServer) waitPending(tb testing.TB, sid string) {
	tb.Helper()
	s := ts.eio.lookup(sid)
	if s == nil {
		tb.Fatalf("no session %q", sid)
	}
	waitFor(tb, "a pending GET", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.poll != nil
	})
}

// waitFor polls cond until it holds, for at most testTimeout.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// wantError checks an Engine.IO JSON error answer.
func wantError(tb testing.TB, r response, status, code int, message string) {
	tb.Helper()
	if r.status != status {
		tb.Errorf("status %d, want %d (body %q)", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		tb.Errorf("Content-Type %q, want application/json", ct)
	}
	msg, err := json.Marshal(message)
	testutil.NoErr(tb, err)
	// Key order as the reference sends it: code, then message.
	testutil.Equal(tb, r.body, `{"code":`+strconv.Itoa(code)+`,"message":`+string(msg)+`}`)
}

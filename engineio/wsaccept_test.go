package engineio

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/gosio/gosio/internal/testutil"
)

// rfcKey and rfcAccept are the key and answer of RFC 6455 section 1.3.
const (
	rfcKey    = "dGhlIHNhbXBsZSBub25jZQ=="
	rfcAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
)

// rawHandshake sends a WebSocket handshake for rawURL with the headers of a
// WebSocket client (overridden by header; an empty value deletes one),
// followed in the same write by after, and reads the answer.
func rawHandshake(tb testing.TB, rawURL string, header http.Header, after []byte) (*rawClient, *http.Response) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	testutil.NoErr(tb, err)
	conn, err := net.DialTimeout("tcp", req.URL.Host, testTimeout)
	testutil.NoErr(tb, err)
	tb.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(testTimeout))
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", rfcKey)
	for name, vals := range header {
		req.Header.Del(name)
		if len(vals) > 0 && vals[0] != "" {
			req.Header[name] = vals
		}
	}
	var buf strings.Builder
	testutil.NoErr(tb, req.Write(&buf))
	buf.Write(after)
	_, err = io.WriteString(conn, buf.String())
	testutil.NoErr(tb, err)
	c := &rawClient{tb: tb, conn: conn}
	c.br = bufio.NewReader(conn)
	resp, err := http.ReadResponse(c.br, req)
	testutil.NoErr(tb, err)
	return c, resp
}

func TestAcceptRawAnswer(t *testing.T) {
	srv := NewServer(quietOptions())
	srv.OnConnection(echo)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A middleware's header reaches the client in the 101 answer.
		w.Header().Set("X-Middleware", "yes\r\nX-Injected: no")
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		testutil.NoErr(t, srv.Shutdown(ctx))
		hs.Close()
	})
	// The client offers compression, which the server (PerMessageDeflate
	// off by default) declines; its first message follows the request in
	// the same write, before the server answered.
	c, resp := rawHandshake(t, hs.URL+"/engine.io/?EIO=4&transport=websocket",
		http.Header{"Sec-Websocket-Extensions": {"permessage-deflate; client_max_window_bits"}},
		frame(true, opText, []byte("4early"), false))
	testutil.Equal(t, resp.StatusCode, http.StatusSwitchingProtocols)
	testutil.Equal(t, resp.Header.Get("Sec-WebSocket-Accept"), rfcAccept)
	testutil.Equal(t, strings.ToLower(resp.Header.Get("Upgrade")), "websocket")
	testutil.Equal(t, strings.ToLower(resp.Header.Get("Connection")), "upgrade")
	testutil.Equal(t, resp.Header.Get("Sec-WebSocket-Extensions"), "")
	testutil.Equal(t, resp.Header.Get("X-Middleware"), "yes  X-Injected: no")
	testutil.Equal(t, resp.Header.Get("X-Injected"), "")
	op, open := c.read()
	testutil.Equal(t, op, byte(opText))
	testutil.Equal(t, open[0], byte('0'))
	op, echoed := c.read()
	testutil.Equal(t, op, byte(opText))
	testutil.Equal(t, string(echoed), "4early")
}

func TestAcceptRawRefuses(t *testing.T) {
	ts := newTestServer(t, quietOptions(), nil)
	for _, tc := range []struct {
		name    string
		header  http.Header
		status  int
		message string
	}{
		{"no key", http.Header{"Sec-Websocket-Key": {""}}, http.StatusBadRequest, `invalid Sec-WebSocket-Key ""`},
		{"key not base64", http.Header{"Sec-Websocket-Key": {"not base64!"}}, http.StatusBadRequest, "invalid Sec-WebSocket-Key"},
		{"key of 15 bytes", http.Header{"Sec-Websocket-Key": {"AAAAAAAAAAAAAAAAAAAA"}}, http.StatusBadRequest, "invalid Sec-WebSocket-Key"},
		{"version 8", http.Header{"Sec-Websocket-Version": {"8"}}, http.StatusUpgradeRequired, `unsupported Sec-WebSocket-Version "8", want 13`},
		{"no version", http.Header{"Sec-Websocket-Version": {""}}, http.StatusUpgradeRequired, "want 13"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, resp := rawHandshake(t, ts.url+"?EIO=4&transport=websocket", tc.header, nil)
			testutil.Equal(t, resp.StatusCode, tc.status)
			if tc.status == http.StatusUpgradeRequired {
				testutil.Equal(t, resp.Header.Get("Sec-WebSocket-Version"), "13")
			}
			body, _ := io.ReadAll(resp.Body)
			if !strings.Contains(string(body), tc.message) {
				t.Errorf("body %q does not say %q", body, tc.message)
			}
			_ = c.conn.Close()
		})
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	testutil.Equal(t, len(ts.closes), 0) // no session was opened
}

// dialUpgrade opens the WebSocket of an upgrade of session sid with a raw
// client.
func (ts *testServer) dialUpgrade(tb testing.TB, sid string) *rawClient {
	tb.Helper()
	c, resp := rawHandshake(tb, ts.url+"?EIO=4&transport=websocket&sid="+sid, nil, nil)
	testutil.Equal(tb, resp.StatusCode, http.StatusSwitchingProtocols)
	return c
}

// answerClose reads up to the server's close frame with code, answers it,
// and checks that the server then closes the connection.
func (c *rawClient) answerClose(code websocket.StatusCode) {
	c.tb.Helper()
	c.wantClose(closePayload(code, ""))
	c.write(frame(true, opClose, closePayload(code, ""), false))
	c.wantEOF()
}

// An upgrade the session cannot take (it is on WebSocket already) is
// answered and then closed with 1008, as the reference server does.
func TestUpgradeRawRefused(t *testing.T) {
	ts := newTestServer(t, quietOptions(), nil)
	_, sid := ts.dialRaw(t)
	ts.dialUpgrade(t, sid).answerClose(websocket.StatusPolicyViolation)
	testutil.Equal(t, ts.isOpen(sid), true)
}

// The probe phase of an upgrade on the session's own frames: pings are
// answered, 2probe gets 3probe, and 5 switches the transport.
func TestUpgradeRaw(t *testing.T) {
	ts := newTestServer(t, quietOptions(), nil)
	sid := ts.openPolling(t)
	c := ts.dialUpgrade(t, sid)
	c.write(frame(true, opPing, []byte("p"), false), frame(true, opText, []byte("2probe"), false))
	op, p := c.read()
	testutil.Equal(t, op, byte(opPong))
	testutil.Equal(t, string(p), "p")
	op, p = c.read()
	testutil.Equal(t, op, byte(opText))
	testutil.Equal(t, string(p), "3probe")
	testutil.Equal(t, ts.poll(t, sid).body, "6") // the pending poll is released
	c.write(frame(true, opText, []byte("5"), false), frame(true, opText, []byte("4up"), false))
	op, p = c.read()
	testutil.Equal(t, op, byte(opText))
	testutil.Equal(t, string(p), "4up")
	c.write(frame(true, opClose, closePayload(websocket.StatusNormalClosure, ""), false))
	c.wantClose(closePayload(websocket.StatusNormalClosure, ""))
	c.wantEOF()
	ts.wantClose(t, sid, ReasonTransportClose, nil)
}

// An upgrade that does not finish in UpgradeTimeout is closed with 1000;
// the session stays on polling.
func TestUpgradeRawTimeout(t *testing.T) {
	opts := quietOptions()
	opts.UpgradeTimeout = 50 * time.Millisecond
	ts := newTestServer(t, opts, nil)
	sid := ts.openPolling(t)
	ts.dialUpgrade(t, sid).answerClose(websocket.StatusNormalClosure)
	testutil.Equal(t, ts.isOpen(sid), true)
	testutil.Equal(t, ts.post(t, sid, "4still polling").status, http.StatusOK)
}

package socketio

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// inprocClient is a polling client that talks to a Server through
// ServeHTTP with recorded responses: no network, so tests and benchmarks
// can run thousands of them in one process.
type inprocClient struct {
	srv *Server
	sid string
}

func (c *inprocClient) do(tb testing.TB, method, query, body string) (int, string) {
	tb.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, "/socket.io/?EIO=4&transport=polling"+query, r)
	rec := httptest.NewRecorder()
	c.srv.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(b)
}

// newInprocClient opens an Engine.IO session and connects to the main
// namespace; it returns after the CONNECT reply was read.
func newInprocClient(tb testing.TB, srv *Server) *inprocClient {
	tb.Helper()
	c := &inprocClient{srv: srv}
	code, body := c.do(tb, http.MethodGet, "", "")
	if code != http.StatusOK || !strings.HasPrefix(body, "0") {
		tb.Fatalf("handshake: %d %q", code, body)
	}
	var open struct{ SID string }
	if err := json.Unmarshal([]byte(body[1:]), &open); err != nil {
		tb.Fatalf("handshake: %v", err)
	}
	c.sid = open.SID
	if code, body := c.do(tb, http.MethodPost, "&sid="+c.sid, "40"); code != http.StatusOK {
		tb.Fatalf("connect: %d %q", code, body)
	}
	if body := c.poll(tb); !strings.HasPrefix(body, "40{") {
		tb.Fatalf("connect reply: %q", body)
	}
	return c
}

// poll does one GET; it blocks until the server has something to send.
func (c *inprocClient) poll(tb testing.TB) string {
	tb.Helper()
	code, body := c.do(tb, http.MethodGet, "&sid="+c.sid, "")
	if code != http.StatusOK {
		tb.Fatalf("poll: %d %q", code, body)
	}
	return body
}

package engineio

import (
	"net/http"
	"testing"

	"github.com/gosio/gosio/internal/testutil"
)

// TestAllowOrigins checks the origin check on both transports' handshakes:
// a listed origin and a request without Origin pass, another origin gets
// 403 over polling and over WebSocket.
func TestAllowOrigins(t *testing.T) {
	t.Parallel()
	opts := quietOptions()
	opts.AllowRequest = AllowOrigins("https://good.example", "HTTP://Other.example/")
	ts := newTestServer(t, opts, nil)
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"", true},
		{"https://good.example", true},
		{"http://other.example", true},
		{"https://evil.example", false},
		{"null", false},
	} {
		h := http.Header{}
		if tc.origin != "" {
			h.Set("Origin", tc.origin)
		}
		r := ts.do(t, http.MethodGet, "EIO=4&transport=polling", nil, h)
		if tc.ok {
			testutil.Equal(t, r.status, http.StatusOK)
		} else {
			wantError(t, r, http.StatusForbidden, 4, ErrOriginNotAllowed.Error())
		}
		c, resp := rawHandshake(t, ts.url+"?EIO=4&transport=websocket", h, nil)
		if tc.ok {
			testutil.Equal(t, resp.StatusCode, http.StatusSwitchingProtocols)
		} else {
			testutil.Equal(t, resp.StatusCode, http.StatusForbidden)
		}
		_ = c.conn.Close()
	}
	// "*" allows any origin.
	testutil.NoErr(t, AllowOrigins("*")(&http.Request{Header: http.Header{"Origin": {"https://x.example"}}}))
}

package engineio

import (
	"context"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/gosio/gosio/internal/testutil"
)

// TestPerMessageDeflate checks that the extension is negotiated only when
// enabled, and that compressed messages round-trip both ways.
func TestPerMessageDeflate(t *testing.T) {
	t.Parallel()
	for _, enabled := range []bool{false, true} {
		t.Run(map[bool]string{false: "off", true: "on"}[enabled], func(t *testing.T) {
			t.Parallel()
			opts := quietOptions()
			opts.PerMessageDeflate = enabled
			ts := newTestServer(t, opts, nil)
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			c, resp, err := websocket.Dial(ctx, ts.url+"?EIO=4&transport=websocket", &websocket.DialOptions{
				HTTPClient:      ts.client,
				CompressionMode: websocket.CompressionContextTakeover,
			})
			testutil.NoErr(t, err)
			defer c.CloseNow()
			c.SetReadLimit(-1)
			ext := resp.Header.Get("Sec-WebSocket-Extensions")
			if got := strings.Contains(ext, "permessage-deflate"); got != enabled {
				t.Fatalf("extension %q negotiated=%v, want %v", ext, got, enabled)
			}
			parseOpen(t, readText(t, c))
			big := "4" + strings.Repeat("compressible ", 1000)
			writeText(t, c, big)
			if got := readText(t, c); got != big {
				t.Fatalf("echo of %d bytes came back as %d bytes", len(big), len(got))
			}
		})
	}
}

package engineio

import (
	"testing"

	"github.com/gosio/gosio/internal/testutil"
)

// TestLibraryWebSocket: by default an uncompressed session reads and
// writes its frames itself; with LibraryWebSocket coder/websocket does,
// and the session works the same (echo, then a clean close).
func TestLibraryWebSocket(t *testing.T) {
	for _, library := range []bool{false, true} {
		opts := quietOptions()
		opts.LibraryWebSocket = library
		ts := newTestServer(t, opts, nil)
		c, sid := ts.openWS(t)
		writeText(t, c, "4hello")
		testutil.Equal(t, readText(t, c), "4hello")

		s := ts.eio.lookup(sid)
		s.mu.Lock()
		raw, lib := s.ws.raw != nil, s.ws.lib != nil
		s.mu.Unlock()
		testutil.Equal(t, raw, !library)
		testutil.Equal(t, lib, library)

		s.Close()
		testutil.Equal(t, ts.waitClose(t, sid).reason, "forced close")
	}
}

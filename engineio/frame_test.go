package engineio

import (
	"bytes"
	"strings"
	"testing"

	"github.com/coder/websocket"
)

// TestPrebuiltFrameLengths sends text and binary messages around the
// WebSocket length-encoding boundaries through the pre-built frame path
// and checks that a client reads each intact.
func TestPrebuiltFrameLengths(t *testing.T) {
	t.Parallel()
	sizes := []int{0, 1, 124, 125, 126, 127, 65534, 65535, 65536, 70000}
	ts := newTestServer(t, quietOptions(), func(s *Session) {
		s.OnMessage(func(data []byte, binary bool) {
			for _, n := range sizes {
				_ = s.SendText([]byte(strings.Repeat("t", n)))
				_ = s.SendBinary(bytes.Repeat([]byte{7}, n))
			}
		})
	})
	c, _ := ts.openWS(t)
	writeText(t, c, "4go")
	for _, n := range sizes {
		typ, data := readMessage(t, c)
		if typ != websocket.MessageText || len(data) != n+1 || data[0] != '4' || strings.Trim(string(data[1:]), "t") != "" {
			t.Fatalf("text of %d: got type %v len %d", n, typ, len(data))
		}
		typ, data = readMessage(t, c)
		if typ != websocket.MessageBinary || !bytes.Equal(data, bytes.Repeat([]byte{7}, n)) {
			t.Fatalf("binary of %d: got type %v len %d", n, typ, len(data))
		}
	}
}

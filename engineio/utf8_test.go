package engineio

import (
	"encoding/hex"
	"net"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/gosio/gosio/internal/testutil"
)

// TestWellFormedMatchesNode checks the replacement of ill-formed UTF-8
// against what Node's Buffer.toString("utf8") (the reference server's
// decoding of polling bodies) gives for the same bytes.
func TestWellFormedMatchesNode(t *testing.T) {
	t.Parallel()
	// Computed with Node 20: Buffer.from(hex, "hex").toString("utf8").
	node := map[string]string{
		"ff":       "efbfbd",
		"fffe":     "efbfbdefbfbd",
		"e282":     "efbfbd",
		"e28261":   "efbfbd61",
		"e282ac":   "e282ac",
		"eda080":   "efbfbdefbfbdefbfbd",
		"f09080":   "efbfbd",
		"f0908061": "efbfbd61",
		"c0af":     "efbfbdefbfbd",
		"e080af":   "efbfbdefbfbdefbfbd",
		"f4908080": "efbfbdefbfbdefbfbdefbfbd",
		"f48f":     "efbfbd",
		"61ed9f":   "61efbfbd",
		"c2":       "efbfbd",
		"80bf":     "efbfbdefbfbd",
		"f0":       "efbfbd",
		"f09f98":   "efbfbd",
		"f09f9880": "f09f9880",
	}
	for in, want := range node {
		b, err := hex.DecodeString(in)
		testutil.NoErr(t, err)
		if got := hex.EncodeToString(wellFormed(b)); got != want {
			t.Errorf("wellFormed(%s) = %s, Node gives %s", in, got, want)
		}
	}
}

// FuzzWellFormed checks that wellFormed always returns valid UTF-8 and
// leaves valid input alone.
func FuzzWellFormed(f *testing.F) {
	for _, s := range []string{"", "4hello", "4\xff\xfe", "\xe2\x82", "\xf0\x9f\x98\x80", "\xed\xa0\x80"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		out := wellFormed(b)
		if !utf8.Valid(out) {
			t.Fatalf("wellFormed(%q) = %q, not UTF-8", b, out)
		}
		if utf8.Valid(b) && string(out) != string(b) {
			t.Fatalf("wellFormed changed valid %q into %q", b, out)
		}
	})
}

// TestRawReadInvalidUTF8 checks that a text message that is not UTF-8
// closes the WebSocket with 1007, as the reference server does, and that a
// character split across fragments is accepted.
func TestRawReadInvalidUTF8(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, quietOptions(), echo)
	c, sid := ts.dialRaw(t)
	euro := []byte("4\xe2\x82\xac")
	c.write(frame(false, opText, euro[:2], false), frame(true, opContinuation, euro[2:], false))
	op, got := c.read()
	testutil.Equal(t, op, byte(opText))
	testutil.Equal(t, string(got), string(euro))

	c.write(frame(true, opText, []byte("4hi\xff\xfe"), false))
	c.wantClose(closePayload(websocket.StatusInvalidFramePayloadData, ""))
	c.wantEOF()
	_ = c.conn.(*net.TCPConn).CloseWrite()
	ts.wantClose(t, sid, ReasonTransportError, errProtocol)
}

// TestRawReadInvalidUTF8CloseReason checks that a close reason that is not
// UTF-8 is answered with 1007.
func TestRawReadInvalidUTF8CloseReason(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, quietOptions(), nil)
	c, sid := ts.dialRaw(t)
	c.write(frame(true, opClose, closePayload(websocket.StatusNormalClosure, "\xff"), false))
	c.wantClose(closePayload(websocket.StatusInvalidFramePayloadData, ""))
	c.wantEOF()
	_ = c.conn.(*net.TCPConn).CloseWrite()
	ts.wantClose(t, sid, ReasonTransportError, errProtocol)
}

// TestLibReadInvalidUTF8 checks the same on the WebSocket library's path
// (b64=1), which does not check text messages itself.
func TestLibReadInvalidUTF8(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, quietOptions(), echo)
	c, resp := rawHandshake(t, ts.url+"?EIO=4&transport=websocket&b64=1", nil, nil)
	testutil.Equal(t, resp.StatusCode, http.StatusSwitchingProtocols)
	_, open := c.read()
	sid := parseOpen(t, string(open)).SID
	c.write(frame(true, opText, []byte("4hi\xff\xfe"), false))
	for {
		op, p := c.read()
		if op == opClose {
			testutil.Equal(t, websocket.StatusCode(int(p[0])<<8|int(p[1])), websocket.StatusInvalidFramePayloadData)
			break
		}
	}
	c.write(frame(true, opClose, closePayload(websocket.StatusInvalidFramePayloadData, ""), false))
	ts.wantClose(t, sid, ReasonTransportError, errProtocol)
}

// TestPollingInvalidUTF8 checks that a polling body that is not UTF-8 is
// read as the reference server reads it: each ill-formed sequence becomes
// U+FFFD, the POST is answered "ok" and the session stays open (checked
// against engine.io 6.6: it answers 200 "ok" and echoes
// "4hello\uFFFD\uFFFDworld" for "4hello\xff\xfeworld").
func TestPollingInvalidUTF8(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, quietOptions(), echo)
	sid := ts.openPolling(t)
	r := ts.post(t, sid, "4hello\xff\xfeworld\x1e4ok")
	testutil.Equal(t, r.status, http.StatusOK)
	testutil.Equal(t, r.body, "ok")
	got := strings.Split(ts.poll(t, sid).body, "\x1e")
	testutil.Equal(t, got, []string{"4hello\uFFFD\uFFFDworld", "4ok"})
	if !ts.isOpen(sid) {
		t.Fatal("the session closed")
	}
}

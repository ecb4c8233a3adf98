package engineio

import (
	"encoding/hex"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
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

// TestLibReadOversizeHeader checks that on the WebSocket library's path
// (compression, b64=1) a frame header declaring 2^40 bytes is refused with
// 1009 at once, as on the raw path and by the reference server, rather
// than when the heartbeat ends the session.
func TestLibReadOversizeHeader(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		query string
		hdr   http.Header
		rsv1  bool
	}{
		{"b64", "&b64=1", nil, false},
		{"deflate", "", http.Header{"Sec-Websocket-Extensions": {"permessage-deflate; client_no_context_takeover; server_no_context_takeover"}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := quietOptions()
			opts.PerMessageDeflate = tc.rsv1
			opts.PingInterval = time.Hour // only the fix can close it in time
			ts := newTestServer(t, opts, echo)
			c, resp := rawHandshake(t, ts.url+"?EIO=4&transport=websocket"+tc.query, tc.hdr, nil)
			testutil.Equal(t, resp.StatusCode, http.StatusSwitchingProtocols)
			_, open := c.read()
			sid := parseOpen(t, string(open)).SID
			b0 := byte(0x80 | opText)
			if tc.rsv1 {
				b0 |= 0x40
			}
			// 2^40 bytes declared, 4 sent.
			c.write([]byte{b0, 0x80 | 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}, []byte("4abc"))
			for {
				op, p := c.read()
				if op == opClose {
					testutil.Equal(t, websocket.StatusCode(int(p[0])<<8|int(p[1])), websocket.StatusMessageTooBig)
					break
				}
			}
			ts.wantClose(t, sid, ReasonTransportError, errProtocol)
		})
	}
}

// FuzzLimitConn feeds a byte stream split at random places to the frame
// follower of the library's connections: it must never panic, and it must
// agree with itself whatever the split.
func FuzzLimitConn(f *testing.F) {
	f.Add([]byte{0x81, 0x82, 1, 2, 3, 4, 'a', 'b', 0x81, 0xff, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 3, 4}, uint8(3))
	f.Add([]byte{0x01, 0x85, 0, 0, 0, 0, 1, 2, 3, 4, 5, 0x80, 0xfe, 0x10, 0, 0, 0, 0, 0}, uint8(7))
	f.Fuzz(func(t *testing.T, stream []byte, cut uint8) {
		whole := &limitConn{limit: 1000}
		errWhole := whole.follow(stream)
		split := &limitConn{limit: 1000}
		k := min(int(cut), len(stream))
		errSplit := split.follow(stream[:k])
		if errSplit == nil {
			errSplit = split.follow(stream[k:])
		}
		if (errWhole == nil) != (errSplit == nil) {
			t.Fatalf("whole: %v, split at %d: %v", errWhole, k, errSplit)
		}
	})
}

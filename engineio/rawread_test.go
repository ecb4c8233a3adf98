package engineio

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
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

// rawClient speaks WebSocket frame by frame, so that tests can send what
// no WebSocket library sends: fragments, interleaved control frames and
// protocol violations.
type rawClient struct {
	tb   testing.TB
	conn net.Conn
	br   *bufio.Reader
}

// dialRaw opens a WebSocket session with a raw client and reads the open
// packet. It returns the client and the session id.
func (ts *testServer) dialRaw(tb testing.TB) (*rawClient, string) {
	tb.Helper()
	c, resp := rawHandshake(tb, ts.url+"?EIO=4&transport=websocket", nil, nil)
	testutil.Equal(tb, resp.StatusCode, http.StatusSwitchingProtocols)
	op, open := c.read()
	testutil.Equal(tb, op, byte(opText))
	sid := parseOpen(tb, string(open)).SID
	waitFor(tb, "the connection callback", func() bool {
		ts.mu.Lock()
		defer ts.mu.Unlock()
		return ts.closes[sid] != nil
	})
	return c, sid
}

// frame builds a client frame: masked with a random key unless unmasked,
// with the 7-, 16- or 64-bit length form the payload needs.
func frame(fin bool, op byte, payload []byte, unmasked bool) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	f := []byte{b0, 0}
	switch n := len(payload); {
	case n < 126:
		f[1] = byte(n)
	case n <= 0xffff:
		f[1] = 126
		f = binary.BigEndian.AppendUint16(f, uint16(n))
	default:
		f[1] = 127
		f = binary.BigEndian.AppendUint64(f, uint64(n))
	}
	if unmasked {
		return append(f, payload...)
	}
	f[1] |= 0x80
	var key [4]byte
	_, _ = rand.Read(key[:])
	f = append(f, key[:]...)
	for i, c := range payload {
		f = append(f, c^key[i&3])
	}
	return f
}

func (c *rawClient) write(frames ...[]byte) {
	c.tb.Helper()
	_, err := c.conn.Write(bytes.Join(frames, nil))
	testutil.NoErr(c.tb, err)
}

// read reads one frame from the server, which must be whole and unmasked.
func (c *rawClient) read() (op byte, payload []byte) {
	c.tb.Helper()
	op, payload, err := c.readErr()
	testutil.NoErr(c.tb, err)
	return op, payload
}

func (c *rawClient) readErr() (op byte, payload []byte, err error) {
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return 0, nil, err
	}
	if h[0]&0xf0 != 0x80 || h[1]&0x80 != 0 {
		return 0, nil, errors.New("a fragmented, masked or rsv frame from the server")
	}
	n := uint64(h[1])
	if n >= 126 {
		ext := make([]byte, 2)
		if n == 127 {
			ext = make([]byte, 8)
		}
		if _, err := io.ReadFull(c.br, ext); err != nil {
			return 0, nil, err
		}
		n = 0
		for _, b := range ext {
			n = n<<8 | uint64(b)
		}
	}
	payload = make([]byte, n)
	_, err = io.ReadFull(c.br, payload)
	return h[0] & 0x0f, payload, err
}

// wantClose reads up to the server's close frame and checks its payload.
func (c *rawClient) wantClose(payload []byte) {
	c.tb.Helper()
	for {
		op, p := c.read()
		if op == opClose {
			testutil.Equal(c.tb, p, payload)
			return
		}
	}
}

// wantEOF checks that the server closes the connection.
func (c *rawClient) wantEOF() {
	c.tb.Helper()
	for {
		if _, _, err := c.readErr(); err != nil {
			if !errors.Is(err, io.EOF) {
				c.tb.Fatalf("read after the close: %v, want EOF", err)
			}
			return
		}
	}
}

func closePayload(code websocket.StatusCode, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(code)), reason...)
}

func TestRawReadLengthForms(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, quietOptions(), nil)
	c, _ := ts.dialRaw(t)
	for _, n := range []int{1, 7, 8, 9, 125, 126, 127, 0xffff, 0x10000, readChunk + 1, 3*readChunk + 5} {
		msg := make([]byte, n)
		_, _ = rand.Read(msg)
		msg[0] = '4'
		// A text message is UTF-8 (random bytes would close with 1007).
		text := bytes.Map(func(r rune) rune { return 'a' + r%26 }, bytes.ToValidUTF8(msg, nil))
		text = append(text, bytes.Repeat([]byte{'z'}, n-len(text))...)
		text[0] = '4'
		c.write(frame(true, opText, text, false))
		op, got := c.read()
		testutil.Equal(t, op, byte(opText))
		if !bytes.Equal(got, text) {
			t.Fatalf("%d-byte text message: echo differs", n)
		}
		c.write(frame(true, opBinary, msg, false))
		op, got = c.read()
		testutil.Equal(t, op, byte(opBinary))
		if !bytes.Equal(got, msg) {
			t.Fatalf("%d-byte binary message: echo differs", n)
		}
	}
	// An empty binary message is a message too.
	c.write(frame(true, opBinary, nil, false))
	op, got := c.read()
	testutil.Equal(t, op, byte(opBinary))
	testutil.Equal(t, len(got), 0)
}

func TestRawReadFragmentsAndControlFrames(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, quietOptions(), nil)
	c, _ := ts.dialRaw(t)
	c.write(
		frame(false, opText, []byte("4hel"), false),
		frame(true, opPing, []byte("p1"), false), // between fragments
		frame(false, opContinuation, nil, false),
		frame(true, opPong, []byte("unsolicited"), false), // ignored
		frame(true, opContinuation, []byte("lo"), false),
	)
	op, p := c.read()
	testutil.Equal(t, op, byte(opPong))
	testutil.Equal(t, string(p), "p1")
	op, p = c.read()
	testutil.Equal(t, op, byte(opText))
	testutil.Equal(t, string(p), "4hello")

	// Fragments of a binary message, in separate writes.
	c.write(frame(false, opBinary, []byte{1, 2}, false))
	c.write(frame(true, opContinuation, []byte{3}, false))
	op, p = c.read()
	testutil.Equal(t, op, byte(opBinary))
	testutil.Equal(t, p, []byte{1, 2, 3})
}

func TestRawReadLimitCountsFragments(t *testing.T) {
	t.Parallel()
	opts := quietOptions()
	opts.MaxHTTPBufferSize = 10
	ts := newTestServer(t, opts, nil)
	c, sid := ts.dialRaw(t)
	c.write(frame(false, opText, []byte("4xxxx"), false), frame(true, opContinuation, []byte("xxxxx"), false))
	_, p := c.read()
	testutil.Equal(t, len(p), 10)
	c.write(frame(false, opText, []byte("4xxxx"), false), frame(true, opContinuation, []byte("xxxxxx"), false))
	c.wantClose(closePayload(websocket.StatusMessageTooBig, ""))
	c.wantEOF()
	_ = c.conn.(*net.TCPConn).CloseWrite()
	ts.wantClose(t, sid, ReasonTransportError, errProtocol)
}

func TestRawReadProtocolErrors(t *testing.T) {
	t.Parallel()
	long := make([]byte, 126)
	tests := []struct {
		name   string
		frames [][]byte
	}{
		{"unmasked", [][]byte{frame(true, opText, []byte("4x"), true)}},
		{"rsv1", [][]byte{func() []byte { f := frame(true, opText, []byte("4x"), false); f[0] |= 0x40; return f }()}},
		{"opcode 3", [][]byte{frame(true, 3, []byte("4x"), false)}},
		{"opcode 11", [][]byte{frame(true, 11, nil, false)}},
		{"continuation first", [][]byte{frame(true, opContinuation, []byte("4x"), false)}},
		{"text inside a message", [][]byte{frame(false, opText, []byte("4x"), false), frame(true, opText, []byte("4y"), false)}},
		{"fragmented ping", [][]byte{frame(false, opPing, nil, false)}},
		{"long ping", [][]byte{frame(true, opPing, long, false)}},
		{"1-byte close", [][]byte{frame(true, opClose, []byte{3}, false)}},
		{"close code 1005", [][]byte{frame(true, opClose, closePayload(websocket.StatusNoStatusRcvd, ""), false)}},
		{"64-bit length top bit", [][]byte{{0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, quietOptions(), nil)
			c, sid := ts.dialRaw(t)
			c.write(tc.frames...)
			c.wantClose(closePayload(websocket.StatusProtocolError, ""))
			// The server ends its side after the close frame, and the
			// connection when the client ends its side.
			c.wantEOF()
			_ = c.conn.(*net.TCPConn).CloseWrite()
			ts.wantClose(t, sid, ReasonTransportError, errProtocol)
		})
	}
}

func TestRawReadClientClose(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		sent, got []byte
	}{
		{"with a code and reason", closePayload(websocket.StatusNormalClosure, "bye"), closePayload(websocket.StatusNormalClosure, "")},
		{"without a code", nil, []byte{}},
		{"going away", closePayload(websocket.StatusGoingAway, ""), closePayload(websocket.StatusGoingAway, "")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, quietOptions(), nil)
			c, sid := ts.dialRaw(t)
			c.write(frame(true, opClose, tc.sent, false))
			c.wantClose(tc.got)
			c.wantEOF()
			ts.wantClose(t, sid, ReasonTransportClose, nil)
		})
	}
}

func TestRawReadServerClose(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, quietOptions(), nil)
	c, sid := ts.dialRaw(t)
	s := ts.eio.lookup(sid)
	testutil.NoErr(t, s.SendText([]byte("last")))
	s.Close()
	_, p := c.read()
	testutil.Equal(t, string(p), "4last")
	c.wantClose([]byte{}) // an empty close frame: 1005 at the client
	// Messages after the close are read and dropped, then the answer
	// ends the connection at once.
	start := time.Now()
	c.write(frame(true, opText, []byte("4dropped"), false), frame(true, opClose, nil, false))
	c.wantEOF()
	if d := time.Since(start); d >= wsCloseGrace {
		t.Errorf("connection closed %v after the client's answer, want at once", d)
	}
	ts.wantClose(t, sid, ReasonForcedClose, nil)
}

func TestRawReadParseErrorClose(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, quietOptions(), nil)
	c, sid := ts.dialRaw(t)
	c.write(frame(true, opText, []byte("x"), false))
	c.wantClose([]byte{})
	c.write(frame(true, opClose, nil, false))
	c.wantEOF()
	testutil.Equal(t, ts.waitClose(t, sid).reason, ReasonParseError)
}

// TestRawCloseFramesMeet: the session's close frame (closeHandshake, as
// the flusher sends it) and the answer to the client's close frame are
// sent at once while another write holds the gate; one close frame reaches
// the client before the connection ends. The close that lost the race for
// closeSent used to go on at once and close the connection under the frame
// that had won it but was not written yet, so the client got none (found
// by FuzzPollerSplitReads).
func TestRawCloseFramesMeet(t *testing.T) {
	t.Parallel()
	srvConn, cliConn := net.Pipe()
	defer cliConn.Close()
	r := newWSRaw(srvConn, nil)
	r.gate.Lock() // a data frame being written
	handshook := make(chan struct{})
	go func() {
		defer close(handshook)
		r.closeHandshake(websocket.StatusNoStatusRcvd)
	}()
	time.Sleep(20 * time.Millisecond)
	answered := make(chan error, 1)
	go func() { answered <- r.onClose(closePayload(websocket.StatusNormalClosure, "")) }()
	time.Sleep(20 * time.Millisecond)
	r.gate.Unlock()

	_ = cliConn.SetReadDeadline(time.Now().Add(testTimeout))
	c := &rawClient{tb: t, conn: cliConn, br: bufio.NewReader(cliConn)}
	closes := 0
	for {
		op, p, err := c.readErr()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("read: %v, want EOF", err)
			}
			break
		}
		if op != opClose || (len(p) != 0 && !bytes.Equal(p, closePayload(websocket.StatusNormalClosure, ""))) {
			t.Errorf("frame %d %q, want a close frame, empty or 1000", op, p)
		}
		closes++
	}
	testutil.Equal(t, closes, 1)
	<-handshook
	if got := websocket.CloseStatus(<-answered); got != websocket.StatusNormalClosure {
		t.Errorf("onClose returned %v, want the client's close", got)
	}
	if tm := r.closeTimer.Load(); tm != nil {
		tm.Stop()
	}
}

// discardConn is a net.Conn that reads from r and takes every write, for
// reading frames from a buffer in FuzzReadMessage.
type discardConn struct {
	net.Conn
	r io.Reader
}

func (c discardConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func (discardConn) Write(p []byte) (int, error)      { return len(p), nil }
func (discardConn) Close() error                     { return nil }
func (discardConn) SetReadDeadline(time.Time) error  { return nil }
func (discardConn) SetWriteDeadline(time.Time) error { return nil }

// FuzzReadMessage reads arbitrary bytes as client frames: no panic, a
// message no longer than the limit, and every message of a well-formed
// stream (the fuzzer's payload cut into fragments) read back whole.
func FuzzReadMessage(f *testing.F) {
	f.Add([]byte("\x81\x85\x01\x02\x03\x045gohk"), uint8(1))
	f.Add(frame(false, opText, []byte("4a"), false), uint8(3))
	f.Add(append(frame(true, opPing, []byte("x"), false), frame(true, opClose, nil, false)...), uint8(0))
	f.Add([]byte{0x82, 0xfe, 0x01, 0x00, 0, 0, 0, 0}, uint8(2))
	f.Fuzz(func(t *testing.T, stream []byte, parts uint8) {
		const limit = 1 << 12
		r := newWSRaw(discardConn{r: bytes.NewReader(stream)}, nil)
		for {
			_, data, err := r.readMessage(limit)
			if err != nil {
				break
			}
			if len(data) > limit {
				t.Fatalf("a %d-byte message passed the %d-byte limit", len(data), limit)
			}
		}

		// The same bytes as the payload of a message in parts+1 fragments.
		var frames []byte
		rest, first := stream, true
		for i := range int(parts%8) + 1 {
			k := len(rest)
			if i < int(parts%8) {
				k = len(rest) / 2
			}
			op := byte(opContinuation)
			if first {
				op = opBinary
			}
			frames = append(frames, frame(i == int(parts%8), op, rest[:k], false)...)
			rest, first = rest[k:], false
		}
		r = newWSRaw(discardConn{r: bytes.NewReader(frames)}, nil)
		binary, data, err := r.readMessage(0)
		if err != nil || !binary || !bytes.Equal(data, stream) {
			t.Fatalf("fragmented message: binary %v, %d bytes, err %v; want %d bytes", binary, len(data), err, len(stream))
		}
	})
}

// TestRawReadTLS runs a WebSocket session over TLS, where the session
// reads frames from a *tls.Conn and writes through the flusher (a TLS
// connection has no raw descriptor for non-blocking writes).
func TestRawReadTLS(t *testing.T) {
	t.Parallel()
	srv := NewServer(quietOptions())
	srv.OnConnection(echo)
	hs := httptest.NewTLSServer(srv)
	t.Cleanup(func() {
		testutil.NoErr(t, srv.Shutdown(context.Background()))
		hs.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, _, err := websocket.Dial(ctx, hs.URL+"/engine.io/?EIO=4&transport=websocket", &websocket.DialOptions{HTTPClient: hs.Client()})
	testutil.NoErr(t, err)
	defer c.CloseNow()
	c.SetReadLimit(-1)
	parseOpen(t, readText(t, c))
	for _, n := range []int{3, 200, 70000} {
		msg := "4" + strings.Repeat("y", n-1)
		writeText(t, c, msg)
		testutil.Equal(t, readText(t, c), msg)
	}
	writeMessage(t, c, websocket.MessageBinary, []byte{9, 8, 7})
	typ, data := readMessage(t, c)
	testutil.Equal(t, typ, websocket.MessageBinary)
	testutil.Equal(t, data, []byte{9, 8, 7})
	testutil.NoErr(t, c.Close(websocket.StatusNormalClosure, ""))
}

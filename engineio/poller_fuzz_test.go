//go:build linux

package engineio

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// FuzzPollerSplitReads writes a fuzzer-chosen byte stream of client frames
// to a raw WebSocket session that the server's poller reads, over loopback
// TCP, in parts cut at fuzzer-chosen points: each part is its own write
// (TCP_NODELAY, a pause between them), so that a frame's header, length,
// masking key and payload arrive in separate reads on the non-blocking
// path (tryFill) and on the blocking read a worker waits in for the rest
// of a frame. The outcome is compared with what the blocking reader
// (readMessage on the whole stream, see pollerModel) decides for the same
// bytes.
//
// Every run checks: no panic; the server echoes exactly the messages the
// blocking reader accepts, up to the packet that ends the session, and
// answers exactly its pings; the session closes with the reason and the
// close frame the blocking reader leads to; no data frame follows the
// close frame; the session and the poller's registration are gone
// afterwards; and no goroutine is left behind.
//
// Where the two may legitimately differ, only what must be equal is
// compared (see pollerModel.checkClose):
//   - When a packet ends the session (a parse error, a close packet "1" or
//     a ping "2" from the client), the session's empty close frame (1005)
//     is written by the flusher goroutine while the reader goes on reading
//     the rest of the stream: a close frame the reader itself writes later
//     (1002, 1007 or 1009 for a broken frame, the answer to the client's
//     close) may win that race, or the client's end of the stream may
//     close the connection before the flusher writes. The close frame is
//     then one of those, never another.
//   - When the stream just ends (EOF, also inside a frame), the session
//     closes ("transport close"), and its empty close frame races with the
//     reader closing the connection: it may be missing.
//   - Pongs and echoes are compared each in their own order, not against
//     each other: the reader writes a pong itself and an echo through the
//     session's writer, which may leave it to the flusher.
func FuzzPollerSplitReads(f *testing.F) {
	const limit = 8 << 10
	opts := quietOptions()
	opts.MaxHTTPBufferSize = limit
	ts := newTestServer(f, opts, nil)
	// The poller's goroutine and a worker exist from here on, and the
	// leak check of each run counts from them.
	c0, _ := ts.dialRaw(f)
	c0.write(frame(true, opText, []byte("4warm"), false))
	c0.read()
	c0.write(frame(true, opClose, nil, false))
	c0.wantClose([]byte{})
	c0.wantEOF()

	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	fr := func(fin bool, op byte, payload []byte) []byte { return maskedFrame(fin, op, payload, key) }
	cat := func(frames ...[]byte) []byte { return bytes.Join(frames, nil) }
	text := func(s string) []byte { return fr(true, opText, []byte(s)) }
	closeFrame := fr(true, opClose, closePayload(websocket.StatusNormalClosure, "bye"))
	big := append([]byte("4"), bytes.Repeat([]byte("abcdefgh"), 700)...) // past connReadSize: a direct read
	f.Add(text("4hello"), []byte{0, 1, 2})
	f.Add(cat(text("4a"), text("4bc"), closeFrame), []byte{5, 1, 8})
	f.Add(cat(fr(false, opText, []byte("4hel")), fr(true, opPing, []byte("p1")),
		fr(false, opContinuation, nil), fr(true, opPong, []byte("x")),
		fr(true, opContinuation, []byte("lo")), closeFrame), []byte{3, 0, 7, 1, 1, 9})
	f.Add(cat(fr(false, opBinary, []byte{1, 2, 3}), fr(true, opContinuation, bytes.Repeat([]byte{7}, 300))), []byte{1, 2, 200})
	f.Add(cat(text("4x"), fr(true, opText, big), text("4y")), []byte{2, 255, 255, 255, 100})
	f.Add(cat(text("4x"), []byte{0x81, 0xff, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 3, 4}), []byte{8, 3}) // 2^40 bytes: 1009
	f.Add(cat(fr(false, opText, bytes.Repeat([]byte("4"), limit-10)), fr(true, opContinuation, bytes.Repeat([]byte("z"), 11))), []byte{4, 255})
	f.Add(cat(text("4ok"), fr(true, opText, []byte{'4', 0xff, 0xfe})), []byte{6})                           // 1007
	f.Add(cat(text("4ok"), frame(true, opText, []byte("4raw"), true)), []byte{1})                           // unmasked: 1002
	f.Add(cat(text("x"), fr(true, opPing, []byte("after")), text("4dropped"), closeFrame), []byte{3, 2, 9}) // parse error
	f.Add(cat(text("4a"), text("1"), fr(true, opPing, nil), text("4b")), []byte{4})                         // close packet
	f.Add(cat(text("4a"), text("2"), text("4b")), []byte{1, 1})                                             // ping from the client
	f.Add(cat(text("3"), text("6"), text("5"), text("bAQID"), fr(true, opBinary, nil)), []byte{2, 2, 2, 2})
	f.Add(cat(text("4a"), fr(true, opText, []byte("4cut"))[:5]), []byte{2}) // ends inside a frame
	f.Add(cat(text("4a"), fr(true, opClose, []byte{3}), fr(true, opClose, closePayload(1005, ""))), []byte{1, 6})

	f.Fuzz(func(t *testing.T, stream, cuts []byte) {
		if len(stream) > 64<<10 {
			return // bounded, to keep each run fast
		}
		cuts = cuts[:min(len(cuts), 24)]
		m := newPollerModel(stream, limit)
		base := runtime.NumGoroutine() - ts.eio.pool.IdleWorkers()

		c, sid := ts.dialRaw(t)
		tc := c.conn.(*net.TCPConn)
		if err := tc.SetNoDelay(true); err != nil {
			t.Fatal(err)
		}
		got := make(chan serverFrames, 1)
		go func() { got <- readServerFrames(c.br) }()
		rest := stream
		for _, k := range cuts {
			if len(rest) == 0 {
				break
			}
			k := min(int(k)+1, len(rest))
			if _, err := tc.Write(rest[:k]); err != nil {
				rest = nil // the server closed the connection
				break
			}
			rest = rest[k:]
			time.Sleep(500 * time.Microsecond)
		}
		if len(rest) > 0 {
			_, _ = tc.Write(rest)
		}
		time.Sleep(500 * time.Microsecond)
		_ = tc.CloseWrite()
		out := <-got
		_ = tc.Close()

		m.check(t, out)
		ev := ts.waitClose(t, sid)
		if ev.reason != m.reason {
			t.Errorf("the session closed with %q (%v), want %q", ev.reason, ev.err, m.reason)
		}
		waitFor(t, "the session to be forgotten", func() bool { return ts.eio.lookup(sid) == nil && ts.watched() == 0 })
		waitFor(t, "the session's goroutines to end", func() bool {
			return runtime.NumGoroutine()-ts.eio.pool.IdleWorkers() <= base
		})
		ts.mu.Lock()
		delete(ts.closes, sid)
		ts.mu.Unlock()
	})
}

// maskedFrame builds a client frame masked with key, for seeds that are
// the same in every run (frame picks a random key).
func maskedFrame(fin bool, op byte, payload []byte, key [4]byte) []byte {
	f := []byte{op}
	if fin {
		f[0] |= 0x80
	}
	switch n := len(payload); {
	case n < 126:
		f = append(f, 0x80|byte(n))
	case n <= 0xffff:
		f = binary.BigEndian.AppendUint16(append(f, 0x80|126), uint16(n))
	default:
		f = binary.BigEndian.AppendUint64(append(f, 0x80|127), uint64(n))
	}
	f = append(f, key[:]...)
	for i, c := range payload {
		f = append(f, c^key[i&3])
	}
	return f
}

// A serverFrame is one frame the server sent: opcode and payload.
type serverFrame struct {
	op      byte
	payload []byte
}

// serverFrames are the frames the server sent on a connection, and how the
// stream ended (nil for io.EOF after a whole frame).
type serverFrames struct {
	frames []serverFrame
	err    error
}

// readServerFrames reads server frames from br until the stream ends. A
// reset after the server closed is an end too: the client's parts written
// after that close are answered with one.
func readServerFrames(br *bufio.Reader) serverFrames {
	c := &rawClient{br: br}
	var out serverFrames
	for {
		op, p, err := c.readErr()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
				out.err = err
			}
			return out
		}
		out.frames = append(out.frames, serverFrame{op, p})
	}
}

// recordConn is a net.Conn that reads from r and keeps what is written, for
// running the blocking reader on a buffer.
type recordConn struct {
	net.Conn
	r io.Reader
	w bytes.Buffer
}

func (c *recordConn) Read(p []byte) (int, error)     { return c.r.Read(p) }
func (c *recordConn) Write(p []byte) (int, error)    { return c.w.Write(p) }
func (*recordConn) Close() error                     { return nil }
func (*recordConn) SetReadDeadline(time.Time) error  { return nil }
func (*recordConn) SetWriteDeadline(time.Time) error { return nil }

// pollerModel is what the server should do with a stream of client frames
// on an echo session, as the blocking reader (readMessage on the whole
// stream) and the Engine.IO packets of its messages decide.
type pollerModel struct {
	echoes    []serverFrame // the data frames the server echoes
	pongs     [][]byte      // the payloads of its pongs
	ended     bool          // a packet ended the session (see onFrame, onPacket)
	readClose []byte        // the close frame's payload the reader writes, nil for none
	final     error         // how reading ended
	reason    string        // the session's close reason
}

// newPollerModel runs the blocking reader on stream with limit.
func newPollerModel(stream []byte, limit int64) *pollerModel {
	m := &pollerModel{}
	conn := &recordConn{r: bytes.NewReader(stream)}
	r := newWSRaw(conn, nil)
	for {
		bin, data, err := r.readMessage(limit)
		if err != nil {
			m.final = err
			break
		}
		if m.ended {
			continue // read on, as the reader does until the client answers the close
		}
		if bin {
			m.echoes = append(m.echoes, serverFrame{opBinary, data})
			continue
		}
		p, err := decodeText(data)
		switch {
		case err != nil:
			m.ended, m.reason = true, ReasonParseError
		case p.typ == typeMessage && p.binary:
			m.echoes = append(m.echoes, serverFrame{opBinary, p.data})
		case p.typ == typeMessage:
			m.echoes = append(m.echoes, serverFrame{opText, append([]byte{'4'}, p.data...)})
		case p.typ == typeClose:
			m.ended, m.reason = true, ReasonTransportClose
		case p.typ == typePing:
			m.ended, m.reason = true, ReasonTransportError
		}
	}
	if !m.ended {
		m.reason = readErrorReason(m.final)
	}
	for _, fr := range readServerFrames(bufio.NewReader(&conn.w)).frames {
		switch fr.op {
		case opPong:
			m.pongs = append(m.pongs, fr.payload)
		case opClose:
			m.readClose = fr.payload
		}
	}
	return m
}

// check compares the frames the server sent with the model.
func (m *pollerModel) check(t *testing.T, out serverFrames) {
	t.Helper()
	if out.err != nil {
		t.Errorf("reading the server: %v", out.err)
	}
	var echoes []serverFrame
	var pongs [][]byte
	var closes [][]byte
	for i, fr := range out.frames {
		switch fr.op {
		case opText, opBinary:
			if len(closes) > 0 {
				t.Errorf("frame %d: a data frame %q after the close frame", i, fr.payload)
			}
			echoes = append(echoes, fr)
		case opPong:
			pongs = append(pongs, fr.payload)
		case opClose:
			closes = append(closes, fr.payload)
		default:
			t.Errorf("frame %d: opcode %d from the server", i, fr.op)
		}
	}
	if !slices.EqualFunc(echoes, m.echoes, func(a, b serverFrame) bool { return a.op == b.op && bytes.Equal(a.payload, b.payload) }) {
		t.Errorf("echoes %s, want %s (the blocking reader ended with %v)", showFrames(echoes), showFrames(m.echoes), m.final)
	}
	if !slices.EqualFunc(pongs, m.pongs, bytes.Equal) {
		t.Errorf("pongs %q, want %q", pongs, m.pongs)
	}
	if len(closes) > 1 {
		t.Errorf("%d close frames %q, want at most one", len(closes), closes)
	}
	var got []byte
	if len(closes) > 0 {
		got = closes[0]
	}
	if err := m.checkClose(got); err != nil {
		t.Error(err)
	}
}

// checkClose checks the payload of the server's close frame (nil for none)
// against the close frames the model allows (see FuzzPollerSplitReads).
func (m *pollerModel) checkClose(got []byte) error {
	empty := []byte{} // the session's own close: 1005 at the client
	var allowed [][]byte
	switch {
	case m.ended:
		allowed = append(allowed, empty)
		if m.readClose != nil {
			allowed = append(allowed, m.readClose)
		} else {
			allowed = append(allowed, nil)
		}
	case m.readClose != nil:
		allowed = append(allowed, m.readClose)
	default:
		allowed = append(allowed, empty, nil)
	}
	for _, a := range allowed {
		if (a == nil) == (got == nil) && bytes.Equal(a, got) {
			return nil
		}
	}
	return fmt.Errorf("close frame %s, want one of %s (the blocking reader ended with %v; a packet ended the session: %v)",
		showClose(got), showCloses(allowed), m.final, m.ended)
}

func showClose(p []byte) string {
	switch {
	case p == nil:
		return "none"
	case len(p) < 2:
		return fmt.Sprintf("%q", p)
	}
	return fmt.Sprintf("%d %q", binary.BigEndian.Uint16(p), p[2:])
}

func showCloses(ps [][]byte) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = showClose(p)
	}
	return fmt.Sprint(s)
}

func showFrames(frs []serverFrame) string {
	s := make([]string, len(frs))
	for i, fr := range frs {
		s[i] = fmt.Sprintf("%d:%.40q", fr.op, fr.payload)
	}
	return fmt.Sprint(s)
}

package engineio

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// A wsRaw is the network connection under a WebSocket whose frames the
// session writes itself, pre-built (see Message.wsFrame), and reads itself
// (see readMessage). Only the handshake, and the reading of an upgrade's
// probe, are the WebSocket library's; what it writes goes through a
// gatedWriter.
type wsRaw struct {
	conn net.Conn
	br   *bufio.Reader   // conn's reader from the handshake, which may hold the first frames
	rc   syscall.RawConn // for non-blocking writes; nil when conn has none (TLS)

	closeSent  atomic.Bool                // a close frame was written
	closeTimer atomic.Pointer[time.Timer] // ends a close the client does not answer

	// gate orders every write to conn: ours and the library's. It may be
	// unlocked by another goroutine than the one that locked it: a sender
	// that began a frame hands the gate to the flusher with the rest.
	gate sync.Mutex

	// One non-blocking write in progress, under gate: writeFn (r.writeSome,
	// made once so that a write allocates nothing) writes the frames of
	// opMsgs and leaves the bytes written and the error in opN and opErr.
	writeFn func(fd uintptr) bool
	opMsgs  []*Message
	opN     int
	opErr   error
}

func newWSRaw(c net.Conn, br *bufio.Reader) *wsRaw {
	r := &wsRaw{conn: c, br: br}
	if sc, ok := c.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			r.rc = rc
			r.writeFn = r.writeSome
		}
	}
	return r
}

// writeNow writes as much of msgs' frames, in order, as the socket takes
// without waiting, and returns how many bytes that was. The caller holds
// r.gate. An error is the socket's, or rc's for a closed connection; a full
// socket is not an error.
func (r *wsRaw) writeNow(msgs []*Message) (n int, err error) {
	if r.rc == nil {
		return 0, nil
	}
	r.opMsgs = msgs
	cerr := r.rc.Write(r.writeFn)
	n, err = r.opN, r.opErr
	r.opMsgs, r.opN, r.opErr = nil, 0, nil
	if err == nil {
		err = cerr
	}
	return n, err
}

// gatedWriter is the writer the WebSocket library gets: each of its
// writes waits at the gate, so that it never lands inside a frame of ours.
type gatedWriter struct{ r *wsRaw }

func (g gatedWriter) Write(p []byte) (int, error) {
	g.r.gate.Lock()
	defer g.r.gate.Unlock()
	return g.r.conn.Write(p)
}

// gatedBufferSize is the library's write buffer. It holds a whole control
// frame (at most 2+125 bytes from a server), which therefore reaches
// gatedWriter in one Write; the library writes nothing larger when the
// session writes the data frames. It also replaces net/http's 4 KiB buffer.
const gatedBufferSize = 512

// hijackCapture keeps the connection that websocket.Accept hijacks. With
// gated set, it wraps the connection's writes for the library (see wsRaw).
type hijackCapture struct {
	http.ResponseWriter
	gated bool
	raw   *wsRaw
}

// Hijack implements http.Hijacker.
func (h *hijackCapture) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil || !h.gated {
		return c, brw, err
	}
	// net/http flushed its writer before hijacking: nothing is lost by
	// replacing it.
	h.raw = newWSRaw(c, brw.Reader)
	return c, bufio.NewReadWriter(brw.Reader, bufio.NewWriterSize(gatedWriter{h.raw}, gatedBufferSize)), nil
}

// Unwrap lets http.ResponseController reach the wrapped writer.
func (h *hijackCapture) Unwrap() http.ResponseWriter { return h.ResponseWriter }

package engineio

import (
	"bufio"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// A wsRaw is the network connection under a WebSocket whose frames the
// session writes itself, pre-built (see Message.wsFrame), and reads itself
// (see readMessage), after the server answered the handshake itself (see
// acceptRaw).
type wsRaw struct {
	conn net.Conn
	br   *bufio.Reader   // conn's reader from the handshake, which may hold the first frames
	rc   syscall.RawConn // for non-blocking writes; nil when conn has none (TLS)

	closeSent  atomic.Bool                // a close frame was written
	closeTimer atomic.Pointer[time.Timer] // ends a close the client does not answer

	// gate orders every write to conn: the senders' and flusher's data
	// frames and the reader's control frames. It may be unlocked by another
	// goroutine than the one that locked it: a sender that began a frame
	// hands the gate to the flusher with the rest.
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

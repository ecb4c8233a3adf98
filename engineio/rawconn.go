package engineio

import (
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
	br   *connReader
	rc   syscall.RawConn // for non-blocking writes; nil when conn has none (TLS)

	// Set when a poller watches conn (see poller.add). poller is atomic:
	// closeConn may run on another goroutine while the session's reading
	// starts.
	poller    atomic.Pointer[poller]
	pollKey   uint64       // under poller.mu
	reader    *Session     // set before the poller first hands r to a worker
	pollState atomic.Int32 // pollIdle, pollReading or pollAgain

	closeSent  atomic.Bool                // a close frame was written (set at the gate: see sendClose)
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

// newWSRaw returns the raw WebSocket on c; pending are the bytes that
// followed the handshake in net/http's buffer.
func newWSRaw(c net.Conn, pending []byte) *wsRaw {
	r := &wsRaw{conn: c, br: newConnReader(c, pending)}
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

// The states of a wsRaw that a poller watches.
const (
	pollIdle    = iota // nobody reads: the poller hands the next edge to a worker
	pollReading        // a worker reads
	pollAgain          // a worker reads, and more came since it began: it reads once more
)

// closeConn closes the connection; a poller stops watching it first.
func (r *wsRaw) closeConn() {
	if p := r.poller.Load(); p != nil {
		p.remove(r)
	}
	_ = r.conn.Close()
}

// A pollTask is a wsRaw as the worker task that reads it (see
// Session.readReady).
type pollTask wsRaw

// Run implements workers.Task.
func (t *pollTask) Run() {
	r := (*wsRaw)(t)
	r.reader.readReady(r)
}

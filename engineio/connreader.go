package engineio

import (
	"io"
	"net"
	"sync"
	"syscall"
)

// connReadSize is the size of a connReader's buffer, as net/http's.
const connReadSize = 4096

// connReadBufs holds the buffers of connReaders that are not reading.
var connReadBufs = sync.Pool{New: func() any { b := make([]byte, connReadSize); return &b }}

// A connReader is the buffered reader of a WebSocket whose frames the
// session reads itself. Its buffer comes from a pool when reading begins
// and goes back when it is empty again and the reader goes idle (see
// release), so that an idle connection holds none. It is used by one
// goroutine at a time.
type connReader struct {
	conn net.Conn
	buf  *[]byte // nil when released
	r, w int     // unread bytes are (*buf)[r:w]
	err  error   // the connection's error, returned once the buffer is read
	// short says that tryFill's read, the last read of the connection,
	// filled less than the buffer: the socket had nothing more then, so
	// tryFill need not ask it again before the next edge (see tryFill).
	short bool

	// A non-blocking read in progress (see tryFill): readFn (made once, so
	// that it allocates nothing) leaves its results in opN and opErr.
	readFn func(fd uintptr) bool
	opN    int
	opErr  error
}

// newConnReader returns a reader of conn that first returns pending, the
// bytes that followed the handshake in net/http's buffer.
func newConnReader(conn net.Conn, pending []byte) *connReader {
	c := &connReader{conn: conn}
	c.readFn = c.readNow
	if len(pending) > 0 {
		c.buf = connReadBufs.Get().(*[]byte)
		if len(pending) > len(*c.buf) {
			b := make([]byte, len(pending))
			c.buf = &b
		}
		c.w = copy(*c.buf, pending)
	}
	return c
}

// Buffered returns how many bytes can be read without reading the
// connection.
func (c *connReader) Buffered() int { return c.w - c.r }

// ReadByte returns the next byte, waiting for the connection when the
// buffer is empty.
func (c *connReader) ReadByte() (byte, error) {
	if c.r == c.w {
		if err := c.fill(); err != nil {
			return 0, err
		}
	}
	b := (*c.buf)[c.r]
	c.r++
	return b, nil
}

// Read implements io.Reader. A read at least as large as the buffer, with
// the buffer empty, goes to the connection directly.
func (c *connReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if c.r == c.w {
		if len(p) >= connReadSize && c.err == nil {
			c.short = false // the socket may hold more than this read takes
			return c.conn.Read(p)
		}
		if err := c.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, (*c.buf)[c.r:c.w])
	c.r += n
	return n, nil
}

// fill reads the connection into the empty buffer, waiting for at least
// one byte or an error.
func (c *connReader) fill() error {
	if c.err != nil {
		return c.err
	}
	if c.buf == nil {
		c.buf = connReadBufs.Get().(*[]byte)
	}
	c.r, c.w = 0, 0
	for c.w == 0 {
		n, err := c.conn.Read(*c.buf)
		c.w, c.short = n, false // only tryFill's own reads count (see tryFill)
		if err != nil {
			c.err = err
			if n == 0 {
				return err
			}
		}
	}
	return nil
}

// tryFill reads what the connection holds into the empty buffer without
// waiting, through rc, and reports whether there is anything to read now:
// buffered bytes, or an error (the end of the stream included) that the
// next read returns. It reports false when the connection has nothing yet.
//
// After a read that filled less than the buffer, tryFill reports false
// once without reading: a TCP read returns less than asked only when the
// socket held nothing more, and the edge-triggered poller reports anything
// that arrives later (see poller). That saves the read that would only
// return EAGAIN, one system call per message in a request-response
// exchange.
func (c *connReader) tryFill(rc syscall.RawConn) bool {
	if c.r < c.w || c.err != nil {
		return true
	}
	if c.short {
		c.short = false
		return false
	}
	if c.buf == nil {
		c.buf = connReadBufs.Get().(*[]byte)
	}
	c.r, c.w = 0, 0
	err := rc.Read(c.readFn)
	n, errno := c.opN, c.opErr
	c.opN, c.opErr = 0, nil
	switch {
	case errno == syscall.EAGAIN:
		return false
	case n > 0:
		c.w, c.short = n, n < len(*c.buf)
	case err != nil:
		c.err = err
	case errno != nil:
		c.err = &net.OpError{Op: "read", Net: "tcp", Err: errno}
	default:
		c.err = io.EOF
	}
	return true
}

// release returns the buffer to the pool when it holds nothing unread.
func (c *connReader) release() {
	if c.buf != nil && c.r == c.w {
		if cap(*c.buf) == connReadSize {
			connReadBufs.Put(c.buf)
		}
		c.buf, c.r, c.w = nil, 0, 0
	}
}

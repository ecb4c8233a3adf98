package engineio

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
)

// The WebSocket library checks its read limit only as a message's bytes
// arrive: a frame header that declares 2^40 bytes holds the connection
// until the limit is reached or the heartbeat ends it. The raw reader
// refuses such a header at once (see wsRaw.readMessage), as the reference
// server does; for the library's connections (compression, base64 binary)
// a limitConn reads the frame headers as they pass on their way to the
// library and makes the read fail at the first header past the limit.

// errFrameTooBig is the read error of a connection whose client declared
// a message longer than the read limit.
var errFrameTooBig = errors.New("engineio: frame header declares a message over the read limit")

// limitWriter is the http.ResponseWriter handed to the WebSocket library:
// its Hijack gives the library a limitConn.
type limitWriter struct {
	http.ResponseWriter
	limit int64
}

// Hijack implements http.Hijacker.
func (w limitWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	pending, _ := brw.Reader.Peek(brw.Reader.Buffered())
	lc := &limitConn{Conn: c, src: io.MultiReader(bytes.NewReader(bytes.Clone(pending)), c), limit: w.limit}
	return lc, bufio.NewReadWriter(bufio.NewReader(lc), brw.Writer), nil
}

// A limitConn follows the frames a client sends (RFC 6455 section 5.2)
// without changing them, and fails the read that follows a data frame
// whose header takes its message past limit.
type limitConn struct {
	net.Conn
	src   io.Reader
	limit int64
	err   error

	hdr  [14]byte
	nhdr int    // header bytes seen of the current frame
	skip uint64 // payload bytes left of the current frame
	msg  uint64 // data bytes of the current message so far
}

// Read implements net.Conn.
func (c *limitConn) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.src.Read(p)
	if ferr := c.follow(p[:n]); ferr != nil {
		c.err = ferr
	}
	return n, err
}

// follow advances over b, the next bytes of the stream, and returns
// errFrameTooBig at a header past the limit.
func (c *limitConn) follow(b []byte) error {
	for len(b) > 0 {
		if c.skip > 0 {
			k := uint64(len(b))
			if k > c.skip {
				k = c.skip
			}
			c.skip -= k
			b = b[k:]
			continue
		}
		c.hdr[c.nhdr] = b[0]
		c.nhdr++
		b = b[1:]
		if c.nhdr < 2 {
			continue
		}
		size := 2
		switch c.hdr[1] & 0x7f {
		case 126:
			size += 2
		case 127:
			size += 8
		}
		if c.hdr[1]&0x80 != 0 {
			size += 4
		}
		if c.nhdr < size {
			continue
		}
		var n uint64
		switch c.hdr[1] & 0x7f {
		case 126:
			n = uint64(c.hdr[2])<<8 | uint64(c.hdr[3])
		case 127:
			for _, x := range c.hdr[2:10] {
				n = n<<8 | uint64(x)
			}
		default:
			n = uint64(c.hdr[1] & 0x7f)
		}
		fin, op := c.hdr[0]&0x80 != 0, c.hdr[0]&0x0f
		c.nhdr, c.skip = 0, n
		if op >= opClose {
			continue // control frames are the library's to check
		}
		if op != opContinuation {
			c.msg = 0
		}
		c.msg += n
		if c.limit > 0 && (c.msg > uint64(c.limit) || c.msg < n) {
			return fmt.Errorf("%w (%d bytes)", errFrameTooBig, c.limit)
		}
		if fin {
			c.msg = 0
		}
	}
	return nil
}

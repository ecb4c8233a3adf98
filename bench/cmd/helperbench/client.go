package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The load generator's client: just enough WebSocket (RFC 6455) and
// Engine.IO 4 / Socket.IO 5 for the helper flow, cheaper than a full
// client library so that the load generator is not what limits the
// servers. Frames to the server carry the mask bit with a zero masking
// key, which leaves the payload as it is.

// conn is one client connection.
type conn struct {
	nc  net.Conn
	br  *bufio.Reader
	wmu sync.Mutex
	buf []byte // write buffer, under wmu
}

// dialHelper opens a WebSocket to the Socket.IO server at addr from the
// loopback address local and runs the helper flow: CONNECT with
// {"token":"good"}, then "authenticate", until "authenticated" arrives.
func dialHelper(ctx context.Context, addr string, local net.IP) (*conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: local}}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	c := &conn{nc: nc, br: bufio.NewReaderSize(nc, 4096)}
	fail := func(err error) (*conn, error) { nc.Close(); return nil, err }
	req := "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: " + addr +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: Z29zaW8gaGVscGVyIExHIQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(nc, req); err != nil {
		return fail(err)
	}
	status, err := c.br.ReadString('\n')
	if err != nil {
		return fail(err)
	}
	if !strings.Contains(status, " 101 ") {
		return fail(fmt.Errorf("upgrade: %q", strings.TrimSpace(status)))
	}
	for {
		l, err := c.br.ReadString('\n')
		if err != nil {
			return fail(err)
		}
		if l == "\r\n" {
			break
		}
	}
	expect := func(prefix string) error {
		for {
			m, err := c.read()
			if err != nil {
				return err
			}
			switch {
			case bytes.HasPrefix(m, []byte(prefix)):
				return nil
			case string(m) == "2":
				if err := c.write("3"); err != nil {
					return err
				}
			case bytes.HasPrefix(m, []byte(`42["ping"`)):
			default:
				return fmt.Errorf("want %s..., got %.80q", prefix, m)
			}
		}
	}
	if err := expect("0{"); err != nil {
		return fail(err)
	}
	if err := c.write(`40{"token":"good"}`); err != nil {
		return fail(err)
	}
	if err := expect("40{"); err != nil {
		return fail(err)
	}
	if err := c.write(`42["authenticate"]`); err != nil {
		return fail(err)
	}
	if err := expect(`42["authenticated"`); err != nil {
		return fail(err)
	}
	_ = nc.SetDeadline(time.Time{})
	return c, nil
}

// read returns the payload of the next text or binary message, answering
// WebSocket pings on the way.
func (c *conn) read() ([]byte, error) {
	var msg []byte
	for {
		var h [2]byte
		if _, err := io.ReadFull(c.br, h[:]); err != nil {
			return nil, err
		}
		fin, op := h[0]&0x80 != 0, h[0]&0x0f
		n := uint64(h[1] & 0x7f)
		switch n {
		case 126:
			var b [2]byte
			if _, err := io.ReadFull(c.br, b[:]); err != nil {
				return nil, err
			}
			n = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			if _, err := io.ReadFull(c.br, b[:]); err != nil {
				return nil, err
			}
			n = binary.BigEndian.Uint64(b[:])
		}
		if h[1]&0x80 != 0 || n > 1<<24 {
			return nil, errors.New("masked or oversized frame from the server")
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(c.br, p); err != nil {
			return nil, err
		}
		switch op {
		case 8:
			return nil, io.EOF
		case 9:
			if err := c.frame(10, p); err != nil {
				return nil, err
			}
			continue
		case 10:
			continue
		}
		msg = append(msg, p...)
		if fin {
			return msg, nil
		}
	}
}

func (c *conn) write(s string) error { return c.frame(1, []byte(s)) }

// frame writes one final frame of opcode op, masked with a zero key.
func (c *conn) frame(op byte, p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	b := append(c.buf[:0], 0x80|op)
	switch n := len(p); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n < 1<<16:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	b = append(b, 0, 0, 0, 0)
	b = append(b, p...)
	c.buf = b
	_, err := c.nc.Write(b)
	return err
}

// counter counts the deliveries of one topic across every client.
type counter struct {
	prefix atomic.Pointer[[]byte] // `42["<topic>"`
	n      atomic.Int64
	last   atomic.Int64 // UnixNano of the latest delivery
}

func (k *counter) watch(topic string) {
	p := []byte(`42["` + topic + `"`)
	k.n.Store(0)
	k.last.Store(0)
	k.prefix.Store(&p)
}

// loop reads c until it fails: it answers Engine.IO pings and counts the
// messages of the watched topic.
func (c *conn) loop(k *counter, done func()) {
	defer done()
	for {
		m, err := c.read()
		if err != nil {
			return
		}
		if len(m) == 1 && m[0] == '2' {
			if c.write("3") != nil {
				return
			}
			continue
		}
		if p := k.prefix.Load(); p != nil && bytes.HasPrefix(m, *p) {
			k.last.Store(time.Now().UnixNano())
			k.n.Add(1)
		}
	}
}

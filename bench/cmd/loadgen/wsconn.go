package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
)

// wsConn is the client side of an RFC 6455 connection, just what the suite
// needs: one reader, writers serialised by a mutex, no extensions. The
// load generator uses it instead of a WebSocket library because at tens of
// thousands of messages per second its own cost shows in every figure:
// coder/websocket spends about a third of the generator's non-syscall CPU
// per message (mutexes, a bufio.Writer and its flush, reader state), which
// made open-loop steps at 40,000 acks/s load-generator bound for every
// server. Here a message costs one frame built in place and one write, and
// a read of a buffered frame header.
type wsConn struct {
	nc   net.Conn
	br   *bufio.Reader
	mask [4]byte

	wmu  sync.Mutex
	wbuf []byte
}

// Opcodes of RFC 6455, section 5.2.
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xa
)

// errClosed is returned by readMessage when the server sent a close frame.
var errClosed = errors.New("websocket: closed by the server")

// dialRaw opens a WebSocket to rawURL (ws://host:port/path?query) over a
// connection from dial, within the handshake timeout of ctx.
func dialRaw(ctx context.Context, dial func(ctx context.Context, network, addr string) (net.Conn, error), rawURL string) (*wsConn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "ws" {
		return nil, fmt.Errorf("websocket: scheme %q not supported", u.Scheme)
	}
	nc, err := dial(ctx, "tcp", u.Host)
	if err != nil {
		return nil, err
	}
	dl, ok := ctx.Deadline()
	if !ok || time.Until(dl) > 30*time.Second {
		dl = time.Now().Add(30 * time.Second)
	}
	_ = nc.SetDeadline(dl)
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
		"\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(nc, req); err != nil {
		nc.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(nc, 4096)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		nc.Close()
		return nil, err
	}
	resp.Body.Close()
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if resp.StatusCode != http.StatusSwitchingProtocols {
		nc.Close()
		return nil, fmt.Errorf("websocket: handshake answered %s", resp.Status)
	}
	if resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		nc.Close()
		return nil, errors.New("websocket: bad Sec-WebSocket-Accept")
	}
	_ = nc.SetDeadline(time.Time{})
	c := &wsConn{nc: nc, br: br}
	_, _ = rand.Read(c.mask[:])
	return c, nil
}

// write sends one unfragmented frame, masked as a client must.
func (c *wsConn) write(op byte, p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	b := append(c.wbuf[:0], 0x80|op)
	switch n := len(p); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n <= 0xffff:
		b = append(b, 0x80|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	b = append(b, c.mask[:]...)
	off := len(b)
	b = append(b, p...)
	xorMask(b[off:], c.mask)
	c.wbuf = b
	_, err := c.nc.Write(b)
	if cap(b) > 64<<10 {
		c.wbuf = nil // do not keep a large message's buffer
	}
	return err
}

// readMessage reads the next text or binary message, appending its payload
// to buf. It answers pings and skips pongs on the way; a close frame ends
// the connection with errClosed.
func (c *wsConn) readMessage(buf []byte, limit int) (op byte, _ []byte, err error) {
	for {
		var h [2]byte
		if _, err := io.ReadFull(c.br, h[:]); err != nil {
			return 0, buf, err
		}
		fin, fop, masked := h[0]&0x80 != 0, h[0]&0x0f, h[1]&0x80 != 0
		n := uint64(h[1] & 0x7f)
		switch n {
		case 126:
			var e [2]byte
			if _, err := io.ReadFull(c.br, e[:]); err != nil {
				return 0, buf, err
			}
			n = uint64(binary.BigEndian.Uint16(e[:]))
		case 127:
			var e [8]byte
			if _, err := io.ReadFull(c.br, e[:]); err != nil {
				return 0, buf, err
			}
			n = binary.BigEndian.Uint64(e[:])
		}
		var key [4]byte
		if masked {
			if _, err := io.ReadFull(c.br, key[:]); err != nil {
				return 0, buf, err
			}
		}
		if n > uint64(limit) || len(buf)+int(n) > limit {
			return 0, buf, fmt.Errorf("websocket: message over %d bytes", limit)
		}
		if fop >= opClose {
			// A control frame: at most 125 bytes, never fragmented.
			var ctl [125]byte
			body := ctl[:n]
			if _, err := io.ReadFull(c.br, body); err != nil {
				return 0, buf, err
			}
			if masked {
				xorMask(body, key)
			}
			switch fop {
			case opClose:
				_ = c.write(opClose, body[:min(len(body), 2)])
				return 0, buf, errClosed
			case opPing:
				if err := c.write(opPong, body); err != nil {
					return 0, buf, err
				}
			}
			continue
		}
		switch {
		case fop != opContinuation && fop != opText && fop != opBinary:
			return 0, buf, fmt.Errorf("websocket: unknown opcode %d", fop)
		case fop == opContinuation && op == 0:
			return 0, buf, errors.New("websocket: continuation frame without a message")
		case fop != opContinuation && op != 0:
			return 0, buf, errors.New("websocket: new message inside a fragmented one")
		case fop != opContinuation:
			op = fop
		}
		start := len(buf)
		buf = slices.Grow(buf, int(n))[:start+int(n)]
		if _, err := io.ReadFull(c.br, buf[start:]); err != nil {
			return 0, buf, err
		}
		if masked {
			xorMask(buf[start:], key)
		}
		if fin {
			return op, buf, nil
		}
	}
}

// xorMask applies (or removes) a frame's masking key, RFC 6455 section 5.3.
func xorMask(b []byte, key [4]byte) {
	for i := range b {
		b[i] ^= key[i&3]
	}
}

func (c *wsConn) close() { c.nc.Close() }

package engineio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
)

// The session reads the frames of a WebSocket it writes itself (see wsRaw)
// too, in place of the WebSocket library's reader: a message costs one
// allocation of its exact size, and an idle reader waits a few calls deep,
// which keeps the stacks the collector scans short. With compression or
// base64 binary the library does the handshake and reads and writes
// everything.

// WebSocket opcodes (RFC 6455 section 5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xa
)

const (
	// maxControlPayload is the longest payload of a control frame.
	maxControlPayload = 125
	// readChunk bounds what the reader allocates ahead of the bytes that
	// arrived: a frame's claimed length is not trusted beyond it.
	readChunk = 64 << 10
	// controlWriteTimeout bounds the writing of a pong or a close frame to a
	// client that does not read, as the library bounds it.
	controlWriteTimeout = 5 * time.Second
)

// errProtocol marks the reader's errors for a client that broke the
// WebSocket protocol; the session closes with ReasonTransportError.
var errProtocol = errors.New("engineio: WebSocket protocol error")

// readMessage reads the client's next data message, whose bytes belong to
// the caller. It answers pings and a close frame on the way. limit bounds a
// message's length (no bound when it is not positive).
//
// A close frame from the client ends reading with a websocket.CloseError.
// When the client breaks the protocol, sends a message over limit or a
// text message that is not UTF-8, readMessage sends the close frame that
// says so (1002, 1009, 1007, as the reference server) and returns
// an error wrapping errProtocol; the caller then calls linger.
func (r *wsRaw) readMessage(limit int64) (binary bool, data []byte, err error) {
	inMessage := false
	for {
		var b [2]byte
		if b[0], err = r.br.ReadByte(); err != nil {
			return false, nil, err
		}
		if b[1], err = r.br.ReadByte(); err != nil {
			return false, nil, noEOF(err)
		}
		fin, op := b[0]&0x80 != 0, b[0]&0x0f
		if b[0]&0x70 != 0 {
			return false, nil, r.fail(websocket.StatusProtocolError, "a frame with reserved bits set")
		}
		if b[1]&0x80 == 0 {
			return false, nil, r.fail(websocket.StatusProtocolError, "an unmasked frame from the client")
		}
		n := uint64(b[1] & 0x7f)
		switch n {
		case 126:
			n, err = r.readUint(2)
		case 127:
			n, err = r.readUint(8)
			if err == nil && n>>63 != 0 {
				return false, nil, r.fail(websocket.StatusProtocolError, "a frame length with its top bit set")
			}
		}
		if err != nil {
			return false, nil, err
		}
		var key [4]byte
		for i := range key {
			if key[i], err = r.br.ReadByte(); err != nil {
				return false, nil, noEOF(err)
			}
		}

		if op >= opClose {
			if !fin || n > maxControlPayload {
				return false, nil, r.fail(websocket.StatusProtocolError, "a fragmented or long control frame")
			}
			payload := make([]byte, n)
			if _, err := io.ReadFull(r.br, payload); err != nil {
				return false, nil, noEOF(err)
			}
			unmask(payload, key)
			switch op {
			case opPing:
				if err := r.writeShort(opPong, payload); err != nil {
					return false, nil, err
				}
			case opPong:
			case opClose:
				return false, nil, r.onClose(payload)
			default:
				return false, nil, r.fail(websocket.StatusProtocolError, fmt.Sprintf("unknown opcode %d", op))
			}
			continue
		}

		switch {
		case op > opBinary:
			return false, nil, r.fail(websocket.StatusProtocolError, fmt.Sprintf("unknown opcode %d", op))
		case op == opContinuation && !inMessage:
			return false, nil, r.fail(websocket.StatusProtocolError, "a continuation frame outside a message")
		case op != opContinuation && inMessage:
			return false, nil, r.fail(websocket.StatusProtocolError, "a new message inside a fragmented one")
		case op != opContinuation:
			binary, inMessage = op == opBinary, true
		}
		if limit > 0 && uint64(len(data))+n > uint64(limit) {
			return false, nil, r.fail(websocket.StatusMessageTooBig, fmt.Sprintf("read limited at %d bytes", limit))
		}
		start := len(data)
		if data, err = r.readPayload(data, int(n)); err != nil {
			return false, nil, noEOF(err)
		}
		unmask(data[start:], key)
		if fin {
			if data == nil {
				data = []byte{}
			}
			if !binary && !utf8.Valid(data) {
				// RFC 6455 section 8.1: a text message is UTF-8. Relayed
				// as it came, it would make every client that receives
				// it drop its connection, as this one is dropped here.
				return false, nil, r.fail(websocket.StatusInvalidFramePayloadData, "invalid UTF-8 in a text message")
			}
			return binary, data, nil
		}
	}
}

// readUint reads a big-endian extended payload length of size bytes.
func (r *wsRaw) readUint(size int) (uint64, error) {
	var v uint64
	for range size {
		c, err := r.br.ReadByte()
		if err != nil {
			return 0, noEOF(err)
		}
		v = v<<8 | uint64(c)
	}
	return v, nil
}

// readPayload appends n payload bytes to data, allocating at most
// readChunk bytes ahead of what arrived.
func (r *wsRaw) readPayload(data []byte, n int) ([]byte, error) {
	for n > 0 {
		c := min(n, readChunk)
		data = slices.Grow(data, c)
		k := len(data)
		data = data[:k+c]
		if _, err := io.ReadFull(r.br, data[k:]); err != nil {
			return data, err
		}
		n -= c
	}
	return data, nil
}

// noEOF turns the end of the stream inside a frame into ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// unmask XORs b with the masking key of its frame (RFC 6455 section 5.3).
func unmask(b []byte, key [4]byte) {
	k := uint64(binary.LittleEndian.Uint32(key[:]))
	k |= k << 32
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k)
		b = b[8:]
	}
	for i := range b {
		b[i] ^= key[i&3]
	}
}

// onClose handles the client's close frame: it answers with one of its own
// unless the server sent one first, closes the connection and returns the
// close as a websocket.CloseError.
func (r *wsRaw) onClose(payload []byte) error {
	ce := websocket.CloseError{Code: websocket.StatusNoStatusRcvd}
	switch {
	case len(payload) == 1:
		return r.fail(websocket.StatusProtocolError, "a close frame with a 1-byte payload")
	case len(payload) >= 2:
		ce.Code = websocket.StatusCode(binary.BigEndian.Uint16(payload))
		ce.Reason = string(payload[2:])
		if !utf8.ValidString(ce.Reason) {
			return r.fail(websocket.StatusInvalidFramePayloadData, "a close reason that is not UTF-8")
		}
		if !validCloseCode(ce.Code) {
			return r.fail(websocket.StatusProtocolError, fmt.Sprintf("invalid close code %d", ce.Code))
		}
	}
	_ = r.sendClose(ce.Code)
	r.closeConn()
	return ce
}

// validCloseCode reports whether a client may send code in a close frame.
func validCloseCode(code websocket.StatusCode) bool {
	return code >= 1000 && code <= 1003 || code >= 1007 && code <= 1014 || code >= 3000 && code <= 4999
}

// fail sends the close frame with code that tells the client why it is
// being dropped and returns the error for the session.
func (r *wsRaw) fail(code websocket.StatusCode, why string) error {
	_ = r.sendClose(code)
	return fmt.Errorf("%w: received %s", errProtocol, why)
}

// sendClose writes a close frame with code (none for StatusNoStatusRcvd),
// unless one was sent already. closeSent is set at the gate, so that a
// second close waits there until the first frame is written: otherwise it
// would go on to close the connection (onClose, endRead) under a frame
// still waiting for the gate, and the client would get no close frame.
func (r *wsRaw) sendClose(code websocket.StatusCode) error {
	r.gate.Lock()
	defer r.gate.Unlock()
	if r.closeSent.Swap(true) {
		return nil
	}
	if code == websocket.StatusNoStatusRcvd {
		return r.writeShortLocked(opClose, nil)
	}
	return r.writeShortLocked(opClose, binary.BigEndian.AppendUint16(nil, uint16(code)))
}

// writeShort writes a frame whose payload is at most 125 bytes (a control
// frame, or the answer to an upgrade's probe), waiting at the gate for the
// session's other writes and at most controlWriteTimeout for the socket.
func (r *wsRaw) writeShort(op byte, payload []byte) error {
	r.gate.Lock()
	defer r.gate.Unlock()
	return r.writeShortLocked(op, payload)
}

// writeShortLocked is writeShort for a caller that holds the gate.
func (r *wsRaw) writeShortLocked(op byte, payload []byte) error {
	f := make([]byte, 2, 2+len(payload))
	f[0], f[1] = 0x80|op, byte(len(payload))
	f = append(f, payload...)
	_ = r.conn.SetWriteDeadline(time.Now().Add(controlWriteTimeout))
	_, err := r.conn.Write(f)
	_ = r.conn.SetWriteDeadline(time.Time{})
	return err
}

// closeHandshake sends the server's close frame with code (none for
// StatusNoStatusRcvd: the client sees 1005, as from the reference server)
// and leaves the connection to the reader, which closes it when the client
// answers, or to a timer.
func (r *wsRaw) closeHandshake(code websocket.StatusCode) {
	if r.closeSent.Load() {
		return // the reader answered or failed the client: it closes
	}
	if err := r.sendClose(code); err != nil {
		r.closeConn()
		return
	}
	t := time.AfterFunc(wsCloseGrace, func() { r.closeConn() })
	r.closeTimer.Store(t)
}

// endRead closes the connection once reading ended with err. After a
// protocol failure the stream cannot be parsed further: it ends its side
// of the connection after the close frame and reads what the client still
// sends until the client ends its side too (at most wsCloseGrace), so that
// the close frame reaches a client that was still writing rather than
// being lost to a reset.
func (r *wsRaw) endRead(err error) {
	if cw, ok := r.conn.(interface{ CloseWrite() error }); ok && errors.Is(err, errProtocol) {
		r.gate.Lock()
		_ = cw.CloseWrite()
		r.gate.Unlock()
		_ = r.conn.SetReadDeadline(time.Now().Add(wsCloseGrace))
		_, _ = io.Copy(io.Discard, r.br)
	}
	if t := r.closeTimer.Load(); t != nil {
		t.Stop()
	}
	r.closeConn()
}

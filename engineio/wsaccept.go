package engineio

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/coder/websocket"
)

// The server answers a WebSocket handshake itself when the session reads
// and writes the frames itself (no compression, no base64 binary): the
// WebSocket library's connection, with its buffers, locks and finalizer,
// would otherwise be built for every connection and never used.

// wsGUID is the key suffix of RFC 6455 section 1.3.
const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// errHandshake marks a WebSocket handshake the server refused.
var errHandshake = errors.New("engineio: WebSocket handshake refused")

// acceptKey returns the Sec-WebSocket-Accept value for a client's key.
func acceptKey(key string) string {
	h := sha1.New()
	h.Write([]byte(key))
	h.Write([]byte(wsGUID))
	var sum [sha1.Size]byte
	return base64.StdEncoding.EncodeToString(h.Sum(sum[:0]))
}

// acceptRaw completes the server side of a WebSocket handshake (RFC 6455
// section 4.2) without the WebSocket library and returns the connection
// for the session to read and write. A request it refuses is answered
// with 400, or 426 for a WebSocket version other than 13, and an error
// wrapping errHandshake. No extension is accepted, no subprotocol chosen
// and, as with the library's InsecureSkipVerify, no origin checked
// (AllowRequest is the hook). Headers already set on w go in the answer.
func acceptRaw(w http.ResponseWriter, r *http.Request) (*wsRaw, error) {
	if !isWebSocketUpgrade(r) || r.ProtoMajor != 1 || r.ProtoMinor < 1 {
		return nil, refuse(w, http.StatusBadRequest, "not a WebSocket handshake (HTTP/1.1 GET with Connection: Upgrade and Upgrade: websocket)")
	}
	if v := r.Header.Get("Sec-WebSocket-Version"); v != "13" {
		w.Header().Set("Sec-WebSocket-Version", "13")
		return nil, refuse(w, http.StatusUpgradeRequired, "unsupported Sec-WebSocket-Version "+quoteShort(v)+", want 13")
	}
	key := r.Header.Get("Sec-WebSocket-Key")
	if raw, err := base64.StdEncoding.DecodeString(key); err != nil || len(raw) != 16 {
		return nil, refuse(w, http.StatusBadRequest, "invalid Sec-WebSocket-Key "+quoteShort(key))
	}
	c, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, refuse(w, http.StatusInternalServerError, "cannot take over the connection: "+err.Error())
	}
	resp := bytes.NewBuffer(make([]byte, 0, 160))
	resp.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ")
	resp.WriteString(acceptKey(key))
	resp.WriteString("\r\n")
	if len(w.Header()) > 0 {
		h := w.Header().Clone()
		for _, name := range []string{"Upgrade", "Connection", "Sec-Websocket-Accept", "Content-Length", "Transfer-Encoding"} {
			h.Del(name)
		}
		_ = h.Write(resp) // sanitizes line breaks in values
	}
	resp.WriteString("\r\n")
	if _, err := c.Write(resp.Bytes()); err != nil {
		_ = c.Close()
		return nil, err
	}
	// net/http's buffers are not used again; its reader may hold the
	// client's first frames.
	pending, _ := brw.Reader.Peek(brw.Reader.Buffered())
	return newWSRaw(c, pending), nil
}

// refuse answers a refused handshake and returns its error.
func refuse(w http.ResponseWriter, code int, why string) error {
	http.Error(w, "engineio: "+why, code)
	return errors.Join(errHandshake, errors.New(why))
}

// quoteShort quotes s for an error message, cut at 64 bytes.
func quoteShort(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return `"` + s + `"`
}

// A wsConn is a session's WebSocket: the session's own frames on the
// network connection (raw), or, with compression or base64 binary, the
// WebSocket library's connection (lib). Exactly one is set; the zero
// wsConn is no WebSocket. wsConns compare equal when they are the same
// connection.
type wsConn struct {
	lib *websocket.Conn
	raw *wsRaw
}

// ok reports whether c is a connection.
func (c wsConn) ok() bool { return c.lib != nil || c.raw != nil }

// poolable reports whether the server's shared writers can write c: a raw
// WebSocket with non-blocking writes.
func (c wsConn) poolable() bool { return c.raw != nil && c.raw.rc != nil }

// read reads the client's next data message (see wsRaw.readMessage).
func (c wsConn) read(limit int64) (binary bool, data []byte, err error) {
	if c.raw != nil {
		return c.raw.readMessage(limit)
	}
	typ, data, err := readWS(context.Background(), c.lib)
	if errors.Is(err, errFrameTooBig) {
		// As the raw reader and the reference server: 1009 at once.
		_ = c.lib.Close(websocket.StatusMessageTooBig, "")
		return false, nil, fmt.Errorf("%w: %w", errProtocol, err)
	}
	if err == nil && typ == websocket.MessageText && !utf8.Valid(data) {
		// The library does not check text messages; the close is the
		// raw reader's (see wsRaw.readMessage).
		_ = c.lib.Close(websocket.StatusInvalidFramePayloadData, "invalid UTF-8")
		return false, nil, fmt.Errorf("%w: received invalid UTF-8 in a text message", errProtocol)
	}
	return typ == websocket.MessageBinary, data, err
}

// writeText writes a short text message.
func (c wsConn) writeText(p []byte) error {
	if c.raw != nil {
		return c.raw.writeShort(opText, p)
	}
	return c.lib.Write(context.Background(), websocket.MessageText, p)
}

// closeNow closes the connection without a close handshake.
func (c wsConn) closeNow() {
	if c.raw != nil {
		c.raw.closeConn()
		return
	}
	_ = c.lib.CloseNow()
}

// close closes the connection with a close handshake and code; it may
// wait for the client (at most wsCloseGrace), so it is called off any
// lock. With a raw connection whose reader still reads, the reader closes
// the connection when the client answers.
func (c wsConn) close(code websocket.StatusCode) {
	if c.raw != nil {
		c.raw.closeHandshake(code)
		return
	}
	_ = c.lib.Close(code, "")
}

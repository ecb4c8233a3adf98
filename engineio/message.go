package engineio

import (
	"encoding/base64"
	"sync"
	"sync/atomic"
)

// A Message is one Engine.IO message packet, encoded once so that the same
// bytes can be queued on many sessions (a broadcast). A Message must not be
// modified after it is created; it is safe for concurrent use.
type Message struct {
	// frame is what a WebSocket carries: "4"+text for a text message, the
	// raw bytes for a binary one. Control packets use the same layout with
	// their own type byte.
	frame  []byte
	binary bool

	wsOnce sync.Once
	ws     []byte // the whole WebSocket frame (server frames are not masked): made on first use, or at once with headroom

	b64 atomic.Pointer[[]byte] // "b"+base64 form of a binary message, made on first use
}

// FrameHeadroom is the free space NewTextMessageRoom wants before a
// message: enough for any WebSocket frame header of a server.
const FrameHeadroom = 10

// NewTextMessageRoom is NewTextMessageFrame for a frame that starts
// FrameHeadroom bytes into buf: buf[FrameHeadroom] must be '4'. The
// message keeps buf and writes a WebSocket frame header into the bytes in
// front of the frame, so that sending it over a WebSocket copies nothing.
// It panics if buf is too short or the frame does not start with '4'.
func NewTextMessageRoom(buf []byte) *Message {
	if len(buf) <= FrameHeadroom || buf[FrameHeadroom] != typeMessage {
		panic("engineio: NewTextMessageRoom: buf[FrameHeadroom] must be '4'")
	}
	m := &Message{frame: buf[FrameHeadroom:]}
	h := putFrameHeader(buf[:FrameHeadroom], false, len(m.frame))
	m.ws = buf[FrameHeadroom-h:]
	return m
}

// NewTextMessage returns a text message carrying a copy of data.
func NewTextMessage(data []byte) *Message {
	frame := make([]byte, 1+len(data))
	frame[0] = typeMessage
	copy(frame[1:], data)
	return &Message{frame: frame}
}

// NewTextMessageFrame returns a text message whose frame is the Engine.IO
// encoding itself: frame[0] must be '4' and the rest is the text. The
// message keeps frame without copying it, which lets an encoder build the
// packet once in its final form. It panics if frame does not start with '4'.
func NewTextMessageFrame(frame []byte) *Message {
	if len(frame) == 0 || frame[0] != typeMessage {
		panic("engineio: NewTextMessageFrame: frame must start with '4'")
	}
	return &Message{frame: frame}
}

// NewBinaryMessage returns a binary message. It keeps data without copying
// it; the caller must not modify data afterwards.
func NewBinaryMessage(data []byte) *Message {
	return &Message{frame: data, binary: true}
}

// IsBinary reports whether m is a binary message.
func (m *Message) IsBinary() bool { return m.binary }

// Data returns the message's payload: the text without the packet type, or
// the binary bytes. The caller must not modify it.
func (m *Message) Data() []byte {
	if m.binary {
		return m.frame
	}
	return m.frame[1:]
}

// size is what m counts against a session's send queue limit.
func (m *Message) size() int { return len(m.frame) }

// base64Frame returns the text form of a binary message: 'b' + base64.
func (m *Message) base64Frame() []byte {
	if p := m.b64.Load(); p != nil {
		return *p
	}
	b := appendPollingPacket(make([]byte, 0, 1+base64.StdEncoding.EncodedLen(len(m.frame))), 0, m.frame, true)
	m.b64.CompareAndSwap(nil, &b) // racing callers build the same bytes
	return *m.b64.Load()
}

// wsFrame returns m as a complete WebSocket frame: header and payload. A
// server's frames are not masked, so the same bytes serve every session.
func (m *Message) wsFrame() []byte {
	m.wsOnce.Do(func() {
		if m.ws != nil {
			return // built with headroom
		}
		var hdr [FrameHeadroom]byte
		h := putFrameHeader(hdr[:], m.binary, len(m.frame))
		ws := make([]byte, h+len(m.frame))
		copy(ws, hdr[FrameHeadroom-h:])
		copy(ws[h:], m.frame)
		m.ws = ws
	})
	return m.ws
}

// putFrameHeader writes the header of a final, unmasked WebSocket frame
// with n payload bytes at the end of room (FrameHeadroom bytes) and
// returns its length.
func putFrameHeader(room []byte, binary bool, n int) int {
	opcode := byte(0x1) // text
	if binary {
		opcode = 0x2
	}
	var h int
	switch {
	case n < 126:
		h = 2
		room[FrameHeadroom-1] = byte(n)
	case n <= 0xFFFF:
		h = 4
		room[FrameHeadroom-3] = 126
		room[FrameHeadroom-2], room[FrameHeadroom-1] = byte(n>>8), byte(n)
	default:
		h = 10
		room[FrameHeadroom-9] = 127
		for i := range 8 {
			room[FrameHeadroom-8+i] = byte(uint64(n) >> (56 - 8*i))
		}
	}
	room[FrameHeadroom-h] = 0x80 | opcode // FIN
	return h
}

// pollingFrame returns m as one record of a polling payload.
func (m *Message) pollingFrame() []byte {
	if m.binary {
		return m.base64Frame()
	}
	return m.frame
}

// Control packets, shared by every session.
var (
	pingMessage   = &Message{frame: []byte{typePing}}
	noopMessage   = &Message{frame: []byte{typeNoop}}
	closeMessage  = &Message{frame: []byte{typeClose}}
	probeResponse = []byte("3probe")
)

// controlMessage returns a text packet of the given type.
func controlMessage(typ byte, data []byte) *Message {
	frame := make([]byte, 1+len(data))
	frame[0] = typ
	copy(frame[1:], data)
	return &Message{frame: frame}
}

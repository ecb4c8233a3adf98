package engineio

// Engine.IO protocol v3, the protocol of socket.io 2.x clients, spoken on
// sessions opened with EIO=3 when Options.AllowEIO3 is set. What differs
// from v4:
//
//   - a polling payload is "<length>:<packet>" repeated, the length counted
//     in UTF-16 code units (as JavaScript counts a string's length), and a
//     binary message in it is "b4" followed by standard base64;
//   - a client that can take binary (no b64 query) gets a payload holding
//     binary messages in the binary form: per packet a 0 (text) or 1
//     (binary) byte, the length as one byte per decimal digit, 0xff, and
//     the packet (text as UTF-8, binary as the type byte 4 and the data);
//     it may POST the same form as application/octet-stream;
//   - over WebSocket a binary message carries its type byte (4) in front
//     of the data, or is "b4"+base64 text with b64;
//   - the client pings ("2") and the server answers with a pong ("3"); a
//     session whose client has not pinged for PingInterval+PingTimeout is
//     closed with "ping timeout";
//   - the open packet has no maxPayload.
//
// v3 sessions use the WebSocket library for their WebSocket (see
// acceptWebSocket), so the v4 frames that the server builds once per
// message and shares between sessions are never used for them.

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"
)

// Protocol returns the Engine.IO protocol revision the session speaks: 4,
// or 3 for a socket.io 2.x client (see Options.AllowEIO3).
func (s *Session) Protocol() int {
	if s.eio3 {
		return 3
	}
	return 4
}

// onPingV3 answers a v3 client's ping and pushes the session's deadline to
// PingInterval+PingTimeout from now.
func (s *Session) onPingV3() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.nextPing = s.since(time.Now()) + s.srv.opts.PingInterval
	s.timer.Reset(s.srv.opts.PingInterval + s.srv.opts.PingTimeout)
	s.enqueueLocked(pongMessage)
	s.mu.Unlock()
}

// writePoll answers a polling GET with msgs and final, in the session's
// protocol.
func (s *Session) writePoll(w http.ResponseWriter, r *http.Request, msgs []*Message, final *Message) {
	if !s.eio3 {
		s.srv.writePayload(w, r, msgs, final)
		return
	}
	if final != nil {
		msgs = append(msgs[:len(msgs):len(msgs)], final)
	}
	if !s.b64 && hasBinary(msgs) {
		s.srv.writeBody(w, r, appendBinaryPayloadV3(nil, msgs), "application/octet-stream")
		return
	}
	s.srv.writeBody(w, r, appendTextPayloadV3(nil, msgs), "text/plain; charset=UTF-8")
}

func hasBinary(msgs []*Message) bool {
	for _, m := range msgs {
		if m.binary {
			return true
		}
	}
	return false
}

// appendBase64PacketV3 appends the v3 text form of a binary message:
// "b4" + standard base64.
func appendBase64PacketV3(dst, data []byte) []byte {
	dst = append(dst, 'b', typeMessage)
	return base64.StdEncoding.AppendEncode(dst, data)
}

// appendTextPayloadV3 appends msgs as a v3 text payload.
func appendTextPayloadV3(dst []byte, msgs []*Message) []byte {
	for _, m := range msgs {
		if m.binary {
			n := 2 + base64.StdEncoding.EncodedLen(len(m.frame))
			dst = strconv.AppendInt(dst, int64(n), 10)
			dst = append(dst, ':')
			dst = appendBase64PacketV3(dst, m.frame)
			continue
		}
		dst = strconv.AppendInt(dst, int64(utf16Len(m.frame)), 10)
		dst = append(dst, ':')
		dst = append(dst, m.frame...)
	}
	return dst
}

// appendBinaryPayloadV3 appends msgs as a v3 binary payload.
func appendBinaryPayloadV3(dst []byte, msgs []*Message) []byte {
	for _, m := range msgs {
		kind, n := byte(0), len(m.frame)
		if m.binary {
			kind, n = 1, 1+len(m.frame)
		}
		dst = append(dst, kind)
		start := len(dst)
		dst = strconv.AppendInt(dst, int64(n), 10)
		for i := start; i < len(dst); i++ {
			dst[i] -= '0'
		}
		dst = append(dst, 0xff)
		if m.binary {
			dst = append(dst, typeMessage-'0')
		}
		dst = append(dst, m.frame...)
	}
	return dst
}

// utf16Len returns the length of the UTF-8 text b in UTF-16 code units,
// as JavaScript counts the length of the string. An invalid byte counts as
// one unit: the client decodes it to one U+FFFD.
func utf16Len(b []byte) int {
	n := 0
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		i += size
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

// decodeTextV3 decodes one v3 text packet: as decodeText, except that a
// base64 binary packet is 'b', its type digit and the base64 data.
func decodeTextV3(b []byte) (packet, error) {
	if len(b) == 0 || b[0] != 'b' {
		return decodeText(b)
	}
	if len(b) < 2 || b[1] < typeOpen || b[1] > typeNoop {
		return packet{}, parseError("invalid base64 packet type")
	}
	data := make([]byte, base64.StdEncoding.DecodedLen(len(b)-2))
	n, err := base64.StdEncoding.Decode(data, b[2:])
	if err != nil {
		return packet{}, parseError("invalid base64 binary packet")
	}
	return packet{typ: b[1], data: data[:n], binary: b[1] == typeMessage}, nil
}

// decodeBinaryV3 decodes one v3 binary packet: its type as a byte (0 to
// 6), then the data.
func decodeBinaryV3(b []byte) (packet, error) {
	if len(b) == 0 || b[0] > typeNoop-'0' {
		return packet{}, parseError("invalid binary packet type")
	}
	typ := '0' + b[0]
	return packet{typ: typ, data: b[1:], binary: typ == typeMessage}, nil
}

// maxLengthDigits bounds the length prefix of a v3 payload's packet: no
// body the server accepts needs more.
const maxLengthDigits = 10

// decodePayloadV3 decodes a v3 text payload, whose text is valid UTF-8:
// "<length>:<packet>" repeated, each length in UTF-16 code units. An
// empty packet ("0:") is skipped. It stops at the first malformed record
// and returns an error.
func decodePayloadV3(b []byte) ([]packet, error) {
	if len(b) == 0 {
		return nil, parseError("empty payload")
	}
	var pkts []packet
	for len(b) > 0 {
		i := 0
		n := 0
		for ; i < len(b) && b[i] != ':'; i++ {
			c := b[i]
			if c < '0' || c > '9' || i == maxLengthDigits {
				return nil, parseError("invalid length")
			}
			n = n*10 + int(c-'0')
		}
		if i == 0 || i == len(b) {
			return nil, parseError("invalid length")
		}
		b = b[i+1:]
		end, units := 0, 0
		for units < n {
			if end == len(b) {
				return nil, parseError("packet shorter than its length")
			}
			r, size := utf8.DecodeRune(b[end:])
			end += size
			units++
			if r >= 0x10000 {
				units++
			}
		}
		if units != n {
			return nil, parseError("length splits a character")
		}
		if end > 0 {
			p, err := decodeTextV3(b[:end])
			if err != nil {
				return nil, err
			}
			pkts = append(pkts, p)
		}
		b = b[end:]
	}
	return pkts, nil
}

// maxBinaryLengthDigits is how many length digits the reference accepts in
// a binary payload.
const maxBinaryLengthDigits = 310

// decodeBinaryPayloadV3 decodes a v3 binary payload (a POST of
// application/octet-stream): per packet a 0 (text) or 1 (binary) byte, the
// length as one byte per decimal digit, 0xff, and the packet. Text packets
// are decoded as UTF-8, ill-formed sequences replaced by U+FFFD.
func decodeBinaryPayloadV3(b []byte) ([]packet, error) {
	if len(b) == 0 {
		return nil, parseError("empty payload")
	}
	var pkts []packet
	for len(b) > 0 {
		text := b[0] == 0
		i := 1
		n := 0
		for ; i < len(b) && b[i] != 0xff; i++ {
			c := b[i]
			if c > 9 || i > maxBinaryLengthDigits || n > len(b) {
				return nil, parseError("invalid length")
			}
			n = n*10 + int(c)
		}
		if i == 1 || i == len(b) {
			return nil, parseError("invalid length")
		}
		b = b[i+1:]
		if n > len(b) {
			return nil, parseError("packet shorter than its length")
		}
		rec := b[:n]
		b = b[n:]
		var p packet
		var err error
		if text {
			p, err = decodeTextV3(wellFormed(rec))
		} else {
			p, err = decodeBinaryV3(rec)
		}
		if err != nil {
			return nil, err
		}
		pkts = append(pkts, p)
	}
	return pkts, nil
}

// onFrameV3 handles one WebSocket message of a v3 session; see onFrame.
func (s *Session) onFrameV3(data []byte, binary bool) bool {
	var p packet
	var err error
	if binary {
		p, err = decodeBinaryV3(data)
	} else {
		p, err = decodeTextV3(data)
	}
	if err != nil {
		s.srv.logf(s, "bad packet", err)
		s.closeWith(ReasonParseError, err, closeByError)
		return false
	}
	s.onPacket(p)
	return true
}

// wsFrameV3 returns the WebSocket payload of a binary message for a v3
// session, and whether it goes as a text frame: "b4"+base64 with b64, the
// type byte and the data otherwise.
func (s *Session) wsFrameV3(m *Message) (payload []byte, text bool) {
	if s.b64 {
		return appendBase64PacketV3(make([]byte, 0, 2+base64.StdEncoding.EncodedLen(len(m.frame))), m.frame), true
	}
	b := make([]byte, 1+len(m.frame))
	b[0] = typeMessage - '0'
	copy(b[1:], m.frame)
	return b, false
}

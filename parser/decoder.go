package parser

import (
	"math"
)

// DefaultMaxAttachments is the attachment limit of a Decoder made with
// NewDecoder(0), the same as the reference implementation's default.
const DefaultMaxAttachments = 10

// Decoder decodes the Socket.IO packets of one connection from its Engine.IO
// messages, fed in order. It is stateful because a binary packet spans one
// text message and then one binary message per attachment. A Decoder is not
// safe for concurrent use.
type Decoder struct {
	max     int
	pending *Packet // binary packet waiting for attachments
	want    int     // attachments pending needs in total
}

// NewDecoder returns a Decoder that rejects binary packets announcing more
// than maxAttachments attachments; maxAttachments <= 0 means
// DefaultMaxAttachments.
//
// Every error it returns is a *DecodeError. In Socket.IO a decode error is
// fatal: the server closes the connection. The Decoder keeps references to
// the messages it is given (a packet's Data and Attachments alias them):
// the caller must not modify a message after passing it.
func NewDecoder(maxAttachments int) *Decoder {
	if maxAttachments <= 0 {
		maxAttachments = DefaultMaxAttachments
	}
	return &Decoder{max: maxAttachments}
}

// DecodeText decodes the text of an Engine.IO message, that is the
// Socket.IO packet without the Engine.IO "4" prefix. It returns the packet,
// or (nil, nil) when the packet is a BINARY_EVENT or BINARY_ACK that now
// waits for its attachments (see DecodeBinary).
//
// The text is <type>[<attachments>-][<namespace>,][<id>][<data>]: the
// namespace runs from a '/' to the next ',' or to the end of the text, the
// ack id is a run of decimal digits, and the data, when present, must be
// JSON valid for the type: an object for CONNECT, nothing for DISCONNECT,
// a string or an object for CONNECT_ERROR, an array for ACK and BINARY_ACK,
// and for EVENT and BINARY_EVENT an array whose first element is a number
// or a string that is not reserved (see IsReserved).
//
// A text message while a binary packet waits for attachments is an
// ErrUnexpectedText error; the waiting packet is kept.
func (d *Decoder) DecodeText(msg []byte) (*Packet, error) {
	p := new(Packet)
	if complete, err := d.decodeText(p, msg, true); !complete {
		return nil, err
	}
	return p, nil
}

// DecodeTextTo is DecodeText decoding into *p, which it overwrites: for a
// caller that reuses one Packet for every message. It reports whether *p
// holds a complete packet. A BINARY_EVENT or BINARY_ACK that waits for its
// attachments is kept by the Decoder in a Packet of its own, which
// DecodeBinary returns once complete. On error, *p is unspecified.
func (d *Decoder) DecodeTextTo(p *Packet, msg []byte) (complete bool, err error) {
	return d.decodeText(p, msg, false)
}

// decodeText decodes into *p; a binary packet waiting for attachments is
// kept as p itself when keep is set, else as a copy.
func (d *Decoder) decodeText(p *Packet, msg []byte, keep bool) (complete bool, err error) {
	if d.pending != nil {
		return false, decodeErr(ErrUnexpectedText, "got a text message while waiting for %d more attachment(s)",
			d.want-len(d.pending.Attachments))
	}
	n, err := d.parse(p, msg)
	if err != nil {
		return false, err
	}
	if n > 0 {
		q := p
		if !keep {
			q = new(Packet)
			*q = *p
		}
		q.Attachments = make([][]byte, 0, min(n, 16)) // n is the peer's claim
		d.pending, d.want = q, n
		return false, nil
	}
	return true, nil
}

// DecodeBinary takes the next attachment of the binary packet being
// reconstructed. It returns (nil, nil) while more attachments are due, and
// the packet with the last one, after checking that every placeholder in
// its data refers to an attachment (else an ErrInvalidPlaceholder error,
// and the packet is dropped). A binary message while no packet waits is an
// ErrUnexpectedBinary error.
func (d *Decoder) DecodeBinary(msg []byte) (*Packet, error) {
	p := d.pending
	if p == nil {
		return nil, decodeErr(ErrUnexpectedBinary, "got a binary message while not reconstructing a packet")
	}
	p.Attachments = append(p.Attachments, msg)
	if len(p.Attachments) < d.want {
		return nil, nil
	}
	d.pending, d.want = nil, 0
	var buf [8]placeholder
	phs, ok := findPlaceholders(p.Data, buf[:0])
	if !ok {
		return nil, decodeErr(ErrInvalidPayload, "malformed JSON")
	}
	for _, ph := range phs {
		if ph.num < 0 || ph.num >= len(p.Attachments) {
			return nil, decodeErr(ErrInvalidPlaceholder, "%s at offset %d does not refer to one of the %d attachment(s)",
				truncate(p.Data[ph.start:ph.end]), ph.start, len(p.Attachments))
		}
	}
	return p, nil
}

// Reset drops a binary packet waiting for attachments, if any.
func (d *Decoder) Reset() { d.pending, d.want = nil, 0 }

// parse decodes a text packet into *p and returns its attachment count.
func (d *Decoder) parse(p *Packet, msg []byte) (int, error) {
	if len(msg) == 0 {
		return 0, decodeErr(ErrUnknownType, "empty packet")
	}
	if msg[0] < '0' || msg[0] > '6' {
		return 0, decodeErr(ErrUnknownType, "first byte %q is not '0' to '6'", msg[0])
	}
	*p = Packet{Type: PacketType(msg[0] - '0'), Namespace: "/"}
	i, n := 1, 0
	if p.Type == BinaryEvent || p.Type == BinaryAck {
		j := i
		for j < len(msg) && msg[j] != '-' {
			j++
		}
		if j == len(msg) {
			return 0, decodeErr(ErrIllegalAttachments, "no '-' after the attachment count")
		}
		if j == i {
			return 0, decodeErr(ErrIllegalAttachments, "no attachment count before '-'")
		}
		tooMany := false
		for _, c := range msg[i:j] {
			if !isDigit(c) {
				return 0, decodeErr(ErrIllegalAttachments, "attachment count %q is not a number", truncate(msg[i:j]))
			}
			if !tooMany {
				n = n*10 + int(c-'0')
				tooMany = n > d.max
			}
		}
		if tooMany {
			return 0, decodeErr(ErrTooManyAttachments, "%s attachments, the limit is %d", truncate(msg[i:j]), d.max)
		}
		if n == 0 {
			return 0, decodeErr(ErrIllegalAttachments, "attachment count is 0")
		}
		i = j + 1
	}
	if i < len(msg) && msg[i] == '/' {
		j := i + 1
		for j < len(msg) && msg[j] != ',' {
			j++
		}
		if j-i > 1 {
			p.Namespace = string(msg[i:j])
		}
		i = j
		if i < len(msg) {
			i++ // the comma
		}
	}
	if i < len(msg) && isDigit(msg[i]) {
		var id uint64
		for ; i < len(msg) && isDigit(msg[i]); i++ {
			c := uint64(msg[i] - '0')
			if id > (math.MaxUint64-c)/10 {
				return 0, decodeErr(ErrInvalidPayload, "ack id does not fit in 64 bits")
			}
			id = id*10 + c
		}
		p.ID, p.HasID = id, true
	}
	if i < len(msg) {
		data := msg[i:]
		if p.Type == Disconnect {
			return 0, decodeErr(ErrInvalidPayload, "DISCONNECT must not carry data")
		}
		if !validJSON(data) {
			return 0, decodeErr(ErrInvalidPayload, "%s is not valid JSON", truncate(data))
		}
		if reason := checkPayload(p.Type, data); reason != "" {
			return 0, decodeErr(ErrInvalidPayload, "%s", reason)
		}
		p.Data = data
	}
	return n, nil
}

// checkPayload returns why the valid JSON data is not valid for a packet of
// type t, or "".
func checkPayload(t PacketType, data []byte) string {
	i := skipSpace(data, 0)
	if i >= len(data) {
		return "empty JSON" // not reached: data is valid JSON
	}
	c := data[i]
	switch t {
	case Connect:
		if c != '{' {
			return "CONNECT data must be an object"
		}
	case ConnectError:
		if c != '{' && c != '"' {
			return "CONNECT_ERROR data must be a string or an object"
		}
	case Ack, BinaryAck:
		if c != '[' {
			return t.String() + " data must be an array"
		}
	case Event, BinaryEvent:
		if c != '[' {
			return t.String() + " data must be an array"
		}
		i = skipSpace(data, i+1)
		if i >= len(data) {
			return "EVENT data is truncated"
		}
		switch c := data[i]; {
		case c == '-' || isDigit(c):
		case c == '"':
			j := skipString(data, i)
			if j < 0 {
				return "malformed event name"
			}
			for _, name := range reservedNames {
				if stringEquals(data[i:j], name) {
					return "event name " + name + " is reserved"
				}
			}
		case c == ']':
			return t.String() + " data must not be an empty array"
		default:
			return t.String() + " data must start with an event name (a string or a number)"
		}
	}
	return ""
}

var reservedNames = [...]string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}

// truncate returns b as a string for an error message, shortened if long.
func truncate(b []byte) string {
	const max = 64
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}

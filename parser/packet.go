package parser

import (
	"encoding/json"
	"strconv"
)

// PacketType is the type of a Socket.IO packet, the first character of
// its text encoding.
type PacketType byte

// The Socket.IO v5 packet types.
const (
	Connect      PacketType = 0
	Disconnect   PacketType = 1
	Event        PacketType = 2
	Ack          PacketType = 3
	ConnectError PacketType = 4
	BinaryEvent  PacketType = 5
	BinaryAck    PacketType = 6
)

var typeNames = [...]string{
	Connect:      "CONNECT",
	Disconnect:   "DISCONNECT",
	Event:        "EVENT",
	Ack:          "ACK",
	ConnectError: "CONNECT_ERROR",
	BinaryEvent:  "BINARY_EVENT",
	BinaryAck:    "BINARY_ACK",
}

// String returns the protocol's name of t, such as "BINARY_EVENT".
func (t PacketType) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "PacketType(" + strconv.Itoa(int(t)) + ")"
}

// Packet is one Socket.IO packet.
//
// A decoded BINARY_EVENT or BINARY_ACK keeps its wire type; the encoder
// treats Event and BinaryEvent (and Ack and BinaryAck) alike and picks the
// binary type exactly when Attachments is not empty.
type Packet struct {
	Type PacketType

	// Namespace starts with '/'. The decoder sets "/" when the packet
	// names none; the encoder omits "/" and "".
	Namespace string

	// ID is the ack id, valid when HasID is set.
	ID    uint64
	HasID bool

	// Data is the JSON payload exactly as received or to be sent; nil
	// means no payload. In a binary packet every attachment is referred to
	// by a placeholder {"_placeholder":true,"num":N}, N being its index in
	// Attachments.
	Data json.RawMessage

	// Attachments are the binary attachments of an EVENT or ACK, sent as
	// separate binary messages after the text. They are ignored for the
	// other packet types.
	Attachments [][]byte
}

// AppendText appends the text encoding of p to dst and returns the
// extended buffer:
//
//	<type>[<attachments>-][<namespace>,][<id>][<data>]
//
// An Event or Ack with attachments is written as a BinaryEvent or
// BinaryAck with the attachment count, and a BinaryEvent or BinaryAck
// without attachments as an Event or Ack. The attachments themselves are
// sent by the caller, in order, as binary messages after the text.
// AppendText does not validate p.Data. It allocates only to grow dst.
func AppendText(dst []byte, p *Packet) []byte {
	t, n := p.Type, len(p.Attachments)
	switch t {
	case Event, BinaryEvent:
		t = Event
		if n > 0 {
			t = BinaryEvent
		}
	case Ack, BinaryAck:
		t = Ack
		if n > 0 {
			t = BinaryAck
		}
	default:
		n = 0
	}
	dst = append(dst, '0'+byte(t))
	if n > 0 {
		dst = strconv.AppendInt(dst, int64(n), 10)
		dst = append(dst, '-')
	}
	if p.Namespace != "" && p.Namespace != "/" {
		dst = append(dst, p.Namespace...)
		dst = append(dst, ',')
	}
	if p.HasID {
		dst = strconv.AppendUint(dst, p.ID, 10)
	}
	return append(dst, p.Data...)
}

// IsReserved reports whether event is one of the event names that a peer
// must not emit: connect, connect_error, disconnect, disconnecting,
// newListener and removeListener. The decoder rejects an EVENT whose name
// is reserved.
func IsReserved(event string) bool {
	switch event {
	case "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener":
		return true
	}
	return false
}

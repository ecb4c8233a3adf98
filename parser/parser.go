package parser

// A Parser is a wire format of Socket.IO packets: how a [Packet] travels
// as Engine.IO messages, and how those messages become packets again. It
// is what Node's socket.io calls the "parser" option.
//
// The default format, [Default], is the one of socket.io-parser and of
// this package's encoder and [Decoder]: a text message per packet, then
// one binary message per attachment. Package
// github.com/gosio/gosio/parser/msgpackparser provides the format of the
// npm package socket.io-msgpack-parser, one binary MessagePack message per
// packet.
//
// Every server and client of one application must use the same Parser: a
// peer using another format cannot read the packets (Node has the same
// rule). So must the servers of one cluster, since a broadcast received
// from another server is encoded with the local server's Parser.
//
// Whatever the format, the rest of gosio sees packets in the form of this
// package: Data is JSON, and binary values are placeholders referring to
// Attachments. A Parser is stateless and safe for concurrent use; its
// decoders are not.
type Parser interface {
	// AppendPacket appends the first Engine.IO message of p to dst and
	// returns the extended buffer, which keeps dst's content as its
	// prefix. binary reports whether that message is binary; otherwise it
	// is text, without Engine.IO's "4" prefix. more are the binary
	// messages to send after it, in order (the attachments of the default
	// format, none for MessagePack); they may alias p.Attachments.
	//
	// An error means p cannot be written in the format (invalid JSON in
	// p.Data, say); dst is then returned unchanged.
	AppendPacket(dst []byte, p *Packet) (msg []byte, binary bool, more [][]byte, err error)

	// NewDecoder returns a decoder for the messages of one connection. A
	// binary packet announcing more than maxAttachments attachments is
	// refused, where the format has attachments; maxAttachments <= 0
	// means DefaultMaxAttachments.
	NewDecoder(maxAttachments int) PacketDecoder
}

// A PacketDecoder decodes the packets of one connection from its Engine.IO
// messages, fed in order. It is not safe for concurrent use.
type PacketDecoder interface {
	// Decode takes the next message, text or binary. It returns the packet
	// the message completes, or (nil, nil) when the packet waits for more
	// messages. Every error is a *DecodeError; in Socket.IO a decode error
	// is fatal and the connection is closed. The packet may alias msg,
	// which the caller must then not modify.
	Decode(msg []byte, binary bool) (*Packet, error)
}

// Default is the default wire format, the one of socket.io-parser: see
// [AppendText] and [Decoder]. A nil Parser in gosio's options means
// Default.
var Default Parser = defaultParser{}

type defaultParser struct{}

// AppendPacket writes the text of p (see AppendText); its attachments
// follow as binary messages.
func (defaultParser) AppendPacket(dst []byte, p *Packet) ([]byte, bool, [][]byte, error) {
	var more [][]byte
	switch p.Type {
	case Event, BinaryEvent, Ack, BinaryAck:
		more = p.Attachments
	}
	return AppendText(dst, p), false, more, nil
}

// NewDecoder returns NewDecoder(maxAttachments).
func (defaultParser) NewDecoder(maxAttachments int) PacketDecoder {
	return NewDecoder(maxAttachments)
}

// Decode implements PacketDecoder: a text message goes to DecodeText, a
// binary one to DecodeBinary.
func (d *Decoder) Decode(msg []byte, binary bool) (*Packet, error) {
	if binary {
		return d.DecodeBinary(msg)
	}
	return d.DecodeText(msg)
}

// Package parser encodes and decodes Socket.IO v5 packets, including
// binary attachments. It does no I/O: each packet travels as one Engine.IO
// message (the text, without Engine.IO's "4" prefix) followed by one binary
// Engine.IO message per attachment.
//
// # Packets
//
// A [Packet] has a type, a namespace, an optional ack id and a JSON payload
// kept as raw bytes, so that what a peer sent can be passed on unchanged:
//
//	2["foo"]                                    EVENT "foo" to "/"
//	3/admin,13["bar"]                           ACK 13 in "/admin"
//	51-["baz",{"_placeholder":true,"num":0}]    BINARY_EVENT, 1 attachment
//
// # Encoding
//
// [AppendText] writes a packet's text into a caller's buffer and allocates
// nothing else; the caller then sends the packet's Attachments in order.
// Payloads are built with [MarshalArgs], which turns every []byte argument
// into a placeholder and an attachment:
//
//	data, atts, err := parser.MarshalArgs(nil, "upload", name, fileBytes)
//	p := &parser.Packet{Type: parser.Event, Namespace: "/", Data: data, Attachments: atts}
//	text := parser.AppendText(nil, p) // 51-["upload","a.txt",{"_placeholder":true,"num":0}]
//
// # Decoding
//
// A [Decoder] is fed one connection's messages in order: text messages to
// [Decoder.DecodeText] and binary ones to [Decoder.DecodeBinary]. It
// returns each packet once it is complete, with its attachments. It makes
// the checks of the reference implementation (socket.io-parser 4.2), a
// little more strictly where that one is lax (it reads only decimal digits
// as numbers), and reports invalid input with a [*DecodeError] whose Kind,
// one of the Err* sentinels, works with [errors.Is]. A Socket.IO server
// closes the connection on any decode error.
//
// # Arguments
//
// [SplitArray] splits an event's payload into its arguments, and
// [Unmarshal] decodes one of them into a Go value, placeholders becoming
// []byte. An argument to be sent on unchanged, binary included, is a
// [Value]; MarshalArgs writes it back byte for byte.
package parser

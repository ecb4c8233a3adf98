package engineio

import (
	"encoding/base64"
	"errors"
	"fmt"
)

// Engine.IO v4 packet types, as the ASCII digit that starts a text packet.
const (
	typeOpen    byte = '0'
	typeClose   byte = '1'
	typePing    byte = '2'
	typePong    byte = '3'
	typeMessage byte = '4'
	typeUpgrade byte = '5'
	typeNoop    byte = '6'
)

// recordSeparator joins packets in a polling payload.
const recordSeparator = 0x1e

// errParse is returned by the decoders for malformed packets or payloads.
var errParse = errors.New("engineio: parse error")

// packet is one decoded Engine.IO packet.
type packet struct {
	typ    byte
	data   []byte
	binary bool // a message whose data is binary
}

func parseError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errParse, fmt.Sprintf(format, args...))
}

// decodeText decodes one text packet, as carried by a WebSocket text frame
// or as one record of a polling payload. A packet starting with 'b' is a
// base64-encoded binary message. The returned data aliases b, except for
// base64 messages, which are decoded into a new slice.
func decodeText(b []byte) (packet, error) {
	if len(b) == 0 {
		return packet{}, parseError("empty packet")
	}
	if b[0] == 'b' {
		data := make([]byte, base64.StdEncoding.DecodedLen(len(b)-1))
		n, err := base64.StdEncoding.Decode(data, b[1:])
		if err != nil {
			return packet{}, parseError("invalid base64 binary packet")
		}
		return packet{typ: typeMessage, data: data[:n], binary: true}, nil
	}
	if b[0] < typeOpen || b[0] > typeNoop {
		return packet{}, parseError("unknown packet type %q", b[0])
	}
	return packet{typ: b[0], data: b[1:]}, nil
}

// decodePayload decodes a polling payload: text packets separated by
// 0x1e. It stops at the first malformed packet and returns an error.
func decodePayload(b []byte) ([]packet, error) {
	if len(b) == 0 {
		return nil, parseError("empty payload")
	}
	n := 1
	for _, c := range b {
		if c == recordSeparator {
			n++
		}
	}
	pkts := make([]packet, 0, n)
	for len(b) > 0 || n > len(pkts) {
		rec := b
		rest := []byte(nil)
		for i, c := range b {
			if c == recordSeparator {
				rec, rest = b[:i], b[i+1:]
				break
			}
		}
		p, err := decodeText(rec)
		if err != nil {
			return nil, err
		}
		pkts = append(pkts, p)
		b = rest
	}
	return pkts, nil
}

// appendPollingPacket appends the polling form of one packet: text packets
// as they are, binary messages as 'b' followed by standard base64.
func appendPollingPacket(dst []byte, typ byte, data []byte, binary bool) []byte {
	if binary {
		dst = append(dst, 'b')
		return base64.StdEncoding.AppendEncode(dst, data)
	}
	dst = append(dst, typ)
	return append(dst, data...)
}

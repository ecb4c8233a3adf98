package engineio

import (
	"errors"
	"strconv"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

// decodePayloadV3Model decodes a v3 text payload as the reference does, on
// the UTF-16 code units of the text, independently of decodePayloadV3: a
// length that ends inside a surrogate pair is an error (the reference
// would cut the character in two).
func decodePayloadV3Model(in []byte) ([]packet, error) {
	units := utf16.Encode([]rune(string(in)))
	if len(units) == 0 {
		return nil, errParse
	}
	var pkts []packet
	for len(units) > 0 {
		i := 0
		for i < len(units) && units[i] != ':' {
			i++
		}
		if i == 0 || i == len(units) || i > maxLengthDigits {
			return nil, errParse
		}
		n, err := strconv.Atoi(string(utf16.Decode(units[:i])))
		if err != nil || n < 0 || n > len(units)-i-1 {
			return nil, errParse
		}
		for _, c := range units[:i] {
			if c < '0' || c > '9' {
				return nil, errParse
			}
		}
		msg := units[i+1 : i+1+n]
		if n > 0 && utf16.IsSurrogate(rune(msg[n-1])) && (n < 2 || !utf16.IsSurrogate(rune(msg[n-2])) || (msg[n-1] >= 0xdc00) == (msg[n-2] >= 0xdc00)) {
			return nil, errParse // a high surrogate whose low half is cut off
		}
		if n > 0 {
			p, err := decodeTextV3([]byte(string(utf16.Decode(msg))))
			if err != nil {
				return nil, err
			}
			pkts = append(pkts, p)
		}
		units = units[i+1+n:]
	}
	return pkts, nil
}

// v3Messages turns decoded packets back into messages, when every packet
// can be sent as one: a binary message, or a text packet of valid UTF-8.
func v3Messages(pkts []packet) ([]*Message, bool) {
	msgs := make([]*Message, 0, len(pkts))
	for _, p := range pkts {
		switch {
		case p.binary:
			msgs = append(msgs, NewBinaryMessage(p.data))
		case p.typ != typeMessage && len(p.data) > 0 && !utf8.Valid(p.data):
			return nil, false
		case utf8.Valid(p.data):
			msgs = append(msgs, controlMessage(p.typ, p.data))
		default:
			return nil, false
		}
	}
	return msgs, true
}

func FuzzDecodePayloadV3(f *testing.F) {
	for _, s := range []string{
		"6:4hello", "2:4a2:4b", "9:4héllo 😀", "6:b4AQID", "0:1:2", "1:21:3", "",
		"2:4😀", "x:4", "12345678901:4", "3:b9x", "4:b4!!", "1:", ":",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		in = wellFormed(in)
		got, err := decodePayloadV3(in)
		want, wantErr := decodePayloadV3Model(in)
		if (err == nil) != (wantErr == nil) || !samePackets(got, want) {
			t.Fatalf("decodePayloadV3(%q) = %s, %v; the model gives %s, %v", in, fmtPackets(got), err, fmtPackets(want), wantErr)
		}
		if err != nil {
			if !errors.Is(err, errParse) || got != nil {
				t.Fatalf("decodePayloadV3(%q) = %s, %v; want nil and a parse error", in, fmtPackets(got), err)
			}
			return
		}
		msgs, ok := v3Messages(got)
		if !ok || len(msgs) == 0 {
			return
		}
		enc := appendTextPayloadV3(nil, msgs)
		again, err := decodePayloadV3(enc)
		if err != nil || !samePackets(got, again) {
			t.Fatalf("round trip of %q: %q decodes to %s, %v; want %s", in, enc, fmtPackets(again), err, fmtPackets(got))
		}
	})
}

func FuzzDecodeBinaryPayloadV3(f *testing.F) {
	for _, b := range [][]byte{
		{0, 6, 0xff, '4', 'h', 'e', 'l', 'l', 'o'},
		{0, 2, 0xff, '4', 'x', 1, 3, 0xff, 4, 0xca, 0xfe},
		{1, 1, 0xff, 4}, {0, 1, 0xff, '2'}, {}, {0}, {0, 0xff}, {1, 1, 0xff, 9},
		{0, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 0xff},
	} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := decodeBinaryPayloadV3(in)
		if err != nil {
			if !errors.Is(err, errParse) || got != nil {
				t.Fatalf("decodeBinaryPayloadV3(%x) = %s, %v; want nil and a parse error", in, fmtPackets(got), err)
			}
			return
		}
		if len(got) == 0 {
			t.Fatalf("decodeBinaryPayloadV3(%x) gave no packet and no error", in)
		}
		for _, p := range got {
			if p.binary && p.typ != typeMessage {
				return // a binary non-message packet: nothing sends one
			}
		}
		msgs, ok := v3Messages(got)
		if !ok {
			return
		}
		enc := appendBinaryPayloadV3(nil, msgs)
		again, err := decodeBinaryPayloadV3(enc)
		if err != nil || !samePackets(got, again) {
			t.Fatalf("round trip of %x: %x decodes to %s, %v; want %s", in, enc, fmtPackets(again), err, fmtPackets(got))
		}
	})
}

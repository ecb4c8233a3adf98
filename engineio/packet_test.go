package engineio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"
	"github.com/gosio/gosio/internal/testutil"
)

// samePackets reports whether two packet lists are equal, treating nil
// and empty data alike.
func samePackets(a, b []packet) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].typ != b[i].typ || a[i].binary != b[i].binary || !bytes.Equal(a[i].data, b[i].data) {
			return false
		}
	}
	return true
}

func fmtPackets(ps []packet) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteString(", ")
		}
		if p.binary {
			fmt.Fprintf(&b, "binary%x", p.data)
		} else {
			fmt.Fprintf(&b, "%c%q", p.typ, p.data)
		}
	}
	return "[" + b.String() + "]"
}

// encodePayload is the inverse of decodePayload.
func encodePayload(ps []packet) []byte {
	var b []byte
	for i, p := range ps {
		if i > 0 {
			b = append(b, recordSeparator)
		}
		b = appendPollingPacket(b, p.typ, p.data, p.binary)
	}
	return b
}

func text(typ byte, data string) packet { return packet{typ: typ, data: []byte(data)} }
func binaryPacket(data ...byte) packet  { return packet{typ: typeMessage, data: data, binary: true} }

func TestDecodeText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want packet
		err  bool
	}{
		{in: "4hello", want: text('4', "hello")},
		{in: "4", want: text('4', "")},
		{in: "4\x00\xff", want: text('4', "\x00\xff")}, // bytes pass through
		{in: `0{"sid":"x"}`, want: text('0', `{"sid":"x"}`)},
		{in: "1", want: text('1', "")},
		{in: "2", want: text('2', "")},
		{in: "2probe", want: text('2', "probe")},
		{in: "3probe", want: text('3', "probe")},
		{in: "5", want: text('5', "")},
		{in: "6", want: text('6', "")},
		{in: "bAQIDBA==", want: binaryPacket(1, 2, 3, 4)},
		{in: "b", want: binaryPacket()},
		{in: "b/w==", want: binaryPacket(0xff)},
		{in: "", err: true},
		{in: "7", err: true},
		{in: "9x", err: true},
		{in: "abc", err: true},
		{in: "B", err: true},
		{in: "\x1e", err: true},
		{in: "b!!!!", err: true},
		{in: "bAQIDBA", err: true},    // base64 padding is required
		{in: "b_w==", err: true},      // URL alphabet is not base64 std
		{in: "bAQIDBA==4", err: true}, // trailing data after padding
	}
	for _, tc := range tests {
		t.Run(strconv.Quote(tc.in), func(t *testing.T) {
			t.Parallel()
			got, err := decodeText([]byte(tc.in))
			if tc.err {
				if !errors.Is(err, errParse) {
					t.Fatalf("decodeText(%q) = %v, %v; want a parse error", tc.in, fmtPackets([]packet{got}), err)
				}
				return
			}
			testutil.NoErr(t, err)
			if !samePackets([]packet{got}, []packet{tc.want}) {
				t.Fatalf("decodeText(%q) = %s, want %s", tc.in, fmtPackets([]packet{got}), fmtPackets([]packet{tc.want}))
			}
		})
	}
}

func TestDecodePayload(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []packet
		err  bool
	}{
		// The protocol spec's vectors.
		{in: "4hello", want: []packet{text('4', "hello")}},
		{in: "4test1\x1e4test2\x1e4test3", want: []packet{text('4', "test1"), text('4', "test2"), text('4', "test3")}},
		{in: "4hello\x1ebAQIDBA==", want: []packet{text('4', "hello"), binaryPacket(1, 2, 3, 4)}},
		{in: "bAQIDBA==\x1e4hello", want: []packet{binaryPacket(1, 2, 3, 4), text('4', "hello")}},
		{in: "3\x1e4a", want: []packet{text('3', ""), text('4', "a")}},
		{in: "1", want: []packet{text('1', "")}},
		{in: "4\x1e4", want: []packet{text('4', ""), text('4', "")}},
		{in: "b\x1eb", want: []packet{binaryPacket(), binaryPacket()}},
		// Invalid payloads: any bad record fails the whole payload.
		{in: "", err: true},
		{in: "abc", err: true},
		{in: "4ok\x1eabc", err: true},
		{in: "4ok\x1ebAQ!D", err: true},
		{in: "bAQIDBA", err: true},
		// Empty records. The reference parser would read "" as an open
		// packet, which its server ignores; this server rejects them.
		{in: "\x1e", err: true},
		{in: "4a\x1e", err: true},
		{in: "\x1e4a", err: true},
		{in: "4a\x1e\x1e4b", err: true},
	}
	for _, tc := range tests {
		t.Run(strconv.Quote(tc.in), func(t *testing.T) {
			t.Parallel()
			got, err := decodePayload([]byte(tc.in))
			if tc.err {
				if !errors.Is(err, errParse) || got != nil {
					t.Fatalf("decodePayload(%q) = %s, %v; want nil and a parse error", tc.in, fmtPackets(got), err)
				}
				return
			}
			testutil.NoErr(t, err)
			if !samePackets(got, tc.want) {
				t.Fatalf("decodePayload(%q) = %s, want %s", tc.in, fmtPackets(got), fmtPackets(tc.want))
			}
			testutil.Equal(t, string(encodePayload(got)), tc.in)
		})
	}
}

func TestDecodePayloadAliasing(t *testing.T) {
	t.Parallel()
	// Text data aliases the input; binary data does not.
	in := []byte("4abc\x1ebAQI=")
	ps, err := decodePayload(in)
	testutil.NoErr(t, err)
	in[1] = 'X'
	testutil.Equal(t, string(ps[0].data), "Xbc")
	in[7] = 'X'
	testutil.Equal(t, ps[1].data, []byte{1, 2})
}

// TestDecodeAllocs pins the decoders' allocations: none for a text packet,
// which aliases its input, and one slice for a payload of text packets.
func TestDecodeAllocs(t *testing.T) { // not parallel: AllocsPerRun forbids it
	one := []byte("4hello")
	if n := testing.AllocsPerRun(100, func() { _, _ = decodeText(one) }); n != 0 {
		t.Errorf("decodeText of a text packet: %v allocations, want 0", n)
	}
	many := []byte("4test1\x1e4test2\x1e4test3\x1e2\x1e3")
	if n := testing.AllocsPerRun(100, func() { _, _ = decodePayload(many) }); n != 1 {
		t.Errorf("decodePayload of text packets: %v allocations, want 1", n)
	}
}

func TestAppendPollingPacket(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		dst    string
		typ    byte
		data   string
		binary bool
		want   string
	}{
		{"text", "", '4', "hello", false, "4hello"},
		{"empty text", "", '4', "", false, "4"},
		{"ping", "", '2', "", false, "2"},
		{"probe", "", '3', "probe", false, "3probe"},
		{"binary", "", 0, "\x01\x02\x03\x04", true, "bAQIDBA=="},
		{"empty binary", "", 0, "", true, "b"},
		{"binary ignores type", "", '4', "\xff", true, "b/w=="},
		{"appends", "4a\x1e", '4', "b", false, "4a\x1e4b"},
		{"appends binary", "4a\x1e", 0, "\x00", true, "4a\x1ebAA=="},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := appendPollingPacket([]byte(tc.dst), tc.typ, []byte(tc.data), tc.binary)
			testutil.Equal(t, string(got), tc.want)
		})
	}
}

func TestMessage(t *testing.T) {
	t.Parallel()
	t.Run("text copies", func(t *testing.T) {
		t.Parallel()
		data := []byte("hi")
		m := NewTextMessage(data)
		data[0] = 'X'
		testutil.Equal(t, string(m.Data()), "hi")
		testutil.Equal(t, m.IsBinary(), false)
		testutil.Equal(t, string(m.pollingFrame()), "4hi")
		testutil.Equal(t, m.size(), 3)
	})
	t.Run("text frame", func(t *testing.T) {
		t.Parallel()
		m := NewTextMessageFrame([]byte("4hi"))
		testutil.Equal(t, string(m.Data()), "hi")
		testutil.Equal(t, string(m.pollingFrame()), "4hi")
		for _, bad := range []string{"", "3hi", "hi"} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("NewTextMessageFrame(%q) did not panic", bad)
					}
				}()
				NewTextMessageFrame([]byte(bad))
			}()
		}
	})
	t.Run("binary", func(t *testing.T) {
		t.Parallel()
		m := NewBinaryMessage([]byte{1, 2, 3, 4})
		testutil.Equal(t, m.IsBinary(), true)
		testutil.Equal(t, m.Data(), []byte{1, 2, 3, 4})
		testutil.Equal(t, m.size(), 4)
		// The base64 form is made once and shared, safely, by concurrent
		// writers (a broadcast to many polling sessions).
		var wg sync.WaitGroup
		frames := make([][]byte, 8)
		for i := range frames {
			wg.Go(func() { frames[i] = m.pollingFrame() })
		}
		wg.Wait()
		for _, f := range frames {
			testutil.Equal(t, string(f), "bAQIDBA==")
			if &f[0] != &frames[0][0] {
				t.Fatal("base64 form encoded more than once")
			}
		}
	})
}

// FuzzDecodeText checks that decodeText never panics, that what it accepts
// survives a round trip, and that it accepts every packet type digit.
func FuzzDecodeText(f *testing.F) {
	for _, s := range []string{"4hello", "4", "2probe", "3probe", "5", "6", "1", `0{"sid":"a"}`, "bAQIDBA==", "b", "", "abc", "b!!"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := decodeText(in)
		if len(in) > 0 && in[0] >= '0' && in[0] <= '6' {
			if err != nil || p.typ != in[0] || p.binary || !bytes.Equal(p.data, in[1:]) {
				t.Fatalf("decodeText(%q) = %s, %v; want the packet as it is", in, fmtPackets([]packet{p}), err)
			}
		}
		if err != nil {
			if !errors.Is(err, errParse) {
				t.Fatalf("decodeText(%q): error %v is not a parse error", in, err)
			}
			return
		}
		if p.binary && p.typ != typeMessage {
			t.Fatalf("decodeText(%q): binary packet of type %c", in, p.typ)
		}
		enc := appendPollingPacket(nil, p.typ, p.data, p.binary)
		p2, err := decodeText(enc)
		if err != nil || !samePackets([]packet{p}, []packet{p2}) {
			t.Fatalf("round trip of %q: %q decodes to %s, %v; want %s", in, enc, fmtPackets([]packet{p2}), err, fmtPackets([]packet{p}))
		}
		if !p.binary {
			testutil.Equal(t, string(enc), string(in)) // text is kept byte for byte
		}
	})
}

// decodeRecords is a plain model of decodePayload: split on 0x1e, decode
// each record.
func decodeRecords(in []byte) ([]packet, error) {
	if len(in) == 0 {
		return nil, errParse
	}
	var ps []packet
	for rec := range bytes.SplitSeq(in, []byte{recordSeparator}) {
		p, err := decodeText(rec)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// FuzzDecodePayload checks decodePayload against a model, checks round
// trips, and splits the input at an arbitrary point: cut at the next
// record separator, the two halves decode to the whole's packets.
func FuzzDecodePayload(f *testing.F) {
	for _, s := range []string{
		"4hello", "4test1\x1e4test2\x1e4test3", "4hello\x1ebAQIDBA==", "2\x1e3\x1e6",
		"abc", "4a\x1e", "\x1e", "", "4a\x1eb!!", "b\x1eb",
	} {
		f.Add([]byte(s), uint16(len(s)/2))
	}
	f.Fuzz(func(t *testing.T, in []byte, cut uint16) {
		got, err := decodePayload(in)
		want, wantErr := decodeRecords(in)
		if (err == nil) != (wantErr == nil) || !samePackets(got, want) {
			t.Fatalf("decodePayload(%q) = %s, %v; the model gives %s, %v", in, fmtPackets(got), err, fmtPackets(want), wantErr)
		}
		if err != nil {
			if !errors.Is(err, errParse) || got != nil {
				t.Fatalf("decodePayload(%q) = %s, %v; want nil and a parse error", in, fmtPackets(got), err)
			}
		} else {
			enc := encodePayload(got)
			again, err := decodePayload(enc)
			if err != nil || !samePackets(got, again) {
				t.Fatalf("round trip of %q: %q decodes to %s, %v; want %s", in, enc, fmtPackets(again), err, fmtPackets(got))
			}
		}

		// Split: records never span a separator, so decoding the part
		// before one and the part after it gives the whole, in order.
		i := int(cut) % (len(in) + 1)
		j := bytes.IndexByte(in[i:], recordSeparator)
		if j < 0 {
			return
		}
		j += i
		head, herr := decodePayload(in[:j])
		tail, terr := decodePayload(in[j+1:])
		bothOK := herr == nil && terr == nil
		if bothOK != (err == nil) {
			t.Fatalf("split of %q at %d: halves decode with %v / %v, whole with %v", in, j, herr, terr, err)
		}
		if bothOK && !samePackets(append(head, tail...), got) {
			t.Fatalf("split of %q at %d: halves give %s + %s, whole %s", in, j, fmtPackets(head), fmtPackets(tail), fmtPackets(got))
		}
	})
}

// TestPostRandomBodies POSTs random and mutated payloads to a live server:
// no request may panic or get an unexpected answer, a session whose
// payload was refused is gone, and the well-behaved sessions keep working.
func TestPostRandomBodies(t *testing.T) {
	t.Parallel()
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	opts := quietOptions()
	opts.MaxHTTPBufferSize = 4096
	ts := newTestServer(t, opts, nil)

	goodPoll := ts.openPolling(t)
	goodWS, _ := ts.openWS(t)
	checkGood := func() {
		t.Helper()
		testutil.Equal(t, ts.post(t, goodPoll, "4still").body, "ok")
		testutil.Equal(t, ts.poll(t, goodPoll).body, "4still")
		writeText(t, goodWS, "4still")
		testutil.Equal(t, readText(t, goodWS), "4still")
	}

	valid := []string{"4hello", "4test1\x1e4test2", "4hello\x1ebAQIDBA==", "3", "6", "5", "0", "b", "4"}
	body := func() []byte {
		switch rng.IntN(3) {
		case 0: // random bytes, biased towards the protocol's alphabet
			b := make([]byte, rng.IntN(64))
			for i := range b {
				switch rng.IntN(4) {
				case 0:
					b[i] = byte(rng.UintN(256))
				case 1:
					b[i] = recordSeparator
				default:
					b[i] = "0123456b4=AQIDB+/x"[rng.IntN(18)]
				}
			}
			return b
		case 1: // a valid payload with a few bytes changed
			b := []byte(valid[rng.IntN(len(valid))])
			for range 1 + rng.IntN(3) {
				b[rng.IntN(len(b))] = byte(rng.UintN(256))
			}
			return b
		default: // several valid packets, some long
			var b []byte
			for i := range 1 + rng.IntN(5) {
				if i > 0 {
					b = append(b, recordSeparator)
				}
				if rng.IntN(4) == 0 {
					b = appendPollingPacket(b, 0, bytes.Repeat([]byte{byte(i)}, rng.IntN(3000)), true)
				} else {
					b = append(b, valid[rng.IntN(len(valid))]...)
				}
			}
			return b
		}
	}

	sid := ts.openPolling(t)
	for i := range 300 {
		b := body()
		r, err := ts.doErr(context.Background(), http.MethodPost, pollQuery(sid), bytes.NewReader(b), nil)
		testutil.NoErr(t, err)
		switch {
		case r.status == http.StatusOK && r.body == "ok":
		case r.status == http.StatusBadRequest:
		case r.status == http.StatusRequestEntityTooLarge && len(b) > 4096:
		default:
			t.Fatalf("POST %q: status %d body %q", b, r.status, r.body)
		}
		if !ts.isOpen(sid) || r.status == http.StatusBadRequest {
			// Closed by its payload ("1", "2", a parse error): gone for good,
			// but for a noop owed to a client that sent "1" (after what was
			// queued before it).
			if got := ts.poll(t, sid); got.status == http.StatusOK && !strings.HasSuffix("\x1e"+got.body, "\x1e6") {
				t.Fatalf("GET after %q closed the session: status %d body %q", b, got.status, got.body)
			}
			sid = ts.openPolling(t)
		}
		if i%50 == 0 {
			checkGood()
		}
		// WebSocket frames of the same kind, on their own session.
		if i%10 == 0 {
			c, wsid := ts.openWS(t)
			typ := websocket.MessageText
			if rng.IntN(3) == 0 {
				typ = websocket.MessageBinary
			}
			writeMessage(t, c, typ, b)
			if p, err := decodeText(b); typ == websocket.MessageText && (err != nil || p.typ == typeClose || p.typ == typePing) {
				readUntilClosed(t, c)
				ts.waitClose(t, wsid)
			}
			_ = c.CloseNow()
		}
	}
	checkGood()
}

package engineio

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzClientHandshake feeds the client's open-packet parser arbitrary
// payloads: it never panics, and an accepted handshake has a session id
// and positive ping durations equal to its milliseconds, whose sum (the
// client's heartbeat deadline) does not overflow.
func FuzzClientHandshake(f *testing.F) {
	for _, s := range []string{
		`{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`,
		`{"sid":"x","upgrades":[],"pingInterval":1,"pingTimeout":1,"maxPayload":0}`,
		`{"sid":"x","pingInterval":9223372036854775,"pingTimeout":9223372036854775}`,
		`{"sid":"x","pingInterval":2147483647,"pingTimeout":2147483647,"maxPayload":-1}`,
		`{"sid":"x","pingInterval":-5,"pingTimeout":1e3}`,
		`{"sid":"","pingInterval":1,"pingTimeout":1}`,
		`{"sid":"x","pingInterval":1.5,"pingTimeout":1}`,
		`[]`, `null`, ``,
	} {
		f.Add(byte(typeOpen), []byte(s))
	}
	f.Fuzz(func(t *testing.T, typ byte, data []byte) {
		hs, err := parseHandshake(packet{typ: typ, data: data})
		if err != nil {
			if !errors.Is(err, errParse) {
				t.Fatalf("error %v is not a parse error", err)
			}
			return
		}
		if typ != typeOpen || hs.SID == "" {
			t.Fatalf("accepted %q %q", typ, data)
		}
		for _, d := range []struct {
			ms  int64
			dur time.Duration
		}{{hs.PingInterval, hs.interval}, {hs.PingTimeout, hs.timeout}} {
			if d.dur <= 0 || d.dur/time.Millisecond != time.Duration(d.ms) || d.dur%time.Millisecond != 0 {
				t.Fatalf("%d ms became %v", d.ms, d.dur)
			}
		}
		if hs.interval+hs.timeout <= hs.interval {
			t.Fatalf("interval %v + timeout %v overflows", hs.interval, hs.timeout)
		}
	})
}

// TestClientHandshakeOverflow: a handshake whose ping durations overflow
// time.Duration is refused (it made a heartbeat deadline in the past).
func TestClientHandshakeOverflow(t *testing.T) {
	t.Parallel()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `0{"sid":"x","upgrades":[],"pingInterval":9223372036854775,"pingTimeout":9223372036854775,"maxPayload":1000000}`)
	}))
	defer hs.Close()
	c, err := Dial(context.Background(), hs.URL, &DialOptions{Transports: []string{TransportPolling}})
	if err == nil {
		_ = c.Close()
		t.Fatal("Dial accepted ping durations that overflow")
	}
	if !errors.Is(err, errParse) {
		t.Fatalf("Dial = %v, want a parse error", err)
	}
}

// FuzzClientPayload feeds the client's streaming polling decoder
// arbitrary bodies, read in pieces of every size: it accepts exactly the
// bodies decodePayload accepts, with the same packets, and never
// delivers a packet over the limit.
func FuzzClientPayload(f *testing.F) {
	for _, s := range []string{"4hello\x1e2\x1ebAQID", "4", "", "\x1e", "4a\x1e", "6\x1e6", "bAAECAw==", "b!!", "9x", strings.Repeat("4a\x1e", 100) + "4z"} {
		f.Add([]byte(s), uint8(3), int64(0))
	}
	f.Fuzz(func(t *testing.T, body []byte, piece uint8, limit int64) {
		if limit < 0 || limit > 1<<20 {
			limit = 0
		}
		want, wantErr := decodePayload(bytes.Clone(body))
		var got []packet
		err := readPayload(&pieceReader{body, int(piece%17) + 1}, limit, func(p packet) bool {
			if limit > 0 && p.binary && int64(len(p.data)) > limit {
				t.Fatalf("a binary packet of %d bytes passed the limit %d", len(p.data), limit)
			}
			got = append(got, p)
			return true
		})
		if errors.Is(err, ErrMessageTooLarge) {
			if limit == 0 {
				t.Fatal("ErrMessageTooLarge without a limit")
			}
			return
		}
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("readPayload: %v, decodePayload: %v", err, wantErr)
		}
		if err != nil {
			return
		}
		if len(got) != len(want) {
			t.Fatalf("%d packets, want %d", len(got), len(want))
		}
		for i := range got {
			if got[i].typ != want[i].typ || got[i].binary != want[i].binary || !bytes.Equal(got[i].data, want[i].data) {
				t.Fatalf("packet %d = %+v, want %+v", i, got[i], want[i])
			}
		}
	})
}

// pieceReader reads b n bytes at a time.
type pieceReader struct {
	b []byte
	n int
}

func (r *pieceReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.n)], r.b)
	r.b = r.b[n:]
	return n, nil
}

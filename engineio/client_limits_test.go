package engineio

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"

	"github.com/gosio/gosio/internal/testutil"
)

// hostileEIO is an Engine.IO server that answers the handshake, then
// sends what it is told: over polling, the next body of polls (with its
// Content-Encoding); over WebSocket, the next frames.
type hostileEIO struct {
	hs    *httptest.Server
	polls chan hostileBody
	ws    chan string
	stop  chan struct{}
	wg    sync.WaitGroup
}

type hostileBody struct {
	encoding string
	body     []byte
}

func newHostileEIO(tb testing.TB) *hostileEIO {
	tb.Helper()
	h := &hostileEIO{polls: make(chan hostileBody, 4), ws: make(chan string, 4), stop: make(chan struct{})}
	const handshake = `0{"sid":"hostile","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`
	h.hs = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case q.Get("transport") == TransportWebSocket:
			c, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			h.wg.Add(1)
			defer h.wg.Done()
			defer c.CloseNow()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				// Read (and drop) what the client sends, so that its close
				// handshake completes.
				defer cancel()
				for {
					if _, _, err := c.Read(ctx); err != nil {
						return
					}
				}
			}()
			if c.Write(ctx, websocket.MessageText, []byte(handshake)) != nil {
				return
			}
			for {
				select {
				case f := <-h.ws:
					if c.Write(ctx, websocket.MessageText, []byte(f)) != nil {
						return
					}
				case <-ctx.Done():
					return
				case <-h.stop:
					return
				}
			}
		case q.Get("sid") == "":
			_, _ = io.WriteString(w, handshake)
		case r.Method == http.MethodGet:
			select {
			case b := <-h.polls:
				if b.encoding != "" {
					w.Header().Set("Content-Encoding", b.encoding)
				}
				_, _ = w.Write(b.body)
			case <-r.Context().Done():
			case <-h.stop:
			}
		default:
			_, _ = io.Copy(io.Discard, r.Body)
			_, _ = io.WriteString(w, "ok")
		}
	}))
	tb.Cleanup(func() {
		close(h.stop)
		h.hs.CloseClientConnections()
		h.hs.Close()
		h.wg.Wait()
	})
	return h
}

func gzipped(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	testutil.NoErr(tb, err)
	testutil.NoErr(tb, zw.Close())
	return buf.Bytes()
}

// TestClientMaxMessageSize: a message from the server larger than
// MaxMessageSize closes the connection with ErrMessageTooLarge, over
// polling (gzip included) and WebSocket; messages up to the limit pass,
// and so do polling bodies of many messages that are each within it
// (issue 17, item 8).
func TestClientMaxMessageSize(t *testing.T) {
	t.Parallel()
	big := "4" + strings.Repeat("a", 8<<20) // 8 MB of text, 8 KB gzipped
	tests := []struct {
		name      string
		transport string
		limit     int64
		header    http.Header
		send      func(tb testing.TB, h *hostileEIO)
		want      []string // messages delivered first
		tooLarge  bool
	}{
		{"polling gzip bomb", TransportPolling, 0, nil, func(tb testing.TB, h *hostileEIO) {
			h.polls <- hostileBody{"gzip", gzipped(tb, []byte(big))}
		}, nil, true},
		{"polling gzip, the caller's Accept-Encoding", TransportPolling, 0, http.Header{"Accept-Encoding": {"gzip"}}, func(tb testing.TB, h *hostileEIO) {
			h.polls <- hostileBody{"gzip", gzipped(tb, []byte("4ok\x1e"+big))}
		}, []string{"ok"}, true},
		{"polling plain", TransportPolling, 0, nil, func(tb testing.TB, h *hostileEIO) {
			h.polls <- hostileBody{"", []byte("4ok\x1e" + big)}
		}, []string{"ok"}, true},
		{"polling at the limit", TransportPolling, 11, nil, func(tb testing.TB, h *hostileEIO) {
			h.polls <- hostileBody{"gzip", gzipped(tb, []byte("40123456789\x1e401234567890"))}
		}, []string{"0123456789"}, true},
		{"polling base64 counts as sent", TransportPolling, 9, nil, func(tb testing.TB, h *hostileEIO) {
			h.polls <- hostileBody{"", []byte("bAAECAw==\x1ebAAECAwQFBg==")} // 9 and 13 bytes (4 and 7 decoded)
		}, []string{"\x00\x01\x02\x03"}, true},
		{"polling many small messages", TransportPolling, 1000, nil, func(tb testing.TB, h *hostileEIO) {
			rec := "4" + strings.Repeat("x", 999)
			h.polls <- hostileBody{"gzip", gzipped(tb, []byte(strings.Repeat(rec+"\x1e", 2999)+rec))}
		}, nil, false},
		{"websocket", TransportWebSocket, 0, nil, func(tb testing.TB, h *hostileEIO) {
			h.ws <- "4ok"
			h.ws <- big
		}, []string{"ok"}, true},
		{"websocket at the limit", TransportWebSocket, 11, nil, func(tb testing.TB, h *hostileEIO) {
			h.ws <- "40123456789"
			h.ws <- "401234567890"
		}, []string{"0123456789"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHostileEIO(t)
			c, msgs, closes := dialTest(t, h.hs.URL, DialOptions{
				Transports:     []string{tc.transport},
				MaxMessageSize: tc.limit,
				Header:         tc.header,
			})
			tc.send(t, h)
			for _, want := range tc.want {
				testutil.Equal(t, next(t, msgs, "message").Data, want)
			}
			if !tc.tooLarge {
				for i := range 3000 {
					if m := next(t, msgs, "message"); len(m.Data) != 999 {
						t.Fatalf("message %d has %d bytes", i, len(m.Data))
					}
				}
				_ = c.Close()
				testutil.Equal(t, next(t, closes, "OnClose").Reason, ReasonForcedClose)
				return
			}
			cl := next(t, closes, "OnClose")
			if cl.Reason != ReasonTransportError || !errors.Is(cl.Err, ErrMessageTooLarge) {
				t.Errorf("OnClose(%q, %v), want %q with ErrMessageTooLarge", cl.Reason, cl.Err, ReasonTransportError)
			}
			select {
			case m := <-msgs:
				t.Errorf("a message of %d bytes was delivered", len(m.Data))
			default:
			}
			next(t, c.Done(), "Done")
		})
	}
}

// TestClientMaxMessageSizeHandshake: the handshake's body is bounded too.
func TestClientMaxMessageSizeHandshake(t *testing.T) {
	t.Parallel()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(gzipped(t, []byte(`0{"sid":"x","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`+strings.Repeat("\x1e6", 1<<20))))
	}))
	defer hs.Close()
	_, err := Dial(context.Background(), hs.URL, &DialOptions{Transports: []string{TransportPolling}})
	if !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("Dial = %v, want ErrMessageTooLarge", err)
	}
}

// TestClientPollingCloseAlone: over polling, Close sends the queued
// packets, waits for that POST to end, then sends the close packet in a
// POST of its own, as the reference client does; a server that gets the
// last packets and the close in one payload may report "transport close"
// instead of what the packets said.
func TestClientPollingCloseAlone(t *testing.T) {
	t.Parallel()
	f := newFakeEIO(t, 60_000, 60_000, 1000, false)
	gate := make(chan struct{})
	f.mu.Lock()
	f.postGate = gate
	f.mu.Unlock()
	c, _, closes := dialTest(t, f.hs.URL, DialOptions{Transports: []string{TransportPolling}})
	testutil.NoErr(t, c.SendText([]byte("first")))
	waitFor(t, "the first POST", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.posts == 1
	})
	testutil.NoErr(t, c.SendText([]byte("last")))
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		_ = c.Close()
	}()
	close(gate)
	var got []string
	for len(got) < 3 {
		got = append(got, next(t, f.posted, "POST"))
	}
	testutil.Equal(t, got, []string{"4first", "4last", "1"})
	next(t, closed, "Close")
	testutil.Equal(t, next(t, closes, "OnClose").Reason, ReasonForcedClose)
	f.mu.Lock()
	testutil.Equal(t, f.maxPosts, 1)
	f.mu.Unlock()
}

package engineio

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/coder/websocket"
)

var benchSizes = []struct {
	name string
	n    int
}{
	{"16B", 16},
	{"1KiB", 1 << 10},
	{"64KiB", 64 << 10},
}

func benchText(n int) []byte { return bytes.Repeat([]byte("a"), n) }

func benchBinary(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// BenchmarkDecodePayload decodes a POST body of three packets of the
// given size each: text, or binary as "b"+base64.
func BenchmarkDecodePayload(b *testing.B) {
	for _, kind := range []string{"text", "binary"} {
		for _, size := range benchSizes {
			b.Run(kind+"/"+size.name, func(b *testing.B) {
				var ps []packet
				for range 3 {
					if kind == "text" {
						ps = append(ps, packet{typ: typeMessage, data: benchText(size.n)})
					} else {
						ps = append(ps, packet{typ: typeMessage, data: benchBinary(size.n), binary: true})
					}
				}
				payload := encodePayload(ps)
				b.SetBytes(int64(len(payload)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := decodePayload(payload); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// discardWriter is an http.ResponseWriter that keeps nothing.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

// BenchmarkEncodePayload builds a poll response of three new messages of
// the given size: the messages, their polling form and the joined body.
func BenchmarkEncodePayload(b *testing.B) {
	srv := NewServer(&Options{HTTPCompressionThreshold: -1})
	req := httptest.NewRequest(http.MethodGet, "/engine.io/", nil)
	w := &discardWriter{h: make(http.Header)}
	for _, kind := range []string{"text", "binary"} {
		for _, size := range benchSizes {
			b.Run(kind+"/"+size.name, func(b *testing.B) {
				data := benchText(size.n)
				if kind == "binary" {
					data = benchBinary(size.n)
				}
				msgs := make([]*Message, 3)
				b.SetBytes(int64(len(msgs) * size.n))
				b.ReportAllocs()
				for b.Loop() {
					for i := range msgs {
						if kind == "text" {
							msgs[i] = NewTextMessage(data)
						} else {
							msgs[i] = NewBinaryMessage(data)
						}
					}
					srv.writePayload(w, req, msgs, nil)
				}
			})
		}
	}
}

// BenchmarkPollingRoundTrip POSTs a text message to an echo server over
// loopback HTTP and GETs the echo back. HTTP compression is off, so that
// the figure is the transport's own cost.
func BenchmarkPollingRoundTrip(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			opts := quietOptions()
			opts.HTTPCompressionThreshold = -1
			ts := newTestServer(b, opts, nil)
			sid := ts.openPolling(b)
			url := ts.url + "?" + pollQuery(sid)
			msg := append([]byte("4"), benchText(size.n)...)
			buf := make([]byte, 0, len(msg)+512)
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				res, err := ts.client.Post(url, "text/plain;charset=UTF-8", bytes.NewReader(msg))
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				res, err = ts.client.Get(url)
				if err != nil {
					b.Fatal(err)
				}
				buf, err = readAllInto(buf[:0], res.Body)
				res.Body.Close()
				if err != nil || !bytes.Equal(buf, msg) {
					b.Fatalf("echo of %d bytes: got %d bytes, err %v", len(msg), len(buf), err)
				}
			}
		})
	}
}

// readAllInto reads r to its end into buf.
func readAllInto(buf []byte, r io.Reader) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// BenchmarkWebSocketRoundTrip sends a text message over a WebSocket
// session and reads the echo.
func BenchmarkWebSocketRoundTrip(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			ts := newTestServer(b, quietOptions(), nil)
			c, _ := ts.openWS(b)
			msg := append([]byte("4"), benchText(size.n)...)
			ctx := context.Background()
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
					b.Fatal(err)
				}
				_, got, err := c.Read(ctx)
				if err != nil || len(got) != len(msg) {
					b.Fatalf("echo of %d bytes: got %d bytes, err %v", len(msg), len(got), err)
				}
			}
		})
	}
}

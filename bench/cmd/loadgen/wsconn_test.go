package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// startPeer serves one WebSocket with coder/websocket, a real peer for the
// load generator's own client, and runs fn on the server side.
func startPeer(t *testing.T, fn func(ctx context.Context, c *websocket.Conn)) (url string, done <-chan struct{}) {
	t.Helper()
	ch := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(ch)
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
		if err != nil {
			t.Errorf("accept: %v", err)
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(1 << 20)
		fn(r.Context(), c)
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/socket.io/?EIO=4&transport=websocket", ch
}

func dialTest(t *testing.T, url string) *wsConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var d net.Dialer
	c, err := dialRaw(ctx, d.DialContext, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.close)
	return c
}

func TestWSConnEchoesEverySize(t *testing.T) {
	url, done := startPeer(t, func(ctx context.Context, c *websocket.Conn) {
		for {
			typ, b, err := c.Read(ctx)
			if err != nil {
				return
			}
			if err := c.Write(ctx, typ, b); err != nil {
				return
			}
		}
	})
	c := dialTest(t, url)
	// 0, 125 and 126 bytes cross the 7-bit length, 65536 the 16-bit one.
	for _, n := range []int{0, 1, 125, 126, 1000, 65535, 65536, 200000} {
		for _, op := range []byte{opText, opBinary} {
			msg := bytes.Repeat([]byte{'a' + byte(n%26)}, n)
			if err := c.write(op, msg); err != nil {
				t.Fatal(err)
			}
			gotOp, got, err := c.readMessage(nil, 1<<20)
			if err != nil {
				t.Fatalf("size %d: %v", n, err)
			}
			if gotOp != op || !bytes.Equal(got, msg) {
				t.Fatalf("size %d op %d: got op %d, %d bytes", n, op, gotOp, len(got))
			}
		}
	}
	c.close()
	<-done
}

func TestWSConnJoinsFragmentsAndAnswersPings(t *testing.T) {
	pinged := make(chan error, 1)
	url, done := startPeer(t, func(ctx context.Context, c *websocket.Conn) {
		// A message written in pieces larger than the writer's buffer
		// goes out as several frames (continuations).
		w, err := c.Writer(ctx, websocket.MessageText)
		if err != nil {
			return
		}
		for range 10 {
			_, _ = w.Write(bytes.Repeat([]byte("x"), 10000))
		}
		if w.Close() != nil {
			return
		}
		// Ping needs our pong, which only comes while we read.
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		go func() { pinged <- c.Ping(pctx) }()
		_ = c.Write(ctx, websocket.MessageBinary, []byte("after"))
		_, _, _ = c.Read(ctx) // until the client goes
	})
	c := dialTest(t, url)
	op, got, err := c.readMessage(nil, 1<<20)
	if err != nil || op != opText || len(got) != 100000 || strings.Trim(string(got), "x") != "" {
		t.Fatalf("fragmented message: op %d, %d bytes, %v", op, len(got), err)
	}
	// The reader answers the ping on its way to the next message.
	go func() {
		for {
			if _, _, err := c.readMessage(nil, 1<<20); err != nil {
				return
			}
		}
	}()
	if err := <-pinged; err != nil {
		t.Fatalf("ping: %v", err)
	}
	c.close()
	<-done
}

func TestWSConnCloseAndLimit(t *testing.T) {
	url, done := startPeer(t, func(ctx context.Context, c *websocket.Conn) {
		_ = c.Write(ctx, websocket.MessageText, bytes.Repeat([]byte("y"), 2000))
		_ = c.Close(websocket.StatusNormalClosure, "bye") // waits for our close reply
	})
	c := dialTest(t, url)
	if _, _, err := c.readMessage(nil, 1000); err == nil || !strings.Contains(err.Error(), "over 1000 bytes") {
		t.Fatalf("over the limit: %v", err)
	}
	c.close()
	<-done

	url, done = startPeer(t, func(ctx context.Context, c *websocket.Conn) {
		_ = c.Close(websocket.StatusNormalClosure, "bye")
	})
	c = dialTest(t, url)
	if _, _, err := c.readMessage(nil, 1000); !errors.Is(err, errClosed) {
		t.Fatalf("close: %v", err)
	}
	<-done
}

func TestDialRawRefusesNonWebSocket(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	var d net.Dialer
	_, err := dialRaw(context.Background(), d.DialContext, "ws"+strings.TrimPrefix(srv.URL, "http"))
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("got %v", err)
	}
}

// FuzzReadMessage feeds arbitrary server bytes to the frame reader: it
// must return an error or a message within the limit, never panic.
func FuzzReadMessage(f *testing.F) {
	f.Add([]byte{0x81, 0x02, 'h', 'i'})
	f.Add([]byte{0x01, 0x01, 'a', 0x80, 0x01, 'b'})
	f.Add([]byte{0x89, 0x00, 0x82, 0x7e, 0x00, 0x01, 'z'})
	f.Add([]byte{0x81, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0x88, 0x02, 0x03, 0xe8})
	f.Add([]byte{0x81, 0x85, 1, 2, 3, 4, 'h' ^ 1, 'e' ^ 2, 'l' ^ 3, 'l' ^ 4, 'o' ^ 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		local, remote := net.Pipe()
		defer local.Close()
		go func() { _, _ = io.Copy(io.Discard, remote) }()
		defer remote.Close()
		c := &wsConn{nc: local, br: bufio.NewReader(bytes.NewReader(data))}
		const limit = 256
		for {
			op, msg, err := c.readMessage(nil, limit)
			if err != nil {
				return
			}
			if len(msg) > limit || (op != opText && op != opBinary) {
				t.Fatalf("op %d, %d bytes", op, len(msg))
			}
		}
	})
}

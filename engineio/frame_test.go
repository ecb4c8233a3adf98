package engineio

import (
	"bytes"
	"context"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/gosio/gosio/internal/testutil"
)

// TestPrebuiltFrameLengths sends text and binary messages (and text
// messages with headroom, NewTextMessageRoom) around the
// WebSocket length-encoding boundaries through the pre-built frame path
// and checks that a client reads each intact.
func TestPrebuiltFrameLengths(t *testing.T) {
	t.Parallel()
	sizes := []int{0, 1, 124, 125, 126, 127, 65534, 65535, 65536, 70000}
	ts := newTestServer(t, quietOptions(), func(s *Session) {
		s.OnMessage(func(data []byte, binary bool) {
			for _, n := range sizes {
				_ = s.SendText([]byte(strings.Repeat("t", n)))
				_ = s.SendBinary(bytes.Repeat([]byte{7}, n))
				buf := append(make([]byte, FrameHeadroom), '4')
				_ = s.Send(NewTextMessageRoom(append(buf, strings.Repeat("r", n)...)))
			}
		})
	})
	c, _ := ts.openWS(t)
	writeText(t, c, "4go")
	for _, n := range sizes {
		typ, data := readMessage(t, c)
		if typ != websocket.MessageText || len(data) != n+1 || data[0] != '4' || strings.Trim(string(data[1:]), "t") != "" {
			t.Fatalf("text of %d: got type %v len %d", n, typ, len(data))
		}
		typ, data = readMessage(t, c)
		if typ != websocket.MessageBinary || !bytes.Equal(data, bytes.Repeat([]byte{7}, n)) {
			t.Fatalf("binary of %d: got type %v len %d", n, typ, len(data))
		}
		typ, data = readMessage(t, c)
		if typ != websocket.MessageText || len(data) != n+1 || data[0] != '4' || strings.Trim(string(data[1:]), "r") != "" {
			t.Fatalf("text of %d built in its room: got type %v len %d", n, typ, len(data))
		}
	}
}

// TestInlineWritesUnderBackpressure sends far more than the socket buffers
// hold to a client that does not read at first, so that senders' inline
// writes and the shared writers stop part-way through frames and flushers
// finish them, while the client pings (the WebSocket library's pongs must not land inside a
// frame). Every message must then arrive whole and in order.
func TestInlineWritesUnderBackpressure(t *testing.T) {
	t.Parallel()
	const (
		count = 200
		size  = 100_000
	)
	opts := quietOptions()
	opts.SendQueueLimit = count * (size + 16)
	sent := make(chan struct{})
	ts := newTestServer(t, opts, func(s *Session) {
		s.OnMessage(func([]byte, bool) {
			go func() { // senders from several goroutines, as handlers and broadcasts are
				defer close(sent)
				for i := range count {
					body := bytes.Repeat([]byte{byte(i)}, size)
					switch i % 3 {
					case 0:
						_ = s.SendBinary(body)
					case 1:
						_ = s.SendAll([]*Message{NewBinaryMessage(body[:size/2]), NewBinaryMessage(body[size/2:])})
					default: // through the shared writers
						_ = s.QueueAll([]*Message{NewBinaryMessage(body)})
					}
				}
			}()
		})
	})
	c, sid := ts.openWS(t)
	c.SetReadLimit(2 * size)
	writeText(t, c, "4go")
	<-sent
	s := ts.eio.lookup(sid)
	s.mu.Lock()
	backlog := s.queued
	s.mu.Unlock()
	if backlog == 0 {
		t.Fatal("the socket took everything: the test did not create backpressure")
	}

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	pings := make(chan error, 1)
	go func() {
		var err error
		for range 20 {
			if err = c.Ping(ctx); err != nil {
				break
			}
		}
		pings <- err
	}()
	for i := range count {
		parts := [][]byte{bytes.Repeat([]byte{byte(i)}, size)}
		if i%3 == 1 {
			parts = [][]byte{parts[0][:size/2], parts[0][size/2:]}
		}
		for _, want := range parts {
			typ, data := readMessage(t, c)
			if typ != websocket.MessageBinary || !bytes.Equal(data, want) {
				t.Fatalf("message %d: got type %v, %d bytes starting %v; want %d bytes of %d", i, typ, len(data), data[:min(len(data), 4)], len(want), byte(i))
			}
		}
	}
	// The pings finish once the backlog is read.
	go func() {
		for {
			if _, _, err := c.Read(ctx); err != nil {
				return
			}
		}
	}()
	if err := <-pings; err != nil {
		t.Fatalf("ping: %v", err)
	}
	_ = c.CloseNow()
}

// TestGateHoldsControlFramesBehindABegunFrame stops an inline write part-way
// through a frame (the client does not read) and holds the flusher back
// while the client pings: the server's pong must wait at the gate until the
// frame is finished, not cut into it.
func TestGateHoldsControlFramesBehindABegunFrame(t *testing.T) {
	t.Parallel()
	const size = 1_000_003
	ts := newTestServer(t, quietOptions(), func(*Session) {})
	for attempt := 1; ; attempt++ {
		c, sid := ts.openWS(t)
		c.SetReadLimit(2 * size)
		s := ts.eio.lookup(sid)

		// Fill the socket until a frame is begun and not finished; s.mu
		// stays locked, which keeps the flusher from starting its writes.
		sent := 0
		s.mu.Lock()
		for s.head == nil && !s.flushing {
			if !s.writeInlineLocked([]*Message{NewBinaryMessage(bytes.Repeat([]byte{byte(sent)}, size))}) {
				t.Fatal("inline write refused with nothing queued")
			}
			sent++
		}
		if s.head == nil {
			// The socket filled exactly at a frame's end: no frame is
			// begun. Try again on a new connection.
			s.mu.Unlock()
			_ = c.CloseNow()
			if attempt == 5 {
				t.Fatal("no inline write stopped inside a frame in 5 attempts")
			}
			continue
		}

		locked := true
		defer func() { // a failure below must not leave Shutdown waiting on s.mu
			if locked {
				s.mu.Unlock()
			}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		pinged := make(chan error, 1)
		go func() { pinged <- c.Ping(ctx) }()
		// The server's reader answers with a pong, which must wait at the
		// gate held for the begun frame.
		waitFor(t, "the pong write waiting at the gate", func() bool {
			buf := make([]byte, 1<<20)
			return bytes.Contains(buf[:runtime.Stack(buf, true)], []byte("engineio.(*wsRaw).writeShort"))
		})
		locked = false
		s.mu.Unlock()

		for i := range sent {
			typ, data := readMessage(t, c)
			if typ != websocket.MessageBinary || len(data) != size || data[0] != byte(i) || data[size-1] != byte(i) {
				t.Fatalf("message %d: got type %v, %d bytes", i, typ, len(data))
			}
		}
		go func() {
			for {
				if _, _, err := c.Read(ctx); err != nil {
					return
				}
			}
		}()
		testutil.NoErr(t, <-pinged)
		_ = c.CloseNow()
		return
	}
}

// TestQueueAllKeepsOrderWithSend mixes QueueAll (shared writers) and Send
// (inline writes) to many sessions from two goroutines: each client must
// get every message, each goroutine's in the order it sent them. It runs
// with the writers' hold (one processor) and without it.
func TestQueueAllKeepsOrderWithSend(t *testing.T) {
	t.Parallel()
	eachHold(t, func(t *testing.T, hold bool) {
		const (
			clients = 40
			count   = 300
		)
		conns, all := openSessions(t, clients)
		setWriters(all[0].srv, 1, hold)
		var wg sync.WaitGroup
		wg.Go(func() { queueNumbered(all, "q", count) })
		wg.Go(func() {
			for i := range count {
				for _, s := range all {
					_ = s.SendText([]byte("s" + strconv.Itoa(i)))
				}
			}
		})
		for ci, c := range conns {
			next := map[byte]int{'q': 0, 's': 0}
			for range 2 * count {
				got := readText(t, c)
				src := got[1]
				n, err := strconv.Atoi(got[2:])
				if err != nil || got[0] != '4' || n != next[src] {
					t.Fatalf("client %d: got %q, want the %c message %d", ci, got, src, next[src])
				}
				next[src]++
			}
		}
		wg.Wait()
		for _, c := range conns {
			_ = c.CloseNow()
		}
	})
}

// TestQueueAllWhileClosing closes sessions while broadcasts are queued for
// them and the shared writers write them without the session's lock: each
// client must read a gapless, ordered run of the messages and then a close
// frame, and no writer or flusher may be left behind (the leak
// check and the server's Shutdown).
func TestQueueAllWhileClosing(t *testing.T) {
	t.Parallel()
	eachHold(t, func(t *testing.T, hold bool) {
		const (
			clients = 60
			count   = 400
		)
		conns, all := openSessions(t, clients)
		setWriters(all[0].srv, 1, hold)
		var wg sync.WaitGroup
		wg.Go(func() { queueNumbered(all, "", count) })
		wg.Go(func() {
			for i, s := range all {
				if i%2 == 0 {
					runtime.Gosched()
				}
				s.Close()
			}
		})
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		for ci, c := range conns {
			next := 0
			for {
				typ, data, err := c.Read(ctx)
				if err != nil {
					if ctx.Err() != nil {
						t.Fatalf("client %d: the connection did not end after %d messages", ci, next)
					}
					// A close frame, as a flusher sends after the last
					// message, not a cut connection (the grace timer's).
					if st := websocket.CloseStatus(err); st != websocket.StatusNoStatusRcvd {
						t.Fatalf("client %d: the connection ended with %v, want an empty close frame", ci, err)
					}
					break
				}
				if typ != websocket.MessageText {
					t.Fatalf("client %d: got a binary message", ci)
				}
				if string(data) == "1" {
					continue // the close packet
				}
				if got, want := string(data), "4"+strconv.Itoa(next); got != want {
					t.Fatalf("client %d: got %q, want %q", ci, got, want)
				}
				next++
			}
		}
		wg.Wait()
	})
}

// eachHold runs fn as parallel subtests with and without the shared
// writers' hold.
func eachHold(t *testing.T, fn func(t *testing.T, hold bool)) {
	for _, hold := range []bool{false, true} {
		t.Run("hold="+strconv.FormatBool(hold), func(t *testing.T) {
			t.Parallel()
			fn(t, hold)
		})
	}
}

// queueNumbered queues count text messages, prefix followed by 0, 1, ...,
// to every session with QueueAll, as a stream of broadcasts.
func queueNumbered(all []*Session, prefix string, count int) {
	for i := range count {
		m := NewTextMessage([]byte(prefix + strconv.Itoa(i)))
		for _, s := range all {
			_ = s.QueueAll([]*Message{m})
		}
	}
}

// setWriters sets how many shared writers srv may run and whether they
// hold for broadcasts being queued, as one processor would have them.
func setWriters(srv *Server, n int, hold bool) {
	p := &srv.writers
	p.mu.Lock()
	p.max, p.hold = n, hold
	p.mu.Unlock()
}

// TestQueueAllManySessions queues a burst of messages on more sessions
// than one shared writer takes at a time, so that several writers share the
// pool: every client gets every message, in order.
func TestQueueAllManySessions(t *testing.T) {
	t.Parallel()
	const (
		clients = 3*writerChunk + 17
		count   = 20
	)
	conns, all := openSessions(t, clients)
	// Allow more writers than the default GOMAXPROCS-1, which is one on a
	// two-core machine.
	setWriters(all[0].srv, 4, false)
	for i := range count {
		m := NewTextMessage([]byte(strconv.Itoa(i)))
		for _, s := range all {
			testutil.NoErr(t, s.QueueAll([]*Message{m}))
		}
	}
	for ci, c := range conns {
		for i := range count {
			if got, want := readText(t, c), "4"+strconv.Itoa(i); got != want {
				t.Fatalf("client %d: got %q, want %q", ci, got, want)
			}
		}
		_ = c.CloseNow()
	}
}

// openSessions opens n WebSocket sessions on a new test server and returns
// the clients' connections and the server's sessions, in the same order.
func openSessions(t *testing.T, n int) ([]*websocket.Conn, []*Session) {
	t.Helper()
	_, conns, sessions := openSessionsOn(t, quietOptions(), n)
	return conns, sessions
}

// openSessionsOn is openSessions with opts; it returns the server too.
func openSessionsOn(t *testing.T, opts *Options, n int) (*testServer, []*websocket.Conn, []*Session) {
	t.Helper()
	ts := newTestServer(t, opts, func(*Session) {})
	conns := make([]*websocket.Conn, n)
	sessions := make([]*Session, n)
	for i := range conns {
		var sid string
		conns[i], sid = ts.openWS(t)
		sessions[i] = ts.eio.lookup(sid)
	}
	return ts, conns, sessions
}

// TestQueueAllLongQueue queues more frames for one session than one writev
// takes (iovMax on Linux), of mixed sizes, some larger than the socket's
// buffer, before the client reads: the shared writer writes them in
// several calls, resuming inside a frame after a short write, and the
// client gets every message whole and in order.
func TestQueueAllLongQueue(t *testing.T) {
	t.Parallel()
	const count = 2*1024 + 300
	msgs := make([]*Message, count)
	want := make([]string, count)
	for i := range msgs {
		n := 1 + i%700
		if i%500 == 499 {
			n = 300_000 // more than the socket takes at once: a short write
		}
		p := append([]byte(strconv.Itoa(i)+":"), bytes.Repeat([]byte{'a' + byte(i%26)}, n)...)
		msgs[i], want[i] = NewTextMessage(p), "4"+string(p)
	}
	opts := quietOptions()
	opts.SendQueueLimit = 8 << 20
	queued := make(chan error, 1)
	ts := newTestServer(t, opts, func(s *Session) { queued <- s.QueueAll(msgs) })
	c, _ := ts.openWS(t)
	testutil.NoErr(t, <-queued)
	time.Sleep(50 * time.Millisecond) // let the socket fill before reading
	for i := range count {
		if got := readText(t, c); got != want[i] {
			t.Fatalf("message %d: got %d bytes starting %.20q, want %d bytes starting %.20q", i, len(got), got, len(want[i]), want[i])
		}
	}
	_ = c.CloseNow()
}

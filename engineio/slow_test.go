package engineio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gosio/gosio/internal/testutil"
)

// The slow-consumer policy cuts clients that do not read and never
// clients that read, however fast the server queues for them (issue 17).

// TestFastReaderGetsUnpacedBroadcasts queues 10 KB messages through the
// shared writers (as a broadcast does), without pacing, for a client that
// reads as fast as it can, with the default SendQueueLimit (1 MiB): every
// message must arrive. Before the fix, 15 of 200 (2 MB) and 36 of 2,000
// (20 MB) arrived, then the session was closed as a slow client.
func TestFastReaderGetsUnpacedBroadcasts(t *testing.T) {
	t.Parallel()
	for _, n := range []int{200, 2000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			sessions := make(chan *Session, 1)
			ts := newTestServer(t, quietOptions(), func(s *Session) { sessions <- s })
			c, sid := ts.openWS(t)
			s := <-sessions
			msg := NewTextMessage(bytes.Repeat([]byte("x"), 10_000))
			var sendErr error
			go func() {
				for range n {
					if err := s.QueueAll([]*Message{msg}); err != nil {
						sendErr = err
						return
					}
				}
			}()
			got := 0
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			for got < n {
				_, data, err := c.Read(ctx)
				if err != nil {
					t.Fatalf("%d of %d messages arrived, then %v (session: %v, send: %v)", got, n, err, ts.isOpen(sid), sendErr)
				}
				if len(data) != 10_001 {
					t.Fatalf("message %d: %d bytes", got, len(data))
				}
				got++
			}
			if !ts.isOpen(sid) {
				t.Fatal("the session closed")
			}
		})
	}
}

// TestPollingPostOfManyEchoes POSTs 62,437 packets (under 1 MB) whose
// echoes (20 bytes each, 1.25 MB: past the 1 MiB SendQueueLimit) the
// client fetches with GETs once the POST is answered: all must arrive.
// Before the fix the session was closed with 0 echoes delivered.
func TestPollingPostOfManyEchoes(t *testing.T) {
	t.Parallel()
	const n = 62_437
	ts := newTestServer(t, quietOptions(), func(s *Session) {
		s.OnMessage(func(data []byte, _ bool) {
			_ = s.SendText(append([]byte("echo:"), data...))
		})
	})
	sid := ts.openPolling(t)
	var body strings.Builder
	for i := range n {
		if i > 0 {
			body.WriteByte(recordSeparator)
		}
		fmt.Fprintf(&body, "4%013d", i)
	}
	if body.Len() >= DefaultMaxHTTPBufferSize {
		t.Fatalf("body of %d bytes", body.Len())
	}
	// The client POSTs, then polls (no GET is pending meanwhile): the
	// echoes wait for it in the queue.
	r := ts.post(t, sid, body.String())
	testutil.Equal(t, r.body, "ok")
	got := 0
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	for got < n {
		r, err := ts.doErr(ctx, "GET", pollQuery(sid), nil, nil)
		if err != nil || r.status != 200 {
			t.Fatalf("%d of %d echoes arrived, then GET: %v, status %d %q", got, n, err, r.status, r.body)
		}
		for rec := range strings.SplitSeq(r.body, "\x1e") {
			if want := fmt.Sprintf("4echo:%013d", got); rec == want {
				got++
			} else if rec != "2" { // a ping
				t.Fatalf("echo %d: %q, want %q", got, rec, want)
			}
		}
	}
}

// TestNonReaderIsCut queues for a WebSocket client that never reads: with
// no pacing the session is closed as a slow client once its queue passes
// the hard bound; with a few MB queued and no more sends, it is closed
// once its transport took nothing for SlowClientTimeout.
func TestNonReaderIsCut(t *testing.T) {
	t.Parallel()
	msg := NewTextMessage(bytes.Repeat([]byte("x"), 10_000))
	t.Run("unpaced", func(t *testing.T) {
		t.Parallel()
		sessions := make(chan *Session, 1)
		opts := quietOptions()
		opts.SendQueueLimit = 64 << 10
		ts := newTestServer(t, opts, func(s *Session) { sessions <- s })
		_, sid := ts.openWS(t)
		s := <-sessions
		var err error
		sent := 0
		for ; sent < 100_000 && err == nil; sent++ {
			err = s.QueueAll([]*Message{msg})
		}
		if !errors.Is(err, ErrSlowClient) {
			t.Fatalf("after %d sends: %v, want ErrSlowClient", sent, err)
		}
		ts.wantClose(t, sid, ReasonTransportError, ErrSlowClient)
	})
	t.Run("stalled", func(t *testing.T) {
		t.Parallel()
		sessions := make(chan *Session, 1)
		opts := quietOptions()
		opts.SlowClientTimeout = 100 * time.Millisecond
		ts := newTestServer(t, opts, func(s *Session) { sessions <- s })
		_, sid := ts.openWS(t)
		s := <-sessions
		// 30 MB: more than the kernel's buffers take, less than the
		// hard bound (64 MiB with the default limit).
		for i := range 3000 {
			if err := s.QueueAll([]*Message{msg}); err != nil {
				t.Fatalf("send %d: %v", i, err)
			}
		}
		ts.wantClose(t, sid, ReasonTransportError, ErrSlowClient)
	})
}

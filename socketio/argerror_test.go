package socketio

import (
	"bytes"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosio/gosio/internal/testutil"
)

// syncBuffer is a bytes.Buffer safe for concurrent use, for a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

type point struct {
	X, Y int
}

// TestArgumentErrorNotSilent sends arguments that do not decode: with an
// OnError handler it gets an *ArgumentError naming the event, index and
// type; without one, the error is logged at warn level.
func TestArgumentErrorNotSilent(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, url := newTestServer(t, &Options{Logger: logger})
	errs := make(chan error, 2)
	called := make(chan string, 2)
	srv.OnConnection(func(s *Socket) {
		s.On("move", func(name string, p point, ack Ack) {
			called <- name
			_ = ack()
		})
		if bytes.Contains(s.Handshake().Auth, []byte("hook")) {
			s.OnError(func(err error) { errs <- err })
		}
	})

	c := dialWS(t, url, "")
	c.connect("/", `{"hook":true}`)
	c.send(`421["move","a",{"X":1.5,"Y":2}]`) // 1.5 for an int
	c.send(`422["move","b","text"]`)          // a string for a struct
	for range 2 {
		var ae *ArgumentError
		if err := <-errs; !errors.As(err, &ae) {
			t.Fatalf("OnError got %v, want an *ArgumentError", err)
		}
		testutil.Equal(t, ae.Event, "move")
		testutil.Equal(t, ae.Index, 1)
		if ae.Type != reflect.TypeFor[point]() {
			t.Fatalf("type %v", ae.Type)
		}
		if ae.Err == nil || !strings.Contains(ae.Error(), `event "move": argument 1`) {
			t.Fatalf("error text %q", ae.Error())
		}
	}
	c.send(`423["move","ok",{"X":1,"Y":2}]`)
	c.expect(`433[]`)
	testutil.Equal(t, <-called, "ok")
	if logs.String() != "" {
		t.Fatalf("logged although OnError handled it: %s", logs.String())
	}

	d := dialWS(t, url, "")
	d.connect("/", "")
	d.send(`421["move","c","text"]`)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "level=WARN") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	out := logs.String()
	for _, want := range []string{"level=WARN", "event=move", "index=1", "type=socketio.point"} {
		if !strings.Contains(out, want) {
			t.Fatalf("log lacks %q: %s", want, out)
		}
	}
	select {
	case name := <-called:
		t.Fatalf("handler called with %q", name)
	default:
	}
}

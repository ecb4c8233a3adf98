package socketio

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/internal/testutil"
)

// TestMiddlewareJoinThenRejectLeavesNoRoom: a connection middleware that
// joins a room and then refuses must not leave the room behind with no
// socket in it (issue 17).
func TestMiddlewareJoinThenRejectLeavesNoRoom(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	srv.Use(func(s *Socket) error {
		s.Join("vip")
		return errors.New("no")
	})
	c := dialWS(t, url, "")
	c.send("40")
	c.expect(`44{"message":"no"}`)
	if rooms := srv.Sockets().Adapter().Rooms(); len(rooms) != 0 {
		t.Fatalf("rooms after the refusal: %v, want none", rooms)
	}
}

// lockedBuffer is a log destination safe for concurrent use.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestMiddlewarePanicAnswersConnectError: a panic in a connection
// middleware is logged and becomes a CONNECT_ERROR for that client, which
// can then try again, rather than a CONNECT that is never answered.
func TestMiddlewarePanicAnswersConnectError(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, url := newTestServer(t, &Options{Logger: logger, Engine: engineio.Options{Logger: logger}})
	var calls int
	srv.Use(func(s *Socket) error {
		calls++
		s.Join("half-done")
		if calls == 1 {
			panic("broken middleware")
		}
		return nil
	})
	c := dialWS(t, url, "")
	c.send("40")
	c.expect(`44{"message":"server error"}`)
	if !strings.Contains(logs.String(), "broken middleware") {
		t.Fatalf("the panic was not logged: %s", logs.String())
	}
	testutil.Equal(t, len(srv.Sockets().Adapter().Rooms()), 0)
	c.connect("/", "")
}

package socketio

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosio/gosio/internal/testutil"
)

// TestSocketEmitWithAckFunc emits with an acknowledgement from a handler
// that returns at once: the socket's next event is handled while the
// answer is pending, and the callback gets the answer, a timeout or the
// disconnection.
func TestSocketEmitWithAckFunc(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	results := make(chan string, 4)
	record := func(a Args, err error) { results <- a.String() + " " + errString(err) }
	srv.OnConnection(func(s *Socket) {
		s.On("start", func(ack Ack) {
			err := s.Timeout(5*time.Second).EmitWithAckFunc("ask", record, "q")
			_ = ack(errString(err))
		})
		s.On("next", func(ack Ack) { _ = ack("next") })
		s.On("short", func(ack Ack) {
			_ = s.Timeout(50*time.Millisecond).EmitWithAckFunc("never", record)
			_, err := s.Timeout(50*time.Millisecond).EmitWithAck(context.Background(), "never")
			_ = ack(errString(err))
		})
		s.On("pending", func() { _ = s.EmitWithAckFunc("pending", record) })
	})
	c := dialWS(t, url, "")
	c.connect("/", "")

	c.send(`421["start"]`)
	ask := c.expectPrefix(`42`)
	id, _, ok := strings.Cut(strings.TrimPrefix(ask, "42"), `["ask","q"]`)
	if !ok || id == "" {
		t.Fatalf("ask packet %q", ask)
	}
	c.expect(`431[""]`)
	c.send(`422["next"]`) // not held back by the pending acknowledgement
	c.expect(`432["next"]`)
	c.send(`43` + id + `["answer"]`)
	testutil.Equal(t, <-results, `["answer"] `)

	c.send(`423["short"]`)
	c.expectPrefix(`42`) // never, twice
	c.expectPrefix(`42`)
	c.expect(`433["` + ErrAckTimeout.Error() + `"]`)
	testutil.Equal(t, <-results, "[] "+ErrAckTimeout.Error())

	c.send(`42["pending"]`)
	c.expectPrefix(`42`)
	_ = c.conn.CloseNow()
	testutil.Equal(t, <-results, "[] "+(&DisconnectError{Reason: ReasonTransportClose}).Error())
}

// TestSocketOperators checks Volatile and a variadic Leave.
func TestSocketOperators(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	sockets := make(chan *Socket, 1)
	srv.OnConnection(func(s *Socket) { sockets <- s })
	c := dialWS(t, url, "")
	sid := c.connect("/", "")
	s := <-sockets

	testutil.NoErr(t, s.Volatile().Emit("vol", 1))
	c.expect(`42["vol",1]`)
	testutil.NoErr(t, s.Compress(false).Timeout(time.Second).Emit("op", 2))
	c.expect(`42["op",2]`)
	if err := s.Volatile().Emit("disconnect"); !errors.Is(err, ErrReservedEvent) {
		t.Fatalf("reserved name: %v", err)
	}

	s.Join("a", "b", "c")
	s.Leave("a", "b")
	rooms := s.Rooms()
	slices.Sort(rooms)
	want := []string{sid, "c"}
	slices.Sort(want)
	testutil.Equal(t, rooms, want)
}

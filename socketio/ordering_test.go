package socketio

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gosio/gosio/internal/testutil"
)

// TestSocketsOfOneClientDoNotWait blocks a handler on "/": an event of the
// same client on "/other" is handled and acknowledged meanwhile, while a
// later event on "/" waits for the blocked one.
func TestSocketsOfOneClientDoNotWait(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	release := make(chan struct{})
	var mu sync.Mutex
	var order []string
	record := func(ev string) {
		mu.Lock()
		order = append(order, ev)
		mu.Unlock()
	}
	srv.OnConnection(func(s *Socket) {
		s.On("slow", func() { <-release; record("slow") })
		s.On("after", func(ack Ack) { record("after"); _ = ack("after") })
	})
	srv.Of("/other").OnConnection(func(s *Socket) {
		s.On("fast", func(ack Ack) { record("fast"); _ = ack("fast") })
	})
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()

	c := dialWS(t, url, "")
	c.connect("/", "")
	c.connect("/other", "")
	c.send(`42["slow"]`)
	c.send(`421["after"]`)
	c.send(`42/other,7["fast"]`)
	c.expect(`43/other,7["fast"]`) // before the slow handler returned
	close(release)
	c.expect(`431["after"]`)
	mu.Lock()
	defer mu.Unlock()
	testutil.Equal(t, order, []string{"fast", "slow", "after"})
}

// TestSocketContext checks that a socket's Context ends when it
// disconnects, with the reason as its cause, so that a long handler stops.
func TestSocketContext(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	causes := make(chan error, 2)
	sockets := make(chan *Socket, 1)
	started := make(chan struct{})
	srv.OnConnection(func(s *Socket) {
		s.On("long", func() {
			ctx := s.Context()
			close(started)
			select {
			case <-ctx.Done():
				causes <- context.Cause(ctx)
			case <-time.After(10 * time.Second):
				causes <- errors.New("the context did not end")
			}
		})
		sockets <- s
	})
	c := dialWS(t, url, "")
	c.connect("/", "")
	s := <-sockets
	testutil.NoErr(t, s.Context().Err())
	c.send(`42["long"]`)
	<-started
	c.send(`41`) // the client leaves the namespace
	err := <-causes
	if DisconnectReason(err) != ReasonClientNamespaceDisconnect {
		t.Fatalf("cause %v, want %q", err, ReasonClientNamespaceDisconnect)
	}
	// A context asked for after the disconnection is done already.
	if !errors.Is(s.Context().Err(), context.Canceled) || DisconnectReason(context.Cause(s.Context())) != ReasonClientNamespaceDisconnect {
		t.Fatalf("late context: %v, %v", s.Context().Err(), context.Cause(s.Context()))
	}
}

// TestRefusedSocketContext checks that a socket a middleware refused has
// its Context cancelled with the middleware's error.
func TestRefusedSocketContext(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	ctxs := make(chan context.Context, 1)
	refusal := errors.New("no")
	srv.Use(func(s *Socket) error {
		ctxs <- s.Context()
		return refusal
	})
	c := dialWS(t, url, "")
	c.send("40")
	c.expectPrefix(`44{"message":"no"`)
	ctx := <-ctxs
	<-ctx.Done()
	if !errors.Is(context.Cause(ctx), refusal) {
		t.Fatalf("cause %v", context.Cause(ctx))
	}
}

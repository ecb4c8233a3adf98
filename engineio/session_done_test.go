package engineio

import (
	"testing"
	"time"
)

// TestSessionDone checks the Done channel, made on first use: asked
// before the close, it is closed by it and the same on every call; asked
// only after the close, it is a closed channel.
func TestSessionDone(t *testing.T) {
	t.Parallel()
	sessions := make(chan *Session, 2)
	ts := newTestServer(t, nil, func(s *Session) {
		echo(s)
		sessions <- s
	})
	sidEarly := ts.openPolling(t)
	early := <-sessions
	sidLate := ts.openPolling(t)
	late := <-sessions

	done := early.Done()
	if early.Done() != done {
		t.Fatal("Done returned another channel")
	}
	select {
	case <-done:
		t.Fatal("Done closed before the session")
	default:
	}
	early.Close()
	late.Close()
	select {
	case <-done:
	case <-time.After(testTimeout):
		t.Fatal("Done not closed with the session")
	}
	ts.waitClose(t, sidEarly)
	ts.waitClose(t, sidLate)
	select {
	case <-late.Done():
	default:
		t.Fatal("Done asked after the close is not closed")
	}
}

package socketio

import (
	"regexp"
	"testing"
	"time"
)

// Tests of the Node socket.io 4.8 APIs docs/migrating-from-node.md maps.

// TestOnNewNamespace: the hook sees each namespace created by Of and each
// child a parent namespace creates, once; a child's sockets connect only
// after the hook returned, so the middleware it adds runs for every one of
// them, even a second client that connects while the hook still runs.
func TestOnNewNamespace(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	created := make(chan string, 8)
	release := make(chan struct{})
	srv.OnNewNamespace(func(n *Namespace) {
		created <- n.Name()
		if n.Name() == "/room-1" {
			<-release
			n.Use(func(s *Socket) error { s.SetData("hooked"); return nil })
		}
	})
	srv.Of("/a")
	srv.Of("a") // the same namespace: no second call
	if got := <-created; got != "/a" {
		t.Fatalf("hook got %q, want /a", got)
	}

	parent := srv.OfRegexp(regexp.MustCompile(`^/room-\d+$`))
	data := make(chan any, 2)
	parent.OnConnection(func(s *Socket) { data <- s.Data() })
	c1, c2 := dialWS(t, url, ""), dialWS(t, url, "")
	c1.send("40/room-1,")
	if got := <-created; got != "/room-1" {
		t.Fatalf("hook got %q, want /room-1", got)
	}
	c2.send("40/room-1,") // finds the child, and must wait for the hook
	select {
	case d := <-data:
		t.Fatalf("a socket connected before the hook returned (data %v)", d)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	c1.expectPrefix("40/room-1,{")
	c2.expectPrefix("40/room-1,{")
	for range 2 {
		if d := <-data; d != "hooked" {
			t.Fatalf("socket data %v: the hook's middleware did not run", d)
		}
	}
	select {
	case got := <-created:
		t.Fatalf("hook called again for %q", got)
	default:
	}
	if ch := parent.Children(); len(ch) != 1 || ch[0].Name() != "/room-1" {
		t.Fatalf("children %v", ch)
	}
}

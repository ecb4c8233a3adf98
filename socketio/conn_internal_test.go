package socketio

import (
	"fmt"
	"slices"
	"testing"

	"github.com/gosio/gosio/internal/testutil"
)

// TestSocketSet checks the set of a connection's sockets below and past
// socketSetSmall, where it moves from a slice to a map.
func TestSocketSet(t *testing.T) {
	t.Parallel()
	var set socketSet
	var socks []*Socket
	for i := range socketSetSmall + 3 {
		s := &Socket{nsp: &Namespace{name: fmt.Sprintf("/n%d", i)}}
		socks = append(socks, s)
		set.add(s)
		testutil.Equal(t, set.len(), i+1)
		for _, x := range socks {
			sameSocket(t, set.get(x.nsp.name), x)
		}
		sameSocket(t, set.get("/missing"), nil)
	}
	all := set.all()
	slices.SortFunc(all, func(a, b *Socket) int { return slices.Index(socks, a) - slices.Index(socks, b) })
	sameSockets(t, all, socks)

	// A socket no longer of its namespace is not removed.
	set.remove(&Socket{nsp: socks[0].nsp})
	sameSocket(t, set.get("/n0"), socks[0])
	for i, s := range socks {
		set.remove(s)
		testutil.Equal(t, set.len(), len(socks)-i-1)
		sameSocket(t, set.get(s.nsp.name), nil)
	}

	var small socketSet
	a, b := &Socket{nsp: &Namespace{name: "/"}}, &Socket{nsp: &Namespace{name: "/b"}}
	small.add(a)
	small.add(b)
	small.remove(&Socket{nsp: a.nsp})
	sameSockets(t, small.all(), []*Socket{a, b})
	small.remove(a)
	sameSockets(t, small.all(), []*Socket{b})
	sameSocket(t, small.get("/b"), b)
}

func sameSocket(t *testing.T, got, want *Socket) {
	t.Helper()
	if got != want {
		t.Fatalf("got socket %p, want %p", got, want)
	}
}

func sameSockets(t *testing.T, got, want []*Socket) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("got sockets %p, want %p", got, want)
	}
}

package socketio

import (
	"testing"

	"github.com/gosio/gosio/internal/testutil"
)

func TestEventTable(t *testing.T) {
	var tab eventTable
	a, b, c := &handler{}, &handler{}, &handler{}
	tab.add("x", a)
	tab.add("y", b)
	tab.add("x", c)
	got := tab.get("x")
	testutil.Equal(t, len(got), 2)
	if got[0] != a || got[1] != c {
		t.Fatal("handlers of x not in the order added")
	}
	testutil.Equal(t, len(tab.get("nope")), 0)

	// A slice returned earlier keeps its elements through later changes.
	tab.add("x", b)
	tab.remove("x")
	if got[0] != a || got[1] != c {
		t.Fatal("a kept slice changed")
	}
	testutil.Equal(t, len(tab.get("x")), 0)
	if y := tab.get("y"); len(y) != 1 || y[0] != b {
		t.Fatal("removing x changed y")
	}
	tab.add("x", c)
	if x := tab.get("x"); len(x) != 1 || x[0] != c {
		t.Fatal("x after remove and add")
	}
}

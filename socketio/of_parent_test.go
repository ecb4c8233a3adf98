package socketio

import (
	"encoding/json"
	"regexp"
	"slices"
	"testing"
)

// TestOfAttachesToRegexpParent: as in Node, Of with a new name that a
// regexp parent namespace matches returns that parent's child (with the
// parent's connection handlers), and a name no parent matches gets a
// namespace of its own. OfFunc parents are not asked.
func TestOfAttachesToRegexpParent(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	srv.OfFunc(func(string, json.RawMessage) bool { return true })
	p := srv.OfRegexp(regexp.MustCompile(`^/dyn-\d+$`))
	p.OnConnection(func(s *Socket) { _ = s.Emit("hello", s.Namespace().Name()) })

	n := srv.Of("/dyn-1")
	if !slices.Contains(p.Children(), n) {
		t.Fatalf("Of(/dyn-1) is not a child of the parent: children %v", p.Children())
	}
	if srv.Of("dyn-1") != n {
		t.Fatal("a second Of(dyn-1) made another namespace")
	}
	if other := srv.Of("/other"); slices.Contains(p.Children(), other) {
		t.Fatal("Of(/other) became a child")
	}

	c := dialWS(t, url, "")
	c.connect("/dyn-1", "")
	c.expect(`42/dyn-1,["hello","/dyn-1"]`)
}

package clusterwire

import "testing"

// The expected indexes were printed by Node 20 with the streams adapter's
// hashCode (lib/util.ts) and JavaScript's %.
func TestStreamIndexMatchesNode(t *testing.T) {
	cases := []struct {
		nsp   string
		count int
		want  int
	}{
		{"/", 2, 1},
		{"/", 3, 2},
		{"/", 5, 2},
		{"/", 7, 5},
		{"/custom", 2, 0},
		{"/custom", 3, 2},
		{"/custom", 5, 4},
		{"/custom", 7, 3},
		{"/notifications", 2, -1},
		{"/notifications", 3, -2},
		{"/notifications", 5, -1},
		{"/notifications", 7, -1},
		{"/chat", 2, 1},
		{"/chat", 3, 1},
		{"/chat", 5, 3},
		{"/chat", 7, 4},
		{"/😀x", 2, 0},
		{"/😀x", 3, 0},
		{"/😀x", 5, 1},
		{"/😀x", 7, 2},
		{"/admin", 2, 0},
		{"/admin", 3, 1},
		{"/admin", 5, 3},
		{"/admin", 7, 4},
		{"/é", 2, 0},
		{"/é", 3, 1},
		{"/é", 5, 0},
		{"/é", 7, 3},
	}
	for _, c := range cases {
		if got := StreamIndex(c.nsp, c.count); got != c.want {
			t.Errorf("StreamIndex(%q, %d) = %d, want %d", c.nsp, c.count, got, c.want)
		}
	}
	if got := StreamKey("socket.io", 2, "/notifications"); got != "socket.io--1" {
		t.Errorf("StreamKey(/notifications, 2) = %q, want socket.io--1 (Node's negative index)", got)
	}
	if got := StreamKey("s", 1, "/notifications"); got != "s" {
		t.Errorf("StreamKey with count 1 = %q", got)
	}
}

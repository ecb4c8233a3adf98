package conformance

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gosio/gosio/internal/testutil"
)

// TestMixedAllRooms checks G1 and G2 on classic mixed clusters: a Go
// node's allRooms() gathers the rooms of every node, Node nodes answering
// the request too (3 socket ids and "woot1"), after messages on channels
// no adapter owns ("woot", "foo") were published, which every node
// ignores and goes on working.
func TestMixedAllRooms(t *testing.T) {
	for _, impls := range [][]string{{"node", "go", "go"}, {"go", "node", "node"}} {
		t.Run(strings.Join(impls, "-"), func(t *testing.T) {
			redisAddr := testutil.StartRedis(t)
			var nodes []*mxNode
			for i, impl := range impls {
				nodes = append(nodes, mxStart(t, impl, "classic", redisAddr, fmt.Sprintf("R%d", i)))
			}
			var groups []*mxClients
			for i, n := range nodes {
				rooms := ""
				if i == 0 {
					rooms = "woot1"
				}
				groups = append(groups, mxConnect(t, n, 1, "/", rooms))
			}
			// G2: strangers on the same Redis.
			for _, ch := range []string{"woot", "foo", "socket.io"} {
				if _, err := testutil.RedisDo(redisAddr, "PUBLISH", ch, "\xc1garbage"); err != nil {
					t.Fatal(err)
				}
			}
			want := append(mxSIDs(groups...), "woot1")
			slices.Sort(want)
			for _, n := range nodes {
				if n.impl != "go" {
					continue
				}
				var ar struct{ Rooms []string }
				n.call(t, "GET", "/all-rooms", nil, &ar)
				testutil.Equal(t, ar.Rooms, want)
			}
			// Everyone still works after the strangers.
			nodes[0].call(t, "POST", "/emit", map[string]any{"event": "still", "args": []any{}}, nil)
			mxWait(t, "a broadcast after the strangers", func() bool { return len(mxEvents(groups, "still")) == 3 })
		})
	}
}

package conformance

// The mixed helper cluster of issue 16: one process of the real TS
// SocketIOServerHelper (server.mjs) and two Go ServerHelper processes
// (cmd/helpernode) on one redis-server, with real TS ClientHelpers
// (client.mjs) and Go ClientHelpers on every process.

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosio/gosio/helper"
	"github.com/gosio/gosio/internal/testutil"
)

// igBuildGoNode builds cmd/helpernode (with the race detector) into a
// temp dir of the test and returns the binary.
func igBuildGoNode(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "helpernode")
	out, err := exec.Command("go", "build", "-race", "-o", bin, "./cmd/helpernode").CombinedOutput()
	if err != nil {
		t.Fatalf("go build ./cmd/helpernode: %v\n%s", err, out)
	}
	return bin
}

// igStartGoNode starts a helpernode process on redisAddr and waits for its
// ready line. Its control API is server.mjs's, on port+1000.
func igStartGoNode(t *testing.T, bin, redisAddr, identifier string, args ...string) *igServer {
	t.Helper()
	port := igFreePortPair(t)
	s := &igServer{port: port}
	s.igProc = igStartExec(t, filepath.Dir(bin), "go-node:"+identifier, bin,
		append([]string{"--port", strconv.Itoa(port), "--redis", "redis://" + redisAddr, "--identifier", identifier}, args...)...)
	s.waitReady(t)
	return s
}

// igReceived returns the sorted names of the events a client (TS or Go)
// received, without the helper's own ping and authenticated.
func igReceived(ts *igClient, gc *igGoClient) []string {
	var out []string
	if ts != nil {
		for _, l := range ts.lines("event", "") {
			if ev, _ := l["event"].(string); ev != helper.EventPing && ev != helper.EventAuthenticated {
				out = append(out, ev)
			}
		}
	} else {
		for _, e := range gc.find("event", "") {
			if e.Name != helper.EventPing && e.Name != helper.EventAuthenticated {
				out = append(out, e.Name)
			}
		}
	}
	slices.Sort(out)
	return out
}

// One TS ServerHelper process and two Go ServerHelper processes on one
// Redis, a TS and a Go ClientHelper on each, all in room public-mix, plus
// a TS client on go-2 in no room: Send from each process reaches the
// clients of every process by socket id, room and broadcast, once each,
// and a room Send misses the client outside the room.
func TestHelperMixedCluster(t *testing.T) {
	t.Parallel()
	dir := igSetup(t)
	testutil.NeedTool(t, "redis-server")
	bin := igBuildGoNode(t)
	addr := testutil.StartRedis(t)
	servers := map[string]*igServer{
		"ts": igStartServer(t, dir, addr),
		"g1": igStartGoNode(t, bin, addr, "go-1"),
		"g2": igStartGoNode(t, bin, addr, "go-2"),
	}
	order := []string{"ts", "g1", "g2"}

	type member struct {
		name, server string
		ts           *igClient
		gc           *igGoClient
		inRoom       bool
		id           string
	}
	var members []*member
	for _, sv := range order {
		url := servers[sv].url()
		members = append(members,
			&member{name: "ts-on-" + sv, server: sv, inRoom: true,
				ts: igStartClient(t, dir, url, "--token", "good", "--rooms", "public-mix")},
			// The Go clients send the token both ways, one per server kind.
			&member{name: "go-on-" + sv, server: sv, inRoom: true,
				gc: igStartGoClient(t, url, "good", map[bool]string{true: "auth", false: "header"}[sv == "g1"], true)})
	}
	members = append(members, &member{name: "ts-outsider-on-g2", server: "g2",
		ts: igStartClient(t, dir, servers["g2"].url(), "--token", "good")})
	for _, m := range members {
		if m.gc != nil {
			m.gc.wait(t, "authenticated", "", 1)
			testutil.NoErr(t, m.gc.JoinRooms("public-mix"))
			m.id = m.gc.Socket().ID()
		} else {
			m.ts.wait(t, "event", helper.EventAuthenticated, 1)
			m.id = m.ts.id(t)
		}
	}
	// Each server tracks its clients, authenticated, and in public-mix
	// exactly when they asked.
	testutil.WaitUntil(t, 20*time.Second, "every client authenticated and in its rooms on its server", func() bool {
		views := map[string][]igTSClient{}
		for _, sv := range order {
			views[sv] = servers[sv].clients(t)
		}
		for _, m := range members {
			i := slices.IndexFunc(views[m.server], func(c igTSClient) bool { return c.ID == m.id })
			if i < 0 {
				return false
			}
			c := views[m.server][i]
			if c.State != string(helper.StateAuthenticated) || slices.Contains(c.Rooms, "public-mix") != m.inRoom ||
				!slices.Contains(c.Rooms, helper.RoomDefault) {
				return false
			}
		}
		return true
	})

	// Every process sends to every socket id, to the room and to all.
	for _, from := range order {
		for _, m := range members {
			servers[from].send(t, m.id, "id-"+from+"-"+m.name, map[string]string{"from": from, "to": m.id})
		}
		servers[from].send(t, "public-mix", "room-"+from, map[string]string{"from": from})
		servers[from].send(t, "", "all-"+from, map[string]string{"from": from})
	}

	for _, m := range members {
		var want []string
		for _, from := range order {
			want = append(want, "id-"+from+"-"+m.name, "all-"+from)
			if m.inRoom {
				want = append(want, "room-"+from)
			}
		}
		slices.Sort(want)
		testutil.WaitUntil(t, 20*time.Second, fmt.Sprintf("%s (on %s) got every Send (has %v)", m.name, m.server, igReceived(m.ts, m.gc)),
			func() bool { return len(igReceived(m.ts, m.gc)) >= len(want) })
	}
	time.Sleep(300 * time.Millisecond) // nothing more arrives: no duplicates, no stray room Send
	for _, m := range members {
		var want []string
		for _, from := range order {
			want = append(want, "id-"+from+"-"+m.name, "all-"+from)
			if m.inRoom {
				want = append(want, "room-"+from)
			}
		}
		slices.Sort(want)
		if got := igReceived(m.ts, m.gc); !slices.Equal(got, want) {
			t.Errorf("%s (on %s) received\n  %s\nwant\n  %s", m.name, m.server, strings.Join(got, " "), strings.Join(want, " "))
		}
	}
	// Payloads survive the trip: a Go client got the TS server's id Send
	// with its data, a TS client the Go node's.
	for _, m := range members {
		if m.gc != nil && m.server == "g2" {
			e := m.gc.find("event", "id-ts-"+m.name)
			if len(e) != 1 || string(e[0].Data) != fmt.Sprintf(`{"from":"ts","to":%q}`, m.id) {
				t.Errorf("%s: id-ts event %v, want data {from:ts,to:%s}", m.name, e, m.id)
			}
		}
		if m.ts != nil && m.server == "ts" {
			l := m.ts.lines("event", "id-g1-"+m.name)
			if len(l) != 1 || eventArg(l[0])["from"] != "g1" || eventArg(l[0])["to"] != m.id {
				t.Errorf("%s: id-g1 event %v, want data {from:g1,to:%s}", m.name, l, m.id)
			}
		}
	}

	// A Go process shuts down through its control API; the rest of the
	// cluster keeps delivering, and its clients were told.
	var shut struct {
		OK            bool `json:"ok"`
		ClientsBefore int  `json:"clientsBefore"`
		ClientsAfter  int  `json:"clientsAfter"`
	}
	servers["g1"].call(t, "POST", "/shutdown", nil, &shut)
	if !shut.OK || shut.ClientsBefore != 2 || shut.ClientsAfter != 0 {
		t.Errorf("POST /shutdown of go-1: %+v, want ok with 2 clients before and 0 after", shut)
	}
	testutil.WaitUntil(t, 10*time.Second, "go-1 exits after POST /shutdown", servers["g1"].exited)
	if code := servers["g1"].cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("go-1 exit status %d, want 0", code)
	}
	for _, m := range members {
		if m.server != "g1" {
			continue
		}
		if m.gc != nil {
			m.gc.wait(t, "disconnect", "io server disconnect", 1)
		} else {
			m.ts.wait(t, "disconnect", "", 1)
		}
	}
	servers["g2"].send(t, "public-mix", "after-shutdown", map[string]string{"from": "g2"})
	for _, m := range members {
		if m.server == "g1" || !m.inRoom {
			continue
		}
		testutil.WaitUntil(t, 20*time.Second, m.name+" got the room Send after go-1's shutdown", func() bool {
			return slices.Contains(igReceived(m.ts, m.gc), "after-shutdown")
		})
	}
}

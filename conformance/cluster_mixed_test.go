package conformance

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gosio/gosio/internal/testutil"
	"github.com/gosio/gosio/socketio"
)

// Mixed clusters: Node nodes (the real @socket.io/redis-adapter 8.3.0, from
// ../shared/peers/cluster) and Go nodes (cmd/clusternode) on one Redis,
// with the real socket.io-client 4.8.4 (the peers' client.mjs) on the
// receiving end.

var (
	mxOnce    sync.Once
	mxPeers   string
	mxGoNode  string
	mxOnceErr error
)

// mxSetup copies the peer scripts to a temporary folder beside a link to
// conformance/node_modules, and builds the Go node, once per test binary.
func mxSetup(t *testing.T) (peers, goNode string) {
	t.Helper()
	src := peerSource(t, "cluster", "node-server.mjs", "@socket.io/redis-adapter")
	mxOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gosio-cluster-peers-")
		if err != nil {
			mxOnceErr = err
			return
		}
		if err := copyPeers(src, dir, "node-server.mjs", "client.mjs", "jsonbin.mjs"); err != nil {
			mxOnceErr = err
			return
		}
		out, err := exec.Command("go", "build", "-race", "-o", filepath.Join(dir, "clusternode"), "./cmd/clusternode").CombinedOutput()
		if err != nil {
			mxOnceErr = fmt.Errorf("go build ./cmd/clusternode: %v\n%s", err, out)
			return
		}
		mxPeers, mxGoNode = dir, filepath.Join(dir, "clusternode")
	})
	if mxOnceErr != nil {
		t.Fatal(mxOnceErr)
	}
	return mxPeers, mxGoNode
}

// mxCleanup removes the peer folder; TestMain calls it after the tests.
func mxCleanup() {
	if mxPeers != "" {
		_ = os.RemoveAll(mxPeers)
	}
}

type mxNode struct {
	name, impl string
	port       int
	cmd        *exec.Cmd
	stderr     *syncWriter
}

func mxFreePortPair(t *testing.T) int {
	for range 50 {
		p := testutil.FreePort(t)
		if p+1000 > 65535 {
			continue
		}
		if l, err := netListen(p + 1000); err == nil {
			l.Close()
			return p
		}
	}
	t.Fatal("no free port pair")
	return 0
}

func mxStart(t *testing.T, impl, kind, redisAddr, name string) *mxNode {
	t.Helper()
	return mxStartOpts(t, impl, kind, redisAddr, name, "")
}

// mxStartOpts starts a node with adapter options by their Node names, as
// JSON: the Go node takes them with --adapter-opts, the Node node through
// js/node-with-opts.mjs, which runs the reference node unchanged.
func mxStartOpts(t *testing.T, impl, kind, redisAddr, name, opts string) *mxNode {
	t.Helper()
	// The ports are free when picked, but another test's process can take
	// them before this node listens: such a node is started again on
	// other ports.
	for attempt := 1; ; attempt++ {
		n, inUse := mxTryStart(t, impl, kind, redisAddr, name, opts)
		if n != nil {
			return n
		}
		if !inUse || attempt == 3 {
			t.Fatalf("%s (%s) did not get ready", name, impl)
		}
		t.Logf("%s (%s): its port was taken before it listened; starting it again", name, impl)
	}
}

// mxTryStart starts a node on a pair of free ports and waits for its ready
// line. It returns nil, and whether the node failed because its address
// was in use, when the node exited first.
func mxTryStart(t *testing.T, impl, kind, redisAddr, name, opts string) (*mxNode, bool) {
	t.Helper()
	peers, goNode := mxSetup(t)
	n := &mxNode{name: name, impl: impl, port: mxFreePortPair(t), stderr: &syncWriter{b: &bytes.Buffer{}}}
	args := []string{"--port", strconv.Itoa(n.port), "--redis", "redis://" + redisAddr, "--adapter", kind, "--name", name}
	switch {
	case impl == "node" && opts != "":
		wrapper, _ := filepath.Abs(filepath.Join("js", "node-with-opts.mjs"))
		n.cmd = exec.Command("node", append([]string{wrapper, filepath.Join(peers, "node-server.mjs")}, args...)...)
		n.cmd.Env = append(os.Environ(), "GOSIO_ADAPTER_OPTS="+opts)
	case impl == "node":
		n.cmd = exec.Command("node", append([]string{filepath.Join(peers, "node-server.mjs")}, args...)...)
	case opts != "":
		n.cmd = exec.Command(goNode, append(args, "--adapter-opts", opts)...)
	default:
		n.cmd = exec.Command(goNode, args...)
	}
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	n.cmd.Stderr = n.stderr
	out, _ := n.cmd.StdoutPipe()
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-n.cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = n.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			_ = syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("%s (%s) stderr:\n%s", n.name, n.impl, n.stderr)
		}
	})
	ready := make(chan string, 1)
	ended := make(chan struct{}) // stdout closed: the node exited
	go func() {
		defer close(ended)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), `"ready":true`) {
				ready <- sc.Text()
			}
		}
	}()
	select {
	case line := <-ready:
		if !strings.Contains(line, `"impl":"`+impl+`"`) {
			t.Fatalf("%s: ready line %s", name, line)
		}
		return n, false
	case <-ended:
		select {
		case <-ready: // the ready line came just before the end
			t.Fatalf("%s (%s) exited after getting ready; stderr:\n%s", name, impl, n.stderr)
		default:
		}
		_ = n.cmd.Wait() // all of stderr copied (the Cleanup's Wait then returns at once)
		t.Logf("%s (%s) exited before getting ready; stderr:\n%s", name, impl, n.stderr)
		return nil, strings.Contains(n.stderr.String(), "address already in use")
	case <-time.After(20 * time.Second):
		t.Fatalf("%s (%s) did not get ready; stderr:\n%s", name, impl, n.stderr)
	}
	return nil, false
}

type syncWriter struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (n *mxNode) url() string { return "http://127.0.0.1:" + strconv.Itoa(n.port) }

// call sends a control request and decodes the JSON answer into out.
func (n *mxNode) call(t *testing.T, method, path string, body any, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "http://127.0.0.1:"+strconv.Itoa(n.port+1000)+path, rd)
	req.Header.Set("Content-Type", "application/json")
	c := &http.Client{Timeout: 15 * time.Second}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s on %s: %v", method, path, n.name, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("%s %s on %s (%s): %d %s", method, path, n.name, n.impl, res.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s on %s: %v: %s", method, path, n.name, err, b)
		}
	}
}

// mxRecord is one record of client.mjs.
type mxRecord struct {
	Type    string            `json:"type"`
	Client  int               `json:"client"`
	SID     string            `json:"sid"`
	Event   string            `json:"event"`
	Args    []json.RawMessage `json:"args"`
	Reason  string            `json:"reason"`
	Offset  string            `json:"offset"` // the CSR offset client.mjs took off the args
	Clients []struct {
		SID string `json:"sid"`
	} `json:"clients"`
}

type mxClients struct {
	node *mxNode
	sids []string
	mu   sync.Mutex
	recs []mxRecord
}

func mxConnect(t *testing.T, n *mxNode, count int, nsp string, rooms string) *mxClients {
	t.Helper()
	peers, _ := mxSetup(t)
	g := &mxClients{node: n}
	cmd := exec.Command("node", filepath.Join(peers, "client.mjs"), "--url", n.url(), "--count", strconv.Itoa(count), "--nsp", nsp, "--rooms", rooms, "--transports", "websocket")
	out, _ := cmd.StdoutPipe()
	in, _ := cmd.StdinPipe()
	stderr := &syncWriter{b: &bytes.Buffer{}}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = in.Close()
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	ready := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var r mxRecord
			if json.Unmarshal(sc.Bytes(), &r) != nil {
				continue
			}
			switch r.Type {
			case "ready":
				var ids []string
				for _, c := range r.Clients {
					ids = append(ids, c.SID)
				}
				ready <- ids
			case "event", "disconnect":
				g.mu.Lock()
				g.recs = append(g.recs, r)
				g.mu.Unlock()
			}
		}
	}()
	select {
	case g.sids = <-ready:
	case <-time.After(15 * time.Second):
		t.Fatalf("clients of %s did not connect: %s", n.name, stderr)
	}
	return g
}

// events returns "sid:event:args" for every event record named ev.
func (g *mxClients) events(ev string) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for _, r := range g.recs {
		if r.Type == "event" && r.Event == ev {
			a, _ := json.Marshal(r.Args)
			out = append(out, r.SID+" "+string(a))
		}
	}
	return out
}

func (g *mxClients) disconnects() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for _, r := range g.recs {
		if r.Type == "disconnect" {
			out = append(out, r.Reason)
		}
	}
	return out
}

func mxWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(8 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func mxEvents(groups []*mxClients, ev string) []string {
	var out []string
	for _, g := range groups {
		out = append(out, g.events(ev)...)
	}
	sort.Strings(out)
	return out
}

func mxSIDs(groups ...*mxClients) []string {
	var out []string
	for _, g := range groups {
		out = append(out, g.sids...)
	}
	sort.Strings(out)
	return out
}

// TestMixedCluster runs three nodes, Node and Go mixed in both orders, on
// one private Redis, for the classic and the sharded (dynamic) adapter,
// and checks each behaviour with every node as the sender.
func TestMixedCluster(t *testing.T) {
	for _, kind := range []string{"classic", "sharded", "streams"} {
		for _, impls := range [][]string{{"node", "go", "go"}, {"go", "node", "node"}} {
			t.Run(kind+"/"+strings.Join(impls, "-"), func(t *testing.T) {
				mxCluster(t, kind, impls)
			})
		}
	}
}

// TestMixedClusterOptions runs the checks of TestMixedCluster with the
// adapter options the reference node has no flags for, on every node: the
// other sharded subscription modes, the JSON parser (A15) and
// publishOnSpecificResponseChannel.
func TestMixedClusterOptions(t *testing.T) {
	for _, tc := range []struct{ kind, opts string }{
		{"sharded", `{"subscriptionMode":"static"}`},
		{"sharded", `{"subscriptionMode":"dynamic-private"}`},
		{"classic", `{"parser":"json"}`},
		{"classic", `{"publishOnSpecificResponseChannel":true}`},
	} {
		for _, impls := range [][]string{{"node", "go", "go"}, {"go", "node", "node"}} {
			t.Run(tc.kind+tc.opts+"/"+strings.Join(impls, "-"), func(t *testing.T) {
				mxClusterOpts(t, tc.kind, impls, tc.opts)
			})
		}
	}
}

func mxCluster(t *testing.T, kind string, impls []string) { mxClusterOpts(t, kind, impls, "") }

func mxClusterOpts(t *testing.T, kind string, impls []string, opts string) {
	redisAddr := testutil.StartRedis(t)
	var nodes []*mxNode
	for i, impl := range impls {
		nodes = append(nodes, mxStartOpts(t, impl, kind, redisAddr, fmt.Sprintf("N%d", i), opts))
	}
	jsonParser := strings.Contains(opts, `"parser":"json"`)
	// One client per node in "/", in room r<i>; one client in "/custom" on node 0.
	var groups []*mxClients
	for i, n := range nodes {
		groups = append(groups, mxConnect(t, n, 1, "/", "r"+strconv.Itoa(i)))
	}
	custom := mxConnect(t, nodes[0], 1, "/custom", "")
	all := mxSIDs(groups...)

	// I1: serverCount on both namespaces.
	for _, n := range nodes {
		for _, nsp := range []string{"/", "/custom"} {
			var sc struct{ Count int }
			n.call(t, "GET", "/server-count?nsp="+nsp, nil, &sc)
			if sc.Count != 3 {
				t.Fatalf("%s (%s): serverCount(%s) = %d, want 3", n.name, n.impl, nsp, sc.Count)
			}
		}
	}
	// Dynamic sharded mode subscribes room channels asynchronously.
	time.Sleep(300 * time.Millisecond)

	for si, sender := range nodes {
		tag := fmt.Sprintf("from %s (%s)", sender.name, sender.impl)
		ev := func(s string) string { return s + strconv.Itoa(si) }

		// A1: everyone, with binary as a binary attachment.
		sender.call(t, "POST", "/emit", map[string]any{"event": ev("a1"), "args": []any{1, "2", map[string]string{"$bin": "AQID"}}}, nil)
		mxWait(t, tag+": A1", func() bool { return len(mxEvents(groups, ev("a1"))) >= 3 })
		var want []string
		for i, g := range groups {
			// A JSON parser carries a Buffer as JSON.stringify writes it,
			// and other nodes deliver that object, Node's and Go's alike.
			bin := `{"$bin":"AQID"}`
			if jsonParser && i != si {
				bin = `{"type":"Buffer","data":[1,2,3]}`
			}
			want = append(want, g.sids[0]+` [1,"2",`+bin+`]`)
		}
		sort.Strings(want)
		testutil.Equal(t, mxEvents(groups, ev("a1")), want)
		if jsonParser {
			// A15: what a JSON parser cluster delivers intact.
			sender.call(t, "POST", "/emit", map[string]any{"event": ev("a15"), "args": []any{1, "2", []int{3}}}, nil)
			mxWait(t, tag+": A15", func() bool { return len(mxEvents(groups, ev("a15"))) >= 3 })
			var want []string
			for _, sid := range all {
				want = append(want, sid+` [1,"2",[3]]`)
			}
			testutil.Equal(t, mxEvents(groups, ev("a15")), want)
		}
		if len(custom.events(ev("a1"))) != 0 {
			t.Fatalf("%s: A2: a / broadcast reached /custom", tag)
		}

		// A2: /custom only.
		sender.call(t, "POST", "/emit", map[string]any{"nsp": "/custom", "event": ev("a2"), "args": []any{"c"}}, nil)
		mxWait(t, tag+": A2", func() bool { return len(custom.events(ev("a2"))) == 1 })

		// A3, A4: a room on another node; everyone except that room.
		target := (si + 1) % len(nodes)
		sender.call(t, "POST", "/emit", map[string]any{"rooms": []string{"r" + strconv.Itoa(target)}, "event": ev("a3"), "args": []any{}}, nil)
		sender.call(t, "POST", "/emit", map[string]any{"except": []string{"r" + strconv.Itoa(target)}, "event": ev("a4"), "args": []any{}}, nil)
		mxWait(t, tag+": A3/A4", func() bool {
			return len(mxEvents(groups, ev("a3"))) >= 1 && len(mxEvents(groups, ev("a4"))) >= 2
		})
		testutil.Equal(t, mxEvents(groups, ev("a3")), []string{groups[target].sids[0] + " []"})
		// A5: two rooms and an except: each member once, none of the except.
		sender.call(t, "POST", "/emit", map[string]any{"rooms": []string{"r0", "r1", "r2"}, "except": []string{"r" + strconv.Itoa(target)}, "event": ev("a5")}, nil)
		// A6: local only.
		sender.call(t, "POST", "/emit", map[string]any{"event": ev("a6"), "flags": map[string]bool{"local": true}}, nil)
		// A7: a socket id on another node.
		sender.call(t, "POST", "/emit", map[string]any{"rooms": []string{groups[target].sids[0]}, "event": ev("a7")}, nil)
		mxWait(t, tag+": A5-A7", func() bool {
			return len(mxEvents(groups, ev("a5"))) >= 2 && len(mxEvents(groups, ev("a6"))) >= 1 && len(mxEvents(groups, ev("a7"))) >= 1
		})
		time.Sleep(100 * time.Millisecond)
		testutil.Equal(t, len(mxEvents(groups, ev("a4"))), 2)
		testutil.Equal(t, len(mxEvents(groups, ev("a5"))), 2)
		testutil.Equal(t, mxEvents(groups, ev("a6")), []string{groups[si].sids[0] + " []"})
		testutil.Equal(t, mxEvents(groups, ev("a7")), []string{groups[target].sids[0] + " []"})

		// B1: broadcast with acks from the clients of all three nodes.
		var ea struct {
			OK        bool
			Error     string
			Responses []struct {
				SID  string `json:"sid"`
				Echo string `json:"echo"`
			}
		}
		sender.call(t, "POST", "/emit-ack", map[string]any{"event": ev("b1"), "args": []any{"q"}, "timeoutMs": 3000}, &ea)
		if !ea.OK || len(ea.Responses) != 3 {
			t.Fatalf("%s: B1: %+v", tag, ea)
		}
		var acked []string
		for _, r := range ea.Responses {
			acked = append(acked, r.SID)
			testutil.Equal(t, r.Echo, "q")
		}
		sort.Strings(acked)
		testutil.Equal(t, acked, all)
		// B3: an empty target answers at once with no responses.
		ea.Responses = nil
		sender.call(t, "POST", "/emit-ack", map[string]any{"rooms": []string{"nobody"}, "event": ev("b3"), "timeoutMs": 3000}, &ea)
		if !ea.OK || len(ea.Responses) != 0 {
			t.Fatalf("%s: B3: %+v", tag, ea)
		}
		// B2: binary ack payloads arrive as binary (the clients echo their
		// first argument). With a JSON parser a remote ack's Buffer arrives
		// as its JSON object, as in A1, so B2 applies to msgpack only.
		var eb struct {
			OK        bool
			Responses []struct {
				Echo map[string]string `json:"echo"`
			}
		}
		if !jsonParser {
			sender.call(t, "POST", "/emit-ack", map[string]any{"event": ev("b2"), "args": []any{map[string]string{"$bin": "BAU="}}, "timeoutMs": 3000}, &eb)
			if !eb.OK || len(eb.Responses) != 3 {
				t.Fatalf("%s: B2: %+v", tag, eb)
			}
			for _, r := range eb.Responses {
				if r.Echo["$bin"] != "BAU=" {
					t.Fatalf("%s: B2: a binary ack arrived as %v", tag, r.Echo)
				}
			}
		}

		// E1, E2: fetchSockets across the nodes, and one remote socket.
		var socks []struct {
			ID    string
			Rooms []string
			Data  map[string]any
		}
		sender.call(t, "GET", "/fetch", nil, &socks)
		var ids []string
		for _, s := range socks {
			ids = append(ids, s.ID)
		}
		testutil.Equal(t, ids, all)
		socks = nil
		sender.call(t, "GET", "/fetch?rooms="+groups[target].sids[0], nil, &socks)
		if len(socks) != 1 || socks[0].Data["server"] != nodes[target].name || !slices.Contains(socks[0].Rooms, "r"+strconv.Itoa(target)) {
			t.Fatalf("%s: E2: %+v", tag, socks)
		}
		// E2: the remote socket (id, rooms, data, handshake auth and
		// query) deep-equals what its own node sees locally.
		var remote, origin []map[string]any
		sender.call(t, "GET", "/fetch?rooms="+groups[target].sids[0], nil, &remote)
		nodes[target].call(t, "GET", "/fetch?local=1&rooms="+groups[target].sids[0], nil, &origin)
		testutil.Equal(t, remote, origin)
		// B6: a remote socket's emitWithAck answers its single value, not
		// an array of one (the extension route of Go nodes; the socket is
		// on a Node node in one of the two orders).
		if sender.impl == "go" {
			var ra struct {
				OK        bool
				Error     string
				Responses []map[string]any
			}
			sender.call(t, "POST", "/remote-emit-ack", map[string]any{"sid": groups[target].sids[0], "event": ev("b6"), "args": []any{"x"}, "timeoutMs": 3000}, &ra)
			if !ra.OK || len(ra.Responses) != 1 || ra.Responses[0]["echo"] != "x" || ra.Responses[0]["sid"] != groups[target].sids[0] {
				t.Fatalf("%s: B6 to a socket of %s (%s): %+v", tag, nodes[target].name, nodes[target].impl, ra)
			}
		}
		// E3: local.
		socks = nil
		sender.call(t, "GET", "/fetch?local=1", nil, &socks)
		if len(socks) != 1 || socks[0].ID != groups[si].sids[0] {
			t.Fatalf("%s: E3: %+v", tag, socks)
		}

		// F1, F2: server-side emits reach the two other nodes, with acks.
		for _, n := range nodes {
			n.call(t, "DELETE", "/received-sse", nil, nil)
		}
		sender.call(t, "POST", "/sse", map[string]any{"event": ev("f1"), "args": []any{"world", 1, "2"}}, nil)
		var sa struct {
			OK        bool
			Error     string
			Responses []string
		}
		sender.call(t, "POST", "/sse-ack", map[string]any{"event": ev("f2"), "args": []any{}}, &sa)
		sort.Strings(sa.Responses)
		var wantAcks []string
		for i, n := range nodes {
			if i != si {
				wantAcks = append(wantAcks, n.name+":ack")
			}
		}
		if !sa.OK {
			t.Fatalf("%s: F2: %+v", tag, sa)
		}
		testutil.Equal(t, sa.Responses, wantAcks)
		for i, n := range nodes {
			var want []string
			if i != si {
				want = []string{ev("f1") + `["world",1,"2"]`, ev("f2") + "[]"}
			}
			mxWaitSSE(t, n, want)
		}

		// C1, C4: socketsJoin and socketsLeave everywhere.
		room := ev("c")
		sender.call(t, "POST", "/sockets-join", map[string]any{"join": []string{room}}, nil)
		mxWait(t, tag+": C1", func() bool {
			var s []struct{ ID string }
			sender.call(t, "GET", "/fetch?rooms="+room, nil, &s)
			return len(s) == 3
		})
		sender.call(t, "POST", "/sockets-leave", map[string]any{"leave": []string{room}}, nil)
		mxWait(t, tag+": C4", func() bool {
			var s []struct{ ID string }
			sender.call(t, "GET", "/fetch?rooms="+room, nil, &s)
			return len(s) == 0
		})
		// C2, C5: only the sockets of a room (on another node) join, then
		// leave; C3, C6: the same for one socket id.
		members := func(room string) []string {
			var s []struct{ ID string }
			sender.call(t, "GET", "/fetch?rooms="+room, nil, &s)
			var ids []string
			for _, x := range s {
				ids = append(ids, x.ID)
			}
			return ids
		}
		tsid := groups[target].sids[0]
		sender.call(t, "POST", "/sockets-join", map[string]any{"rooms": []string{"r" + strconv.Itoa(target)}, "join": []string{ev("c2")}}, nil)
		sender.call(t, "POST", "/sockets-join", map[string]any{"rooms": []string{tsid}, "join": []string{ev("c3")}}, nil)
		mxWait(t, tag+": C2/C3", func() bool {
			return slices.Equal(members(ev("c2")), []string{tsid}) && slices.Equal(members(ev("c3")), []string{tsid})
		})
		sender.call(t, "POST", "/sockets-join", map[string]any{"join": []string{ev("c5")}}, nil)
		mxWait(t, tag+": C5 setup", func() bool { return len(members(ev("c5"))) == 3 })
		sender.call(t, "POST", "/sockets-leave", map[string]any{"rooms": []string{"r" + strconv.Itoa(target)}, "leave": []string{ev("c5")}}, nil)
		sender.call(t, "POST", "/sockets-leave", map[string]any{"rooms": []string{tsid}, "leave": []string{ev("c3")}}, nil)
		mxWait(t, tag+": C5/C6", func() bool {
			return len(members(ev("c5"))) == 2 && !slices.Contains(members(ev("c5")), tsid) && len(members(ev("c3"))) == 0
		})
	}

	// I3: disconnectSockets(close) on /custom reaches only the /custom client.
	nodes[len(nodes)-1].call(t, "POST", "/disconnect", map[string]any{"nsp": "/custom", "close": true}, nil)
	mxWait(t, "I3", func() bool { return len(custom.disconnects()) == 1 })
	testutil.Equal(t, custom.disconnects(), []string{"io server disconnect"})
	for _, g := range groups {
		if len(g.disconnects()) != 0 {
			t.Fatalf("I3: a / client of %s was disconnected by a /custom disconnectSockets", g.node.name)
		}
	}

	// B4: one client that never answers (a gosio client with no handler
	// for the event) on node 1: the broadcast with acks ends with Node's
	// error and the responses of the others, whatever node sends it.
	silent, err := socketio.NewClient(nodes[1].url(), &socketio.ClientOptions{ManagerOptions: socketio.ManagerOptions{Transports: []string{"websocket"}, DisableReconnection: true}})
	if err != nil {
		t.Fatal(err)
	}
	cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
	if err := silent.Connect(cctx); err != nil {
		t.Fatal(err)
	}
	ccancel()
	defer silent.Close()
	for si, sender := range nodes {
		var ea struct {
			OK        bool
			Error     string
			Responses []struct {
				SID string `json:"sid"`
			}
		}
		sender.call(t, "POST", "/emit-ack", map[string]any{"event": "b4" + strconv.Itoa(si), "timeoutMs": 1000}, &ea)
		if ea.OK || ea.Error != "operation has timed out" || len(ea.Responses) != 3 {
			t.Fatalf("from %s (%s): B4: %+v, want the timeout error with the 3 other responses", sender.name, sender.impl, ea)
		}
	}

	// D2, D1: emit("bye") then disconnectSockets(true) from the last node:
	// every client gets "bye" before it is disconnected, with reason "io
	// server disconnect".
	last := nodes[len(nodes)-1]
	last.call(t, "POST", "/emit", map[string]any{"event": "bye", "args": []any{}}, nil)
	last.call(t, "POST", "/disconnect", map[string]any{"close": true}, nil)
	mxWait(t, "D1", func() bool {
		n := 0
		for _, g := range groups {
			n += len(g.disconnects())
		}
		return n == 3
	})
	for _, g := range groups {
		testutil.Equal(t, g.disconnects(), []string{"io server disconnect"})
		g.mu.Lock()
		var order []string
		for _, r := range g.recs {
			if r.Type == "disconnect" || (r.Type == "event" && r.Event == "bye") {
				order = append(order, r.Type)
			}
		}
		g.mu.Unlock()
		if !slices.Equal(order, []string{"event", "disconnect"}) {
			t.Fatalf("D2: a client of %s saw %v, want bye before the disconnect", g.node.name, order)
		}
	}
}

func mxWaitSSE(t *testing.T, n *mxNode, want []string) {
	t.Helper()
	var got []string
	deadline := time.Now().Add(5 * time.Second)
	for {
		var recs []struct {
			Event string
			Args  []any
		}
		n.call(t, "GET", "/received-sse", nil, &recs)
		got = got[:0]
		for _, r := range recs {
			b, _ := json.Marshal(r.Args)
			got = append(got, r.Event+string(b))
		}
		if len(got) >= len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(want) == 0 {
		time.Sleep(50 * time.Millisecond)
	}
	if len(got) != len(want) || (len(want) > 0 && !slices.Equal(got, want)) {
		t.Fatalf("%s (%s) received server-side emits %v, want %v", n.name, n.impl, got, want)
	}
}

func netListen(port int) (interface{ Close() error }, error) {
	return net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
}

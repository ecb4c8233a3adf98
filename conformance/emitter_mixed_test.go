package conformance

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/gosio/gosio/emitter"
	"github.com/gosio/gosio/internal/testutil"
)

// Emitters against real nodes: the Go emitter (package emitter) and
// Node's @socket.io/redis-emitter 5.1.0 (js/emitter-node.mjs) send, nodes
// of ../shared/peers/cluster (Node) or cmd/clusternode (Go) relay to real
// socket.io-client 4.8 clients (the peers' client.mjs), and the checks
// read what those clients and nodes received.

// emCmd is one emitter operation, run by either emitter.
type emCmd struct {
	Op       string   `json:"op"`
	Nsp      *string  `json:"nsp,omitempty"`
	Rooms    []string `json:"rooms,omitempty"`
	Except   []string `json:"except,omitempty"`
	Volatile bool     `json:"volatile,omitempty"`
	Compress *bool    `json:"compress,omitempty"`
	Event    string   `json:"event,omitempty"`
	Args     []any    `json:"args,omitempty"`
	Join     []string `json:"join,omitempty"`
	Leave    []string `json:"leave,omitempty"`
	Close    bool     `json:"close,omitempty"`
}

type emRunner interface {
	run(t *testing.T, c emCmd) error
	name() string
}

// goEmitter runs commands on the Go emitter.
type goEmitter struct {
	e    *emitter.Emitter
	kind string
}

func (g *goEmitter) name() string { return "go-" + g.kind + "-emitter" }

func (g *goEmitter) run(t *testing.T, c emCmd) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	e := g.e
	if c.Nsp != nil {
		e = e.Of(*c.Nsp)
	}
	op := e.To(c.Rooms...).Except(c.Except...)
	if c.Volatile {
		op = op.Volatile()
	}
	if c.Compress != nil {
		op = op.Compress(*c.Compress)
	}
	switch c.Op {
	case "emit":
		return op.Emit(ctx, c.Event, c.Args...)
	case "join":
		return op.SocketsJoin(ctx, c.Join...)
	case "leave":
		return op.SocketsLeave(ctx, c.Leave...)
	case "disconnect":
		return op.DisconnectSockets(ctx, c.Close)
	case "sse":
		return e.ServerSideEmit(ctx, c.Event, c.Args...)
	}
	t.Fatalf("unknown op %q", c.Op)
	return nil
}

// nodeEmitter runs commands on Node's emitter through js/emitter-node.mjs.
type nodeEmitter struct {
	in  io.WriteCloser
	out *bufio.Scanner
}

func (n *nodeEmitter) name() string { return "node-redis-emitter" }

func startNodeEmitter(t *testing.T, redisAddr string) *nodeEmitter {
	t.Helper()
	needNode(t)
	cmd := exec.Command("node", filepath.Join("js", "emitter-node.mjs"), "--redis", "redis://"+redisAddr)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr := &syncWriter{b: &bytes.Buffer{}}
	cmd.Stderr = stderr
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = in.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("emitter-node.mjs stderr:\n%s", stderr)
		}
	})
	return &nodeEmitter{in: in, out: bufio.NewScanner(out)}
}

func (n *nodeEmitter) run(t *testing.T, c emCmd) error {
	t.Helper()
	if c.Args != nil {
		c.Args = b64Args(c.Args).([]any)
	}
	line, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.in.Write(append(line, '\n')); err != nil {
		t.Fatal(err)
	}
	if !n.out.Scan() {
		t.Fatalf("emitter-node.mjs ended: %v", n.out.Err())
	}
	var a struct {
		OK    bool
		Error string
	}
	if err := json.Unmarshal(n.out.Bytes(), &a); err != nil {
		t.Fatalf("emitter-node.mjs answered %s", n.out.Bytes())
	}
	if !a.OK {
		return errors.New(a.Error)
	}
	return nil
}

// b64Args writes every []byte as {"$b64": base64} for emitter-node.mjs.
func b64Args(v any) any {
	switch x := v.(type) {
	case []byte:
		return map[string]string{"$b64": base64.StdEncoding.EncodeToString(x)}
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = b64Args(e)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = b64Args(e)
		}
		return out
	}
	return v
}

func emRedisClient(t *testing.T, addr string) rueidis.Client {
	t.Helper()
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}, DisableCache: true})
	testutil.NoErr(t, err)
	t.Cleanup(c.Close)
	return c
}

func str(s string) *string { return &s }

// TestEmitterMixedClassic: the Go emitter to Node and Go nodes of the
// classic adapter, and Node's emitter to Go nodes.
func TestEmitterMixedClassic(t *testing.T) {
	for _, tc := range []struct{ emitter, nodes string }{
		{"go", "node"},
		{"go", "go"},
		{"node", "go"},
	} {
		t.Run(tc.emitter+"-emitter/"+tc.nodes+"-nodes", func(t *testing.T) {
			redisAddr := testutil.StartRedis(t)
			var em emRunner
			if tc.emitter == "go" {
				em = &goEmitter{e: emitter.New(emRedisClient(t, redisAddr), nil), kind: "pubsub"}
			} else {
				em = startNodeEmitter(t, redisAddr)
			}
			emChecks(t, em, "classic", tc.nodes, redisAddr)
		})
	}
}

// TestEmitterMixedStreams: the Go streams emitter to Node nodes of
// @socket.io/redis-streams-adapter 0.3.1 and to Go streams nodes.
func TestEmitterMixedStreams(t *testing.T) {
	for _, impl := range []string{"node", "go"} {
		t.Run("go-emitter/"+impl+"-nodes", func(t *testing.T) {
			redisAddr := testutil.StartRedis(t)
			em := &goEmitter{e: emitter.NewStreams(emRedisClient(t, redisAddr), nil), kind: "streams"}
			emChecks(t, em, "streams", impl, redisAddr)
		})
	}
}

var csrOffset = regexp.MustCompile(`^\d+-\d+$`)

// emEvents returns "sid args" for each event ev received by the groups,
// sorted; on streams nodes (CSR on) each event must carry an offset (the
// stream entry id, which client.mjs takes off the arguments).
func emEvents(t *testing.T, kind string, groups []*mxClients, ev string) []string {
	t.Helper()
	var out []string
	for _, g := range groups {
		g.mu.Lock()
		for _, r := range g.recs {
			if r.Type != "event" || r.Event != ev {
				continue
			}
			if kind == "streams" && !csrOffset.MatchString(r.Offset) {
				g.mu.Unlock()
				t.Fatalf("%s: event %s without a CSR offset: %+v", g.node.name, ev, r)
			}
			args := r.Args
			a, _ := json.Marshal(args)
			out = append(out, r.SID+" "+string(a))
		}
		g.mu.Unlock()
	}
	sort.Strings(out)
	return out
}

func emRooms(t *testing.T, n *mxNode, room string) []string {
	t.Helper()
	var s []struct{ ID string }
	n.call(t, "GET", "/fetch?rooms="+room, nil, &s)
	var ids []string
	for _, x := range s {
		ids = append(ids, x.ID)
	}
	sort.Strings(ids)
	return ids
}

func emChecks(t *testing.T, em emRunner, kind, impl, redisAddr string) {
	nodes := []*mxNode{
		mxStart(t, impl, kind, redisAddr, "N0"),
		mxStart(t, impl, kind, redisAddr, "N1"),
	}
	g0 := mxConnect(t, nodes[0], 1, "/", "r0")
	g1 := mxConnect(t, nodes[1], 1, "/", "r1")
	custom := mxConnect(t, nodes[1], 1, "/custom", "")
	groups := []*mxClients{g0, g1}
	s0, s1 := g0.sids[0], g1.sids[0]
	passed := 0
	run := func(c emCmd) {
		t.Helper()
		if err := em.run(t, c); err != nil {
			t.Fatalf("%s %+v: %v", em.name(), c, err)
		}
	}
	ev := func(name string) []string { return emEvents(t, kind, groups, name) }
	// expect waits for the events named name, then checks that exactly want
	// arrived (a little later, so that a duplicate would be seen).
	expect := func(check, name string, got func() []string, want ...string) {
		t.Helper()
		mxWait(t, check, func() bool { return len(got()) >= len(want) })
		time.Sleep(150 * time.Millisecond)
		sort.Strings(want)
		if want == nil {
			want = []string{}
		}
		g := got()
		if g == nil {
			g = []string{}
		}
		testutil.Equal(t, g, want)
		passed++
	}

	// The streams readers start at "$" asynchronously: emit until both
	// clients have seen one event.
	if kind == "streams" {
		deadline := time.Now().Add(10 * time.Second)
		for len(g0.events("warm")) == 0 || len(g1.events("warm")) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("the streams nodes never relayed the warm-up emit")
			}
			run(emCmd{Op: "emit", Event: "warm"})
			time.Sleep(200 * time.Millisecond)
		}
	}

	// A1: everyone in "/", binary as binary; /custom gets nothing.
	run(emCmd{Op: "emit", Event: "a1", Args: []any{1, "2", []byte{1, 2, 3}}})
	expect("A1", "a1", func() []string { return ev("a1") }, s0+` [1,"2",{"$bin":"AQID"}]`, s1+` [1,"2",{"$bin":"AQID"}]`)
	// A2: /custom only.
	run(emCmd{Op: "emit", Nsp: str("/custom"), Event: "a2", Args: []any{"c"}})
	expect("A2", "a2", func() []string { return emEvents(t, kind, []*mxClients{custom}, "a2") }, custom.sids[0]+` ["c"]`)
	if len(ev("a2")) != 0 {
		t.Fatal("A2: a /custom emit reached /")
	}
	// A3, A4: a room, and all but a room.
	run(emCmd{Op: "emit", Rooms: []string{"r1"}, Event: "a3"})
	expect("A3", "a3", func() []string { return ev("a3") }, s1+" []")
	run(emCmd{Op: "emit", Except: []string{"r1"}, Event: "a4"})
	expect("A4", "a4", func() []string { return ev("a4") }, s0+" []")

	if kind == "classic" {
		// A7, A8: to a socket id on another node; except a socket id.
		run(emCmd{Op: "emit", Rooms: []string{s1}, Event: "a7", Args: []any{"p"}})
		expect("A7", "a7", func() []string { return ev("a7") }, s1+` ["p"]`)
		run(emCmd{Op: "emit", Except: []string{s1}, Event: "a8"})
		expect("A8", "a8", func() []string { return ev("a8") }, s0+" []")
		// A11: any data.
		args := []any{1, 1.5, "str", true, nil, []any{1, "a", []any{}}, map[string]any{"k": []byte{9}, "n": 2}, []byte{}}
		want := `[1,1.5,"str",true,null,[1,"a",[]],{"k":{"$bin":"CQ=="},"n":2},{"$bin":""}]`
		run(emCmd{Op: "emit", Event: "a11", Args: args})
		expect("A11", "a11", func() []string { return ev("a11") }, s0+" "+want, s1+" "+want)
		// A13: in([..]), except([..]), volatile, compress(false) together;
		// two rooms go through the broadcast channel.
		run(emCmd{Op: "emit", Rooms: []string{"r0", "r1"}, Except: []string{"r1", "nobody"}, Volatile: true, Compress: new(bool), Event: "a13"})
		expect("A13", "a13", func() []string { return ev("a13") }, s0+" []")
		// A13: reserved event names are refused.
		for _, name := range []string{"connect", "disconnect", "newListener"} {
			err := em.run(t, emCmd{Op: "emit", Event: name})
			if err == nil || !strings.Contains(err.Error(), "reserved event name") {
				t.Fatalf("A13: emit(%q) = %v, want a reserved-event error", name, err)
			}
		}
		passed++
		// A14: of("custom") is "/custom".
		run(emCmd{Op: "emit", Nsp: str("custom"), Event: "a14"})
		expect("A14", "a14", func() []string { return emEvents(t, kind, []*mxClients{custom}, "a14") }, custom.sids[0]+" []")
	}

	// C1: everyone joins; C2: only r0 members join; C5: only r0 members
	// leave; C4: everyone leaves.
	all := mxSIDs(g0, g1)
	run(emCmd{Op: "join", Join: []string{"c1"}})
	mxWait(t, "C1", func() bool { return len(emRooms(t, nodes[0], "c1")) == 2 })
	testutil.Equal(t, emRooms(t, nodes[1], "c1"), all)
	passed++
	run(emCmd{Op: "join", Rooms: []string{"r0"}, Join: []string{"c2", "c2b"}})
	mxWait(t, "C2", func() bool { return len(emRooms(t, nodes[1], "c2b")) == 1 })
	time.Sleep(150 * time.Millisecond)
	testutil.Equal(t, emRooms(t, nodes[1], "c2"), []string{s0})
	passed++
	run(emCmd{Op: "leave", Rooms: []string{"r0"}, Leave: []string{"c1"}})
	mxWait(t, "C5", func() bool { return len(emRooms(t, nodes[0], "c1")) == 1 })
	time.Sleep(150 * time.Millisecond)
	testutil.Equal(t, emRooms(t, nodes[1], "c1"), []string{s1})
	passed++
	if kind == "streams" {
		// C3, C6: a socket id joins, then leaves.
		run(emCmd{Op: "join", Rooms: []string{s1}, Join: []string{"c3"}})
		mxWait(t, "C3", func() bool { return len(emRooms(t, nodes[0], "c3")) == 1 })
		testutil.Equal(t, emRooms(t, nodes[0], "c3"), []string{s1})
		passed++
		run(emCmd{Op: "join", Join: []string{"c6"}})
		mxWait(t, "C6 setup", func() bool { return len(emRooms(t, nodes[0], "c6")) == 2 })
		run(emCmd{Op: "leave", Rooms: []string{s1}, Leave: []string{"c6"}})
		mxWait(t, "C6", func() bool { return len(emRooms(t, nodes[0], "c6")) == 1 })
		testutil.Equal(t, emRooms(t, nodes[1], "c6"), []string{s0})
		passed++
	}
	run(emCmd{Op: "leave", Leave: []string{"c1", "c2"}})
	mxWait(t, "C4", func() bool {
		return len(emRooms(t, nodes[0], "c1")) == 0 && len(emRooms(t, nodes[0], "c2")) == 0
	})
	passed++

	// F1: server-side emits reach every node, on "/" and "/custom".
	for _, n := range nodes {
		n.call(t, "DELETE", "/received-sse", nil, nil)
	}
	run(emCmd{Op: "sse", Event: "f1", Args: []any{"world", 1, "2"}})
	run(emCmd{Op: "sse", Nsp: str("/custom"), Event: "f1c", Args: []any{}})
	// The two namespaces' order is not checked: Go nodes handle each
	// namespace's messages on its own queue.
	for _, n := range nodes {
		received := func() []string {
			var recs []struct {
				Nsp, Event string
				Args       []any
			}
			n.call(t, "GET", "/received-sse", nil, &recs)
			var got []string
			for _, r := range recs {
				a, _ := json.Marshal(r.Args)
				got = append(got, r.Nsp+" "+r.Event+string(a))
			}
			sort.Strings(got)
			return got
		}
		mxWait(t, "F1 on "+n.name, func() bool { return len(received()) >= 2 })
		time.Sleep(150 * time.Millisecond)
		testutil.Equal(t, received(), []string{`/ f1["world",1,"2"]`, `/custom f1c[]`})
	}
	passed++

	if kind == "classic" {
		// D3: only the sockets of a room are disconnected.
		run(emCmd{Op: "disconnect", Rooms: []string{"r0"}})
		mxWait(t, "D3", func() bool { return len(g0.disconnects()) == 1 })
		time.Sleep(200 * time.Millisecond)
		testutil.Equal(t, g0.disconnects(), []string{"io server disconnect"})
		testutil.Equal(t, len(g1.disconnects()), 0)
		passed++
	}
	// D1: every client of the namespace sees "io server disconnect".
	run(emCmd{Op: "disconnect", Close: true})
	run(emCmd{Op: "disconnect", Nsp: str("/custom")})
	mxWait(t, "D1", func() bool { return len(g1.disconnects()) == 1 && len(custom.disconnects()) == 1 })
	time.Sleep(150 * time.Millisecond)
	for _, g := range []*mxClients{g0, g1, custom} {
		testutil.Equal(t, g.disconnects(), []string{"io server disconnect"})
	}
	passed++
	t.Logf("%s → %s %s nodes: %d checks passed", em.name(), impl, kind, passed)
}

// TestEmitterMixedShardedUnreachable documents §1.3: the pub/sub emitter
// PUBLISHes, sharded adapters SSUBSCRIBE, so nothing reaches a client of
// a Node sharded node, while the same node's own broadcast does.
func TestEmitterMixedShardedUnreachable(t *testing.T) {
	redisAddr := testutil.StartRedis(t)
	n := mxStart(t, "node", "sharded", redisAddr, "S0")
	g := mxConnect(t, n, 1, "/", "r0")
	e := emitter.New(emRedisClient(t, redisAddr), nil)
	ctx := context.Background()
	testutil.NoErr(t, e.Emit(ctx, "lost"))
	testutil.NoErr(t, e.To("r0").Emit(ctx, "lost"))
	n.call(t, "POST", "/emit", map[string]any{"event": "seen"}, nil)
	mxWait(t, "the node's own broadcast", func() bool { return len(g.events("seen")) == 1 })
	time.Sleep(300 * time.Millisecond)
	if got := g.events("lost"); len(got) != 0 {
		t.Fatalf("the pub/sub emitter reached a sharded cluster: %v", got)
	}
}

package conformance

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gosio/gosio/internal/testutil"
)

// TestStreamsRecoveryAcrossNodes checks connection state recovery with the
// streams adapter across nodes (I2, H1, H2), Node and Go both ways: a real
// socket.io-client connects through a TCP proxy (a load balancer) to node
// X; its transport is dropped while the proxy turns to node Y and refuses
// connections for a while; packets are broadcast meanwhile; then the
// client reconnects by itself, reaches Y, and must get its session back
// (same id, rooms, data made on X) with exactly the packets it missed.
func TestStreamsRecoveryAcrossNodes(t *testing.T) {
	for _, pair := range [][2]string{{"node", "go"}, {"go", "node"}, {"go", "go"}, {"node", "node"}} {
		t.Run(pair[0]+"-to-"+pair[1], func(t *testing.T) {
			csrAcross(t, pair[0], pair[1])
		})
	}
}

func csrAcross(t *testing.T, fromImpl, toImpl string) {
	redisAddr := testutil.StartRedis(t)
	x := mxStart(t, fromImpl, "streams", redisAddr, "X")
	y := mxStart(t, toImpl, "streams", redisAddr, "Y")
	px := startSwitchProxy(t, "127.0.0.1:"+strconv.Itoa(x.port))

	c := csrConnect(t, "http://"+px.addr(), "/", "room1")
	sid := c.firstSID()
	// An offset first: the client sends its session only once it has one.
	x.call(t, "POST", "/emit", map[string]any{"event": "warm", "args": []any{0}}, nil)
	c.wait(t, "warm-up event", func() bool { return len(c.events("warm")) == 1 })
	if c.events("warm")[0].Offset == "" {
		t.Fatalf("the warm-up event carries no offset: %+v", c.events("warm")[0])
	}

	// The load balancer now sends to Y, but refuses for a while.
	px.switchTo("")
	c.send(t, `{"cmd":"drop-transport","client":0}`)
	c.wait(t, "disconnect", func() bool { return len(c.recordsOf("disconnect")) == 1 })
	// X saw the disconnect (and kept the session) once its socket is gone.
	mxWait(t, "X drops the socket", func() bool {
		var s []struct{ ID string }
		x.call(t, "GET", "/fetch?local=1", nil, &s)
		return len(s) == 0
	})

	// Missed while disconnected: m1 (everyone) and m2 (room1), from both
	// nodes; not n1 (room2), n2 (except room1), n3 (/custom).
	for _, n := range []*mxNode{x, y} {
		n.call(t, "POST", "/emit", map[string]any{"event": "m1", "args": []any{n.name, map[string]string{"$bin": "AQI="}}}, nil)
		n.call(t, "POST", "/emit", map[string]any{"rooms": []string{"room1"}, "event": "m2", "args": []any{n.name}}, nil)
		n.call(t, "POST", "/emit", map[string]any{"rooms": []string{"room2"}, "event": "n1", "args": []any{n.name}}, nil)
		n.call(t, "POST", "/emit", map[string]any{"except": []string{"room1"}, "event": "n2", "args": []any{n.name}}, nil)
		n.call(t, "POST", "/emit", map[string]any{"nsp": "/custom", "event": "n3", "args": []any{n.name}}, nil)
	}
	if toImpl == "go" {
		// gosio never replays volatile packets (Node's restore does).
		x.call(t, "POST", "/emit", map[string]any{"event": "n4", "flags": map[string]bool{"volatile": true}}, nil)
	}

	px.switchTo("127.0.0.1:" + strconv.Itoa(y.port))
	c.wait(t, "reconnect", func() bool { return len(c.recordsOf("connect")) == 2 })
	conn := c.recordsOf("connect")[1]
	if !conn.Recovered || conn.SID != sid {
		t.Fatalf("reconnected to Y as %+v, want recovered with sid %s", conn, sid)
	}
	c.wait(t, "missed packets", func() bool { return len(c.events("m1")) == 2 && len(c.events("m2")) == 2 })
	time.Sleep(200 * time.Millisecond)
	var got []string
	offsets := map[string]bool{}
	for _, r := range c.recordsOf("event") {
		if r.Event == "warm" {
			continue
		}
		a, _ := json.Marshal(r.Args)
		got = append(got, r.Event+string(a))
		if r.Offset == "" || offsets[r.Offset] {
			t.Errorf("missed packet %s has offset %q (offsets must be distinct)", r.Event, r.Offset)
		}
		offsets[r.Offset] = true
	}
	want := []string{`m1["X",{"$bin":"AQI="}]`, `m2["X"]`, `m1["Y",{"$bin":"AQI="}]`, `m2["Y"]`}
	testutil.Equal(t, got, want)

	// Y holds the socket with the rooms and the data made on X.
	var socks []struct {
		ID    string
		Rooms []string
		Data  map[string]any
	}
	y.call(t, "GET", "/fetch?local=1", nil, &socks)
	if len(socks) != 1 || socks[0].ID != sid || !slices.Contains(socks[0].Rooms, "room1") ||
		socks[0].Data["firstServer"] != "X" || socks[0].Data["server"] != "Y" {
		t.Fatalf("Y's socket after recovery: %+v", socks)
	}
	// And it keeps receiving, with offsets, from either node.
	x.call(t, "POST", "/emit", map[string]any{"rooms": []string{"room1"}, "event": "after", "args": []any{1}}, nil)
	c.wait(t, "a broadcast after recovery", func() bool { return len(c.events("after")) == 1 })
}

// A switchProxy forwards TCP connections to its current target and drops
// them all when the target changes; with no target it refuses (closes
// at once) every connection.
type switchProxy struct {
	ln     net.Listener
	mu     sync.Mutex
	target string
	conns  map[net.Conn]bool
	wg     sync.WaitGroup
}

func startSwitchProxy(t *testing.T, target string) *switchProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &switchProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		_ = ln.Close()
		p.switchTo("")
		p.wg.Wait()
	})
	return p
}

func (p *switchProxy) addr() string { return p.ln.Addr().String() }

func (p *switchProxy) serve() {
	defer p.wg.Done()
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		target := p.target
		p.mu.Unlock()
		if target == "" {
			_ = in.Close()
			continue
		}
		out, err := net.Dial("tcp", target)
		if err != nil {
			_ = in.Close()
			continue
		}
		p.mu.Lock()
		p.conns[in], p.conns[out] = true, true
		p.mu.Unlock()
		p.wg.Add(2)
		pipe := func(dst, src net.Conn) {
			defer p.wg.Done()
			_, _ = io.Copy(dst, src)
			_ = dst.Close()
			_ = src.Close()
			p.mu.Lock()
			delete(p.conns, dst)
			delete(p.conns, src)
			p.mu.Unlock()
		}
		go pipe(in, out)
		go pipe(out, in)
	}
}

func (p *switchProxy) switchTo(target string) {
	p.mu.Lock()
	p.target = target
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
}

// csrRecord is one record of the peer client.mjs.
type csrRecord struct {
	Type      string            `json:"type"`
	SID       string            `json:"sid"`
	Event     string            `json:"event"`
	Args      []json.RawMessage `json:"args"`
	Offset    string            `json:"offset"`
	Recovered bool              `json:"recovered"`
	Reason    string            `json:"reason"`
	Clients   []struct {
		SID string `json:"sid"`
	} `json:"clients"`
}

// csrClient is one client.mjs process (reconnection on) with all its
// records.
type csrClient struct {
	in     io.WriteCloser
	stderr *syncWriter
	mu     sync.Mutex
	recs   []csrRecord
}

func csrConnect(t *testing.T, url, nsp, rooms string) *csrClient {
	t.Helper()
	peers, _ := mxSetup(t)
	cmd := exec.Command("node", filepath.Join(peers, "client.mjs"), "--url", url, "--nsp", nsp, "--rooms", rooms, "--transports", "websocket")
	out, _ := cmd.StdoutPipe()
	in, _ := cmd.StdinPipe()
	c := &csrClient{in: in, stderr: &syncWriter{b: &bytes.Buffer{}}}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = in.Close()
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		once := sync.Once{}
		for sc.Scan() {
			var r csrRecord
			if json.Unmarshal(sc.Bytes(), &r) != nil {
				continue
			}
			c.mu.Lock()
			c.recs = append(c.recs, r)
			c.mu.Unlock()
			if r.Type == "ready" {
				once.Do(func() { close(ready) })
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(15 * time.Second):
		t.Fatalf("client did not connect to %s: %s", url, c.stderr)
	}
	return c
}

func (c *csrClient) recordsOf(typ string) []csrRecord {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []csrRecord
	for _, r := range c.recs {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

func (c *csrClient) events(ev string) []csrRecord {
	var out []csrRecord
	for _, r := range c.recordsOf("event") {
		if r.Event == ev {
			out = append(out, r)
		}
	}
	return out
}

func (c *csrClient) firstSID() string {
	r := c.recordsOf("ready")
	if len(r) == 0 || len(r[0].Clients) == 0 {
		return ""
	}
	return r[0].Clients[0].SID
}

func (c *csrClient) send(t *testing.T, line string) {
	t.Helper()
	if _, err := fmt.Fprintln(c.in, line); err != nil {
		t.Fatal(err)
	}
}

func (c *csrClient) wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			c.mu.Lock()
			var b strings.Builder
			for _, r := range c.recs {
				fmt.Fprintf(&b, "%+v\n", r)
			}
			c.mu.Unlock()
			t.Fatalf("timed out: %s; records:\n%s\nstderr: %s", what, b.String(), c.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

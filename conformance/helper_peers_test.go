package conformance

// Running the real @venizia/ignis-helpers 0.0.7 peers of
// ../shared/peers/ignis (server.mjs, client.mjs) from the helper interop
// tests. The peers' scripts are copied into a temp dir per test, next to a
// symlink to conformance/node_modules, which holds the pins of the peers'
// package.json (see conformance/package.json).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/gosio/gosio/helper"
	"github.com/gosio/gosio/internal/testutil"
	"github.com/gosio/gosio/socketio"
)

// igSetup copies the ignis peers into a temp dir of the test and returns
// it. A missing node, peer or npm package skips the test loudly (fails it
// under CI=true).
func igSetup(t *testing.T) string {
	t.Helper()
	src := peerSource(t, "ignis", "server.mjs", "@venizia/ignis-helpers")
	dir := t.TempDir()
	testutil.NoErr(t, copyPeers(src, dir, "server.mjs", "client.mjs", "peer-env.mjs"))
	return dir
}

// igLines collects the JSON lines a peer prints.
type igLines struct {
	mu    sync.Mutex
	lines []map[string]any
	raw   bytes.Buffer
}

func (l *igLines) add(line []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.raw.Write(line)
	l.raw.WriteByte('\n')
	var m map[string]any
	if len(line) > 0 && line[0] == '{' && json.Unmarshal(line, &m) == nil {
		l.lines = append(l.lines, m)
	}
}

func (l *igLines) all() []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]map[string]any(nil), l.lines...)
}

func (l *igLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.raw.String()
	if len(s) > 16<<10 {
		s = "...\n" + s[len(s)-16<<10:]
	}
	return s
}

// igProc is a running peer process.
type igProc struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *igLines
	stderr *igLines
	done   chan struct{}
}

// igStart runs `node <dir>/<script> --quiet args...` until the end of the
// test.
func igStart(t *testing.T, dir, name, script string, args ...string) *igProc {
	t.Helper()
	return igStartExec(t, dir, name, "node", append([]string{filepath.Join(dir, script), "--quiet"}, args...)...)
}

// igStartExec runs bin with args in dir, in a process group of its own,
// until the end of the test, which ends and reaps it (see stop).
func igStartExec(t *testing.T, dir, name, bin string, args ...string) *igProc {
	t.Helper()
	p := &igProc{name: name, out: &igLines{}, stderr: &igLines{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := p.cmd.StdoutPipe()
	testutil.NoErr(t, err)
	stderr, err := p.cmd.StderrPipe()
	testutil.NoErr(t, err)
	p.stdin, err = p.cmd.StdinPipe()
	testutil.NoErr(t, err)
	testutil.NoErr(t, p.cmd.Start())
	var readers sync.WaitGroup
	readers.Add(2)
	for _, r := range []struct {
		rd io.Reader
		to *igLines
	}{{stdout, p.out}, {stderr, p.stderr}} {
		go func() {
			defer readers.Done()
			sc := bufio.NewScanner(r.rd)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				r.to.add(sc.Bytes())
			}
		}()
	}
	go func() {
		readers.Wait()
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("%s stdout:\n%s\n%s stderr:\n%s", p.name, p.out, p.name, p.stderr)
		}
	})
	return p
}

// stop ends the process: SIGTERM, then SIGKILL after 3 s.
func (p *igProc) stop() {
	_ = p.stdin.Close()
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(3 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// exited reports whether the process ended.
func (p *igProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// igFreePortPair returns a free port p whose p+1000 (the TS server's
// control port) is free too.
func igFreePortPair(t *testing.T) int {
	t.Helper()
	for range 50 {
		p := testutil.FreePort(t)
		if p+1000 > 65535 {
			continue
		}
		if l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+1000)); err == nil {
			l.Close()
			return p
		}
	}
	t.Fatal("no free port pair")
	return 0
}

// --------------------------------------------------------------- TS server

// igServer is a helper server process with the control API of server.mjs
// on port+1000: the real SocketIOServerHelper (server.mjs), or a Go
// ServerHelper (cmd/helpernode).
type igServer struct {
	*igProc
	port int
}

// igStartServer starts server.mjs on redisAddr and waits for its ready
// line.
func igStartServer(t *testing.T, dir, redisAddr string, args ...string) *igServer {
	t.Helper()
	port := igFreePortPair(t)
	s := &igServer{port: port}
	s.igProc = igStart(t, dir, "ts-server:"+strconv.Itoa(port), "server.mjs",
		append([]string{"--port", strconv.Itoa(port), "--redis", "redis://" + redisAddr}, args...)...)
	s.waitReady(t)
	return s
}

// waitReady waits for the server's {"event":"ready"} line.
func (s *igServer) waitReady(t *testing.T) {
	t.Helper()
	testutil.WaitUntil(t, 30*time.Second, s.name+" ready", func() bool {
		if s.exited() {
			t.Fatalf("%s exited:\n%s\n%s", s.name, s.out, s.stderr)
		}
		for _, l := range s.out.all() {
			if l["event"] == "ready" {
				return true
			}
		}
		return false
	})
}

func (s *igServer) url() string { return "http://127.0.0.1:" + strconv.Itoa(s.port) }

// call sends a request to the control API and decodes the answer.
func (s *igServer) call(t *testing.T, method, path string, body, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "http://127.0.0.1:"+strconv.Itoa(s.port+1000)+path, rd)
	req.Header.Set("Content-Type", "application/json")
	res, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	if out != nil {
		testutil.NoErr(t, json.Unmarshal(b, out))
	}
}

// igTSClient is one client the TS server tracks (GET /clients).
type igTSClient struct {
	ID              string          `json:"id"`
	State           string          `json:"state"`
	Rooms           []string        `json:"rooms"`
	Connected       bool            `json:"connected"`
	HasPingInterval bool            `json:"hasPingInterval"`
	Auth            json.RawMessage `json:"auth"`
	Authorization   *string         `json:"authorization"`
}

func (s *igServer) clients(t *testing.T) []igTSClient {
	t.Helper()
	var out struct {
		Clients []igTSClient `json:"clients"`
	}
	s.call(t, "GET", "/clients", nil, &out)
	return out.Clients
}

// client returns the tracked client id, if any.
func (s *igServer) client(t *testing.T, id string) (igTSClient, bool) {
	t.Helper()
	for _, c := range s.clients(t) {
		if c.ID == id {
			return c, true
		}
	}
	return igTSClient{}, false
}

// send is helper.send through POST /send; waitCb waits for its callback.
func (s *igServer) send(t *testing.T, destination, topic string, data any) {
	t.Helper()
	body := map[string]any{"topic": topic, "data": data, "waitCb": true}
	if destination != "" {
		body["destination"] = destination
	}
	s.call(t, "POST", "/send", body, nil)
}

// igObservations is GET /observations.
type igObservations struct {
	AuthCalls []struct {
		SocketID             string `json:"socketId"`
		ArgIsSocketHandshake bool   `json:"argIsSocketHandshake"`
		Token                string `json:"token"`
		Source               string `json:"source"`
	} `json:"authCalls"`
	ValidateCalls []struct {
		SocketID string          `json:"socketId"`
		Rooms    json.RawMessage `json:"rooms"`
		Allowed  []string        `json:"allowed"`
	} `json:"validateCalls"`
	ConnectedCalls []struct {
		SocketID string `json:"socketId"`
	} `json:"connectedCalls"`
	Uncaught []struct {
		Message string `json:"message"`
	} `json:"uncaught"`
}

func (s *igServer) observations(t *testing.T) igObservations {
	t.Helper()
	var o igObservations
	s.call(t, "GET", "/observations", nil, &o)
	return o
}

// --------------------------------------------------------------- TS client

// igClient is the real SocketIOClientHelper (client.mjs).
type igClient struct {
	*igProc
}

// igStartClient starts client.mjs against url with --stay (it outlives a
// disconnect) and the given flags.
func igStartClient(t *testing.T, dir, url string, args ...string) *igClient {
	t.Helper()
	return &igClient{igStart(t, dir, "ts-client", "client.mjs", append([]string{"--url", url, "--stay"}, args...)...)}
}

// lines returns the client's lines of kind, with name (for "cb") or event
// (for "event") when not empty.
func (c *igClient) lines(kind, name string) []map[string]any {
	var out []map[string]any
	for _, l := range c.out.all() {
		if l["kind"] != kind {
			continue
		}
		if name != "" && l["name"] != name && l["event"] != name && l["what"] != name {
			continue
		}
		out = append(out, l)
	}
	return out
}

// wait waits for n lines of kind and name and returns them.
func (c *igClient) wait(t *testing.T, kind, name string, n int) []map[string]any {
	t.Helper()
	testutil.WaitUntil(t, 15*time.Second, fmt.Sprintf("%d %s %q lines of the TS client", n, kind, name), func() bool {
		if len(c.lines(kind, name)) >= n {
			return true
		}
		// With nothing left to do (no reconnection after "io server
		// disconnect") node exits by itself: what it printed is all.
		if c.exited() {
			t.Fatalf("client.mjs exited before %d %s %q lines", n, kind, name)
		}
		return false
	})
	return c.lines(kind, name)
}

// id returns the socket id of the client's first connection.
func (c *igClient) id(t *testing.T) string {
	t.Helper()
	l := c.wait(t, "connect", "", 1)[0]
	id, _ := l["id"].(string)
	if id == "" {
		t.Fatalf("connect line without id: %v", l)
	}
	return id
}

// command writes one stdin command (needs --stdin).
func (c *igClient) command(t *testing.T, cmd map[string]any) {
	t.Helper()
	b, _ := json.Marshal(cmd)
	if _, err := c.stdin.Write(append(b, '\n')); err != nil {
		t.Fatalf("client.mjs stdin: %v", err)
	}
}

// eventArg returns the first argument of an "event" line.
func eventArg(l map[string]any) map[string]any {
	args, _ := l["args"].([]any)
	if len(args) == 0 {
		return nil
	}
	m, _ := args[0].(map[string]any)
	return m
}

// seqOf returns the kinds (and names) of the client's lines, for messages.
func (c *igClient) seq() string {
	var b strings.Builder
	for _, l := range c.out.all() {
		fmt.Fprintf(&b, "%v", l["kind"])
		for _, k := range []string{"name", "event", "reason", "what"} {
			if v, ok := l[k]; ok {
				fmt.Fprintf(&b, ":%v", v)
			}
		}
		b.WriteString(" ")
	}
	return b.String()
}

// --------------------------------------------------------------- Go server

// igTokenOf is the TS peer's token rule: auth.token, else the
// Authorization header without "Bearer ".
func igTokenOf(hs *socketio.Handshake) string {
	var a struct {
		Token string `json:"token"`
	}
	_ = json.Unmarshal(hs.Auth, &a)
	if a.Token != "" {
		return a.Token
	}
	h := hs.Headers.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return h[7:]
	}
	return h
}

// igGoAuth is the TS peer's authenticateFn in Go: "good" → true,
// "slow-good[:MS]" / "slow-bad[:MS]" → true / false after MS (1500),
// "throw" → error, anything else → false.
func igGoAuth(ctx context.Context, hs *socketio.Handshake) (bool, error) {
	tok := igTokenOf(hs)
	switch {
	case tok == "good":
		return true, nil
	case tok == "throw":
		return false, fmt.Errorf("authenticate threw on purpose")
	case strings.HasPrefix(tok, "slow-good"), strings.HasPrefix(tok, "slow-bad"):
		ms := 1500
		if i := strings.IndexByte(tok, ':'); i > 0 {
			ms, _ = strconv.Atoi(tok[i+1:])
		}
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
		case <-ctx.Done():
			return false, ctx.Err()
		}
		return strings.HasPrefix(tok, "slow-good"), nil
	}
	return false, nil
}

// igPublicRooms is the TS peer's validateRoomFn: the rooms starting with
// "public-".
func igPublicRooms(_ context.Context, _ *socketio.Socket, rooms []string) ([]string, error) {
	var out []string
	for _, r := range rooms {
		if strings.HasPrefix(r, "public-") {
			out = append(out, r)
		}
	}
	return out, nil
}

// igGoServer is a Go ServerHelper on an httptest server.
type igGoServer struct {
	*helper.ServerHelper
	url  string
	http *httptest.Server
	logs *igLines
}

// igRueidis returns a rueidis client for addr, closed at the end of the
// test (after the helpers using it, which register their cleanups later).
func igRueidis(t *testing.T, addr string) rueidis.Client {
	t.Helper()
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}, DisableCache: true})
	testutil.NoErr(t, err)
	t.Cleanup(c.Close)
	return c
}

// igStartGoServer starts a Go ServerHelper with the TS peer's callbacks
// unless opts sets its own; redisAddr "" runs it in memory.
func igStartGoServer(t *testing.T, redisAddr string, opts helper.ServerOptions) *igGoServer {
	t.Helper()
	if opts.ValidateRooms == nil {
		opts.ValidateRooms = igPublicRooms
	}
	return igStartGoServerRaw(t, redisAddr, opts)
}

// igStartGoServerRaw is igStartGoServer without the default ValidateRooms.
func igStartGoServerRaw(t *testing.T, redisAddr string, opts helper.ServerOptions) *igGoServer {
	t.Helper()
	if opts.Authenticate == nil {
		opts.Authenticate = igGoAuth
	}
	logs := &igLines{}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewJSONHandler(igLogWriter{logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if redisAddr != "" {
		opts.Redis = igRueidis(t, redisAddr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h, err := helper.NewServer(ctx, &opts)
	testutil.NoErr(t, err)
	srv := httptest.NewServer(h)
	g := &igGoServer{ServerHelper: h, url: srv.URL, http: srv, logs: logs}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		srv.Close()
		if t.Failed() {
			t.Logf("go server %s log:\n%s", srv.URL, logs)
		}
	})
	return g
}

type igLogWriter struct{ l *igLines }

func (w igLogWriter) Write(p []byte) (int, error) {
	w.l.add(bytes.TrimRight(p, "\n"))
	return len(p), nil
}

// logged reports whether the server logged a line containing s.
func (g *igGoServer) logged(s string) bool { return strings.Contains(g.logs.String(), s) }

// roomsOf returns the sorted rooms of a client of the Go server.
func (g *igGoServer) roomsOf(t *testing.T, id string) []string {
	t.Helper()
	ci, ok := g.Client(id)
	if !ok {
		t.Fatalf("client %s is not tracked by the Go server", id)
	}
	return igSorted(ci.Rooms)
}

func igSorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// --------------------------------------------------------------- Go client

// igGoClient is a Go ClientHelper with a record of what it saw.
type igGoClient struct {
	*helper.ClientHelper
	mu  sync.Mutex
	evs []igGoEvent
}

type igGoEvent struct {
	Kind string // connect, disconnect, authenticated, unauthenticated, error, event
	Name string
	Data json.RawMessage
	At   time.Time
}

func (c *igGoClient) add(e igGoEvent) {
	e.At = time.Now()
	c.mu.Lock()
	c.evs = append(c.evs, e)
	c.mu.Unlock()
}

func (c *igGoClient) find(kind, name string) []igGoEvent {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []igGoEvent
	for _, e := range c.evs {
		if e.Kind == kind && (name == "" || e.Name == name) {
			out = append(out, e)
		}
	}
	return out
}

func (c *igGoClient) seq() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for _, e := range c.evs {
		fmt.Fprintf(&b, "%s:%s ", e.Kind, e.Name)
	}
	return b.String()
}

func (c *igGoClient) wait(t *testing.T, kind, name string, n int) []igGoEvent {
	t.Helper()
	testutil.WaitUntil(t, 15*time.Second, fmt.Sprintf("%d %s %q of the Go client (seen %s)", n, kind, name, c.seq()), func() bool {
		return len(c.find(kind, name)) >= n
	})
	return c.find(kind, name)
}

// igStartGoClient connects a Go ClientHelper to url. token goes in the
// auth payload (via "auth") or the Authorization header (via "header");
// authenticate calls Authenticate from OnConnected.
func igStartGoClient(t *testing.T, url, token, via string, authenticate bool) *igGoClient {
	t.Helper()
	c := &igGoClient{}
	so := &socketio.ClientOptions{}
	if token != "" {
		switch via {
		case "header":
			so.ManagerOptions.Header = http.Header{"Authorization": {"Bearer " + token}}
		default:
			so.SocketOptions.Auth = map[string]string{"token": token}
		}
	}
	ch, err := helper.NewClient(&helper.ClientOptions{
		Identifier: "go-client",
		URL:        url,
		Socket:     so,
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnConnected: func() {
			c.add(igGoEvent{Kind: "connect"})
			if authenticate {
				if err := c.Authenticate(); err != nil {
					c.add(igGoEvent{Kind: "error", Name: err.Error()})
				}
			}
		},
		OnDisconnected:    func(r string) { c.add(igGoEvent{Kind: "disconnect", Name: r}) },
		OnError:           func(err error) { c.add(igGoEvent{Kind: "error", Name: err.Error()}) },
		OnAuthenticated:   func() { c.add(igGoEvent{Kind: "authenticated"}) },
		OnUnauthenticated: func(m string) { c.add(igGoEvent{Kind: "unauthenticated", Name: m}) },
	})
	testutil.NoErr(t, err)
	c.ClientHelper = ch
	ch.Socket().OnAny(func(ev string, a socketio.Args) {
		var d json.RawMessage
		if len(a) > 0 {
			d = a[0].JSON
		}
		c.add(igGoEvent{Kind: "event", Name: ev, Data: d})
	})
	t.Cleanup(func() { _ = ch.Shutdown() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	testutil.NoErr(t, ch.Connect(ctx))
	return c
}

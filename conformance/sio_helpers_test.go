package conformance

// Helpers of the Socket.IO interop tests (sio_*_test.go): an in-process
// gosio Socket.IO server whose TCP connections the test can cut and whose
// door it can hold shut, and a runner for the node scripts js/sio-*.mjs
// that print one JSON object per line.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gosio/gosio/internal/testutil"
	"github.com/gosio/gosio/socketio"
)

// sioModes are the client transport configurations (see js/sio-client.mjs).
var sioModes = []string{"polling", "websocket", "upgrade"}

// sioWait bounds every wait of the Go side for something the client does.
const sioWait = 10 * time.Second

// needSIONode returns the path of node, skipping the test loudly (failing
// it under CI=true) when node or the npm peers are missing.
func needSIONode(tb testing.TB) string {
	tb.Helper()
	node := testutil.NeedTool(tb, "node")
	for _, pkg := range []string{"socket.io-client", "socket.io"} {
		if _, err := os.Stat(filepath.Join("node_modules", pkg, "package.json")); err != nil {
			if testutil.InCI() {
				tb.Fatalf("conformance/node_modules is missing %s (run make npm): %v", pkg, err)
			}
			tb.Skipf("SKIPPED: conformance/node_modules is missing %s; run `make npm` to run this test", pkg)
		}
	}
	return node
}

// sioEnv is a gosio Socket.IO server on a free port. Its handler can be
// gated: while the gate is shut, new HTTP requests (polling requests and
// WebSocket handshakes) wait, as if the network were down, and killConns
// closes every TCP connection the server holds, hijacked WebSockets
// included, without any goodbye.
type sioEnv struct {
	Srv *socketio.Server
	URL string

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	gate  chan struct{} // non-nil while shut
}

// newSIOEnv starts srv for the duration of the test.
func newSIOEnv(t *testing.T, opts *socketio.Options) *sioEnv {
	t.Helper()
	e := &sioEnv{Srv: socketio.NewServer(opts), conns: make(map[net.Conn]struct{})}
	hs := httptest.NewUnstartedServer(e)
	hs.Config.ConnState = func(c net.Conn, st http.ConnState) {
		e.mu.Lock()
		defer e.mu.Unlock()
		switch st {
		case http.StateNew:
			e.conns[c] = struct{}{}
		case http.StateClosed:
			delete(e.conns, c)
		}
	}
	hs.Start()
	e.URL = hs.URL
	t.Cleanup(func() {
		e.openGate()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.Srv.Shutdown(ctx); err != nil {
			t.Errorf("socketio Shutdown: %v", err)
		}
		e.killConns()
		hs.Close()
	})
	return e
}

// ServeHTTP passes requests to the server unless the gate is shut.
func (e *sioEnv) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	g := e.gate
	e.mu.Unlock()
	if g != nil {
		select {
		case <-g:
		case <-r.Context().Done():
			return
		case <-time.After(sioWait):
			http.Error(w, "gate shut for too long", http.StatusServiceUnavailable)
			return
		}
	}
	e.Srv.ServeHTTP(w, r)
}

// shutGate makes new requests wait until openGate.
func (e *sioEnv) shutGate() {
	e.mu.Lock()
	if e.gate == nil {
		e.gate = make(chan struct{})
	}
	e.mu.Unlock()
}

// openGate lets waiting and new requests through.
func (e *sioEnv) openGate() {
	e.mu.Lock()
	if e.gate != nil {
		close(e.gate)
		e.gate = nil
	}
	e.mu.Unlock()
}

// killConns closes every TCP connection of the server at once: the
// client sees its connection reset, the server its reads fail.
func (e *sioEnv) killConns() int {
	e.mu.Lock()
	conns := make([]net.Conn, 0, len(e.conns))
	for c := range e.conns {
		conns = append(conns, c)
	}
	clear(e.conns)
	e.mu.Unlock()
	for _, c := range conns {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // RST, not FIN: a lost connection, not a close
		}
		_ = c.Close()
	}
	return len(conns)
}

// cut simulates a network failure: it shuts the gate, closes every TCP
// connection, and keeps closing the connections the client opens (their
// requests waiting at the gate) until the returned func restores the
// network. Cutting a polling client this way makes both sides notice:
// the client through its failed requests, the server through the aborted
// GET or, when none was pending, the heartbeat.
func (e *sioEnv) cut() (restore func()) {
	e.shutGate()
	e.killConns()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(25 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				e.killConns()
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			<-done
			e.openGate()
		})
	}
}

// sioLine is one JSON object printed by a script.
type sioLine struct {
	Ev     string
	Fields map[string]json.RawMessage
	Raw    string
}

// str returns the string field key, or "".
func (l sioLine) str(key string) string {
	var s string
	_ = json.Unmarshal(l.Fields[key], &s)
	return s
}

// num returns the number field key, or 0.
func (l sioLine) num(key string) float64 {
	var n float64
	_ = json.Unmarshal(l.Fields[key], &n)
	return n
}

// flag returns the boolean field key, or false.
func (l sioLine) flag(key string) bool {
	var b bool
	_ = json.Unmarshal(l.Fields[key], &b)
	return b
}

// decode decodes field key into v.
func (l sioLine) decode(tb testing.TB, key string, v any) {
	tb.Helper()
	raw, ok := l.Fields[key]
	if !ok {
		tb.Fatalf("line %s has no field %q", l.Raw, key)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		tb.Fatalf("line %s: field %q: %v", l.Raw, key, err)
	}
}

// sioResult is what a script run produced.
type sioResult struct {
	Lines  []sioLine
	Stdout string
	Stderr string
	Err    error
}

// all returns the lines of event ev, in order.
func (r *sioResult) all(ev string) []sioLine {
	var out []sioLine
	for _, l := range r.Lines {
		if l.Ev == ev {
			out = append(out, l)
		}
	}
	return out
}

// one returns the only line of event ev.
func (r *sioResult) one(tb testing.TB, ev string) sioLine {
	tb.Helper()
	ls := r.all(ev)
	if len(ls) != 1 {
		tb.Fatalf("script printed %d %q lines, want 1\n%s", len(ls), ev, r.report())
	}
	return ls[0]
}

// where returns the lines of event ev whose string field key is val.
func (r *sioResult) where(ev, key, val string) []sioLine {
	var out []sioLine
	for _, l := range r.all(ev) {
		if l.str(key) == val {
			out = append(out, l)
		}
	}
	return out
}

// report formats the script's output for a failure message.
func (r *sioResult) report() string {
	const max = 16 << 10
	out, errs := r.Stdout, r.Stderr
	if len(out) > max {
		out = out[:max] + "\n...(truncated)"
	}
	if len(errs) > max {
		errs = errs[len(errs)-max:]
	}
	return "--- script stdout:\n" + out + "--- script stderr:\n" + errs
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// sioProc is a running script.
type sioProc struct {
	name           string
	cmd            *exec.Cmd
	cancel         context.CancelFunc
	stdout, stderr syncBuffer
	done           chan struct{}
	err            error
}

// sioScriptTimeout bounds every script run; the scripts' own watchdogs
// fire first.
const sioScriptTimeout = 40 * time.Second

// startSIO starts `node <script> args...` from the conformance directory
// (so that it resolves the npm peers from conformance/node_modules). The
// process is killed and waited for when the test ends.
func startSIO(t *testing.T, script string, args ...string) *sioProc {
	t.Helper()
	node := needSIONode(t)
	ctx, cancel := context.WithTimeout(context.Background(), sioScriptTimeout)
	p := &sioProc{name: script + " " + strings.Join(args, " "), cancel: cancel, done: make(chan struct{})}
	p.cmd = exec.CommandContext(ctx, node, append([]string{script}, args...)...)
	p.cmd.Dir = "."
	p.cmd.WaitDelay = 2 * time.Second
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", p.name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		if ctx.Err() != nil {
			p.err = errors.Join(p.err, ctx.Err())
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cancel()
		<-p.done
	})
	return p
}

// wait waits for the script to exit and parses what it printed.
func (p *sioProc) wait(t *testing.T) *sioResult {
	t.Helper()
	<-p.done
	r := &sioResult{Stdout: p.stdout.String(), Stderr: p.stderr.String(), Err: p.err}
	sc := bufio.NewScanner(strings.NewReader(r.Stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "{") {
			continue
		}
		l := sioLine{Raw: line}
		if err := json.Unmarshal([]byte(line), &l.Fields); err != nil {
			t.Errorf("script printed a bad JSON line %q: %v", line, err)
			continue
		}
		_ = json.Unmarshal(l.Fields["ev"], &l.Ev)
		r.Lines = append(r.Lines, l)
	}
	return r
}

// mustWait is wait for a run that must succeed: exit status 0, no "fail"
// line and a "done" line.
func (p *sioProc) mustWait(t *testing.T) *sioResult {
	t.Helper()
	r := p.wait(t)
	if r.Err != nil {
		t.Fatalf("node %s: %v\n%s", p.name, r.Err, r.report())
	}
	if fails := r.all("fail"); len(fails) > 0 {
		t.Fatalf("node %s reported failure: %s\n%s", p.name, fails[0].str("why"), r.report())
	}
	if len(r.all("done")) != 1 {
		t.Fatalf("node %s did not report done\n%s", p.name, r.report())
	}
	if os.Getenv("SIO_SHOW") != "" {
		t.Logf("node %s\n%s", p.name, r.report())
	}
	return r
}

// runSIO runs a script to completion; see startSIO and mustWait.
func runSIO(t *testing.T, script string, args ...string) *sioResult {
	t.Helper()
	return startSIO(t, script, args...).mustWait(t)
}

// sioRecv receives from ch, failing the test after sioWait. The
// script's output is shown when p is not nil.
func sioRecv[T any](t *testing.T, p *sioProc, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(sioWait):
		msg := ""
		if p != nil {
			msg = "\n--- script stdout so far:\n" + p.stdout.String() + "--- script stderr so far:\n" + p.stderr.String()
		}
		t.Fatalf("timed out waiting for %s%s", what, msg)
		panic("unreachable")
	}
}

// sioJSONEqual fails the test unless got and want hold the same JSON value.
func sioJSONEqual(t *testing.T, what string, got json.RawMessage, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Errorf("%s: bad JSON %s: %v", what, got, err)
		return
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: bad expected JSON %s: %v", what, want, err)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s\ngot: %s", what, diff, got)
	}
}

// sioEach runs fn as a parallel subtest for every mode.
func sioEach(t *testing.T, modes []string, fn func(t *testing.T, mode string)) {
	t.Helper()
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			fn(t, mode)
		})
	}
}

// sioContains reports whether list holds every one of vals.
func sioContains(list []string, vals ...string) bool {
	for _, v := range vals {
		if !slices.Contains(list, v) {
			return false
		}
	}
	return true
}

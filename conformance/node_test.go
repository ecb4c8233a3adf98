package conformance

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/internal/testutil"
)

func TestMain(m *testing.M) { testutil.RunWithLeakCheck(m, mxCleanup) }

// needNode returns the path of node, skipping the test loudly (failing it
// under CI=true) when node or the npm peers in node_modules are missing.
func needNode(tb testing.TB) string {
	tb.Helper()
	node := testutil.NeedTool(tb, "node")
	if _, err := os.Stat(filepath.Join("node_modules", "engine.io-client", "package.json")); err != nil {
		if testutil.InCI() {
			tb.Fatalf("conformance/node_modules is missing engine.io-client (run make npm): %v", err)
		}
		tb.Skipf("SKIPPED: conformance/node_modules is missing engine.io-client; run `make npm` to run this test")
	}
	return node
}

// jsEvent is one JSON line printed by a script under js/.
type jsEvent struct {
	Ev          string `json:"ev"`
	Transport   string `json:"transport,omitempty"`
	Reason      string `json:"reason,omitempty"`
	Description string `json:"description,omitempty"`
	Code        int    `json:"code,omitempty"`
	Error       string `json:"error,omitempty"`
	Why         string `json:"why,omitempty"`
	ID          string `json:"id,omitempty"`
	T           int    `json:"t"` // milliseconds since the script started

	// Messages, sent or received.
	Kind   string `json:"kind,omitempty"` // JS type: string, Buffer, ArrayBuffer, ...
	As     string `json:"as,omitempty"`   // for sent binary: the JS type passed to send
	Len    int    `json:"len,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	Text   string `json:"text,omitempty"`
	Hex    string `json:"hex,omitempty"`

	// Handshake.
	Upgrades     []string `json:"upgrades,omitempty"`
	PingInterval int      `json:"pingInterval,omitempty"`
	PingTimeout  int      `json:"pingTimeout,omitempty"`
	MaxPayload   int      `json:"maxPayload,omitempty"`

	// Progress markers.
	Count int    `json:"count,omitempty"`
	MS    int    `json:"ms,omitempty"`
	Phase string `json:"phase,omitempty"`
	UpTo  int    `json:"upTo,omitempty"`
}

// nodeResult is what a script run produced.
type nodeResult struct {
	Events []jsEvent
	Stdout string
	Stderr string
	Err    error // from running the script: exit status, timeout
}

// filter returns the events named ev, in order.
func (r *nodeResult) filter(ev string) []jsEvent {
	var out []jsEvent
	for _, e := range r.Events {
		if e.Ev == ev {
			out = append(out, e)
		}
	}
	return out
}

// one returns the only event named ev, failing the test when there is not
// exactly one.
func (r *nodeResult) one(tb testing.TB, ev string) jsEvent {
	tb.Helper()
	es := r.filter(ev)
	if len(es) != 1 {
		tb.Fatalf("client reported %d %q events, want 1\n%s", len(es), ev, r.report())
	}
	return es[0]
}

// report formats the script's output for a failure message.
func (r *nodeResult) report() string {
	const max = 8 << 10
	out, errs := r.Stdout, r.Stderr
	if len(out) > max {
		out = out[:max] + "\n...(truncated)"
	}
	if len(errs) > max {
		errs = errs[len(errs)-max:]
	}
	return "--- script stdout:\n" + out + "--- script stderr:\n" + errs
}

// nodeTimeout bounds every script run; the scripts' own watchdogs fire first.
const nodeTimeout = 30 * time.Second

// runNode runs `node <script> args...` from the conformance directory, so
// that the script resolves the npm peers from conformance/node_modules, and
// parses the JSON lines it prints. It never hangs past nodeTimeout.
func runNode(tb testing.TB, node, script string, args ...string) *nodeResult {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{script}, args...)...)
	cmd.Dir = "." // go test runs in the package directory: conformance/
	cmd.WaitDelay = 2 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		err = errors.Join(err, ctx.Err())
	}
	r := &nodeResult{Stdout: stdout.String(), Stderr: stderr.String(), Err: err}
	sc := bufio.NewScanner(strings.NewReader(r.Stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var e jsEvent
		if err := json.Unmarshal(line, &e); err != nil {
			tb.Errorf("script printed a bad JSON line %q: %v", line, err)
			continue
		}
		r.Events = append(r.Events, e)
	}
	return r
}

// mustRunNode is runNode for a run that must succeed: exit status 0, no
// "fail" line and a final "done" line.
func mustRunNode(tb testing.TB, node, script string, args ...string) *nodeResult {
	tb.Helper()
	r := runNode(tb, node, script, args...)
	if r.Err != nil {
		tb.Fatalf("node %s %s: %v\n%s", script, strings.Join(args, " "), r.Err, r.report())
	}
	if fails := r.filter("fail"); len(fails) > 0 {
		tb.Fatalf("node %s %s reported failure: %s\n%s", script, strings.Join(args, " "), fails[0].Why, r.report())
	}
	if len(r.filter("done")) != 1 {
		tb.Fatalf("node %s %s did not report done\n%s", script, strings.Join(args, " "), r.report())
	}
	return r
}

// recServer is an in-process Engine.IO server on a free port that echoes
// every message as it came and records what it saw. The text "cmd:close"
// is answered with "bye", after which the server closes the session.
type recServer struct {
	URL string
	srv *engineio.Server

	mu       sync.Mutex
	sessions []*recSession
}

// recSession is what the server saw of one session.
type recSession struct {
	s      *engineio.Session
	closed chan struct{}

	mu             sync.Mutex
	msgs           []recMsg
	closeReason    string
	closeErr       error
	closeTransport string
}

// recMsg is one message the server received.
type recMsg struct {
	Binary    bool
	Data      []byte
	Transport string // the session's transport when the message arrived
}

// startServer starts a recording echo server for the duration of the test.
func startServer(tb testing.TB, opts *engineio.Options) *recServer {
	tb.Helper()
	rs := &recServer{srv: engineio.NewServer(opts)}
	rs.srv.OnConnection(func(s *engineio.Session) {
		sess := &recSession{s: s, closed: make(chan struct{})}
		rs.mu.Lock()
		rs.sessions = append(rs.sessions, sess)
		rs.mu.Unlock()
		s.OnMessage(func(data []byte, binary bool) {
			sess.mu.Lock()
			sess.msgs = append(sess.msgs, recMsg{Binary: binary, Data: data, Transport: s.Transport()})
			sess.mu.Unlock()
			var err error
			switch {
			case !binary && string(data) == "cmd:close":
				err = s.SendText([]byte("bye"))
				s.Close()
			case binary:
				err = s.SendBinary(data)
			default:
				err = s.SendText(data)
			}
			if err != nil {
				tb.Errorf("server send on %s: %v", s.ID(), err)
			}
		})
		s.OnClose(func(reason string, err error) {
			sess.mu.Lock()
			sess.closeReason, sess.closeErr, sess.closeTransport = reason, err, s.Transport()
			sess.mu.Unlock()
			close(sess.closed)
		})
	})
	hs := httptest.NewServer(rs.srv)
	rs.URL = hs.URL
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := rs.srv.Shutdown(ctx); err != nil {
			tb.Errorf("engineio Shutdown: %v", err)
		}
		hs.Close()
	})
	return rs
}

// only returns the server's only session, failing the test when it saw
// more or fewer than one.
func (rs *recServer) only(tb testing.TB) *recSession {
	tb.Helper()
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if len(rs.sessions) != 1 {
		tb.Fatalf("server saw %d sessions, want 1", len(rs.sessions))
	}
	return rs.sessions[0]
}

// waitClosed waits for the session's OnClose and returns its reason and error.
func (rsess *recSession) waitClosed(tb testing.TB) (string, error) {
	tb.Helper()
	select {
	case <-rsess.closed:
	case <-time.After(10 * time.Second):
		tb.Fatalf("server session %s did not close", rsess.s.ID())
	}
	rsess.mu.Lock()
	defer rsess.mu.Unlock()
	return rsess.closeReason, rsess.closeErr
}

// messages returns a copy of the messages received so far.
func (rsess *recSession) messages() []recMsg {
	rsess.mu.Lock()
	defer rsess.mu.Unlock()
	return append([]recMsg(nil), rsess.msgs...)
}

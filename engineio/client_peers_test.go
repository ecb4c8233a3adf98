package engineio

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/gosio/gosio/internal/testutil"
)

// nodeEIO is the reference engine.io server, run from
// conformance/js/peer-eio.mjs for the length of a test.
type nodeEIO struct {
	url  string
	kill func() // kills the server process

	mu     sync.Mutex
	events []map[string]any
	change chan struct{} // closed and replaced on each event
}

// startNodeEIO starts the reference server. It skips the test loudly when
// node or the npm packages are missing, and fails it then under CI=true.
func startNodeEIO(tb testing.TB, pingInterval, pingTimeout time.Duration) *nodeEIO {
	tb.Helper()
	node := testutil.NeedTool(tb, "node")
	conf, err := filepath.Abs(filepath.Join("..", "conformance"))
	testutil.NoErr(tb, err)
	if _, err := os.Stat(filepath.Join(conf, "node_modules", "engine.io", "package.json")); err != nil {
		if testutil.InCI() {
			tb.Fatalf("conformance/node_modules lacks engine.io (run make npm): %v", err)
		}
		tb.Skip("SKIPPED: conformance/node_modules lacks engine.io; run `make npm` to run this test against Node")
	}
	port := testutil.FreePort(tb)
	cmd := exec.Command(node, filepath.Join(conf, "js", "peer-eio.mjs"), strconv.Itoa(port),
		strconv.FormatInt(pingInterval.Milliseconds(), 10), strconv.FormatInt(pingTimeout.Milliseconds(), 10))
	cmd.Dir = conf
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	testutil.NoErr(tb, err)
	testutil.NoErr(tb, cmd.Start())
	n := &nodeEIO{url: fmt.Sprintf("http://127.0.0.1:%d", port), change: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var ev map[string]any
			if json.Unmarshal(sc.Bytes(), &ev) != nil {
				continue
			}
			n.mu.Lock()
			n.events = append(n.events, ev)
			close(n.change)
			n.change = make(chan struct{})
			n.mu.Unlock()
		}
	}()
	n.kill = func() { _ = cmd.Process.Kill() }
	tb.Cleanup(func() {
		n.kill()
		<-done
		_ = cmd.Wait()
	})
	n.wait(tb, "listening", "", func() string { return stderr.String() })
	return n
}

// wait returns the first event named ev (about session id, if not empty).
func (n *nodeEIO) wait(tb testing.TB, ev, id string, diag ...func() string) map[string]any {
	tb.Helper()
	timeout := time.After(testTimeout)
	for {
		n.mu.Lock()
		for _, e := range n.events {
			if e["ev"] == ev && (id == "" || e["id"] == id) {
				n.mu.Unlock()
				return e
			}
		}
		change := n.change
		n.mu.Unlock()
		select {
		case <-change:
		case <-timeout:
			msg := ""
			for _, d := range diag {
				msg += d()
			}
			tb.Fatalf("node peer-eio.mjs: no %q event for %q %s", ev, id, msg)
		}
	}
}

// fakeEIO is a scripted Engine.IO server that checks what the client
// does: how many polling requests it has in flight, what it POSTs, and
// whether polling was paused when the upgrade packet came.
type fakeEIO struct {
	hs        *httptest.Server
	handshake string // open packet payload

	mu          sync.Mutex
	gets, posts int // requests in flight
	maxGets     int
	maxPosts    int
	bodies      []string
	postGate    chan struct{} // when not nil, POSTs wait for it to close
	probeGate   chan struct{} // when not nil, the probe's answer waits for it to close
	upgradeBusy []string      // requests in flight when the upgrade packet came

	out      chan string   // payloads for the polling GETs
	probed   chan struct{} // closed when the probe came: polls get noops
	posted   chan string   // every POST body
	upgraded chan struct{} // closed when the upgrade packet came
	wsIn     chan string   // frames received over the WebSocket after the upgrade
	stop     chan struct{}
}

func newFakeEIO(tb testing.TB, pingInterval, pingTimeout, maxPayload int, upgrades bool) *fakeEIO {
	tb.Helper()
	ups := "[]"
	if upgrades {
		ups = `["websocket"]`
	}
	f := &fakeEIO{
		handshake: fmt.Sprintf(`0{"sid":"fakesid","upgrades":%s,"pingInterval":%d,"pingTimeout":%d,"maxPayload":%d}`, ups, pingInterval, pingTimeout, maxPayload),
		out:       make(chan string, 16),
		posted:    make(chan string, 64),
		upgraded:  make(chan struct{}),
		probed:    make(chan struct{}),
		wsIn:      make(chan string, 16),
		stop:      make(chan struct{}),
	}
	f.hs = httptest.NewServer(http.HandlerFunc(f.serve))
	tb.Cleanup(func() {
		close(f.stop)
		f.hs.CloseClientConnections()
		f.hs.Close()
	})
	return f
}

func (f *fakeEIO) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case q.Get("sid") == "":
		_, _ = io.WriteString(w, f.handshake)
	case q.Get("transport") == TransportWebSocket:
		f.serveWS(w, r)
	case r.Method == http.MethodGet:
		f.mu.Lock()
		f.gets++
		f.maxGets = max(f.maxGets, f.gets)
		f.mu.Unlock()
		defer func() {
			f.mu.Lock()
			f.gets--
			f.mu.Unlock()
		}()
		select {
		case p := <-f.out:
			_, _ = io.WriteString(w, p)
		case <-f.probed:
			// While upgrading, servers answer every poll with a noop.
			_, _ = io.WriteString(w, "6")
		case <-r.Context().Done():
		case <-f.stop:
		}
	case r.Method == http.MethodPost:
		f.mu.Lock()
		f.posts++
		f.maxPosts = max(f.maxPosts, f.posts)
		gate := f.postGate
		f.mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		if gate != nil {
			select {
			case <-gate:
			case <-f.stop:
			}
		}
		f.mu.Lock()
		f.posts--
		f.bodies = append(f.bodies, string(body))
		f.mu.Unlock()
		f.posted <- string(body)
		_, _ = io.WriteString(w, "ok")
	}
}

func (f *fakeEIO) serveWS(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		select {
		case <-f.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			return
		}
		switch s := string(data); s {
		case "2probe":
			f.mu.Lock()
			gate := f.probeGate
			f.mu.Unlock()
			if gate != nil {
				select {
				case <-gate:
				case <-ctx.Done():
					return
				}
			}
			_ = c.Write(ctx, websocket.MessageText, []byte("3probe"))
			close(f.probed)
		case "5":
			f.mu.Lock()
			if f.gets > 0 {
				f.upgradeBusy = append(f.upgradeBusy, "GET")
			}
			if f.posts > 0 {
				f.upgradeBusy = append(f.upgradeBusy, "POST")
			}
			f.mu.Unlock()
			close(f.upgraded)
		default:
			f.wsIn <- s
		}
	}
}

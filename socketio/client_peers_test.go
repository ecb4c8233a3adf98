package socketio

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosio/gosio/internal/testutil"
)

// clWait bounds every wait of the client tests. No assertion depends on
// how fast something happens within it.
const clWait = 10 * time.Second

// clPeer is a Socket.IO server the client tests run against: the reference
// server in a Node process, or gosio's own, in process. Both serve the
// scenario described in conformance/js/peer-server.mjs.
type clPeer struct {
	kind string // "node" or "go"
	url  string // http://127.0.0.1:port
	csr  bool

	mu      sync.Mutex
	stopped bool
	startFn func(tb testing.TB)
	stopFn  func()
}

// stop stops the server; start starts it again on the same port.
func (p *clPeer) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.stopped {
		p.stopped = true
		p.stopFn()
	}
}

func (p *clPeer) start(tb testing.TB) {
	tb.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.startFn(tb)
	p.stopped = false
}

type clPeerKind struct {
	name  string
	start func(tb testing.TB, csr bool) *clPeer
}

// clPeers are the servers every client test runs against.
var clPeers = []clPeerKind{
	{"node", clStartNode},
	{"go", clStartGo},
}

// clForEachPeer runs fn as a parallel subtest against each server.
func clForEachPeer(t *testing.T, fn func(t *testing.T, p *clPeer)) {
	t.Helper()
	for _, pk := range clPeers {
		t.Run(pk.name, func(t *testing.T) {
			t.Parallel()
			fn(t, pk.start(t, false))
		})
	}
}

// clStartNode runs conformance/js/peer-server.mjs on a free port for the
// length of the test. It skips the test loudly when node or the npm
// packages are missing, and fails it then under CI=true.
func clStartNode(tb testing.TB, csr bool) *clPeer {
	tb.Helper()
	node := testutil.NeedTool(tb, "node")
	conf, err := filepath.Abs(filepath.Join("..", "conformance"))
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(conf, "node_modules", "socket.io", "package.json")); err != nil {
		if testutil.InCI() {
			tb.Fatalf("conformance/node_modules lacks socket.io (run make npm): %v", err)
		}
		tb.Skip("SKIPPED: conformance/node_modules lacks socket.io; run `make npm` to run this test against Node")
	}
	port := testutil.FreePort(tb)
	p := &clPeer{kind: "node", url: fmt.Sprintf("http://127.0.0.1:%d", port), csr: csr}
	var (
		cmd  *exec.Cmd
		done chan struct{}
	)
	p.startFn = func(tb testing.TB) {
		tb.Helper()
		args := []string{filepath.Join(conf, "js", "peer-server.mjs"), strconv.Itoa(port)}
		if csr {
			args = append(args, "--csr")
		}
		cmd = exec.Command(node, args...)
		cmd.Dir = conf
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			tb.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			tb.Fatal(err)
		}
		ready := make(chan struct{})
		done = make(chan struct{})
		go func() {
			defer close(done)
			sc := bufio.NewScanner(out)
			once := false
			for sc.Scan() {
				if !once && strings.Contains(sc.Text(), `"listening"`) {
					once = true
					close(ready)
				}
			}
		}()
		select {
		case <-ready:
		case <-done:
			_ = cmd.Wait()
			tb.Fatalf("node peer-server.mjs exited: %s", stderr.String())
		case <-time.After(clWait):
			_ = cmd.Process.Kill()
			<-done
			_ = cmd.Wait()
			tb.Fatalf("node peer-server.mjs did not start: %s", stderr.String())
		}
	}
	p.stopFn = func() {
		_ = cmd.Process.Kill()
		<-done
		_ = cmd.Wait()
	}
	p.start(tb)
	tb.Cleanup(p.stop)
	return p
}

// clStartGo runs gosio's server with the scenario of peer-server.mjs on
// a free port for the length of the test. csr is not supported (the Go
// server has no connection state recovery yet).
func clStartGo(tb testing.TB, csr bool) *clPeer {
	tb.Helper()
	port := testutil.FreePort(tb)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	p := &clPeer{kind: "go", url: "http://" + addr}
	var (
		io   *Server
		hs   *http.Server
		done chan struct{}
	)
	p.startFn = func(tb testing.TB) {
		tb.Helper()
		var opts Options
		if csr {
			opts.ConnectionStateRecovery = &ConnectionStateRecovery{MaxDisconnectionDuration: time.Minute}
		}
		io = NewServer(&opts)
		clSetupGo(io)
		var ln net.Listener
		var err error
		for i := 0; ; i++ { // the port may linger a moment after a stop
			if ln, err = net.Listen("tcp", addr); err == nil || i == 50 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			tb.Fatalf("listen %s: %v", addr, err)
		}
		hs = &http.Server{Handler: io}
		done = make(chan struct{})
		go func() {
			defer close(done)
			_ = hs.Serve(ln)
		}()
	}
	p.stopFn = func() {
		ctx, cancel := context.WithTimeout(context.Background(), clWait)
		defer cancel()
		_ = io.Shutdown(ctx)
		_ = hs.Close()
		<-done
	}
	p.start(tb)
	tb.Cleanup(p.stop)
	return p
}

// clSetupGo installs the scenario of peer-server.mjs on io.
func clSetupGo(io *Server) {
	var mu sync.Mutex
	deliveries := map[string]int{}
	setup := func(nsp *Namespace) {
		nsp.OnConnection(func(s *Socket) {
			_ = s.Emit("welcome", s.ID())
			s.On("echo", func(args Args) { _ = s.Emit("echo", args.Any()...) })
			s.On("ack", func(args Args, ack Ack) { _ = ack(args.Any()...) })
			s.On("auth", func(ack Ack) { _ = ack(json.RawMessage(s.Handshake().Auth)) })
			s.On("ask", func(name string, rest Args) {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				answer, err := s.EmitWithAck(ctx, name, rest.Any()...)
				switch {
				case err != nil:
					_ = s.Emit("answer", map[string]string{"error": err.Error()})
				case len(answer) == 0:
					_ = s.Emit("answer", nil)
				default:
					_ = s.Emit("answer", answer[0])
				}
			})
			s.On("noack", func(Args, Ack) {})
			s.On("flaky", func(key string, n int, ack Ack) {
				mu.Lock()
				deliveries[nsp.Name()+key]++
				c := deliveries[nsp.Name()+key]
				mu.Unlock()
				if c > n {
					_ = ack(c)
				}
			})
			s.On("count", func(key string, ack Ack) {
				mu.Lock()
				c := deliveries[nsp.Name()+key]
				mu.Unlock()
				_ = ack(c)
			})
			s.On("disconnect-me", func() { s.Disconnect(false) })
			s.On("close-me", func() { s.Conn().Close() })
			s.On("emit-when-gone", func(sid string, n int, ack Ack) {
				go func() {
					for deadline := time.Now().Add(clWait); nsp.LocalSocket(sid) != nil && time.Now().Before(deadline); {
						time.Sleep(5 * time.Millisecond)
					}
					for i := range n {
						_ = nsp.Emit("missed", i)
					}
					_ = ack()
				}()
			})
			s.On("broadcast", func(n int, ack Ack) {
				for i := range n {
					_ = nsp.Emit("tick", i)
				}
				_ = ack()
			})
		})
	}
	setup(io.Of("/"))
	admin := io.Of("/admin")
	admin.Use(func(s *Socket) error {
		var a struct {
			Token string `json:"token"`
		}
		_ = json.Unmarshal(s.Handshake().Auth, &a)
		if a.Token != "secret" {
			return &ConnectError{Message: "not authorized", Data: map[string]int{"code": 401}}
		}
		return nil
	})
	setup(admin)
}

// clRecv returns the next value of ch, failing the test after clWait.
func clRecv[T any](tb testing.TB, ch <-chan T, what string) T {
	tb.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(clWait):
		tb.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

// clEventually polls cond until it holds, failing the test after clWait.
func clEventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(clWait)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// clCtx returns a context bounded by clWait.
func clCtx(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), clWait)
	tb.Cleanup(cancel)
	return ctx
}

// clDecode decodes argument i of args into a T.
func clDecode[T any](tb testing.TB, args Args, i int) T {
	tb.Helper()
	var v T
	if err := args.Decode(i, &v); err != nil {
		tb.Fatalf("argument %d of %s: %v", i, args, err)
	}
	return v
}

// clClose closes s at the end of the test.
func clClose(tb testing.TB, s *ClientSocket) {
	tb.Cleanup(func() {
		if err := s.Manager().Close(); err != nil && !errors.Is(err, ErrClientClosed) {
			tb.Errorf("Close: %v", err)
		}
	})
}

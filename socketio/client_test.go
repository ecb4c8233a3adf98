package socketio

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/internal/testutil"
)

// clTransportModes are the ways a client can ride on Engine.IO.
var clTransportModes = []struct {
	name string
	opts ManagerOptions
	want string // final transport
}{
	{"polling", ManagerOptions{Transports: []string{engineio.TransportPolling}}, engineio.TransportPolling},
	{"websocket", ManagerOptions{Transports: []string{engineio.TransportWebSocket}}, engineio.TransportWebSocket},
	{"upgrade", ManagerOptions{}, engineio.TransportWebSocket},
}

func TestClientTransports(t *testing.T) {
	clForEachPeer(t, func(t *testing.T, p *clPeer) {
		for _, mode := range clTransportModes {
			t.Run(mode.name, func(t *testing.T) {
				s, err := NewClient(p.url, &ClientOptions{ManagerOptions: mode.opts})
				testutil.NoErr(t, err)
				clClose(t, s)
				welcome := make(chan string, 1)
				echo := make(chan string, 4)
				s.On("welcome", func(id string) { welcome <- id })
				s.On("echo", func(text string) { echo <- text })
				testutil.NoErr(t, s.Connect(clCtx(t)))

				testutil.Equal(t, clRecv(t, welcome, "welcome"), s.ID())
				testutil.Equal(t, len(s.ID()), 20)
				args, err := s.EmitWithAck(clCtx(t), "ack", "a", 1, map[string]any{"k": true})
				testutil.NoErr(t, err)
				testutil.Equal(t, args.String(), `["a",1,{"k":true}]`)
				testutil.NoErr(t, s.Emit("echo", "one"))
				testutil.Equal(t, clRecv(t, echo, "echo"), "one")

				clEventually(t, "transport "+mode.want, func() bool { return s.Manager().Transport() == mode.want })
				testutil.NoErr(t, s.Emit("echo", "two"))
				testutil.Equal(t, clRecv(t, echo, "echo"), "two")
				testutil.NoErr(t, s.Close())
				testutil.Equal(t, s.Connected(), false)
				testutil.Equal(t, s.Manager().Transport(), "")
			})
		}
	})
}

func TestClientNamespaces(t *testing.T) {
	clForEachPeer(t, func(t *testing.T, p *clPeer) {
		m := NewManager(p.url, nil)
		t.Cleanup(func() { _ = m.Close() })
		root := m.Socket("/", nil)
		admin := m.Socket("admin", &SocketOptions{Auth: map[string]string{"token": "secret"}})
		if m.Socket("/admin", nil) != admin {
			t.Error("Socket returned a new socket for /admin")
		}
		testutil.NoErr(t, root.Connect(clCtx(t)))
		testutil.NoErr(t, admin.Connect(clCtx(t)))
		if root.ID() == admin.ID() {
			t.Fatalf("both sockets have id %s", root.ID())
		}

		auth, err := admin.EmitWithAck(clCtx(t), "auth")
		testutil.NoErr(t, err)
		testutil.Equal(t, auth.String(), `[{"token":"secret"}]`)
		auth, err = root.EmitWithAck(clCtx(t), "auth")
		testutil.NoErr(t, err)
		testutil.Equal(t, auth.String(), `[{}]`)

		// An unknown namespace is refused; the others carry on.
		err = m.Socket("/nope", nil).Connect(clCtx(t))
		var ce *ConnectError
		if !errors.As(err, &ce) || ce.Message != "Invalid namespace" {
			t.Fatalf("Connect(/nope) = %v, want a *ConnectError with message Invalid namespace", err)
		}
		args, err := root.EmitWithAck(clCtx(t), "ack", "still")
		testutil.NoErr(t, err)
		testutil.Equal(t, args.String(), `["still"]`)

		// One Engine.IO connection serves every namespace.
		m.mu.Lock()
		gen, engines := m.gen, len(m.engines)
		m.mu.Unlock()
		testutil.Equal(t, engines, 1)

		// Disconnecting one socket keeps the connection for the other.
		admin.Disconnect()
		testutil.Equal(t, admin.Active(), false)
		args, err = root.EmitWithAck(clCtx(t), "ack", "after")
		testutil.NoErr(t, err)
		testutil.Equal(t, args.String(), `["after"]`)
		m.mu.Lock()
		testutil.Equal(t, m.gen, gen)
		m.mu.Unlock()

		// The last one closes it.
		root.Disconnect()
		clEventually(t, "the connection to close", func() bool { return m.Transport() == "" })
	})
}

func TestClientConnectError(t *testing.T) {
	clForEachPeer(t, func(t *testing.T, p *clPeer) {
		tests := []struct {
			name string
			auth any
			want string // "" for success
		}{
			{"no auth", nil, "not authorized"},
			{"wrong token", map[string]string{"token": "nope"}, "not authorized"},
			{"token", json.RawMessage(`{"token":"secret"}`), ""},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				s, err := NewClient(p.url+"/admin", &ClientOptions{SocketOptions: SocketOptions{Auth: tc.auth}})
				testutil.NoErr(t, err)
				clClose(t, s)
				connErr := make(chan error, 1)
				s.OnConnectError(func(err error) { connErr <- err })
				err = s.Connect(clCtx(t))
				if tc.want == "" {
					testutil.NoErr(t, err)
					return
				}
				var ce *ConnectError
				if !errors.As(err, &ce) {
					t.Fatalf("Connect = %v, want a *ConnectError", err)
				}
				testutil.Equal(t, ce.Message, tc.want)
				testutil.Equal(t, string(ce.Data.(json.RawMessage)), `{"code":401}`)
				if got := clRecv(t, connErr, "OnConnectError"); got != error(ce) {
					t.Errorf("OnConnectError got %v, want the error Connect returned", got)
				}
				testutil.Equal(t, s.Active(), false)
			})
		}
	})
}

func TestClientConnectFunc(t *testing.T) {
	clForEachPeer(t, func(t *testing.T, p *clPeer) {
		s, err := Connect(clCtx(t), p.url+"/admin", &ClientOptions{SocketOptions: SocketOptions{Auth: map[string]string{"token": "secret"}}})
		testutil.NoErr(t, err)
		clClose(t, s)
		testutil.Equal(t, s.Namespace(), "/admin")
		_, err = Connect(clCtx(t), p.url+"/admin", nil)
		var ce *ConnectError
		if !errors.As(err, &ce) || ce.Message != "not authorized" {
			t.Fatalf("Connect without auth = %v, want a *ConnectError", err)
		}
	})
}

func TestClientAcks(t *testing.T) {
	clForEachPeer(t, func(t *testing.T, p *clPeer) {
		s, err := NewClient(p.url, nil)
		testutil.NoErr(t, err)
		clClose(t, s)
		answers := make(chan Args, 4)
		s.On("answer", func(a Args) { answers <- a })
		twice := make(chan [2]error, 1)
		s.On("double", func(n int, word string, ack Ack) {
			first := ack(n*2, word+"!")
			twice <- [2]error{first, ack("again")}
		})
		nested := make(chan string, 1)
		s.On("echo", func(string) {
			// A handler may wait for an acknowledgement itself: the
			// acknowledgement is read while the handler blocks.
			args, err := s.EmitWithAck(clCtx(t), "ack", "nested")
			if err != nil {
				nested <- err.Error()
				return
			}
			nested <- args.String()
		})
		testutil.NoErr(t, s.Connect(clCtx(t)))

		// Client to server.
		args, err := s.EmitWithAck(clCtx(t), "ack", 1, "two", []int{3})
		testutil.NoErr(t, err)
		testutil.Equal(t, args.String(), `[1,"two",[3]]`)
		args, err = s.EmitWithAck(clCtx(t), "ack")
		testutil.NoErr(t, err)
		testutil.Equal(t, len(args), 0)

		// Server to client: the server emits "double" with an ack and
		// reports the first argument of our answer.
		testutil.NoErr(t, s.Emit("ask", "double", 21, "hi"))
		testutil.Equal(t, clRecv(t, answers, "answer").String(), `[42]`)
		acks := clRecv(t, twice, "acks")
		testutil.NoErr(t, acks[0])
		clWantErr(t, acks[1], ErrAckAlreadySent)
		testutil.NoErr(t, s.Emit("echo", "go"))
		testutil.Equal(t, clRecv(t, nested, "nested ack"), `["nested"]`)

		// Timeouts.
		_, err = s.Timeout(100*time.Millisecond).EmitWithAck(clCtx(t), "noack")
		clWantErr(t, err, ErrAckTimeout)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		_, err = s.EmitWithAck(ctx, "noack")
		cancel()
		clWantErr(t, err, context.DeadlineExceeded)

		// The callback form returns at once; the callback gets the answer
		// or the timeout.
		results := make(chan string, 2)
		testutil.NoErr(t, s.EmitWithAckFunc("ack", func(a Args, err error) {
			results <- a.String() + " " + errString(err)
		}, "cb", 2))
		testutil.Equal(t, clRecv(t, results, "callback"), `["cb",2] `)
		testutil.NoErr(t, s.Timeout(100*time.Millisecond).EmitWithAckFunc("noack", func(a Args, err error) {
			results <- a.String() + " " + errString(err)
		}))
		testutil.Equal(t, clRecv(t, results, "timed-out callback"), "[] "+ErrAckTimeout.Error())

		s.m.mu.Lock()
		pending := len(s.acks)
		s.m.mu.Unlock()
		testutil.Equal(t, pending, 0)

		// Reserved names.
		if err := s.Emit("disconnect"); !errors.Is(err, ErrReservedEvent) {
			t.Errorf("Emit(disconnect) = %v, want ErrReservedEvent", err)
		}
	})
}

func TestClientBinary(t *testing.T) {
	clForEachPeer(t, func(t *testing.T, p *clPeer) {
		for _, mode := range clTransportModes[:2] {
			t.Run(mode.name, func(t *testing.T) {
				s, err := NewClient(p.url, &ClientOptions{ManagerOptions: mode.opts})
				testutil.NoErr(t, err)
				clClose(t, s)
				echo := make(chan Args, 1)
				answers := make(chan Args, 1)
				s.On("echo", func(a Args) { echo <- a })
				s.On("answer", func(a Args) { answers <- a })
				s.On("bytes", func(b []byte, ack Ack) { _ = ack(append([]byte{0xff}, b...)) })
				testutil.NoErr(t, s.Connect(clCtx(t)))

				blob := []byte{0, 1, 2, 0x1e, 0xfe, 'b'}
				args, err := s.EmitWithAck(clCtx(t), "ack", blob, map[string]any{"nested": []byte{7}}, "text")
				testutil.NoErr(t, err)
				testutil.Equal(t, clDecode[[]byte](t, args, 0), blob)
				nested := clDecode[map[string]any](t, args, 1)
				testutil.Equal(t, nested["nested"], any([]byte{7}))
				testutil.Equal(t, clDecode[string](t, args, 2), "text")

				testutil.NoErr(t, s.Emit("echo", bytes.Repeat([]byte{9}, 3000)))
				got := clRecv(t, echo, "binary echo")
				testutil.Equal(t, clDecode[[]byte](t, got, 0), bytes.Repeat([]byte{9}, 3000))

				testutil.NoErr(t, s.Emit("ask", "bytes", []byte{1, 2}))
				testutil.Equal(t, clDecode[[]byte](t, clRecv(t, answers, "answer"), 0), []byte{0xff, 1, 2})
			})
		}
	})
}

func TestClientAnyAndBuffers(t *testing.T) {
	clForEachPeer(t, func(t *testing.T, p *clPeer) {
		s, err := NewClient(p.url, nil)
		testutil.NoErr(t, err)
		clClose(t, s)
		var mu sync.Mutex
		var in, out []string
		s.OnAny(func(event string, args Args) {
			mu.Lock()
			in = append(in, event+args.String())
			mu.Unlock()
		})
		removeOut := s.OnAnyOutgoing(func(event string, args []any) {
			mu.Lock()
			out = append(out, event)
			mu.Unlock()
		})
		echo := make(chan string, 4)
		s.On("echo", func(text string) { echo <- text })

		// Emitted while disconnected: buffered, except volatile events.
		testutil.NoErr(t, s.Emit("echo", "buffered"))
		testutil.NoErr(t, s.Volatile().Emit("echo", "volatile"))
		testutil.NoErr(t, s.Compress(false).Emit("echo", "compressed"))
		testutil.NoErr(t, s.Connect(clCtx(t)))
		testutil.Equal(t, clRecv(t, echo, "echo"), "buffered")
		testutil.Equal(t, clRecv(t, echo, "echo"), "compressed")
		testutil.NoErr(t, s.Emit("echo", "after"))
		testutil.Equal(t, clRecv(t, echo, "echo"), "after")

		removeOut()
		testutil.NoErr(t, s.Emit("echo", "unseen"))
		testutil.Equal(t, clRecv(t, echo, "echo"), "unseen")
		mu.Lock()
		defer mu.Unlock()
		testutil.Equal(t, out, []string{"echo", "echo", "echo"})
		want := []string{`welcome["` + s.ID() + `"]`, `echo["buffered"]`, `echo["compressed"]`, `echo["after"]`, `echo["unseen"]`}
		testutil.Equal(t, in, want)
	})
}

func TestClientServerDisconnect(t *testing.T) {
	clForEachPeer(t, func(t *testing.T, p *clPeer) {
		s, err := NewClient(p.url, &ClientOptions{ManagerOptions: ManagerOptions{ReconnectionDelay: 20 * time.Millisecond}})
		testutil.NoErr(t, err)
		clClose(t, s)
		var attempts atomic.Int32
		s.Manager().OnReconnectAttempt(func(int) { attempts.Add(1) })
		reasons := make(chan string, 2)
		s.OnDisconnect(func(reason string) { reasons <- reason })
		testutil.NoErr(t, s.Connect(clCtx(t)))
		pending := make(chan error, 1)
		go func() {
			_, err := s.EmitWithAck(context.Background(), "noack")
			pending <- err
		}()
		clEventually(t, "the pending ack", func() bool {
			s.m.mu.Lock()
			defer s.m.mu.Unlock()
			return len(s.acks) == 1
		})

		testutil.NoErr(t, s.Emit("disconnect-me"))
		testutil.Equal(t, clRecv(t, reasons, "disconnect"), ReasonIOServerDisconnect)
		testutil.Equal(t, DisconnectReason(clRecv(t, pending, "failed ack")), ReasonIOServerDisconnect)
		testutil.Equal(t, s.Active(), false)
		// With no active socket left the connection closes, and nothing
		// reconnects it.
		clEventually(t, "the connection to close", func() bool { return s.Manager().Transport() == "" })
		s.m.mu.Lock()
		testutil.Equal(t, s.m.reconnecting, false)
		s.m.mu.Unlock()
		testutil.Equal(t, attempts.Load(), int32(0))

		// A new Connect starts over.
		testutil.NoErr(t, s.Connect(clCtx(t)))
		args, err := s.EmitWithAck(clCtx(t), "ack", "back")
		testutil.NoErr(t, err)
		testutil.Equal(t, args.String(), `["back"]`)
		testutil.Equal(t, attempts.Load(), int32(0))
	})
}

func TestClientReconnect(t *testing.T) {
	const (
		delay    = 100 * time.Millisecond
		delayMax = 400 * time.Millisecond
	)
	clForEachPeer(t, func(t *testing.T, p *clPeer) {
		var authCalls atomic.Int32
		s, err := NewClient(p.url, &ClientOptions{
			ManagerOptions: ManagerOptions{
				ReconnectionDelay:    delay,
				ReconnectionDelayMax: delayMax,
				RandomizationFactor:  -1, // no jitter: the delays are exact
			},
			SocketOptions: SocketOptions{AuthFunc: func(context.Context) (any, error) {
				return map[string]int32{"n": authCalls.Add(1)}, nil
			}},
		})
		testutil.NoErr(t, err)
		clClose(t, s)
		type attempt struct {
			n  int
			at time.Time
		}
		attempts := make(chan attempt, 100)
		reconnected := make(chan int, 1)
		errs := make(chan error, 100)
		connects := make(chan string, 4)
		reasons := make(chan string, 4)
		m := s.Manager()
		m.OnReconnectAttempt(func(n int) { attempts <- attempt{n, time.Now()} })
		m.OnReconnect(func(n int) { reconnected <- n })
		m.OnReconnectError(func(err error) { errs <- err })
		s.OnConnect(func() { connects <- s.ID() })
		s.OnDisconnect(func(reason string) { reasons <- reason })
		testutil.NoErr(t, s.Connect(clCtx(t)))
		first := clRecv(t, connects, "connect")

		// Buffered while the server is away, sent after the reconnection.
		stoppedAt := time.Now()
		p.stop()
		reason := clRecv(t, reasons, "disconnect")
		if reason != ReasonTransportClose && reason != ReasonTransportError {
			t.Errorf("disconnect reason %q, want transport close or error", reason)
		}
		testutil.NoErr(t, s.Emit("echo", "while away"))

		// Backoff: attempt n comes at least delay·(1+2+...) after the stop.
		var elapsed time.Duration
		for n := 1; n <= 4; n++ {
			a := clRecv(t, attempts, "reconnect attempt")
			testutil.Equal(t, a.n, n)
			elapsed += min(delay<<(n-1), delayMax)
			if got := a.at.Sub(stoppedAt); got < elapsed {
				t.Errorf("attempt %d came %v after the stop, want at least %v", n, got, elapsed)
			}
			if n > 1 {
				clRecv(t, errs, "reconnect error")
			}
		}

		echo := make(chan string, 1)
		s.On("echo", func(text string) { echo <- text })
		p.start(t)
		n := clRecv(t, reconnected, "reconnect")
		if n < 4 {
			t.Errorf("reconnected after %d attempts, want at least 4", n)
		}
		second := clRecv(t, connects, "reconnect")
		if second == first {
			t.Errorf("the restarted server kept socket id %s", first)
		}
		testutil.Equal(t, clRecv(t, echo, "buffered echo"), "while away")
		args, err := s.EmitWithAck(clCtx(t), "auth")
		testutil.NoErr(t, err)
		if calls := authCalls.Load(); calls < 2 || args.String() != `[{"n":`+strconv.Itoa(int(calls))+`}]` {
			t.Errorf("auth %s after %d AuthFunc calls", args, calls)
		}
		testutil.Equal(t, s.Recovered(), false)
	})
}

func TestClientReconnectFailed(t *testing.T) {
	t.Parallel()
	url := "http://127.0.0.1:" + strconv.Itoa(testutil.FreePort(t)) // nothing listens
	tests := []struct {
		name     string
		opts     ManagerOptions
		attempts int
	}{
		{"no reconnection", ManagerOptions{DisableReconnection: true}, 0},
		{"two attempts", ManagerOptions{ReconnectionAttempts: 2, ReconnectionDelay: 10 * time.Millisecond}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := NewClient(url, &ClientOptions{ManagerOptions: tc.opts})
			testutil.NoErr(t, err)
			clClose(t, s)
			var attempts atomic.Int32
			failed := make(chan struct{}, 1)
			connErrs := make(chan error, 10)
			s.Manager().OnReconnectAttempt(func(int) { attempts.Add(1) })
			s.Manager().OnReconnectFailed(func() { failed <- struct{}{} })
			s.OnConnectError(func(err error) { connErrs <- err })
			err = s.Connect(clCtx(t))
			if err == nil {
				t.Fatal("Connect succeeded with no server")
			}
			if tc.attempts > 0 {
				clRecv(t, failed, "reconnect failed")
			}
			testutil.Equal(t, int(attempts.Load()), tc.attempts)
			for range tc.attempts + 1 {
				clRecv(t, connErrs, "connect error")
			}
		})
	}
}

func TestClientRecovery(t *testing.T) {
	for _, pk := range clPeers {
		t.Run(pk.name, func(t *testing.T) {
			t.Parallel()
			p := pk.start(t, true)
			for _, mode := range clTransportModes {
				t.Run(mode.name, func(t *testing.T) { testRecovery(t, p, mode.opts) })
			}
		})
	}
}

// testRecovery drops a connection, has the server emit events meanwhile,
// and checks that the reconnection recovers the session and the events.
func testRecovery(t *testing.T, p *clPeer, mo ManagerOptions) {
	ctl, err := Connect(clCtx(t), p.url, nil)
	testutil.NoErr(t, err)
	clClose(t, ctl)

	mo.DisableReconnection = true
	s, err := NewClient(p.url, &ClientOptions{ManagerOptions: mo})
	testutil.NoErr(t, err)
	clClose(t, s)
	var mu sync.Mutex
	var seq []string
	record := func(e string) {
		mu.Lock()
		seq = append(seq, e)
		mu.Unlock()
	}
	s.On("tick", func(i int, offset string) { record("tick" + strconv.Itoa(i)) })
	s.On("missed", func(i int, offset string) { record("missed" + strconv.Itoa(i)) })
	s.OnConnect(func() { record("connect") })
	reasons := make(chan string, 1)
	s.OnDisconnect(func(reason string) { reasons <- reason })
	testutil.NoErr(t, s.Connect(clCtx(t)))
	testutil.Equal(t, s.Recovered(), false)
	sid := s.ID()
	_, err = s.EmitWithAck(clCtx(t), "broadcast", 2)
	testutil.NoErr(t, err)
	clEventually(t, "two ticks", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seq) == 3
	})

	// The server drops the connection; events go on meanwhile.
	testutil.NoErr(t, s.Emit("close-me"))
	testutil.Equal(t, clRecv(t, reasons, "disconnect"), ReasonTransportClose)
	_, err = ctl.EmitWithAck(clCtx(t), "emit-when-gone", sid, 3)
	testutil.NoErr(t, err)

	testutil.NoErr(t, s.Connect(clCtx(t)))
	testutil.Equal(t, s.Recovered(), true)
	testutil.Equal(t, s.ID(), sid)
	clEventually(t, "the missed events", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seq) == 7
	})
	mu.Lock()
	testutil.Equal(t, seq, []string{"connect", "tick0", "tick1", "missed0", "missed1", "missed2", "connect"})
	mu.Unlock()
}

// TestClientOpenTimeout gives up opening a connection whose handshake
// does not come within Timeout.
func TestClientOpenTimeout(t *testing.T) {
	t.Parallel()
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer stuck.Close()
	s, err := NewClient(stuck.URL, &ClientOptions{ManagerOptions: ManagerOptions{Timeout: 50 * time.Millisecond, DisableReconnection: true}})
	testutil.NoErr(t, err)
	clClose(t, s)
	err = s.Connect(clCtx(t))
	if err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("Connect = %v, want a timeout", err)
	}
}

func TestClientRetries(t *testing.T) {
	clForEachPeer(t, func(t *testing.T, p *clPeer) {
		// 500 ms leaves an acknowledgement ample time on a busy machine;
		// where a late one could still cause an extra attempt, the checks
		// allow for it.
		opts := &ClientOptions{SocketOptions: SocketOptions{Retries: 3, AckTimeout: 500 * time.Millisecond}}
		s, err := NewClient(p.url, opts)
		testutil.NoErr(t, err)
		clClose(t, s)
		// Queued before the connection: sent once it is up.
		testutil.NoErr(t, s.Emit("flaky", "k2", 1))
		testutil.NoErr(t, s.Connect(clCtx(t)))

		// The server ignores the first two deliveries of k1.
		args, err := s.EmitWithAck(clCtx(t), "flaky", "k1", 2)
		testutil.NoErr(t, err)
		if n := clDecode[int](t, args, 0); n < 3 {
			t.Errorf("k1 acknowledged after %d deliveries, want 3 or more", n)
		}
		// One packet in flight at a time: k2, emitted first, was done
		// (delivered twice) before k1 went out.
		args, err = s.EmitWithAck(clCtx(t), "count", "k2")
		testutil.NoErr(t, err)
		if n := clDecode[int](t, args, 0); n < 2 {
			t.Errorf("k2 delivered %d times before k1 was acknowledged, want 2 or more", n)
		}

		// Retries exhausted: 1 + Retries deliveries, then ErrAckTimeout.
		_, err = s.EmitWithAck(clCtx(t), "flaky", "k3", 100)
		clWantErr(t, err, ErrAckTimeout)
		args, err = s.EmitWithAck(clCtx(t), "count", "k3")
		testutil.NoErr(t, err)
		testutil.Equal(t, clDecode[int](t, args, 0), 4)
		s.m.mu.Lock()
		testutil.Equal(t, len(s.queue), 0)
		s.m.mu.Unlock()
	})
}

func TestClientConcurrentEmits(t *testing.T) {
	clForEachPeer(t, func(t *testing.T, p *clPeer) {
		s, err := Connect(clCtx(t), p.url, nil)
		testutil.NoErr(t, err)
		clClose(t, s)
		var wg sync.WaitGroup
		errs := make(chan error, 200)
		for g := range 10 {
			wg.Go(func() {
				for i := range 20 {
					args, err := s.EmitWithAck(clCtx(t), "ack", g, i)
					if err == nil && args.String() != "["+strconv.Itoa(g)+","+strconv.Itoa(i)+"]" {
						err = errors.New("wrong answer " + args.String())
					}
					if err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

func TestClientCloseFromHandler(t *testing.T) {
	clForEachPeer(t, func(t *testing.T, p *clPeer) {
		s, err := NewClient(p.url, nil)
		testutil.NoErr(t, err)
		closed := make(chan struct{})
		reasons := make(chan string, 1)
		s.On("welcome", func() {
			_ = s.Close()
			close(closed)
		})
		s.OnDisconnect(func(reason string) { reasons <- reason })
		testutil.NoErr(t, s.Connect(clCtx(t)))
		clRecv(t, closed, "Close from the handler")
		testutil.Equal(t, clRecv(t, reasons, "disconnect"), ReasonIOClientDisconnect)
		if err := s.Emit("echo"); !errors.Is(err, ErrClientClosed) {
			t.Errorf("Emit after Close = %v, want ErrClientClosed", err)
		}
		clWantErr(t, s.Connect(clCtx(t)), ErrClientClosed)
		_ = s.Close()
	})
}

func TestClientBackoff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		jitter   float64
		rand     float64
		attempts int
		want     time.Duration
	}{
		{"first, no jitter", 0, 0.3, 0, time.Second},
		{"third, no jitter", 0, 0.3, 2, 4 * time.Second},
		{"capped", 0, 0.3, 3, 5 * time.Second},
		{"far beyond", 0, 0.3, 5000, 5 * time.Second},
		{"odd tenth adds", 0.5, 0.3, 0, 1150 * time.Millisecond},
		{"even tenth subtracts", 0.5, 0.25, 0, 875 * time.Millisecond},
		{"second, subtract", 0.5, 0.05, 1, 1950 * time.Millisecond},
		{"capped after jitter", 0.5, 0.99, 2, 5 * time.Second},
		{"far beyond with jitter", 0.5, 0, 5000, 5 * time.Second},
	}
	for _, tc := range tests {
		b := backoff{min: time.Second, max: 5 * time.Second, jitter: tc.jitter, attempts: tc.attempts, rand: func() float64 { return tc.rand }}
		if got := b.duration(); got != tc.want {
			t.Errorf("%s: duration = %v, want %v", tc.name, got, tc.want)
		}
		testutil.Equal(t, b.attempts, tc.attempts+1)
	}
}

func TestClientRecoveryPayload(t *testing.T) {
	t.Parallel()
	tests := []struct {
		offset    string
		hasOffset bool
		auth      string
		want      string
	}{
		{"", false, "", `{"pid":"P"}`},
		{"O", true, "", `{"pid":"P","offset":"O"}`},
		{"O", true, `{}`, `{"pid":"P","offset":"O"}`},
		{"O", true, `{"token":"t","n":1}`, `{"pid":"P","offset":"O","token":"t","n":1}`},
		{"", false, `{"a":[1]}`, `{"pid":"P","a":[1]}`},
	}
	for _, tc := range tests {
		got := string(mergeRecovery("P", tc.offset, tc.hasOffset, json.RawMessage(tc.auth)))
		testutil.Equal(t, got, tc.want)
		if !json.Valid([]byte(got)) {
			t.Errorf("%s is not valid JSON", got)
		}
	}
}

func TestClientAuthPayload(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		auth    any
		want    string
		wantErr bool
	}{
		{"none", nil, "", false},
		{"null", json.RawMessage("null"), "", false},
		{"map", map[string]int{"a": 1}, `{"a":1}`, false},
		{"raw", json.RawMessage(` {"b": 2} `), `{"b":2}`, false},
		{"struct", struct{ T string }{"x"}, `{"T":"x"}`, false},
		{"not an object", "token", "", true},
		{"not JSON", func() {}, "", true},
	}
	for _, tc := range tests {
		got, err := marshalAuth(tc.auth)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: err = %v", tc.name, err)
		}
		testutil.Equal(t, string(got), tc.want)
	}
}

// TestClientAuthErrors checks that auth payloads that cannot be sent fail
// the connection.
func TestClientAuthErrors(t *testing.T) {
	p := clStartGo(t, false)
	for _, opts := range []SocketOptions{
		{Auth: "not an object"},
		{AuthFunc: func(context.Context) (any, error) { return nil, errors.New("no token") }},
		{AuthFunc: func(context.Context) (any, error) { return []int{1}, nil }},
	} {
		s, err := NewClient(p.url, &ClientOptions{SocketOptions: opts})
		testutil.NoErr(t, err)
		clClose(t, s)
		connErr := make(chan error, 1)
		s.OnConnectError(func(err error) { connErr <- err })
		err = s.Connect(clCtx(t))
		if err == nil || !strings.Contains(err.Error(), "auth") {
			t.Errorf("Connect = %v, want an auth error", err)
		}
		testutil.Equal(t, clRecv(t, connErr, "OnConnectError").Error(), err.Error())
		testutil.Equal(t, s.Active(), false)
	}
}

// clWantErr fails the test unless err matches target.
func clWantErr(tb testing.TB, err, target error) {
	tb.Helper()
	if !errors.Is(err, target) {
		tb.Errorf("error %v, want %v", err, target)
	}
}

// clDisconnectServer is a Node socket.io 4.8 server, polling only, that
// prints the reason of each socket's disconnection.
const clDisconnectServer = `
import { createServer } from "node:http";
import { Server } from "socket.io";
const http = createServer();
const io = new Server(http, { transports: ["polling"] });
io.on("connection", (socket) => {
  socket.on("bye", () => {});
  socket.on("disconnect", (reason) => console.log(JSON.stringify({ ev: "disconnect", reason })));
});
http.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ ev: "listening", port: http.address().port })));
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
`

// TestClientPollingDisconnectReasonNode: a Go client that emits and then
// closes over polling is seen by the Node server as a "client namespace
// disconnect", as the reference client is: the close packet goes in a
// POST of its own, after the one carrying the DISCONNECT.
func TestClientPollingDisconnectReasonNode(t *testing.T) {
	t.Parallel()
	node := testutil.NeedTool(t, "node")
	conf, err := filepath.Abs(filepath.Join("..", "conformance"))
	testutil.NoErr(t, err)
	if _, err := os.Stat(filepath.Join(conf, "node_modules", "socket.io", "package.json")); err != nil {
		if testutil.InCI() {
			t.Fatalf("conformance/node_modules lacks socket.io (run make npm): %v", err)
		}
		t.Skip("SKIPPED: conformance/node_modules lacks socket.io; run `make npm` to run this test against Node")
	}
	cmd := exec.Command(node, "--input-type=module", "-e", clDisconnectServer)
	cmd.Dir = conf // bare imports resolve from conformance/node_modules
	stdin, err := cmd.StdinPipe()
	testutil.NoErr(t, err)
	out, err := cmd.StdoutPipe()
	testutil.NoErr(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	testutil.NoErr(t, cmd.Start())
	lines := make(chan map[string]any, 64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var v map[string]any
			if json.Unmarshal(sc.Bytes(), &v) == nil {
				lines <- v
			}
		}
	}()
	t.Cleanup(func() {
		_ = stdin.Close()
		for range lines {
		}
		_ = cmd.Wait()
	})
	ready, ok := <-lines
	if !ok || ready["ev"] != "listening" {
		t.Fatalf("node did not start: %v %s", ready, stderr.String())
	}
	url := "http://127.0.0.1:" + strconv.Itoa(int(ready["port"].(float64)))

	const rounds = 20
	var reasons []string
	for range rounds {
		s, err := NewClient(url, &ClientOptions{ManagerOptions: ManagerOptions{Transports: []string{engineio.TransportPolling}}})
		testutil.NoErr(t, err)
		testutil.NoErr(t, s.Connect(clCtx(t)))
		testutil.NoErr(t, s.Emit("bye", strings.Repeat("x", 1000)))
		testutil.NoErr(t, s.Close())
		v := clRecv(t, lines, "the server's disconnect")
		reasons = append(reasons, v["reason"].(string))
	}
	bad := 0
	for _, r := range reasons {
		if r != ReasonClientNamespaceDisconnect {
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d disconnections reported otherwise than %q: %v", bad, rounds, ReasonClientNamespaceDisconnect, reasons)
	}
}

package emitter_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/gosio/gosio/emitter"
	"github.com/gosio/gosio/internal/clusterwire"
	"github.com/gosio/gosio/internal/testutil"
	"github.com/gosio/gosio/parser"
)

func TestMain(m *testing.M) { testutil.RunWithLeakCheck(m) }

func newClient(tb testing.TB, addr string) rueidis.Client {
	tb.Helper()
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}, DisableCache: true})
	testutil.NoErr(tb, err)
	tb.Cleanup(c.Close)
	return c
}

// monitor is a MONITOR connection that hands out the PUBLISH, SPUBLISH and
// XADD commands redis-server prints, without their timestamp and client.
type monitor struct {
	conn  net.Conn
	lines chan string
	done  chan struct{}
}

var monitorLine = regexp.MustCompile(`^\+\d+\.\d+ \[\d+ [^\]]*\] (.*)$`)

func startMonitor(tb testing.TB, addr string) *monitor {
	tb.Helper()
	conn, err := net.Dial("tcp", addr)
	testutil.NoErr(tb, err)
	m := &monitor{conn: conn, lines: make(chan string, 1024), done: make(chan struct{})}
	_, err = conn.Write([]byte("MONITOR\r\n"))
	testutil.NoErr(tb, err)
	r := bufio.NewReader(conn)
	ok, err := r.ReadString('\n')
	testutil.NoErr(tb, err)
	if ok != "+OK\r\n" {
		tb.Fatalf("MONITOR answered %q", ok)
	}
	go func() {
		defer close(m.done)
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			sm := monitorLine.FindStringSubmatch(strings.TrimSuffix(l, "\r\n"))
			if sm == nil {
				continue
			}
			cmd := strings.ToUpper(strings.SplitN(sm[1], " ", 2)[0])
			if cmd == `"PUBLISH"` || cmd == `"SPUBLISH"` || cmd == `"XADD"` {
				m.lines <- sm[1]
			}
		}
	}()
	tb.Cleanup(func() { conn.Close(); <-m.done })
	return m
}

func (m *monitor) next(tb testing.TB) string {
	tb.Helper()
	select {
	case l := <-m.lines:
		return l
	case <-time.After(3 * time.Second):
		tb.Fatal("no command seen by MONITOR")
		return ""
	}
}

// expectNothingBefore checks that the next command seen is the marker that
// the caller has just sent, i.e. that nothing was written before it.
func (m *monitor) expectNothingBefore(tb testing.TB, marker string) {
	tb.Helper()
	if l := m.next(tb); !strings.Contains(l, marker) {
		tb.Fatalf("a command was written: %s", l)
	}
}

type golden struct {
	Cases []struct {
		Name    string `json:"name"`
		Command string `json:"command"`
	} `json:"cases"`
}

func readGolden(tb testing.TB) map[string]string {
	tb.Helper()
	raw, err := os.ReadFile("testdata/golden.json")
	testutil.NoErr(tb, err)
	var g golden
	testutil.NoErr(tb, json.Unmarshal(raw, &g))
	out := map[string]string{}
	for _, c := range g.Cases {
		out[c.Name] = c.Command
	}
	if len(out) < 40 {
		tb.Fatalf("golden file has only %d cases", len(out))
	}
	return out
}

type fixtures struct {
	e, json, keyed, xe, named *emitter.Emitter
}

func b(p ...byte) []byte { return p }

// goldenOps are the operations of testdata/gen-golden.mjs, in Go.
var goldenOps = map[string]func(ctx context.Context, f fixtures) error{
	"emit-all":  func(ctx context.Context, f fixtures) error { return f.e.Emit(ctx, "hello", 1, "2", b(3, 4)) },
	"emit-room": func(ctx context.Context, f fixtures) error { return f.e.To("room1").Emit(ctx, "ev", 1) },
	"emit-rooms-except-flags": func(ctx context.Context, f fixtures) error {
		return f.e.To("r1", "r2").Except("r3").Volatile().Compress(false).Emit(ctx, "ev", 2)
	},
	"emit-flags-order":   func(ctx context.Context, f fixtures) error { return f.e.Compress(false).Volatile().Emit(ctx, "ev") },
	"emit-compress-true": func(ctx context.Context, f fixtures) error { return f.e.Compress(true).Emit(ctx, "ev") },
	"emit-compress-twice": func(ctx context.Context, f fixtures) error {
		return f.e.Compress(false).Volatile().Compress(true).Emit(ctx, "ev")
	},
	"emit-in-dedup": func(ctx context.Context, f fixtures) error {
		return f.e.In("a").To("b", "a").Except("c").Except("c", "d").Emit(ctx, "ev")
	},
	"emit-except-only": func(ctx context.Context, f fixtures) error {
		return f.e.Except("r3").Emit(ctx, "ev", json.RawMessage(`{"a":"b","n":[1.5,-3,0]}`))
	},
	"emit-socket-id": func(ctx context.Context, f fixtures) error {
		return f.e.To("ABCDEFGHIJKLMNOPQRST").Emit(ctx, "private", "x")
	},
	"emit-values": func(ctx context.Context, f fixtures) error {
		return f.e.Emit(ctx, "values", nil, true, false, 0, -1, 255, 65536, -129, int64(4294967296), int64(9007199254740991), 1.25, "", "héllo ✓ 𝄞",
			[]any{1, []any{2, []any{3}}}, json.RawMessage(`{"z":1,"a":{"b":[]}}`))
	},
	"emit-nested-binary": func(ctx context.Context, f fixtures) error {
		return f.e.Emit(ctx, "bin", map[string]any{"file": b(1, 2, 3), "list": []any{b(), b(255)}}, "after")
	},
	"emit-long-string": func(ctx context.Context, f fixtures) error { return f.e.Emit(ctx, "long", strings.Repeat("x", 300)) },
	"of-custom":        func(ctx context.Context, f fixtures) error { return f.e.Of("custom").Emit(ctx, "ev", "x") },
	"of-slash-custom-room": func(ctx context.Context, f fixtures) error {
		return f.e.Of("/custom").To("room1").Emit(ctx, "ev", b(9))
	},
	"sockets-join": func(ctx context.Context, f fixtures) error { return f.e.SocketsJoin(ctx, "room1") },
	"sockets-join-rooms": func(ctx context.Context, f fixtures) error {
		return f.e.To("room1").Except("room0").SocketsJoin(ctx, "room2", "room3")
	},
	"sockets-leave":         func(ctx context.Context, f fixtures) error { return f.e.SocketsLeave(ctx, "room1") },
	"sockets-leave-in":      func(ctx context.Context, f fixtures) error { return f.e.In("room1").SocketsLeave(ctx, "room2") },
	"disconnect":            func(ctx context.Context, f fixtures) error { return f.e.DisconnectSockets(ctx, false) },
	"disconnect-close-room": func(ctx context.Context, f fixtures) error { return f.e.To("room1").DisconnectSockets(ctx, true) },
	"disconnect-custom": func(ctx context.Context, f fixtures) error {
		return f.e.Of("/custom").Except("r").DisconnectSockets(ctx, false)
	},
	"sse":        func(ctx context.Context, f fixtures) error { return f.e.ServerSideEmit(ctx, "hello", "world", 1, "2") },
	"sse-binary": func(ctx context.Context, f fixtures) error { return f.e.ServerSideEmit(ctx, "file", b(1, 2)) },
	"sse-custom": func(ctx context.Context, f fixtures) error { return f.e.Of("/custom").ServerSideEmit(ctx, "ping") },
	"json-emit":  func(ctx context.Context, f fixtures) error { return f.json.Emit(ctx, "ev", 1, "2", b(3)) },
	"json-emit-room": func(ctx context.Context, f fixtures) error {
		return f.json.To("r1").Volatile().Emit(ctx, "ev", []float64{1.5})
	},
	"key-emit": func(ctx context.Context, f fixtures) error { return f.keyed.To("room1").Emit(ctx, "ev", 1) },
	"key-join": func(ctx context.Context, f fixtures) error { return f.keyed.SocketsJoin(ctx, "r") },

	"xe-emit-all":    func(ctx context.Context, f fixtures) error { return f.xe.Emit(ctx, "hello", 1, "2") },
	"xe-emit-binary": func(ctx context.Context, f fixtures) error { return f.xe.Emit(ctx, "hello", 1, "2", b(3, 4)) },
	"xe-emit-rooms-except-flags": func(ctx context.Context, f fixtures) error {
		return f.xe.To("r1", "r2").Except("r3").Volatile().Compress(false).Emit(ctx, "ev", 2)
	},
	"xe-emit-flags-order": func(ctx context.Context, f fixtures) error { return f.xe.Compress(false).Volatile().Emit(ctx, "ev") },
	"xe-emit-in-dedup": func(ctx context.Context, f fixtures) error {
		return f.xe.In("a").To("b", "a").Except("c").Except("c", "d").Emit(ctx, "ev")
	},
	"xe-emit-values": func(ctx context.Context, f fixtures) error {
		return f.xe.Emit(ctx, "values", nil, true, 0, -1, int64(9007199254740991), 1.25, "héllo ✓ 𝄞", json.RawMessage(`{"z":1,"a":[]}`))
	},
	"xe-emit-values-binary": func(ctx context.Context, f fixtures) error {
		return f.xe.Emit(ctx, "values", nil, true, 0, -1, 255, 65536, -129, int64(4294967296), int64(9007199254740992), 1.25, "héllo ✓ 𝄞",
			// A Value keeps the key order, which a Go map cannot.
			parser.Value{JSON: json.RawMessage(`{"z":1,"a":[{"_placeholder":true,"num":0}]}`), Attachments: [][]byte{{7}}})
	},
	"xe-of-custom": func(ctx context.Context, f fixtures) error {
		return f.xe.Of("/custom").To("room1").Emit(ctx, "ev", "x")
	},
	"xe-sockets-join": func(ctx context.Context, f fixtures) error { return f.xe.SocketsJoin(ctx, "room1") },
	"xe-sockets-join-rooms": func(ctx context.Context, f fixtures) error {
		return f.xe.To("room1").Except("room0").SocketsJoin(ctx, "room2", "room3")
	},
	"xe-sockets-leave": func(ctx context.Context, f fixtures) error { return f.xe.In("room1").SocketsLeave(ctx, "room2") },
	"xe-disconnect":    func(ctx context.Context, f fixtures) error { return f.xe.DisconnectSockets(ctx, false) },
	"xe-disconnect-close": func(ctx context.Context, f fixtures) error {
		return f.xe.Of("/custom").To("r").DisconnectSockets(ctx, true)
	},
	"xe-sse":        func(ctx context.Context, f fixtures) error { return f.xe.ServerSideEmit(ctx, "hello", "world", 1, "2") },
	"xe-sse-binary": func(ctx context.Context, f fixtures) error { return f.xe.ServerSideEmit(ctx, "file", b(1, 2)) },
	"xe-options":    func(ctx context.Context, f fixtures) error { return f.named.To("r").Emit(ctx, "ev", 1) },
}

func setup(t *testing.T) (fixtures, *monitor, rueidis.Client, string) {
	t.Helper()
	addr := testutil.StartRedis(t)
	c := newClient(t, addr)
	f := fixtures{
		e:     emitter.New(c, nil),
		json:  emitter.New(c, &emitter.Options{Parser: emitter.JSON}),
		keyed: emitter.New(c, &emitter.Options{Key: "custom-key"}),
		xe:    emitter.NewStreams(c, nil),
		named: emitter.NewStreams(c, &emitter.StreamsOptions{StreamName: "my-stream", MaxLen: 500}),
	}
	return f, startMonitor(t, addr), c, addr
}

// TestEmitterGolden compares the commands the Go emitters send with the
// ones Node's emitters sent for the same operations (testdata/golden.json,
// written by testdata/gen-golden.mjs), byte for byte.
func TestEmitterGolden(t *testing.T) {
	want := readGolden(t)
	for name := range want {
		if goldenOps[name] == nil {
			t.Errorf("golden case %q has no Go operation", name)
		}
	}
	for name := range goldenOps {
		if _, ok := want[name]; !ok {
			t.Errorf("Go operation %q has no golden case", name)
		}
	}
	f, mon, _, _ := setup(t)
	ctx := context.Background()
	for name, cmd := range want {
		op := goldenOps[name]
		if op == nil {
			continue
		}
		t.Run(name, func(t *testing.T) {
			if err := op(ctx, f); err != nil {
				t.Fatal(err)
			}
			if got := mon.next(t); got != cmd {
				t.Errorf("command differs from Node's\n got: %s\nwant: %s", got, cmd)
			}
		})
	}
}

func TestEmitterRefusesReservedAndAcks(t *testing.T) {
	f, mon, _, _ := setup(t)
	ctx := context.Background()
	for _, e := range []*emitter.Emitter{f.e, f.xe} {
		for _, ev := range []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"} {
			err := e.To("r").Emit(ctx, ev, 1)
			if !errors.Is(err, emitter.ErrReservedEvent) || !strings.Contains(err.Error(), strconv.Quote(ev)) {
				t.Errorf("Emit(%q) = %v, want ErrReservedEvent naming it", ev, err)
			}
			if err := e.ServerSideEmit(ctx, ev); !errors.Is(err, emitter.ErrReservedEvent) {
				t.Errorf("ServerSideEmit(%q) = %v, want ErrReservedEvent", ev, err)
			}
		}
		ack := func(...any) {}
		if err := e.Emit(ctx, "ev", 1, ack); !errors.Is(err, emitter.ErrAck) {
			t.Errorf("Emit with a func = %v, want ErrAck", err)
		}
		if err := e.ServerSideEmit(ctx, "ev", ack); !errors.Is(err, emitter.ErrAck) {
			t.Errorf("ServerSideEmit with a func = %v, want ErrAck", err)
		}
		if err := e.Emit(ctx, "ev", make(chan int)); err == nil || !strings.HasPrefix(err.Error(), "emitter: emit: ") {
			t.Errorf("Emit of a channel = %v, want an emitter: emit: error", err)
		}
	}
	testutil.NoErr(t, f.e.Emit(ctx, "marker"))
	mon.expectNothingBefore(t, "marker")
}

func TestEmitterRedisErrors(t *testing.T) {
	f, _, c, _ := setup(t)
	ctx := context.Background()
	// A key of the wrong type where the stream should be: XADD fails.
	testutil.NoErr(t, c.Do(ctx, c.B().Set().Key("socket.io").Value("x").Build()).Error())
	for name, op := range map[string]func() error{
		"emit":       func() error { return f.xe.Emit(ctx, "ev", 1) },
		"join":       func() error { return f.xe.SocketsJoin(ctx, "r") },
		"leave":      func() error { return f.xe.SocketsLeave(ctx, "r") },
		"disconnect": func() error { return f.xe.DisconnectSockets(ctx, true) },
		"sse":        func() error { return f.xe.ServerSideEmit(ctx, "ev") },
	} {
		err := op()
		var re *rueidis.RedisError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), "WRONGTYPE") || !strings.HasPrefix(err.Error(), "emitter: ") {
			t.Errorf("%s = %v, want the WRONGTYPE RedisError wrapped", name, err)
		}
	}
	// A cancelled context is returned, not swallowed.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	for _, e := range []*emitter.Emitter{f.e, f.xe.Of("/other")} {
		if err := e.Emit(cctx, "ev"); !errors.Is(err, context.Canceled) {
			t.Errorf("Emit with a cancelled context = %v", err)
		}
		if err := e.SocketsJoin(cctx, "r"); !errors.Is(err, context.Canceled) {
			t.Errorf("SocketsJoin with a cancelled context = %v", err)
		}
	}
}

func TestEmitterRedisDown(t *testing.T) {
	s := testutil.StartRedisServer(t)
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{s.Addr()}, DisableCache: true, DisableRetry: true})
	testutil.NoErr(t, err)
	defer c.Close()
	s.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := emitter.New(c, nil).Emit(ctx, "ev", 1); err == nil {
		t.Error("Emit with Redis down returned nil")
	}
	if err := emitter.NewStreams(c, nil).Emit(ctx, "ev", 1); err == nil {
		t.Error("streams Emit with Redis down returned nil")
	}
}

// TestStreamCount checks that with StreamCount > 1 a namespace goes to the
// stream its streams adapters read, including a negative index (Node's
// hash keeps the sign), and that the command is otherwise Node's.
func TestStreamCount(t *testing.T) {
	want := readGolden(t)
	addr := testutil.StartRedis(t)
	c := newClient(t, addr)
	mon := startMonitor(t, addr)
	ctx := context.Background()
	e := emitter.NewStreams(c, &emitter.StreamsOptions{StreamCount: 2})

	testutil.NoErr(t, e.Of("/custom").To("room1").Emit(ctx, "ev", "x"))
	key := clusterwire.StreamKey("socket.io", 2, "/custom")
	if key == "socket.io" {
		t.Fatal("StreamKey ignored the count")
	}
	exp := strings.Replace(want["xe-of-custom"], `"XADD" "socket.io" `, `"XADD" "`+key+`" `, 1)
	testutil.Equal(t, mon.next(t), exp)

	testutil.NoErr(t, e.Of("/notifications").SocketsJoin(ctx, "room1"))
	exp = strings.Replace(want["xe-sockets-join"], `"XADD" "socket.io" "MAXLEN" "~" "10000" "*" "uid" "emitter" "nsp" "/"`,
		`"XADD" "socket.io--1" "MAXLEN" "~" "10000" "*" "uid" "emitter" "nsp" "/notifications"`, 1)
	testutil.Equal(t, mon.next(t), exp)

	// StreamCount 1 and 0 are Node's single stream.
	for _, n := range []int{0, 1} {
		testutil.NoErr(t, emitter.NewStreams(c, &emitter.StreamsOptions{StreamCount: n}).Emit(ctx, "hello", 1, "2"))
		testutil.Equal(t, mon.next(t), want["xe-emit-all"])
	}
	// A negative MaxLen writes no MAXLEN.
	testutil.NoErr(t, emitter.NewStreams(c, &emitter.StreamsOptions{MaxLen: -1}).Emit(ctx, "hello", 1, "2"))
	testutil.Equal(t, mon.next(t), strings.Replace(want["xe-emit-all"], `"MAXLEN" "~" "10000" `, "", 1))
}

func TestOf(t *testing.T) {
	addr := testutil.StartRedis(t)
	c := newClient(t, addr)
	for _, e := range []*emitter.Emitter{emitter.New(c, nil), emitter.NewStreams(c, nil)} {
		testutil.Equal(t, e.Namespace(), "/")
		testutil.Equal(t, e.Of("").Namespace(), "/")
		testutil.Equal(t, e.Of("admin").Namespace(), "/admin")
		testutil.Equal(t, e.Of("/admin").Of("x").Namespace(), "/x")
	}
}

// TestOperatorImmutable extends one shared operator from many goroutines
// (under -race) and checks that each result targets exactly its own rooms
// and that the shared one is unchanged.
func TestOperatorImmutable(t *testing.T) {
	addr := testutil.StartRedis(t)
	c := newClient(t, addr)
	mon := startMonitor(t, addr)
	ctx := context.Background()
	base := emitter.New(c, nil).To("a", "b").Except("x").Volatile()
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := "room" + strconv.Itoa(i)
			errs <- base.To(r).Except(r+"x").Compress(i%2 == 0).Emit(ctx, "ev", i)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		testutil.NoErr(t, err)
	}
	seen := map[string]bool{}
	for range n {
		l := mon.next(t)
		m := regexp.MustCompile(`room(\d+)(x?)`).FindAllStringSubmatch(l, -1)
		if len(m) != 2 || m[0][1] != m[1][1] || m[0][2] != "" || m[1][2] != "x" {
			t.Fatalf("rooms of another emit leaked into %s", l)
		}
		seen[m[0][1]] = true
	}
	testutil.Equal(t, len(seen), n)
	testutil.NoErr(t, base.Emit(ctx, "base"))
	l := mon.next(t)
	if regexp.MustCompile(`room\d`).MatchString(l) || strings.Contains(l, "compress") {
		t.Errorf("the shared operator changed: %s", l)
	}
}

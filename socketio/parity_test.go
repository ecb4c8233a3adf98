package socketio

import (
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosio/gosio/parser"
)

// Tests of the Node socket.io 4.8 APIs docs/migrating-from-node.md maps.

// TestOnNewNamespace: the hook sees each namespace created by Of and each
// child a parent namespace creates, once; a child's sockets connect only
// after the hook returned, so the middleware it adds runs for every one of
// them, even a second client that connects while the hook still runs.
func TestOnNewNamespace(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	created := make(chan string, 8)
	release := make(chan struct{})
	srv.OnNewNamespace(func(n *Namespace) {
		created <- n.Name()
		if n.Name() == "/room-1" {
			<-release
			n.Use(func(s *Socket) error { s.SetData("hooked"); return nil })
		}
	})
	srv.Of("/a")
	srv.Of("a") // the same namespace: no second call
	if got := <-created; got != "/a" {
		t.Fatalf("hook got %q, want /a", got)
	}

	parent := srv.OfRegexp(regexp.MustCompile(`^/room-\d+$`))
	data := make(chan any, 2)
	parent.OnConnection(func(s *Socket) { data <- s.Data() })
	c1, c2 := dialWS(t, url, ""), dialWS(t, url, "")
	c1.send("40/room-1,")
	if got := <-created; got != "/room-1" {
		t.Fatalf("hook got %q, want /room-1", got)
	}
	c2.send("40/room-1,") // finds the child, and must wait for the hook
	select {
	case d := <-data:
		t.Fatalf("a socket connected before the hook returned (data %v)", d)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	c1.expectPrefix("40/room-1,{")
	c2.expectPrefix("40/room-1,{")
	for range 2 {
		if d := <-data; d != "hooked" {
			t.Fatalf("socket data %v: the hook's middleware did not run", d)
		}
	}
	select {
	case got := <-created:
		t.Fatalf("hook called again for %q", got)
	default:
	}
	if ch := parent.Children(); len(ch) != 1 || ch[0].Name() != "/room-1" {
		t.Fatalf("children %v", ch)
	}
}

// answerAcks reads one event asking for an ack from c and answers it with
// reply, or not at all when reply is "".
func answerAcks(t *testing.T, c *wsClient, reply string) {
	t.Helper()
	f := c.expectPrefix("42")
	i := strings.IndexByte(f, '[')
	if i <= 2 {
		t.Fatalf("event without ack id: %q", f)
	}
	if reply != "" {
		c.send("43" + f[2:i] + "[" + strconv.Quote(reply) + "]")
	}
}

// TestBroadcastEmitWithAckFunc: the callback form returns at once and
// calls fn once, with every response, or with the partial responses and
// ErrAckTimeout when a client stays silent; with no client at once; on
// the local path and on the one that asks the adapter for the server
// count.
func TestBroadcastEmitWithAckFunc(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	joined := make(chan struct{}, 3)
	srv.OnConnection(func(s *Socket) { s.Join("r"); joined <- struct{}{} })
	clients := make([]*wsClient, 3)
	for i := range clients {
		clients[i] = dialWS(t, url, "")
		clients[i].connect("/", "")
		<-joined
	}
	type result struct {
		res Args
		err error
	}
	for _, tc := range []struct {
		name    string
		op      func(event string, fn func(Args, error)) error
		replies []string // per client; "" stays silent
		want    []string
		timeout bool
	}{
		{"all answer", func(ev string, fn func(Args, error)) error {
			return srv.Sockets().EmitWithAckFunc(ev, fn)
		}, []string{"a", "b", "c"}, []string{"a", "b", "c"}, false},
		{"one silent", func(ev string, fn func(Args, error)) error {
			return srv.Timeout(300*time.Millisecond).EmitWithAckFunc(ev, fn)
		}, []string{"a", "", "c"}, []string{"a", "c"}, true},
		{"local, all answer", func(ev string, fn func(Args, error)) error {
			return srv.Local().To("r").Timeout(5*time.Second).EmitWithAckFunc(ev, fn)
		}, []string{"a", "b", "c"}, []string{"a", "b", "c"}, false},
		{"local, one silent", func(ev string, fn func(Args, error)) error {
			return srv.Local().Timeout(300*time.Millisecond).EmitWithAckFunc(ev, fn)
		}, []string{"", "b", "c"}, []string{"b", "c"}, true},
		{"nobody", func(ev string, fn func(Args, error)) error {
			return srv.To("empty").Timeout(5*time.Second).EmitWithAckFunc(ev, fn)
		}, nil, nil, false},
	} {
		done := make(chan result, 2)
		start := time.Now()
		err := tc.op("q", func(res Args, err error) { done <- result{res, err} })
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		select {
		case r := <-done:
			if len(tc.replies) > 0 {
				t.Fatalf("%s: fn called before the clients answered: %v %v", tc.name, r.res, r.err)
			}
			done <- r
		default:
		}
		for i, reply := range tc.replies {
			answerAcks(t, clients[i], reply)
		}
		var r result
		select {
		case r = <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: fn not called", tc.name)
		}
		var got []string
		for i := range r.res {
			var s string
			if err := r.res.Decode(i, &s); err != nil {
				t.Fatal(err)
			}
			got = append(got, s)
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) || errors.Is(r.err, ErrAckTimeout) != tc.timeout || (!tc.timeout && r.err != nil) {
			t.Fatalf("%s: fn(%v, %v), want %v, timeout %v", tc.name, got, r.err, tc.want, tc.timeout)
		}
		if tc.timeout && time.Since(start) < 300*time.Millisecond {
			t.Fatalf("%s: timed out after %v", tc.name, time.Since(start))
		}
		select {
		case r := <-done:
			t.Fatalf("%s: fn called twice, then with %v %v", tc.name, r.res, r.err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	called := false
	if err := srv.Sockets().EmitWithAckFunc("connect", func(Args, error) { called = true }); !errors.Is(err, ErrReservedEvent) {
		t.Fatalf("reserved event: %v", err)
	}
	if err := srv.Sockets().EmitWithAckFunc("q", func(Args, error) { called = true }, func() {}); err == nil {
		t.Fatal("an argument that does not encode: no error")
	}
	if called {
		t.Fatal("fn called after EmitWithAckFunc returned an error")
	}
}

// anyListeners is the any-listener API the server Socket and the
// ClientSocket share.
type anyListeners interface {
	OnAny(fn func(event string, args Args)) (remove func())
	PrependAny(fn func(event string, args Args)) (remove func())
	OffAny()
	OnAnyOutgoing(fn func(event string, args []any)) (remove func())
	PrependAnyOutgoing(fn func(event string, args []any)) (remove func())
	OffAnyOutgoing()
}

var (
	_ anyListeners = (*Socket)(nil)
	_ anyListeners = (*ClientSocket)(nil)
)

// TestAnyListenersBothSides: on the server Socket and on the ClientSocket,
// PrependAny and PrependAnyOutgoing listeners run before the others, the
// remove functions remove one listener, OffAny and OffAnyOutgoing all.
func TestAnyListenersBothSides(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	conns := make(chan *Socket, 1)
	srv.OnConnection(func(s *Socket) {
		s.On("ping", func() { _ = s.Emit("pong") })
		conns <- s
	})
	c, err := Connect(clCtx(t), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	clClose(t, c)
	pong := make(chan struct{}, 1)
	c.On("pong", func() { pong <- struct{}{} })
	s := <-conns

	var mu sync.Mutex
	logs := map[string][]string{}
	type side struct {
		name  string
		l     anyListeners
		rmIn  func()
		rmOut func()
	}
	sides := []*side{{name: "server", l: s}, {name: "client", l: c}}
	for _, sd := range sides {
		record := func(what string) {
			mu.Lock()
			logs[sd.name] = append(logs[sd.name], what)
			mu.Unlock()
		}
		sd.l.OnAny(func(ev string, _ Args) { record("in " + ev) })
		sd.rmIn = sd.l.PrependAny(func(ev string, _ Args) { record("first in " + ev) })
		sd.l.OnAnyOutgoing(func(ev string, _ []any) { record("out " + ev) })
		sd.rmOut = sd.l.PrependAnyOutgoing(func(ev string, _ []any) { record("first out " + ev) })
	}
	round := func(want map[string][]string) {
		t.Helper()
		if err := c.Emit("ping"); err != nil {
			t.Fatal(err)
		}
		select {
		case <-pong:
		case <-time.After(5 * time.Second):
			t.Fatal("no pong")
		}
		mu.Lock()
		defer mu.Unlock()
		for _, name := range []string{"server", "client"} {
			if !slices.Equal(logs[name], want[name]) {
				t.Fatalf("%s listeners: %q, want %q", name, logs[name], want[name])
			}
		}
		clear(logs)
	}
	round(map[string][]string{
		"server": {"first in ping", "in ping", "first out pong", "out pong"},
		"client": {"first out ping", "out ping", "first in pong", "in pong"},
	})
	for _, sd := range sides {
		sd.rmIn()
		sd.rmOut()
		sd.rmIn() // removing twice is harmless
	}
	round(map[string][]string{
		"server": {"in ping", "out pong"},
		"client": {"out ping", "in pong"},
	})
	for _, sd := range sides {
		sd.l.OffAny()
		sd.l.OffAnyOutgoing()
	}
	round(nil) // the handlers still run; no listener does
}

// TestSocketLocal: Socket.Local is a local broadcast operator that
// reaches the namespace's other sockets, not the socket itself.
func TestSocketLocal(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	srv.OnConnection(func(s *Socket) {
		s.On("shout", func() {
			op := s.Local()
			if !op.flags.Local {
				_ = s.Emit("error", "not local")
			}
			_ = op.Emit("hi", s.ID())
			_ = s.Emit("done")
		})
	})
	c := make([]*wsClient, 3)
	ids := make([]string, 3)
	for i := range c {
		c[i] = dialWS(t, url, "")
		ids[i] = c[i].connect("/", "")
	}
	c[0].send(`42["shout"]`)
	c[0].expect(`42["done"]`) // no "hi" before it, and no "error"
	for _, ci := range c[1:] {
		ci.expect(`42["hi","` + ids[0] + `"]`)
	}
}

// TestServerOnServerSideEmit: Server.OnServerSideEmit handles the
// server-side events other servers send to the main namespace, and no
// other namespace's.
func TestServerOnServerSideEmit(t *testing.T) {
	t.Parallel()
	srv, _ := newTestServer(t, nil)
	got := make(chan int, 2)
	srv.OnServerSideEmit("hello", func(n int, ack Ack) {
		got <- n
		_ = ack(n + 1)
	})
	answers := make(chan any, 2)
	// As an adapter delivers another server's event.
	(*nspView)(srv.Of("/x")).HandleServerSideEmit("hello", []parser.Value{{JSON: []byte("1")}}, func(a any) { answers <- a })
	(*nspView)(srv.Sockets()).HandleServerSideEmit("hello", []parser.Value{{JSON: []byte("41")}}, func(a any) { answers <- a })
	select {
	case n := <-got:
		if n != 41 {
			t.Fatalf("handler got %d: the event of another namespace", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("handler not called")
	}
	if a := <-answers; a != 42 {
		t.Fatalf("ack %v", a)
	}
	select {
	case n := <-got:
		t.Fatalf("handler called again with %d", n)
	case <-time.After(50 * time.Millisecond):
	}
}

// TestParentNamespaceBroadcast: a parent namespace's To, Except and Emit
// reach the selected sockets of every child, and no socket of a namespace
// that is not its child.
func TestParentNamespaceBroadcast(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	joinFromAuth := func(s *Socket) {
		var a struct{ Rooms []string }
		_ = json.Unmarshal(s.Handshake().Auth, &a)
		s.Join(a.Rooms...)
		_ = s.Emit("joined")
	}
	parent := srv.OfRegexp(regexp.MustCompile(`^/room-\d+$`))
	parent.OnConnection(joinFromAuth)
	srv.OnConnection(joinFromAuth)
	type client struct {
		nsp, rooms string
		news       bool
	}
	clients := []client{
		{"/room-1", `["vip"]`, true},
		{"/room-1", `[]`, false},
		{"/room-2", `["vip"]`, true},
		{"/room-2", `["vip","muted"]`, false},
		{"/", `["vip"]`, false}, // not a child
	}
	conns := make([]*wsClient, len(clients))
	for i, cl := range clients {
		conns[i] = dialWS(t, url, "")
		conns[i].connect(cl.nsp, `{"rooms":`+cl.rooms+`}`)
		conns[i].expectPrefix("42")
	}
	if err := parent.To("vip").Except("muted").Emit("news", 1); err != nil {
		t.Fatal(err)
	}
	if err := parent.Emit("end"); err != nil {
		t.Fatal(err)
	}
	if err := srv.Emit("end"); err != nil {
		t.Fatal(err)
	}
	for i, cl := range clients {
		prefix := "42"
		if cl.nsp != "/" {
			prefix += cl.nsp + ","
		}
		if cl.news {
			conns[i].expect(prefix + `["news",1]`)
		}
		conns[i].expect(prefix + `["end"]`)
	}
	if err := parent.In("vip").Volatile().Emit("connect"); !errors.Is(err, ErrReservedEvent) {
		t.Fatalf("reserved event: %v", err)
	}
}

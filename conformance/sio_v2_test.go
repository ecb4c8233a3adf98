package conformance

// Tests of socket.io 2.x clients (Engine.IO v3, Socket.IO protocol v4)
// against gosio with engineio.Options.AllowEIO3: the real
// socket.io-client 2.5.0 (npm alias socket.io-client-v2) runs
// js/sio-v2-client.mjs against gosio and, with the same checks of what the
// client saw, against a Node socket.io 4.8 server with allowEIO3
// (js/sio-v2-node-server.mjs).

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/internal/testutil"
	"github.com/gosio/gosio/socketio"
)

const sioV2Script = "js/sio-v2-client.mjs"

// v2Server is the gosio server the scenarios of js/sio-v2-client.mjs expect.
type v2Server struct {
	env *sioEnv

	mu      sync.Mutex
	conns   []v2Conn
	answers []socketio.Args
	disc    chan sioDiscRec
	refused []*engineio.ConnectionError
}

type v2Conn struct {
	nsp, id, eioID string
	protocol       int
	auth           string
	b64            bool // the client asked for binary as base64
}

func newV2Server(t *testing.T, allow bool) *v2Server {
	t.Helper()
	v := &v2Server{disc: make(chan sioDiscRec, 64)}
	v.env = newSIOEnv(t, &socketio.Options{Engine: engineio.Options{
		AllowEIO3: allow,
		// Short: the client pings several times during a test.
		PingInterval: 300 * time.Millisecond,
		PingTimeout:  1000 * time.Millisecond,
		OnConnectionError: func(_ *http.Request, err *engineio.ConnectionError) {
			v.mu.Lock()
			v.refused = append(v.refused, err)
			v.mu.Unlock()
		},
	}})
	srv := v.env.Srv
	accept := func(s *socketio.Socket) {
		v.mu.Lock()
		v.conns = append(v.conns, v2Conn{nsp: s.Namespace().Name(), id: s.ID(), eioID: s.Conn().ID(), protocol: s.Conn().Protocol(), auth: string(s.Handshake().Auth), b64: s.Conn().Request().Query.Has("b64")})
		v.mu.Unlock()
		s.OnDisconnect(func(reason string) {
			v.disc <- sioDiscRec{nsp: s.Namespace().Name(), id: s.ID(), reason: reason}
		})
	}
	srv.OnConnection(func(s *socketio.Socket) {
		accept(s)
		_ = s.Emit("hello", "world", []byte{0xca, 0xfe})
		s.On("echo", func(args socketio.Args, ack socketio.Ack) { _ = ack(args.Any()...) })
		s.On("bin", func(b []byte, obj struct {
			Nested []byte `json:"nested"`
		}, ack socketio.Ack) {
			slices.Reverse(b)
			_ = ack(b, map[string]any{"len": len(b), "nested": obj.Nested})
		})
		s.On("ask", func(ack socketio.Ack) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			res, err := s.EmitWithAck(ctx, "question", []byte{9, 8}, map[string]any{"q": 41})
			if err != nil {
				_ = ack("error: " + err.Error())
				return
			}
			v.mu.Lock()
			v.answers = append(v.answers, res)
			v.mu.Unlock()
			_ = ack(res.Any()...)
		})
		s.On("join", func(room string, ack socketio.Ack) {
			s.Join(room)
			rooms := s.Rooms()
			sort.Strings(rooms)
			_ = ack(rooms)
		})
		s.On("shout", func(room string, args socketio.Args, ack socketio.Ack) {
			op := srv.Sockets().Except(s.ID())
			if room != "" {
				op = s.To(room)
			}
			_ = op.Emit("shout", args.Any()...)
			_ = ack()
		})
		s.On("drop-me", func(action string) {
			switch action {
			case "close-conn":
				s.Conn().Close()
			case "disconnect":
				s.Disconnect(false)
			case "disconnect-close":
				s.Disconnect(true)
			}
		})
		s.On("hello-again", func(ack socketio.Ack) { _ = ack("welcome back", s.ID()) })
	})
	srv.Of("/custom").OnConnection(func(s *socketio.Socket) {
		accept(s)
		_ = s.Emit("auth", s.Handshake().Auth)
		s.On("echo", func(args socketio.Args, ack socketio.Ack) {
			_ = ack(append([]any{s.Namespace().Name()}, args.Any()...)...)
		})
	})
	srv.Of("/private").Use(func(*socketio.Socket) error { return &socketio.ConnectError{Message: "not authorized"} })
	srv.Of("/data").Use(func(*socketio.Socket) error {
		return &socketio.ConnectError{Message: "ignored", Data: map[string]any{"code": 42}}
	})
	return v
}

func (v *v2Server) connRecs() []v2Conn {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.conns)
}

// waitDisc waits for n socket disconnections on the server.
func (v *v2Server) waitDisc(t *testing.T, n int) []sioDiscRec {
	t.Helper()
	var out []sioDiscRec
	for range n {
		out = append(out, sioRecv(t, nil, v.disc, "a socket disconnection"))
	}
	return out
}

// v2Each runs scenario in each mode against gosio and against Node, each
// run with a server of its own (broadcasts reach every client of a
// server): clientCheck checks what the client saw (on both servers),
// goCheck what gosio's server saw.
func v2Each(t *testing.T, modes []string, scenario string, clientCheck func(t *testing.T, res *sioResult, mode string), goCheck func(t *testing.T, v *v2Server, res *sioResult, mode string)) {
	t.Helper()
	for _, mode := range modes {
		t.Run(mode+"/gosio", func(t *testing.T) {
			t.Parallel()
			v := newV2Server(t, true)
			res := runSIO(t, sioV2Script, v.env.URL, scenario, "mode="+mode, "hold=1000")
			clientCheck(t, res, mode)
			if goCheck != nil {
				goCheck(t, v, res, mode)
			}
		})
		t.Run(mode+"/node", func(t *testing.T) {
			t.Parallel()
			nodeURL := startNodeServerScript(t, "js/sio-v2-node-server.mjs")
			clientCheck(t, runSIO(t, sioV2Script, nodeURL, scenario, "mode="+mode, "hold=1000"), mode)
		})
	}
}

// v2FinalTransport is the transport a client of mode ends on.
func v2FinalTransport(mode string) string { return sioFinalTransport(strings.TrimSuffix(mode, "-b64")) }

func TestV2ClientFeatures(t *testing.T) {
	t.Parallel()
	v2Each(t, append(slices.Clone(sioModes), "polling-b64", "websocket-b64"), "features", func(t *testing.T, res *sioResult, mode string) {
		fail := func(format string, args ...any) {
			t.Helper()
			t.Errorf(format+"\n%s", append(args, res.report())...)
		}
		// "/" connected implicitly and "/custom" with its query, on one
		// Engine.IO session; the ids the client computes.
		conn := res.all("connected")
		if len(conn) != 2 {
			t.Fatalf("client connected %d sockets, want 2\n%s", len(conn), res.report())
		}
		engine := conn[0].str("engine")
		if conn[1].str("engine") != engine || conn[0].str("id") != engine || conn[1].str("id") != "/custom#"+engine {
			fail("sockets %s and %s", conn[0].Raw, conn[1].Raw)
		}
		for _, l := range conn {
			if got, want := l.str("transport"), v2FinalTransport(mode); got != want {
				fail("client %s connected on %s, want %s", l.str("name"), got, want)
			}
		}
		events := res.all("event")
		if len(events) != 3 {
			fail("client got %d events, want hello, auth and question", len(events))
		}
		for _, l := range events {
			want := map[string]string{
				"hello":    `["world",{"$buf":"cafe"}]`,
				"auth":     `[{"token":"abc","n":"1"}]`,
				"question": `[{"$buf":"0908"},{"q":41}]`,
			}[l.str("name")]
			sioJSONEqual(t, "event "+l.str("name"), l.Fields["args"], want)
		}
		acks := map[string]json.RawMessage{}
		for _, l := range res.all("ack") {
			acks[l.str("name")] = l.Fields["args"]
		}
		sioJSONEqual(t, "echo ack", acks["echo"], `[1,"two",{"a":[true,null]},"héllo 😀"]`)
		sioJSONEqual(t, "bin ack", acks["bin"], `[{"$buf":"030201"},{"len":3,"nested":{"$buf":"ff"}}]`)
		sioJSONEqual(t, "ask ack", acks["ask"], `["answer",{"$buf":"0402"}]`)
		sioJSONEqual(t, "custom echo ack", acks["custom-echo"], `["/custom","on custom"]`)
		// The client pinged through the hold (the server answers its
		// pings in v3) and nobody timed out.
		if p := res.one(t, "pongs"); p.num("count") < 2 || p.str("transport") != v2FinalTransport(mode) {
			fail("client saw %v pongs in 1s with a 300ms ping interval, on %s", p.num("count"), p.str("transport"))
		}
	}, func(t *testing.T, v *v2Server, res *sioResult, mode string) {
		conns := v.connRecs()
		if len(conns) != 2 {
			t.Fatalf("server accepted %d sockets, want 2\n%s", len(conns), res.report())
		}
		main, custom := conns[0], conns[1]
		testutil.Equal(t, main.nsp, "/")
		testutil.Equal(t, custom.nsp, "/custom")
		testutil.Equal(t, main.protocol, 3)
		// In Node the client's XMLHttpRequest has no responseType, so its
		// polling always asks for base64 (b64=1); over WebSocket only
		// with forceBase64.
		testutil.Equal(t, main.b64, mode != "websocket")
		testutil.Equal(t, main.id, main.eioID)
		testutil.Equal(t, custom.id, "/custom#"+main.eioID)
		testutil.Equal(t, main.auth, `{}`)
		sioJSONEqual(t, "custom auth", json.RawMessage(custom.auth), `{"token":"abc","n":"1"}`)
		testutil.Equal(t, res.all("connected")[0].str("id"), main.id)
		v.mu.Lock()
		answers := slices.Clone(v.answers)
		v.mu.Unlock()
		if len(answers) != 1 || answers[0].String() != `["answer",{"_placeholder":true,"num":0}]` {
			t.Errorf("server got answers %v", answers)
		}
		// "/custom" leaves first, then "/": the client closes the
		// connection with it. Over polling that close aborts the pending
		// GET, which can reach the server before the POST that carries
		// the DISCONNECT (as with Node's server, which reports the
		// aborted poll as a transport error as well).
		reasons := map[string]string{}
		for _, d := range v.waitDisc(t, 2) {
			reasons[d.nsp] = d.reason
		}
		testutil.Equal(t, reasons["/custom"], socketio.ReasonClientNamespaceDisconnect)
		if r := reasons["/"]; r != socketio.ReasonClientNamespaceDisconnect && (v2FinalTransport(mode) != engineio.TransportPolling || r != engineio.ReasonTransportError) {
			t.Errorf("/ disconnected with %q", r)
		}
	})
}

func TestV2ClientReject(t *testing.T) {
	t.Parallel()
	v2Each(t, sioModes, "reject", func(t *testing.T, res *sioResult, _ string) {
		want := map[string]string{
			"/private": `"not authorized"`,
			"/data":    `{"code":42}`,
			"/nothere": `{"message":"Invalid namespace"}`,
		}
		got := res.all("error")
		if len(got) != len(want) {
			t.Fatalf("client saw %d errors, want %d\n%s", len(got), len(want), res.report())
		}
		for _, l := range got {
			sioJSONEqual(t, "error on "+l.str("path"), l.Fields["err"], want[l.str("path")])
		}
	}, func(t *testing.T, v *v2Server, _ *sioResult, _ string) {
		for _, c := range v.connRecs() {
			if c.nsp != "/" {
				t.Errorf("server accepted a socket on %s", c.nsp)
			}
		}
	})
}

func TestV2ClientRooms(t *testing.T) {
	t.Parallel()
	v2Each(t, sioModes, "rooms", func(t *testing.T, res *sioResult, _ string) {
		ids := map[string]string{}
		for _, l := range res.all("connected") {
			ids[l.str("name")] = l.str("id")
		}
		joins := 0
		for _, l := range res.all("ack") {
			if who, ok := strings.CutPrefix(l.str("name"), "join-"); ok {
				joins++
				want, _ := json.Marshal([][]string{slices.Sorted(slices.Values([]string{ids[who], "room1"}))})
				sioJSONEqual(t, l.str("name"), l.Fields["args"], string(want))
			}
		}
		testutil.Equal(t, joins, 2)
		var got []string
		for _, l := range res.all("got") {
			got = append(got, l.str("who")+" "+string(l.Fields["args"]))
		}
		sort.Strings(got)
		// a shouts to room1 (b gets it), c to everyone but itself.
		testutil.Equal(t, strings.Join(got, "\n"), strings.Join([]string{
			`a ["everyone"]`,
			`b ["everyone"]`,
			`b ["hi",{"$buf":"07"}]`,
		}, "\n"))
	}, nil)
}

func TestV2ClientDisconnect(t *testing.T) {
	t.Parallel()
	v2Each(t, sioModes, "disconnect", func(t *testing.T, res *sioResult, _ string) {
		var got []string
		for _, l := range res.all("disconnect") {
			got = append(got, l.str("how")+": "+l.str("reason"))
		}
		testutil.Equal(t, strings.Join(got, ", "), "disconnect: io server disconnect, disconnect-close: io server disconnect")
	}, func(t *testing.T, v *v2Server, _ *sioResult, _ string) {
		var server []string
		for _, d := range v.waitDisc(t, 2) {
			server = append(server, d.reason)
		}
		testutil.Equal(t, strings.Join(server, ", "), socketio.ReasonServerNamespaceDisconnect+", "+socketio.ReasonServerNamespaceDisconnect)
	})
}

func TestV2ClientReconnect(t *testing.T) {
	t.Parallel()
	v2Each(t, sioModes, "reconnect", func(t *testing.T, res *sioResult, _ string) {
		testutil.Equal(t, res.one(t, "disconnect").str("reason"), "transport close")
		conn := res.all("connected")
		if len(conn) != 2 || conn[0].str("engine") == conn[1].str("engine") || conn[1].str("id") != conn[1].str("engine") {
			t.Fatalf("client connected %d times, want twice on two sessions\n%s", len(conn), res.report())
		}
		sioJSONEqual(t, "hello-again ack", res.where("ack", "name", "hello-again")[0].Fields["args"], `["welcome back",`+strconv.Quote(conn[1].str("id"))+`]`)
	}, func(t *testing.T, v *v2Server, res *sioResult, _ string) {
		conns := v.connRecs()
		if len(conns) != 2 || conns[1].id != res.all("connected")[1].str("id") {
			t.Fatalf("server accepted %v\n%s", conns, res.report())
		}
		testutil.Equal(t, v.waitDisc(t, 1)[0].reason, socketio.ReasonForcedClose)
	})
}

// Without AllowEIO3 a socket.io 2.x client is refused with "Unsupported
// protocol version", as the reference server refuses it.
func TestV2ClientRefusedByDefault(t *testing.T) {
	t.Parallel()
	sioEach(t, []string{"polling", "websocket"}, func(t *testing.T, mode string) {
		v := newV2Server(t, false)
		res := runSIO(t, sioV2Script, v.env.URL, "refused", "mode="+mode)
		if l := res.one(t, "connect_error"); l.str("message") == "" {
			t.Errorf("connect_error without a message\n%s", res.report())
		}
		if c := v.connRecs(); len(c) != 0 {
			t.Errorf("server accepted %v", c)
		}
		v.mu.Lock()
		defer v.mu.Unlock()
		if len(v.refused) == 0 || v.refused[0].Code != engineio.CodeUnsupportedVersion {
			t.Errorf("server refused %v, want code %d", v.refused, engineio.CodeUnsupportedVersion)
		}
	})
}

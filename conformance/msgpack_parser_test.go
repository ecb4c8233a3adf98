package conformance

// socket.io-msgpack-parser interop: the real socket.io-client 4.8 with the
// npm socket.io-msgpack-parser (js/msgpack-client.mjs) against gosio's
// server with parser/msgpackparser, and gosio's Go client with
// parser/msgpackparser against a real Node socket.io 4.8 server with the
// npm parser (js/msgpack-node-server.mjs). Plus bad input on a gosio
// server: the session that sent it is closed, the others go on.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/parser"
	"github.com/gosio/gosio/parser/msgpackparser"
	"github.com/gosio/gosio/socketio"
)

// newMsgpackServer starts the gosio server js/msgpack-client.mjs expects.
// It reports what it saw on the returned channel (one line per fact)
// and the disconnections on disc.
func newMsgpackServer(t *testing.T) (env *sioEnv, facts chan string, disc chan string) {
	t.Helper()
	env = newSIOEnv(t, &socketio.Options{Parser: msgpackparser.Parser{}})
	srv := env.Srv
	facts = make(chan string, 256)
	disc = make(chan string, 16)
	note := func(format string, args ...any) { facts <- fmt.Sprintf(format, args...) }

	auth := func(s *socketio.Socket) error {
		var a struct {
			Token string `json:"token"`
		}
		if err := json.Unmarshal(s.Handshake().Auth, &a); err != nil || a.Token != "secret" {
			return &socketio.ConnectError{Message: "not authorized", Data: map[string]any{"code": 42, "why": "bad token"}}
		}
		return nil
	}
	srv.Use(auth)
	srv.Of("/admin").Use(auth)

	srv.OnConnection(func(s *socketio.Socket) {
		note("connect / auth=%s", s.Handshake().Auth)
		s.OnDisconnect(func(reason string) { disc <- "/ " + reason })
		_ = s.Emit("welcome", s.Handshake().Auth, []byte{1, 2, 3})
		s.On("echo", func(args socketio.Args, ack socketio.Ack) {
			_ = s.Emit("echo-back", vals(t, args)...)
			_ = ack(vals(t, args)...)
		})
		s.On("types", func(str string, num float64, obj map[string]any, bin []byte, ack socketio.Ack) {
			want := map[string]any{"n": map[string]any{"m": []any{true}}}
			if str != "s" || num != 1 || !reflect.DeepEqual(obj, want) || string(bin) != "bin" {
				note("types: wrong %q %v %v %q", str, num, obj, bin)
				_ = ack("wrong")
				return
			}
			note("types ok")
			_ = ack("ok")
		})
		s.On("ask-me", func(ack socketio.Ack) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			res, err := s.EmitWithAck(ctx, "question", []byte{9, 8, 7}, map[string]any{"q": 41})
			var answer string
			var bin []byte
			if err == nil {
				err = res.Bind(&answer, &bin)
			}
			if err != nil {
				_ = ack("error: " + err.Error())
				return
			}
			note("answer %s %x", answer, bin)
			_ = ack(map[string]any{"answer": answer, "bin": bin})
		})
		s.On("join", func(room string, ack socketio.Ack) {
			s.Join(room)
			_ = ack("joined")
		})
		s.On("shout", func(room string, ack socketio.Ack) {
			if err := srv.To(room).Emit("news", "hello room", []byte{5}, map[string]any{"from": s.ID()}); err != nil {
				_ = ack(err.Error())
				return
			}
			_ = ack(len(srv.Of("/").Adapter().Sockets([]string{room})))
		})
	})
	srv.Of("/admin").OnConnection(func(s *socketio.Socket) {
		note("connect /admin")
		s.OnDisconnect(func(reason string) { disc <- "/admin " + reason })
		s.On("whoami", func(bin []byte, ack socketio.Ack) { _ = ack(s.Namespace().Name(), len(bin)) })
		s.On("kick-me", func() { s.Disconnect(false) })
	})
	return env, facts, disc
}

// TestMsgpackParserNodeClient: the real socket.io-client with the npm
// socket.io-msgpack-parser against gosio's server with msgpackparser.
func TestMsgpackParserNodeClient(t *testing.T) {
	sioEach(t, sioModes, func(t *testing.T, mode string) {
		env, facts, disc := newMsgpackServer(t)
		r := runSIO(t, "js/msgpack-client.mjs", env.URL, "mode="+mode)
		checks := r.all("check")
		const wantChecks = 25 // the check(...) calls of the script
		if len(checks) != wantChecks {
			t.Fatalf("%d checks passed in the client, want %d\n%s", len(checks), wantChecks, r.report())
		}
		t.Logf("%s: %d client checks passed, transport %s", mode, len(checks), r.one(t, "connected").str("transport"))
		if got, want := r.one(t, "connected").str("transport"), sioFinalTransport(mode); got != want {
			t.Errorf("transport %s, want %s", got, want)
		}

		// What the server saw.
		var seen []string
		for len(facts) > 0 {
			seen = append(seen, <-facts)
		}
		for _, want := range []string{
			`connect / auth={"token":"secret","n":7,"nested":{"list":[1,"two"]}}`,
			"types ok", "answer answer 07", "connect /admin",
		} {
			if !sioContains(seen, want) {
				t.Errorf("server did not see %q; saw %q", want, seen)
			}
		}
		// Three clients on "/" (s1, s2, s3) plus the refused one: only the
		// accepted ones connected.
		n := 0
		for _, f := range seen {
			if strings.HasPrefix(f, "connect / ") {
				n++
			}
		}
		if n != 3 {
			t.Errorf("%d connections to /, want 3: %q", n, seen)
		}
		// s2, then s1 and s3 at the end, left; /admin was kicked.
		var reasons []string
		for len(reasons) < 4 {
			select {
			case d := <-disc:
				reasons = append(reasons, d)
			case <-time.After(sioWait):
				t.Fatalf("disconnections so far: %q", reasons)
			}
		}
		slices.Sort(reasons)
		want := []string{"/ client namespace disconnect", "/ client namespace disconnect", "/ client namespace disconnect", "/admin server namespace disconnect"}
		if !slices.Equal(reasons, want) {
			t.Errorf("disconnections %q, want %q", reasons, want)
		}
	})
}

// startMsgpackNodeServer starts js/msgpack-node-server.mjs and returns its
// URL and what it prints after "listening". It runs until the test ends.
func startMsgpackNodeServer(t *testing.T) (string, <-chan sioLine) {
	t.Helper()
	node := needSIONode(t)
	ctx, cancel := context.WithTimeout(context.Background(), sioScriptTimeout)
	cmd := exec.CommandContext(ctx, node, "js/msgpack-node-server.mjs")
	cmd.Dir = "."
	cmd.WaitDelay = 2 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start the Node server: %v", err)
	}
	lines := make(chan sioLine, 256)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			l := sioLine{Raw: sc.Text()}
			if json.Unmarshal([]byte(l.Raw), &l.Fields) == nil {
				_ = json.Unmarshal(l.Fields["ev"], &l.Ev)
			}
			lines <- l
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	t.Cleanup(func() {
		_ = stdin.Close() // the server exits when its stdin closes
		for range lines {
		}
		if err := cmd.Wait(); err != nil && ctx.Err() == nil {
			t.Errorf("Node server: %v\n%s", err, stderr.String())
		}
		cancel()
	})
	select {
	case l, ok := <-lines:
		if !ok || l.Ev != "listening" {
			t.Fatalf("Node server said %q\n%s", l.Raw, stderr.String())
		}
		return fmt.Sprintf("http://127.0.0.1:%d", int(l.num("port"))), lines
	case <-time.After(sioWait):
		t.Fatalf("the Node server did not start\n%s", stderr.String())
		return "", nil
	}
}

// TestMsgpackParserGoClient: gosio's Go client with msgpackparser against
// a Node socket.io 4.8 server with the npm socket.io-msgpack-parser.
func TestMsgpackParserGoClient(t *testing.T) {
	for _, transports := range [][]string{{engineio.TransportWebSocket}, {engineio.TransportPolling}, nil} {
		name := "upgrade"
		if transports != nil {
			name = transports[0]
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testMsgpackGoClient(t, transports)
		})
	}
}

func testMsgpackGoClient(t *testing.T, transports []string) {
	url, lines := startMsgpackNodeServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	checks := 0
	check := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %#v, want %#v", what, got, want)
			return
		}
		checks++
	}
	opts := func(auth any) *socketio.ClientOptions {
		return &socketio.ClientOptions{
			ManagerOptions: socketio.ManagerOptions{Parser: msgpackparser.Parser{}, Transports: transports, DisableReconnection: true},
			SocketOptions:  socketio.SocketOptions{Auth: auth},
		}
	}
	secret := map[string]any{"token": "secret"}

	// connect_error from the middleware, with its data.
	_, err := socketio.Connect(ctx, url, opts(map[string]any{"token": "wrong"}))
	var ce *socketio.ConnectError
	if !errors.As(err, &ce) {
		t.Fatalf("connect with a wrong token: %v", err)
	}
	data, _ := json.Marshal(ce.Data)
	check("connect_error message", ce.Message, "not authorized")
	check("connect_error data", string(data), `{"code":42,"why":"bad token"}`)

	auth := map[string]any{"token": "secret", "n": 7, "nested": map[string]any{"list": []any{1, "two"}}}
	s1, err := socketio.NewClient(url, opts(auth))
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	welcome := make(chan socketio.Args, 1)
	s1.On("welcome", func(a socketio.Args) { welcome <- a })
	echoBack := make(chan socketio.Args, 1)
	s1.On("echo-back", func(a socketio.Args) { echoBack <- a })
	news := make(chan string, 8)
	newsHandler := func(who string) func(string, []byte, map[string]any) {
		return func(text string, bin []byte, obj map[string]any) {
			news <- fmt.Sprintf("%s %s %x %v", who, text, bin, obj["from"])
		}
	}
	s1.On("news", newsHandler("s1"))
	s1.On("question", func(bin []byte, obj map[string]any, ack socketio.Ack) {
		check("question binary", bin, []byte{9, 8, 7})
		check("question object", obj, map[string]any{"q": float64(41)})
		_ = ack("answer", []byte{7})
	})
	if err := s1.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	w := sioRecv(t, nil, welcome, "welcome")
	check("welcome", vals(t, w), []any{map[string]any{"token": "secret", "n": float64(7), "nested": map[string]any{"list": []any{float64(1), "two"}}}, []byte{1, 2, 3}})

	// Events and acks with strings, numbers, nested objects and binary.
	args := []any{"str", 42, 3.5, -1, int64(1) << 40, true, nil,
		map[string]any{"a": map[string]any{"b": []any{1, "x", map[string]any{"c": []byte{0xca, 0xfe}}}}}, []byte{0, 255}}
	want := []any{"str", float64(42), 3.5, float64(-1), float64(1 << 40), true, nil,
		map[string]any{"a": map[string]any{"b": []any{float64(1), "x", map[string]any{"c": []byte{0xca, 0xfe}}}}}, []byte{0, 255}}
	res, err := s1.EmitWithAck(ctx, "echo", args...)
	if err != nil {
		t.Fatal(err)
	}
	check("echo ack", vals(t, res), want)
	check("echo-back", vals(t, sioRecv(t, nil, echoBack, "echo-back")), want)
	res, err = s1.EmitWithAck(ctx, "types", "s", 1, map[string]any{"n": map[string]any{"m": []any{true}}}, []byte("bin"))
	if err != nil {
		t.Fatal(err)
	}
	check("types", vals(t, res), []any{"ok"})

	// The server asks, the client answers.
	res, err = s1.EmitWithAck(ctx, "ask-me")
	if err != nil {
		t.Fatal(err)
	}
	check("ask-me", vals(t, res), []any{map[string]any{"answer": "answer", "bin": []byte{7}}})

	// A second namespace on the same connection.
	admin := s1.Manager().Socket("/admin", &socketio.SocketOptions{Auth: secret})
	kicked := make(chan string, 1)
	admin.OnDisconnect(func(reason string) { kicked <- reason })
	if err := admin.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	res, err = admin.EmitWithAck(ctx, "whoami", []byte{1})
	if err != nil {
		t.Fatal(err)
	}
	check("whoami", vals(t, res), []any{"/admin", float64(1)})

	// A room broadcast to several clients.
	s2, err := socketio.NewClient(url, opts(secret))
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	s2.On("news", newsHandler("s2"))
	s3, err := socketio.NewClient(url, opts(secret))
	if err != nil {
		t.Fatal(err)
	}
	defer s3.Close()
	s3.On("news", newsHandler("s3"))
	for _, s := range []*socketio.ClientSocket{s2, s3} {
		if err := s.Connect(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []*socketio.ClientSocket{s1, s2} {
		res, err := s.EmitWithAck(ctx, "join", "r1")
		if err != nil {
			t.Fatal(err)
		}
		check("join", vals(t, res), []any{"joined"})
	}
	res, err = s3.EmitWithAck(ctx, "shout", "r1")
	if err != nil {
		t.Fatal(err)
	}
	check("shout", vals(t, res), []any{float64(2)})
	var got []string
	for range 2 {
		got = append(got, sioRecv(t, nil, news, "news"))
	}
	select {
	case n := <-news:
		got = append(got, n)
	case <-time.After(200 * time.Millisecond):
	}
	slices.Sort(got)
	check("news", got, []string{"s1 hello room 05 " + s3.ID(), "s2 hello room 05 " + s3.ID()})

	// Disconnections: by the server, and by the client.
	adminID := admin.ID()
	if err := admin.Emit("kick-me"); err != nil {
		t.Fatal(err)
	}
	check("server disconnect reason", sioRecv(t, nil, kicked, "the kick"), "io server disconnect")
	s2id := s2.ID()
	s2.Disconnect()
	res, err = s1.EmitWithAck(ctx, "echo", "last")
	if err != nil {
		t.Fatal(err)
	}
	check("still connected after the others left", vals(t, res), []any{"last"})

	// What the Node server saw.
	var saw []string
	deadline := time.After(sioWait)
	s2reason := ""
	for s2reason == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the Node server stopped; saw %q", saw)
			}
			switch l.Ev {
			case "saw":
				saw = append(saw, "saw "+string(l.Fields["what"])+" "+l.str("nsp")+" "+l.Raw)
			case "disconnect":
				saw = append(saw, "disconnect "+l.str("nsp")+" "+l.str("id")+" "+l.str("reason"))
				if l.str("id") == s2id {
					s2reason = l.str("reason")
				}
			case "fail":
				t.Fatalf("Node server: %s", l.Raw)
			}
		case <-deadline:
			t.Fatalf("the Node server did not report s2's disconnection; saw %q", saw)
		}
	}
	find := func(prefix string) string {
		for _, s := range saw {
			if strings.HasPrefix(s, prefix) {
				return s
			}
		}
		t.Errorf("the Node server did not report %q; saw %q", prefix, saw)
		return ""
	}
	var first struct{ Auth map[string]any }
	_ = json.Unmarshal([]byte(strings.SplitN(find(`saw "connect" / `), " ", 4)[3]), &first)
	check("node saw the auth", first.Auth, map[string]any{"token": "secret", "n": float64(7), "nested": map[string]any{"list": []any{float64(1), "two"}}})
	check("node got a Buffer", strings.Contains(find(`saw "types"`), `"bufferIsBuffer":true`), true)
	check("node got the answer's Buffer", strings.Contains(find(`saw "answer"`), `"bin":{"$buf":"07"},"binIsBuffer":true`), true)
	find(`saw "connect" /admin`)
	find("disconnect /admin " + adminID + " server namespace disconnect")
	// With polling, gosio's Engine.IO client sends its last packets and
	// the close in one POST; socket.io delivers packets on the next tick,
	// after the close, so Node reports "transport close". Node's client
	// waits for the POST to drain before closing.
	if strings.HasPrefix(s2reason, "client namespace disconnect") || (transports != nil && transports[0] == engineio.TransportPolling && s2reason == "transport close") {
		checks++
	} else {
		t.Errorf("Node saw s2 leave with %q", s2reason)
	}
	t.Logf("%d checks passed against the Node server", checks)
	if checks != 20 {
		t.Errorf("%d checks passed, want 20", checks)
	}
}

// vals decodes every argument into an any: numbers become float64 and
// binary []byte, at any depth.
func vals(t *testing.T, a socketio.Args) []any {
	t.Helper()
	out := make([]any, len(a))
	for i := range a {
		if err := a.Decode(i, &out[i]); err != nil {
			t.Errorf("argument %d %s: %v", i, a[i].JSON, err)
		}
	}
	return out
}

// TestMsgpackParserBadInput sends what is not a valid msgpack packet to a
// gosio server with msgpackparser, each from its own Engine.IO session:
// the server closes that session, logs why, and a client that is
// connected meanwhile goes on undisturbed.
func TestMsgpackParserBadInput(t *testing.T) {
	var logs syncBuffer
	env := newSIOEnv(t, &socketio.Options{
		Parser: msgpackparser.Parser{},
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	env.Srv.OnConnection(func(s *socketio.Socket) {
		s.On("echo", func(args socketio.Args, ack socketio.Ack) { _ = ack(args.Any()...) })
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	good, err := socketio.Connect(ctx, env.URL, &socketio.ClientOptions{
		ManagerOptions: socketio.ManagerOptions{Parser: msgpackparser.Parser{}, Transports: []string{engineio.TransportWebSocket}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	goodDisc := make(chan string, 1)
	good.OnDisconnect(func(reason string) { goodDisc <- reason })

	connect := msgpackPacket(t, &parser.Packet{Type: parser.Connect, Namespace: "/"})
	cases := []struct {
		name   string
		first  []byte // a valid CONNECT first, or nil
		text   bool
		msg    []byte
		reason string // in the server's log
	}{
		{"garbage", nil, false, []byte{0xc1, 0xff, 0x00}, "not a msgpack map"},
		{"truncated", nil, false, connect[:len(connect)-1], "malformed msgpack"},
		{"default parser's CONNECT", nil, true, []byte("0"), "a text message"},
		{"invalid type", nil, false, []byte("\x82\xa4type\x05\xa3nsp\xa1/"), "invalid packet type"},
		{"namespace not a string", nil, false, []byte("\x82\xa4type\x00\xa3nsp\x01"), "invalid namespace"},
		{"reserved event", connect, false, msgpackPacket(t, &parser.Packet{Type: parser.Event, Namespace: "/", Data: json.RawMessage(`["disconnect"]`)}), "reserved"},
		{"event data not an array", connect, false, []byte("\x83\xa4type\x02\xa4data\x80\xa3nsp\xa1/"), "EVENT data must be an array"},
		{"negative ack id", connect, false, []byte("\x84\xa4type\x03\xa4data\x90\xa3nsp\xa1/\xa2id\xff"), "invalid packet id"},
	}
	for _, c := range cases {
		closed := make(chan string, 1)
		connected := make(chan struct{}, 1)
		eng, err := engineio.Dial(ctx, env.URL, &engineio.DialOptions{
			Path:       "/socket.io/",
			Transports: []string{engineio.TransportWebSocket},
			OnMessage: func(data []byte, binary bool) {
				if binary && bytes.Contains(data, []byte("sid")) {
					connected <- struct{}{}
				}
			},
			OnClose: func(reason string, err error) { closed <- reason },
		})
		if err != nil {
			t.Fatalf("%s: dial: %v", c.name, err)
		}
		if c.first != nil {
			if err := eng.SendBinary(c.first); err != nil {
				t.Fatal(err)
			}
			sioRecv(t, nil, connected, c.name+": the CONNECT reply")
		}
		if c.text {
			err = eng.SendText(c.msg)
		} else {
			err = eng.SendBinary(c.msg)
		}
		if err != nil {
			t.Fatalf("%s: send: %v", c.name, err)
		}
		reason := sioRecv(t, nil, closed, c.name+": the server closing the session")
		_ = eng.Close()
		if !strings.Contains(logs.String(), c.reason) || !strings.Contains(logs.String(), eng.ID()) {
			t.Errorf("%s: closed (%s), but the log has no %q for session %s:\n%s", c.name, reason, c.reason, eng.ID(), logs.String())
		}
		res, err := good.EmitWithAck(ctx, "echo", c.name, []byte{1})
		if err != nil {
			t.Fatalf("after %s: the good client: %v", c.name, err)
		}
		if got := vals(t, res); !reflect.DeepEqual(got, []any{c.name, []byte{1}}) {
			t.Errorf("after %s: the good client got %v", c.name, got)
		}
	}
	select {
	case r := <-goodDisc:
		t.Fatalf("the good client was disconnected: %s", r)
	default:
	}
	t.Logf("%d bad sessions closed, the good client unharmed", len(cases))
}

func msgpackPacket(t *testing.T, p *parser.Packet) []byte {
	t.Helper()
	b, _, _, err := msgpackparser.Parser{}.AppendPacket(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

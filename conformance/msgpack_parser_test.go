package conformance

// socket.io-msgpack-parser interop: the real socket.io-client 4.8 with the
// npm socket.io-msgpack-parser (js/msgpack-client.mjs) against gosio's
// server with parser/msgpackparser, and gosio's Go client with
// parser/msgpackparser against a real Node socket.io 4.8 server with the
// npm parser (js/msgpack-node-server.mjs). Plus bad input on a gosio
// server: the session that sent it is closed, the others go on.

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

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
			_ = s.Emit("echo-back", args.Any()...)
			_ = ack(args.Any()...)
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

package socketio

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosio/gosio/engineio"
)

// panicCatcher is a slog.Handler that counts error records: the server
// logs at error level only a panic it recovered (or an adapter failure).
type panicCatcher struct{ errors *atomic.Int32 }

func (h panicCatcher) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }
func (h panicCatcher) Handle(context.Context, slog.Record) error    { h.errors.Add(1); return nil }
func (h panicCatcher) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h panicCatcher) WithGroup(string) slog.Handler                { return h }

// FuzzServerPackets posts arbitrary Socket.IO packets in one polling body
// to a server whose handlers decode their arguments by reflection into
// several types, with a connection middleware and ack handlers: the
// routing of conn.onPacket, event names and handler-argument decoding. No
// packet may make the library panic (a recovered panic is logged at error
// level, which fails the run).
func FuzzServerPackets(f *testing.F) {
	for _, s := range []string{
		`2["typed",1,"s",{"X":2},{"_placeholder":true,"num":0},3]`,
		`2["sum",1,2]`, `21["sum",1,2]`, `2["raw",[1,{"a":null}],true]`, `2["map",{"k":[1.5e300]}]`,
		`2["strict",-1]`, `2["any"]`, `2[1]`, `2[]`, `3["x"]`, `31[1]`, `451-["typed",{"_placeholder":true,"num":0}]`,
		`0{"token":"x"}`, `0/nope,`, `1`, `4{"message":"x"}`, `2/admin,["typed"]`, "2[\"bad\xff\"]",
		`2["typed","x",1,[],{"X":"y"}]`, `2["sum",1e400,2]`, `2["sum",{"_placeholder":true,"num":9}]`,
	} {
		f.Add(s)
	}
	var errs atomic.Int32
	logger := slog.New(panicCatcher{&errs})
	srv := NewServer(&Options{Logger: logger, Engine: engineio.Options{Logger: logger, PingInterval: time.Hour}})
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	srv.Use(func(s *Socket) error {
		var auth struct{ Token string }
		_ = Args{{JSON: s.Handshake().Auth}}.Decode(0, &auth)
		if auth.Token == "no" {
			return &ConnectError{Message: "no", Data: auth}
		}
		return nil
	})
	type point struct{ X int }
	srv.OnConnection(func(s *Socket) {
		s.On("typed", func(n int, str string, p point, b []byte, rest ...any) {})
		s.On("sum", func(a, b float64, ack Ack) error { return ack(a + b) })
		s.On("raw", func(v []any, a Args) {})
		s.On("map", func(m map[string][]float64, p *point) {})
		s.On("strict", func(u uint8, ack Ack) { _ = ack(u) })
		s.On("any", func(args Args, ack Ack) { _ = ack(args.Any()...) })
		s.OnError(func(error) {})
	})
	f.Fuzz(func(t *testing.T, body string) {
		c := &inprocClient{srv: srv}
		code, open := c.do(t, http.MethodGet, "", "")
		if code != http.StatusOK {
			t.Fatalf("handshake: %d %q", code, open)
		}
		var o struct{ SID string }
		if err := json.Unmarshal([]byte(open[1:]), &o); err != nil {
			t.Fatal(err)
		}
		c.sid = o.SID
		c.do(t, http.MethodPost, "&sid="+c.sid, "40\x1e4"+strings.ReplaceAll(body, "\x1e", "\x1e4"))
		c.do(t, http.MethodPost, "&sid="+c.sid, "1") // close, whatever state it is in
		if n := errs.Load(); n > 0 {
			t.Fatalf("the server logged %d errors (a recovered panic) for %q", n, body)
		}
	})
}

// FuzzRecoveryAuth checks the reading of a recovering client's CONNECT
// payload: no panic, and only string pid and offset are taken.
func FuzzRecoveryAuth(f *testing.F) {
	for _, s := range []string{`{"pid":"p","offset":"o"}`, `{"pid":1}`, `null`, `[]`, `{"pid":"a\u0000","offset":""}`, `"x"`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, auth []byte) {
		pid, offset := recoveryAuth(auth)
		if pid == "" && offset == "" {
			return
		}
		var v struct{ PID, Offset any }
		if err := json.Unmarshal(auth, &v); err != nil {
			t.Fatalf("recoveryAuth(%q) = %q, %q from invalid JSON", auth, pid, offset)
		}
	})
}

// FuzzEventName checks that eventName agrees with encoding/json on string
// names.
func FuzzEventName(f *testing.F) {
	for _, s := range []string{`"chat"`, `""`, `"a\"b"`, `"caf\u00e9"`, `12`, `"\ud800"`, `"x`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got := eventName(raw)
		var want string
		if err := json.Unmarshal(raw, &want); err == nil && got != want {
			t.Fatalf("eventName(%q) = %q, encoding/json says %q", raw, got, want)
		}
	})
}

// FuzzHandshakeUnmarshalJSON checks that a handshake from a cluster peer
// never panics and, once decoded, encodes and decodes to the same value.
func FuzzHandshakeUnmarshalJSON(f *testing.F) {
	for _, s := range []string{
		`{"headers":{"host":"h","x":["a","b"]},"time":"t","address":"1.2.3.4","xdomain":true,"secure":false,"issued":1700000000000,"url":"/socket.io/?EIO=4","query":{"EIO":"4","a":["1","2"]},"auth":{"t":1}}`,
		`{"issued":1e300}`, `{"issued":-1}`, `{"headers":{"a":[1,null]}}`, `{}`, `null`, `{"auth":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var h Handshake
		if err := h.UnmarshalJSON(b); err != nil {
			return
		}
		out, err := json.Marshal(&h)
		if err != nil {
			t.Fatalf("a decoded handshake does not encode: %v", err)
		}
		var again Handshake
		if err := json.Unmarshal(out, &again); err != nil {
			t.Fatalf("a handshake's encoding %s does not decode: %v", out, err)
		}
		out2, _ := json.Marshal(&again)
		if string(out) != string(out2) {
			t.Fatalf("round trip changed the handshake:\n%s\n%s", out, out2)
		}
	})
}

package conformance

// Comparison with the reference: what a connection middleware sees and can
// do before its socket is connected. The same client script
// (js/sio-mw-client.mjs, real socket.io-client 4.8) connects to the
// namespaces of a real Node socket.io 4.8 server
// (js/sio-mw-node-server.mjs) and of gosio's server, which does the same
// in the same namespaces; the client must see the same packets, in the
// same order, and the same events from both.

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/gosio/gosio/socketio"
)

// newGoMiddlewareServer serves the namespaces of js/sio-mw-node-server.mjs.
func newGoMiddlewareServer(t *testing.T) string {
	t.Helper()
	env := newSIOEnv(t, nil)
	srv := env.Srv

	state := srv.Of("/mw-state")
	state.Use(func(s *socketio.Socket) error {
		s.SetData(s.Connected())
		return s.Emit("early", s.Connected())
	})
	state.OnConnection(func(s *socketio.Socket) {
		_ = s.Emit("state", struct { // in Node's key order
			MW   any  `json:"mw"`
			Conn bool `json:"conn"`
		}{s.Data(), s.Connected()})
	})

	for _, name := range []string{"/mw-disconnect", "/mw-close"} {
		nsp := srv.Of(name)
		nsp.Use(func(s *socketio.Socket) error {
			s.Disconnect(name == "/mw-close")
			return nil
		})
		nsp.OnConnection(func(s *socketio.Socket) {
			_ = s.Emit("state", map[string]any{"conn": s.Connected()})
		})
	}

	ack := srv.Of("/mw-ack")
	ack.Use(func(s *socketio.Socket) error {
		acked := make(chan any, 1)
		s.SetData(acked)
		return s.EmitWithAckFunc("early", func(args socketio.Args, err error) {
			if err != nil {
				acked <- err.Error()
				return
			}
			var n any
			_ = args.Decode(0, &n)
			acked <- n
		}, 7)
	})
	ack.OnConnection(func(s *socketio.Socket) {
		go func() { _ = s.Emit("acked", <-s.Data().(chan any)) }()
	})

	join := srv.Of("/mw-join")
	join.Use(func(s *socketio.Socket) error {
		s.Join("a")
		return nil
	})
	join.OnConnection(func(s *socketio.Socket) {
		var rooms []string
		for _, r := range s.Rooms() {
			if r != s.ID() {
				rooms = append(rooms, r)
			}
		}
		slices.Sort(rooms)
		_ = s.Emit("rooms", rooms)
	})
	return env.URL
}

// TestSIOCompareMiddlewareWithNode: in a connection middleware the socket
// is not connected yet (Connected is false, as Node's socket.connected);
// Disconnect, with or without closing, does nothing there, as Node's
// disconnect() on a socket that is not connected; an event emitted there,
// with or without an acknowledgement, goes out before the CONNECT, and its
// acknowledgement comes back; rooms joined there are kept.
func TestSIOCompareMiddlewareWithNode(t *testing.T) {
	t.Parallel()
	var node, gosio *sioResult
	t.Run("run", func(t *testing.T) {
		t.Run("node", func(t *testing.T) {
			t.Parallel()
			node = runSIO(t, "js/sio-mw-client.mjs", startNodeServerScript(t, "js/sio-mw-node-server.mjs"))
		})
		t.Run("gosio", func(t *testing.T) {
			t.Parallel()
			gosio = runSIO(t, "js/sio-mw-client.mjs", newGoMiddlewareServer(t))
		})
	})
	if node == nil || gosio == nil {
		if !t.Failed() {
			t.Skip("a run was skipped (see above)")
		}
		t.Fatal("a run failed (see above)")
	}
	type outcome struct {
		Packets []string `json:"packets"`
		Events  []string `json:"events"`
	}
	cases := func(r *sioResult) map[string]outcome {
		m := map[string]outcome{}
		for _, l := range r.all("case") {
			var o outcome
			l.decode(t, "packets", &o.Packets)
			l.decode(t, "events", &o.Events)
			m[l.str("nsp")] = o
		}
		return m
	}
	n, g := cases(node), cases(gosio)
	if len(n) != 5 {
		t.Fatalf("the Node run printed %d cases, want 5\n%s", len(n), node.report())
	}
	for nsp, want := range n {
		got, ok := g[nsp]
		if !ok {
			t.Errorf("%s: no case in the gosio run\n%s", nsp, gosio.report())
			continue
		}
		w, _ := json.Marshal(want)
		gj, _ := json.Marshal(got)
		if string(w) != string(gj) {
			t.Errorf("%s:\n  Node  %s\n  gosio %s", nsp, w, gj)
		} else {
			t.Logf("%s: same: %s", nsp, w)
		}
	}
}

package conformance

// Connection state recovery with the real socket.io-client 4.8
// (js/sio-client.mjs, scenario recover): the test cuts the client's TCP
// connections and holds the network down (sioEnv.cut) while it emits to the
// client, to its rooms and elsewhere; then it restores the network, the
// client reconnects on its own with its pid and offset, and both sides
// must agree on what was recovered. Over polling, WebSocket, and polling
// upgraded to WebSocket (cut wherever the upgrade happens to be).

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/internal/testutil"
	"github.com/gosio/gosio/socketio"
)

// sioRecoverable are the reasons a cut connection can end a socket with.
var sioRecoverable = []string{socketio.ReasonTransportClose, socketio.ReasonTransportError, socketio.ReasonPingTimeout}

func TestSIOClientRecovery(t *testing.T) {
	t.Parallel()
	for _, expired := range []bool{false, true} {
		name := "recovered"
		if expired {
			name = "expired"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sioEach(t, []string{"websocket", "polling", "upgrade"}, func(t *testing.T, mode string) {
				testSIORecovery(t, mode, expired)
			})
		})
	}
}

func testSIORecovery(t *testing.T, mode string, expired bool) {
	maxDur := time.Minute
	if expired {
		maxDur = 400 * time.Millisecond
	}
	env := newSIOEnv(t, &socketio.Options{
		ConnectionStateRecovery: &socketio.ConnectionStateRecovery{MaxDisconnectionDuration: maxDur},
		// A short heartbeat: a polling server notices a client cut off
		// between two requests through it.
		Engine: engineio.Options{PingInterval: 500 * time.Millisecond, PingTimeout: time.Second},
	})
	srv := env.Srv
	data := map[string]any{"user": "alice", "n": 1}
	type accepted struct {
		s     *socketio.Socket
		rooms []string // when the connection handler ran
		data  any
	}
	conns := make(chan accepted, 4)
	ready := make(chan struct{}, 4)
	discs := make(chan string, 4)
	offline := make(chan string, 4)
	mwRuns := make(chan string, 4)
	srv.Use(func(s *socketio.Socket) error {
		mwRuns <- string(s.Handshake().Auth)
		return nil
	})
	srv.OnConnection(func(s *socketio.Socket) {
		if !s.Recovered() {
			s.Join("room-a")
			s.SetData(data)
			_ = s.Emit("ev", "b1")
			_ = srv.To("room-a").Emit("ev", "b2")
		}
		s.On("ready", func() { ready <- struct{}{} })
		s.On("offline-msg", func(text string) { offline <- text })
		s.On("after", func(ack socketio.Ack) {
			_ = srv.To("room-a").Emit("ev", "a1")
			_ = ack("ok")
		})
		s.OnDisconnect(func(reason string) { discs <- reason })
		conns <- accepted{s, s.Rooms(), s.Data()}
	})

	p := startSIO(t, sioClientScript, env.URL, "recover", "mode="+mode, "timeout=20000")
	s1 := sioRecv(t, p, conns, "the first connection").s
	sioRecv(t, p, ready, "the client's ready")
	if got := sioRecv(t, p, mwRuns, "the middleware"); got != `{"user":"alice"}` {
		t.Errorf("first CONNECT auth %s", got)
	}

	// The network fails.
	restore := env.cut()
	defer restore()
	reason := sioRecv(t, p, discs, "the server to notice the lost connection")
	if !slices.Contains(sioRecoverable, reason) {
		t.Errorf("socket disconnected with %q, want one of %v", reason, sioRecoverable)
	}
	if n := srv.Sockets().SocketCount(); n != 0 {
		t.Errorf("%d sockets still connected", n)
	}

	// Meanwhile: m* are for the client, x* are not.
	emits := []error{
		srv.Emit("ev", "m1"),
		srv.To("room-a").Emit("ev", "m2"),
		srv.To("room-b").Emit("ev", "x1"),
		srv.To(s1.ID()).Emit("ev", "m3"),
		s1.Emit("ev", "m4"), // through the disconnected socket itself
		srv.Except("room-a").Emit("ev", "x2"),
		srv.Volatile().Emit("ev", "x3"),
		srv.Emit("bin", "m5", []byte{1, 2, 3}, map[string]any{"k": []byte{4}}),
		srv.To("room-a").Except("room-b").Emit("ev", "m6"),
		srv.Sockets().To("room-b", "room-a").Emit("ev", "m7"),
	}
	for i, err := range emits {
		if err != nil {
			t.Errorf("emit %d while disconnected: %v", i, err)
		}
	}
	if expired {
		time.Sleep(2 * maxDur)
	}
	restore()

	acc := sioRecv(t, p, conns, "the reconnection")
	s2 := acc.s
	text := sioRecv(t, p, offline, "the message the client buffered while offline")
	res := p.mustWait(t)
	if text != "queued while offline" {
		t.Errorf("offline message %q", text)
	}

	// The server's view of the second socket.
	var auth struct {
		User   string `json:"user"`
		PID    string `json:"pid"`
		Offset string `json:"offset"`
	}
	testutil.NoErr(t, json.Unmarshal(s2.Handshake().Auth, &auth))
	if auth.User != "alice" || len(auth.PID) != 20 || auth.Offset == "" {
		t.Errorf("reconnection CONNECT auth %s: want user, pid and offset", s2.Handshake().Auth)
	}
	rooms := acc.rooms
	if s2.Recovered() == expired || (s2.ID() == s1.ID()) == expired || !sioContains(rooms, s2.ID(), "room-a") || len(rooms) != 2 {
		t.Errorf("second socket: recovered %v, id %s (first %s), rooms %v; want recovered %v, same id %v, rooms [id room-a]",
			s2.Recovered(), s2.ID(), s1.ID(), rooms, !expired, !expired)
	}
	if d, ok := acc.data.(map[string]any); !ok || d["user"] != "alice" || d["n"] != 1 {
		t.Errorf("second socket's data %#v, want %v", acc.data, data)
	}
	select {
	case got := <-mwRuns:
		if !expired {
			t.Errorf("the middleware ran on recovery (auth %s)", got)
		}
	default:
		if expired {
			t.Error("the middleware did not run for the fresh session")
		}
	}
	if got := sioRecv(t, nil, discs, "the final disconnection"); got != socketio.ReasonClientNamespaceDisconnect {
		t.Errorf("second socket left with %q", got)
	}

	// The client's view.
	cs := res.all("connect")
	if len(cs) != 2 {
		t.Fatalf("client connected %d times, want 2\n%s", len(cs), res.report())
	}
	if cs[0].str("id") != s1.ID() || cs[1].str("id") != s2.ID() || cs[1].flag("recovered") == expired || cs[0].flag("recovered") {
		t.Errorf("client connects %s / %s; server ids %s / %s; want recovered %v", cs[0].Raw, cs[1].Raw, s1.ID(), s2.ID(), !expired)
	}
	if ds := res.all("disconnect"); len(ds) != 2 || !slices.Contains([]string{"transport close", "transport error", "ping timeout"}, ds[0].str("reason")) || !ds[0].flag("active") {
		t.Errorf("client disconnects %v: want first a transport reason, the socket still active, then its own disconnect", ds)
	}
	after := res.one(t, "after")
	if after.flag("sameId") == expired {
		t.Errorf("client after reconnecting: %s", after.Raw)
	}

	// Every event the client got, in order, with its offset.
	var got []string
	offsets := map[string]bool{}
	for _, l := range res.all("event") {
		var args []json.RawMessage
		l.decode(t, "args", &args)
		var tag, offset string
		if len(args) < 2 || json.Unmarshal(args[0], &tag) != nil || json.Unmarshal(args[len(args)-1], &offset) != nil || offset == "" {
			t.Errorf("event %s: want a tag and an offset as last argument", l.Raw)
			continue
		}
		if offsets[offset] {
			t.Errorf("offset %q seen twice", offset)
		}
		offsets[offset] = true
		if l.str("name") == "bin" {
			sioJSONEqual(t, "missed binary event", l.Fields["args"], fmt.Sprintf(`["m5",{"$buf":"010203"},{"k":{"$buf":"04"}},%q]`, offset))
		}
		got = append(got, fmt.Sprintf("%s@%v", tag, l.num("n")))
	}
	// The missed events come before the CONNECT reply; socket.io-client
	// buffers them and emits them just before its connect event.
	want := []string{"b1@1", "b2@1", "m1@1", "m2@1", "m3@1", "m4@1", "m5@1", "m6@1", "m7@1", "a1@2"}
	if expired {
		want = []string{"b1@1", "b2@1", "b1@2", "b2@2", "a1@2"}
	}
	if !slices.Equal(got, want) {
		t.Errorf("client events (tag@connects when received)\n got %v\nwant %v\n%s", got, want, res.report())
	}
}

package socketio

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/gosio/gosio/internal/testutil"
)

// TestStats checks the namespaces, sockets and rooms of Stats, that the
// engine's counters see the Socket.IO packets, and that StatsVar shows
// the same as JSON.
func TestStats(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	srv.OnConnection(func(s *Socket) {
		s.Join("lobby", "a")
		s.On("ping", func(ack Ack) { _ = ack("pong") })
	})
	srv.Of("/chat").OnConnection(func(s *Socket) { s.Join("lobby") })
	srv.Of("/empty")

	c1 := dialWS(t, url, "")
	c1.connect("/", "")
	c2 := dialWS(t, url, "")
	c2.connect("/", "")
	c2.connect("/chat", "")
	c1.send(`421["ping"]`)
	c1.expect(`431["pong"]`)

	st := srv.Stats()
	testutil.Equal(t, st.Namespaces, []NamespaceStats{
		{Name: "/", Sockets: 2, Rooms: 2},
		{Name: "/chat", Sockets: 1, Rooms: 1},
		{Name: "/empty"},
	})
	testutil.Equal(t, st.Engine.WebSocket, 2)
	testutil.Equal(t, st.Engine.SessionsOpened, uint64(2))
	// In: three CONNECTs and the event; out: three CONNECT answers and the ack.
	testutil.Equal(t, st.Engine.MessagesIn, uint64(4))
	testutil.Equal(t, st.Engine.MessagesOut, uint64(4))
	if st.Engine.BytesIn == 0 || st.Engine.BytesOut == 0 {
		t.Errorf("no bytes counted: %+v", st.Engine)
	}

	var fromVar Stats
	testutil.NoErr(t, json.Unmarshal([]byte(srv.StatsVar().String()), &fromVar))
	testutil.Equal(t, fromVar.Namespaces, st.Namespaces)
	testutil.Equal(t, fromVar.Engine.MessagesIn, st.Engine.MessagesIn)

	c2.send("41/chat,")
	// The socket leaves the namespace first and its rooms after its
	// disconnecting handlers (as in Node), on its queue: wait for both.
	statsWait(t, "the /chat socket and its rooms gone", func() bool {
		return srv.Stats().Namespaces[1] == NamespaceStats{Name: "/chat"}
	})
	testutil.Equal(t, srv.Stats().Namespaces[1], NamespaceStats{Name: "/chat"})
}

// statsWait polls cond until it holds, for at most 10 s.
func statsWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

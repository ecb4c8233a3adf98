package socketio

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func csrServer(t *testing.T, maxDuration time.Duration) (*Server, string, chan *Socket, chan int) {
	srv, url := newTestServer(t, &Options{ConnectionStateRecovery: &ConnectionStateRecovery{MaxDisconnectionDuration: maxDuration}})
	sockets := make(chan *Socket, 4)
	mwRuns := make(chan int, 4)
	runs := 0
	srv.Use(func(s *Socket) error {
		runs++
		mwRuns <- runs
		return nil
	})
	srv.OnConnection(func(s *Socket) {
		if !s.Recovered() {
			s.Join("r1")
			s.SetData("kept")
		}
		sockets <- s
	})
	return srv, url, sockets, mwRuns
}

// csrConnected connects a WebSocket client to a csrServer and gives it one
// event, so that it holds an offset.
func csrConnected(t *testing.T, srv *Server, url string, sockets <-chan *Socket) (c *wsClient, s *Socket, ids struct{ SID, PID string }, offset string) {
	t.Helper()
	c = dialWS(t, url, "")
	c.send("40")
	_ = json.Unmarshal([]byte(c.expectPrefix(`40{"sid":"`)[2:]), &ids)
	s = <-sockets
	_ = srv.Emit("ev", "a")
	offset = lastArg(t, c.expectPrefix(`42["ev","a","`))
	return c, s, ids, offset
}

// csrDropped is csrConnected, then cuts the client's connection. It
// returns the socket's ids and offset once the server's disconnect
// handlers ran (the session is kept for recovery just before them).
func csrDropped(t *testing.T, srv *Server, url string, sockets <-chan *Socket) (ids struct{ SID, PID string }, offset string) {
	t.Helper()
	c, s, ids, offset := csrConnected(t, srv, url, sockets)
	gone := make(chan struct{})
	s.OnDisconnect(func(string) { close(gone) })
	_ = c.conn.CloseNow()
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("socket still connected")
	}
	return ids, offset
}

// TestConnectionStateRecoveryAfterRoomsLeft: a client that reconnects
// while its old socket's disconnecting handlers still run does not get the
// session back then (it is kept only once the old socket has left its
// rooms, as in Node, where both happen at once); had it been restored, the
// old socket leaving its rooms under the same id would take the new
// socket's rooms away. Once the handlers are done, the session recovers.
func TestConnectionStateRecoveryAfterRoomsLeft(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, &Options{ConnectionStateRecovery: &ConnectionStateRecovery{MaxDisconnectionDuration: time.Minute}})
	sockets := make(chan *Socket, 4)
	release, inHandler, gone := make(chan struct{}), make(chan struct{}, 1), make(chan struct{}, 1)
	first := true
	srv.OnConnection(func(s *Socket) {
		if !s.Recovered() {
			s.Join("r1")
		}
		if first {
			first = false
			s.OnDisconnecting(func(string) {
				inHandler <- struct{}{}
				<-release
			})
			s.OnDisconnect(func(string) { gone <- struct{}{} })
		}
		sockets <- s
	})
	c, _, ids, offset := csrConnected(t, srv, url, sockets)
	_ = c.conn.CloseNow()
	<-inHandler

	c2 := dialWS(t, url, "")
	c2.send(fmt.Sprintf(`40{"pid":%q,"offset":%q}`, ids.PID, offset))
	c2.expectPrefix(`40{"sid":"`)
	s2 := <-sockets
	close(release)
	<-gone
	if s2.Recovered() {
		t.Errorf("recovered while the old socket was still in its rooms")
	}
	for _, room := range []string{s2.ID(), "r1"} {
		if !contains(s2.Rooms(), room) {
			t.Errorf("socket %s lost room %s when the old socket left its rooms: %v", s2.ID(), room, s2.Rooms())
		}
	}
	_ = srv.To("r1").Emit("ev", "r1")
	c2.expectPrefix(`42["ev","r1"`)
	_ = c2.conn.CloseNow()

	c3 := dialWS(t, url, "")
	c3.send(fmt.Sprintf(`40{"pid":%q,"offset":%q}`, ids.PID, offset))
	c3.expectPrefix(`42["ev","r1"`) // missed while away
	c3.expect(fmt.Sprintf(`40{"sid":%q,"pid":%q}`, ids.SID, ids.PID))
	if s3 := <-sockets; !s3.Recovered() || !contains(s3.Rooms(), "r1") {
		t.Errorf("not recovered once the old socket was gone: recovered %v rooms %v", s3.Recovered(), s3.Rooms())
	}
}

// lastArg returns the last JSON argument of an EVENT frame "42[...]".
func lastArg(t *testing.T, frame string) string {
	t.Helper()
	var args []any
	if err := json.Unmarshal([]byte(strings.TrimPrefix(frame, "42")), &args); err != nil || len(args) == 0 {
		t.Fatalf("bad event %q", frame)
	}
	s, ok := args[len(args)-1].(string)
	if !ok {
		t.Fatalf("no offset in %q", frame)
	}
	return s
}

func TestConnectionStateRecoveryOffsets(t *testing.T) {
	t.Parallel()
	srv, url, sockets, _ := csrServer(t, time.Minute)
	c := dialWS(t, url, "")
	c.send("40")
	reply := c.expectPrefix(`40{"sid":"`)
	var ids struct{ SID, PID string }
	if err := json.Unmarshal([]byte(reply[2:]), &ids); err != nil || len(ids.PID) != 20 {
		t.Fatalf("reply %q: pid expected", reply)
	}
	s := <-sockets
	_ = s.Emit("direct", "d1")
	c.expectPrefix(`42["direct","d1","`)
	go func() { _, _ = s.EmitWithAck(t.Context(), "withack", 1) }()
	c.expect(`420["withack",1]`) // packets with an ack id get no offset
	_ = srv.Emit("ev", "a")
	a := lastArg(t, c.expectPrefix(`42["ev","a","`))
	_ = srv.To("r1").Emit("ev", "b")
	b := lastArg(t, c.expectPrefix(`42["ev","b","`))
	if a == b {
		t.Fatalf("offsets must differ: %q %q", a, b)
	}
}

func TestConnectionStateRecoveryRestores(t *testing.T) {
	t.Parallel()
	srv, url, sockets, mwRuns := csrServer(t, time.Minute)

	ids, offset := csrDropped(t, srv, url, sockets)
	<-mwRuns
	_ = srv.Emit("ev", "missed-1")
	_ = srv.To("r1").Emit("ev", "missed-2")
	_ = srv.To("elsewhere").Emit("ev", "not-for-you")
	_ = srv.Except("r1").Emit("ev", "not-for-you-either")
	_ = srv.Volatile().Emit("ev", "volatile")

	c2 := dialWS(t, url, "")
	c2.send(fmt.Sprintf(`40{"pid":%q,"offset":%q}`, ids.PID, offset))
	for _, want := range []string{`42["ev","missed-1","`, `42["ev","missed-2","`} {
		c2.expectPrefix(want)
	}
	c2.expect(fmt.Sprintf(`40{"sid":%q,"pid":%q}`, ids.SID, ids.PID))
	s2 := <-sockets
	if !s2.Recovered() || s2.ID() != ids.SID || s2.Data() != "kept" || !contains(s2.Rooms(), "r1") {
		t.Fatalf("recovered %v id %s data %v rooms %v", s2.Recovered(), s2.ID(), s2.Data(), s2.Rooms())
	}
	select {
	case <-mwRuns:
		t.Fatal("middlewares ran on recovery")
	default:
	}

	// An unknown session gets a fresh one.
	c3 := dialWS(t, url, "")
	c3.send(`40{"pid":"foo","offset":"bar"}`)
	var fresh struct{ SID, PID string }
	_ = json.Unmarshal([]byte(c3.expectPrefix(`40{"sid":"`)[2:]), &fresh)
	if fresh.SID == ids.SID || fresh.PID == "foo" || len(fresh.PID) != 20 {
		t.Fatalf("fresh session %+v", fresh)
	}
	if s3 := <-sockets; s3.Recovered() {
		t.Fatal("unknown session reported as recovered")
	}
}

func TestConnectionStateRecoveryExpires(t *testing.T) {
	t.Parallel()
	srv, url, sockets, _ := csrServer(t, 100*time.Millisecond)
	c, _, ids, offset := csrConnected(t, srv, url, sockets)
	_ = c.conn.CloseNow()
	time.Sleep(300 * time.Millisecond)
	c2 := dialWS(t, url, "")
	c2.send(fmt.Sprintf(`40{"pid":%q,"offset":%q}`, ids.PID, offset))
	var again struct{ SID, PID string }
	_ = json.Unmarshal([]byte(c2.expectPrefix(`40{"sid":"`)[2:]), &again)
	if again.SID == ids.SID || again.PID == ids.PID {
		t.Fatalf("expired session was restored: %+v", again)
	}
	if s := <-sockets; s.Recovered() {
		t.Fatal("expired session reported as recovered")
	}
}

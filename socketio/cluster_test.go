package socketio

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"
)

// connectN connects n raw clients and returns them with their sockets.
func connectN(t *testing.T, srv *Server, url string, n int) ([]*wsClient, []*Socket) {
	t.Helper()
	got := make(chan *Socket, n)
	srv.OnConnection(func(s *Socket) { got <- s })
	var cs []*wsClient
	var ss []*Socket
	for range n {
		c := dialWS(t, url, "")
		c.connect("/", "")
		cs = append(cs, c)
		ss = append(ss, <-got)
	}
	return cs, ss
}

func TestFetchSocketsAndRemoteOperations(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	cs, ss := connectN(t, srv, url, 3)
	ss[0].Join("a")
	ss[1].Join("a")
	ss[0].SetData(map[string]int{"n": 1})
	ctx := context.Background()

	all, err := srv.FetchSockets(ctx)
	if err != nil || len(all) != 3 {
		t.Fatalf("fetch all: %d %v", len(all), err)
	}
	inA, err := srv.In("a").Except(ss[1].ID()).FetchSockets(ctx)
	if err != nil || len(inA) != 1 || inA[0].ID != ss[0].ID() || inA[0].Local() != ss[0] {
		t.Fatalf("fetch a except s1: %+v %v", inA, err)
	}
	if d, ok := inA[0].Data.(map[string]int); !ok || d["n"] != 1 || inA[0].Handshake.Address == "" {
		t.Fatalf("data %v handshake %+v", inA[0].Data, inA[0].Handshake)
	}
	inA[0].Join("b")
	inA[0].Emit("hello", "b")
	cs[0].expect(`42["hello","b"]`)
	if got := srv.Sockets().Adapter().Sockets([]string{"b"}); len(got) != 1 {
		t.Fatalf("b members %v", got)
	}

	srv.In("a").SocketsJoin("c", "d")
	srv.In("c").SocketsLeave("d")
	rooms := srv.Sockets().Rooms()
	sort.Strings(rooms)
	if fmt.Sprint(rooms) == "" || !contains(rooms, "c") || contains(rooms, "d") {
		t.Fatalf("rooms %v", rooms)
	}
	if all, _ := srv.Sockets().AllRooms(ctx); len(all) != len(rooms) {
		t.Fatalf("all rooms %v vs %v", all, rooms)
	}
	if n, _ := srv.ServerCount(ctx); n != 1 {
		t.Fatalf("server count %d", n)
	}

	srv.In("c").DisconnectSockets(false)
	cs[0].expect("41")
	cs[1].expect("41")
	deadline := time.Now().Add(5 * time.Second)
	for srv.Sockets().SocketCount() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("sockets left: %d", srv.Sockets().SocketCount())
		}
		time.Sleep(5 * time.Millisecond)
	}
	srv.DisconnectSockets(true)
	cs[2].expect("41")
	cs[2].expectClosed()
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestBroadcastWithAck(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	ctx := context.Background()

	// No client: completes at once with no responses.
	res, err := srv.Timeout(time.Second).EmitWithAck(ctx, "q")
	if err != nil || len(res) != 0 {
		t.Fatalf("no client: %v %v", res, err)
	}

	cs, _ := connectN(t, srv, url, 3)
	answer := func(c *wsClient, reply string) {
		f := c.expectPrefix(`42`)
		var id int
		if _, err := fmt.Sscanf(f, `42%d[`, &id); err != nil {
			t.Errorf("no ack id in %q", f)
			return
		}
		if reply != "" {
			c.send(fmt.Sprintf("43%d[%s,\"ignored\"]", id, reply))
		}
	}
	type result struct {
		res Args
		err error
	}
	run := func(op BroadcastOperator) chan result {
		ch := make(chan result, 1)
		go func() {
			r, err := op.EmitWithAck(ctx, "q", 1)
			ch <- result{r, err}
		}()
		return ch
	}

	// One client.
	ch := run(srv.To(cs[0].sid).Timeout(5 * time.Second))
	// cs[0].sid is the Engine.IO id, not a socket id: nobody matches.
	if r := <-ch; r.err != nil || len(r.res) != 0 {
		t.Fatalf("unknown room: %+v", r)
	}

	// Many clients, all answering.
	ch = run(srv.Timeout(5 * time.Second))
	for i, c := range cs {
		answer(c, fmt.Sprint(i))
	}
	r := <-ch
	if r.err != nil || len(r.res) != 3 {
		t.Fatalf("all answered: %+v", r)
	}
	var sum int
	for i := range r.res {
		var n int
		_ = r.res.Decode(i, &n)
		sum += n
	}
	if sum != 0+1+2 {
		t.Fatalf("responses %s", r.res)
	}

	// Many clients, one silent: times out with the partial responses.
	ch = run(srv.Timeout(300 * time.Millisecond))
	answer(cs[0], "10")
	answer(cs[1], "11")
	answer(cs[2], "")
	r = <-ch
	if !errors.Is(r.err, ErrAckTimeout) || len(r.res) != 2 {
		t.Fatalf("partial: %+v", r)
	}
}

func TestServerSideEmitSingleServer(t *testing.T) {
	t.Parallel()
	srv, _ := newTestServer(t, nil)
	if err := srv.ServerSideEmit("hello", 1); err != nil {
		t.Fatal(err)
	}
	res, err := srv.ServerSideEmitWithAck(context.Background(), "hello")
	if err != nil || len(res) != 0 {
		t.Fatalf("%v %v", res, err)
	}
	if err := srv.ServerSideEmit("connect"); !errors.Is(err, ErrReservedEvent) {
		t.Fatal(err)
	}
}

// TestConcurrentJoinBroadcastDisconnect runs joins, broadcasts, acks and
// disconnects at once; the race detector and the leak check judge it.
func TestConcurrentJoinBroadcastDisconnect(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	cs, ss := connectN(t, srv, url, 8)
	var wg sync.WaitGroup
	for i, s := range ss {
		wg.Add(3)
		go func() {
			defer wg.Done()
			for j := range 50 {
				s.Join(fmt.Sprint("r", j%5))
				s.Leave(fmt.Sprint("r", (j+1)%5))
			}
		}()
		go func() {
			defer wg.Done()
			for j := range 50 {
				_ = srv.To(fmt.Sprint("r", j%5)).Emit("ev", i, j)
			}
		}()
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			_, _ = s.EmitWithAck(ctx, "unanswered")
		}()
	}
	for _, c := range cs[:4] {
		_ = c.conn.CloseNow()
	}
	wg.Wait()
	for _, s := range ss[4:] {
		s.Disconnect(true)
	}
}

// TestBroadcastEmitWithAckReserved: the blocking broadcast with acks
// refuses a reserved event name, as Emit and EmitWithAckFunc do.
func TestBroadcastEmitWithAckReserved(t *testing.T) {
	t.Parallel()
	srv := NewServer(nil)
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	for _, ev := range []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"} {
		if _, err := srv.Sockets().Timeout(time.Second).EmitWithAck(context.Background(), ev); !errors.Is(err, ErrReservedEvent) {
			t.Errorf("EmitWithAck(%q) = %v, want ErrReservedEvent", ev, err)
		}
	}
}

// TestBroadcastToMoreThanABatch: the in-memory adapter looks a broadcast's
// receivers up a chunk at a time (nspView.AppendSockets); 150 sockets, two
// of them disconnected, each connected one gets the broadcast once, and
// the lookup keeps the order of the ids and skips unknown ones.
func TestBroadcastToMoreThanABatch(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	cs, ss := connectN(t, srv, url, 150)
	view := (*nspView)(srv.Of("/"))
	got := view.AppendSockets(nil, []string{ss[2].ID(), "nope", ss[0].ID()})
	if len(got) != 2 || got[0].ID() != ss[2].ID() || got[1].ID() != ss[0].ID() {
		t.Fatalf("AppendSockets: %v, want the sockets of ids 2 and 0", got)
	}
	for _, i := range []int{7, 100} {
		ss[i].Disconnect(false)
		cs[i].expect("41")
	}
	srv.Emit("hi", 1)
	for i, c := range cs {
		if i == 7 || i == 100 {
			continue
		}
		c.expect(`42["hi",1]`)
	}
}

// TestBroadcastToAllFollowsTheList: a broadcast without rooms goes through
// the namespace's list of sockets (nspView.DeliverAll), which a
// disconnection edits in place; with sockets gone from the front, middle
// and end of it, every connected socket gets each broadcast once and a
// socket an Except names (through its own room, a small room and a room of
// more than eight) gets none of them.
func TestBroadcastToAllFollowsTheList(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	cs, ss := connectN(t, srv, url, 150)
	gone := map[int]bool{0: true, 7: true, 100: true, 149: true}
	for i := range gone {
		ss[i].Disconnect(false)
		cs[i].expect("41")
	}
	nsp := srv.Of("/")
	nsp.mu.RLock()
	if len(nsp.listed) != 146 {
		t.Errorf("%d sockets listed, want 146", len(nsp.listed))
	}
	for i, s := range nsp.listed {
		if s.listed != i {
			t.Errorf("socket %s at %d says it is at %d", s.ID(), i, s.listed)
		}
	}
	nsp.mu.RUnlock()
	ss[3].Join("small")
	ss[4].Join("small")
	for i := 10; i < 30; i++ {
		ss[i].Join("big")
	}
	ss[5].Broadcast().Emit("a")
	srv.Except("small", ss[6].ID()).Emit("b")
	srv.Except("big").Emit("c")
	for i, c := range cs {
		if gone[i] {
			continue
		}
		if i != 5 {
			c.expect(`42["a"]`)
		}
		if i != 3 && i != 4 && i != 6 {
			c.expect(`42["b"]`)
		}
		if i < 10 || i >= 30 {
			c.expect(`42["c"]`)
		}
		ss[i].Emit("end")
		c.expect(`42["end"]`)
	}
}

// A broadcast sent once the client has its CONNECT reaches the socket: the
// socket is in the namespace's list by the time its CONNECT can be read,
// and nothing of the broadcast comes before the CONNECT.
func TestBroadcastRightAfterConnect(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	for i := range 200 {
		c := dialWS(t, url, "")
		c.connect("/", "")
		msg := `42["n",` + strconv.Itoa(i) + `]`
		srv.Emit("n", i)
		c.expect(msg)
		_ = c.conn.CloseNow()
	}
}

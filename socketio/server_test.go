package socketio

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// suiteServer configures srv as the official suite's server does.
func suiteServer(t *testing.T) (*Server, string) {
	srv, url := newTestServer(t, &Options{ConnectTimeout: time.Second})
	srv.OnConnection(func(s *Socket) {
		_ = s.Emit("auth", s.Handshake().Auth)
		s.On("message", func(args Args) { _ = s.Emit("message-back", args.Any()...) })
		s.On("message-with-ack", func(args Args, ack Ack) { _ = ack(args.Any()...) })
	})
	srv.Of("/custom").OnConnection(func(s *Socket) { _ = s.Emit("auth", s.Handshake().Auth) })
	return srv, url
}

func TestSuiteBehaviour(t *testing.T) {
	t.Parallel()
	_, url := suiteServer(t)

	t.Run("connect main namespace", func(t *testing.T) {
		t.Parallel()
		c := dialWS(t, url, "")
		c.send("40")
		reply := c.expectPrefix(`40{"sid":"`)
		if strings.Contains(reply, "pid") || len(reply) != len(`40{"sid":""}`)+20 {
			t.Fatalf("reply %q must hold only a 20-char sid", reply)
		}
		c.expect(`42["auth",{}]`)
	})
	t.Run("connect with payload", func(t *testing.T) {
		t.Parallel()
		c := dialWS(t, url, "")
		c.connect("/", `{"token":"123"}`)
		c.expect(`42["auth",{"token":"123"}]`)
	})
	t.Run("connect custom namespace", func(t *testing.T) {
		t.Parallel()
		c := dialWS(t, url, "")
		c.connect("/custom", `{"token":"abc"}`)
		c.expect(`42/custom,["auth",{"token":"abc"}]`)
	})
	t.Run("unknown namespace", func(t *testing.T) {
		t.Parallel()
		c := dialWS(t, url, "")
		c.send("40/random")
		c.expect(`44/random,{"message":"Invalid namespace"}`)
		c.connect("/", "") // the connection stays usable
	})
	t.Run("invalid handshake closes", func(t *testing.T) {
		t.Parallel()
		c := dialWS(t, url, "")
		c.send("4abc")
		c.expectClosed()
	})
	t.Run("no handshake closes after connect timeout", func(t *testing.T) {
		t.Parallel()
		c := dialWS(t, url, "")
		start := time.Now()
		c.expectClosed()
		if d := time.Since(start); d < 800*time.Millisecond {
			t.Fatalf("closed after %v, before the connect timeout", d)
		}
	})
	t.Run("disconnect keeps the session", func(t *testing.T) {
		t.Parallel()
		c := dialWS(t, url, "")
		c.connect("/", "")
		c.expect(`42["auth",{}]`)
		c.send("41")
		c.connect("/custom", "")
		c.expect(`42/custom,["auth",{}]`)
		c.send("41/custom,")
		c.send(`40`)
		c.expectPrefix(`40{"sid"`)
		c.expect(`42["auth",{}]`)
		c.send(`42["message","to main"]`)
		c.expect(`42["message-back","to main"]`)
	})
	t.Run("plain text echo is byte-identical", func(t *testing.T) {
		t.Parallel()
		c := dialWS(t, url, "")
		c.connect("/", "")
		c.expect(`42["auth",{}]`)
		c.send(`42["message",1,"2",{"3":[true]},{"z":1,"a":2.50}]`)
		c.expect(`42["message-back",1,"2",{"3":[true]},{"z":1,"a":2.50}]`)
	})
	t.Run("binary echo", func(t *testing.T) {
		t.Parallel()
		c := dialWS(t, url, "")
		c.connect("/", "")
		c.expect(`42["auth",{}]`)
		c.send(`452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
		c.sendBinary([]byte{1, 2, 3})
		c.sendBinary([]byte{4, 5, 6})
		c.expect(`452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
		for _, want := range [][]byte{{1, 2, 3}, {4, 5, 6}} {
			if f := c.read(); !bytes.Equal(f.binary, want) {
				t.Fatalf("attachment %v, want %v", f.binary, want)
			}
		}
	})
	t.Run("ack", func(t *testing.T) {
		t.Parallel()
		c := dialWS(t, url, "")
		c.connect("/", "")
		c.expect(`42["auth",{}]`)
		c.send(`42456["message-with-ack",1,"2",{"3":[false]}]`)
		c.expect(`43456[1,"2",{"3":[false]}]`)
		c.send(`452-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
		c.sendBinary([]byte{1, 2, 3})
		c.sendBinary([]byte{4, 5, 6})
		c.expect(`462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
		c.read()
		c.read()
	})
	for _, bad := range []string{"4abc", "42{}", `42abc["message-with-ack",1]`, `451-["x"]`, `40`, `43`} {
		t.Run("invalid packet closes: "+bad, func(t *testing.T) {
			t.Parallel()
			c := dialWS(t, url, "")
			c.connect("/", "")
			c.expect(`42["auth",{}]`)
			c.send(bad)
			if bad == `451-["x"]` {
				c.send("42[\"message\"]") // text while waiting for an attachment
			}
			if bad == "43" {
				// an ack with no id is ignored; then a CONNECT_ERROR is a violation
				c.send("44{}")
			}
			c.expectClosed()
		})
	}
}

func TestMiddlewares(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	srv.Use(func(s *Socket) error {
		var auth struct{ Token string }
		_ = Args{{JSON: s.Handshake().Auth}}.Decode(0, &auth)
		switch auth.Token {
		case "":
			return &ConnectError{Message: "not authorized", Data: map[string]int{"code": 401}}
		case "plain":
			return errors.New("plain refusal")
		}
		s.SetData(auth.Token)
		return nil
	})
	seen := make(chan any, 1)
	srv.OnConnection(func(s *Socket) { seen <- s.Data() })

	c := dialWS(t, url, "")
	c.send("40")
	c.expect(`44{"message":"not authorized","data":{"code":401}}`)
	c.send(`40{"token":"plain"}`)
	c.expect(`44{"message":"plain refusal"}`)
	c.connect("/", `{"token":"ok"}`)
	if got := <-seen; got != "ok" {
		t.Fatalf("data %v", got)
	}
}

func TestTypedHandlersAndAcks(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	type point struct{ X, Y int }
	got := make(chan string, 4)
	srv.OnConnection(func(s *Socket) {
		s.On("typed", func(n int, str string, p point, b []byte, rest ...any) {
			got <- strings.Join([]string{
				itoa(n), str, itoa(p.X) + "," + itoa(p.Y), string(b), itoa(len(rest)),
			}, "|")
		})
		s.On("sum", func(a, b int, ack Ack) {
			_ = ack(a + b)
			if err := ack(0); !errors.Is(err, ErrAckAlreadySent) {
				got <- "second ack: " + errString(err)
			}
		})
		s.On("noack", func(ack Ack) {
			got <- "noack: " + errString(ack(1))
		})
		s.On("ask", func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			res, err := s.EmitWithAck(ctx, "question", "q")
			var answer string
			if err == nil {
				err = res.Decode(0, &answer)
			}
			got <- "answer: " + answer + errString(err)
		})
	})
	c := dialWS(t, url, "")
	c.connect("/", "")
	c.send(`451-["typed",7,"s",{"X":1,"Y":2},{"_placeholder":true,"num":0},true,null]`)
	c.sendBinary([]byte("bin"))
	if g := <-got; g != "7|s|1,2|bin|2" {
		t.Fatalf("typed: %q", g)
	}
	c.send(`421["sum",2,3]`)
	c.expect(`431[5]`)
	c.send(`42["noack"]`)
	if g := <-got; g != "noack: "+ErrNoAck.Error() {
		t.Fatalf("%q", g)
	}
	c.send(`42["ask"]`)
	q := c.expectPrefix(`42`)
	id := strings.TrimSuffix(strings.TrimPrefix(q, "42"), `["question","q"]`)
	c.send("43" + id + `["yes"]`)
	if g := <-got; g != "answer: yes" {
		t.Fatalf("%q", g)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestRoomsAndBroadcast(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	sockets := make(chan *Socket, 3)
	srv.OnConnection(func(s *Socket) { sockets <- s })
	var cs []*wsClient
	var ss []*Socket
	for range 3 {
		c := dialWS(t, url, "")
		c.connect("/", "")
		cs = append(cs, c)
		ss = append(ss, <-sockets)
	}
	ss[0].Join("a", "b")
	ss[1].Join("a")
	ss[2].Join("c")
	rooms := ss[0].Rooms()
	sort.Strings(rooms)
	if !slices.Equal(rooms, sortedCopy([]string{ss[0].ID(), "a", "b"})) {
		t.Fatalf("rooms %v", rooms)
	}
	if err := srv.To("a").Except("b").Emit("ev", 1); err != nil {
		t.Fatal(err)
	}
	cs[1].expect(`42["ev",1]`)
	if err := ss[0].To("a").Emit("ev", 2); err != nil { // excludes the sender
		t.Fatal(err)
	}
	cs[1].expect(`42["ev",2]`)
	if err := ss[1].Broadcast().Emit("ev", 3); err != nil {
		t.Fatal(err)
	}
	cs[0].expect(`42["ev",3]`)
	cs[2].expect(`42["ev",3]`)
	ss[0].Leave("a")
	if err := srv.In("a", "c").Emit("ev", 4); err != nil {
		t.Fatal(err)
	}
	cs[1].expect(`42["ev",4]`)
	cs[2].expect(`42["ev",4]`)
	if err := srv.Emit("ev", []byte{9}); err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		c.expect(`451-["ev",{"_placeholder":true,"num":0}]`)
		if f := c.read(); !bytes.Equal(f.binary, []byte{9}) {
			t.Fatalf("attachment %v", f.binary)
		}
	}
	if err := srv.Emit("disconnect"); !errors.Is(err, ErrReservedEvent) {
		t.Fatalf("reserved: %v", err)
	}
	if err := srv.Volatile().Emit("v", 5); err != nil {
		t.Fatal(err)
	}
	cs[0].expect(`42["v",5]`)
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	sort.Strings(c)
	return c
}

func TestAnyListenersAndPacketMiddleware(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	log := make(chan string, 16)
	srv.OnConnection(func(s *Socket) {
		s.Use(func(event string, args Args) error {
			if event == "forbidden" {
				return errors.New("refused")
			}
			return nil
		})
		s.OnError(func(err error) { log <- "error " + err.Error() })
		s.OnAny(func(event string, args Args) { log <- "any " + event + args.String() })
		remove := s.PrependAny(func(event string, args Args) { log <- "first " + event })
		s.OnAnyOutgoing(func(event string, args []any) { log <- "out " + event })
		s.On("ev", func() {
			remove()
			_ = s.Emit("reply")
		})
	})
	c := dialWS(t, url, "")
	c.connect("/", "")
	c.send(`42["forbidden"]`)
	c.send(`42["ev",1]`)
	c.expect(`42["reply"]`)
	c.send(`42["ev",2]`)
	c.expect(`42["reply"]`)
	want := []string{"error refused", "first ev", "any ev[1]", "out reply", "any ev[2]", "out reply"}
	for _, w := range want {
		if g := <-log; g != w {
			t.Fatalf("got %q want %q", g, w)
		}
	}
}

func TestDynamicNamespaces(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, &Options{CleanupEmptyChildNamespaces: true})
	parent := srv.OfRegexp(regexp.MustCompile(`^/room-\d+$`))
	parent.Use(func(s *Socket) error { s.SetData("mw:" + s.Namespace().Name()); return nil })
	names := make(chan string, 2)
	parent.OnConnection(func(s *Socket) {
		names <- s.Data().(string)
		s.On("bye", func() { s.Disconnect(false) })
	})
	c := dialWS(t, url, "")
	c.connect("/room-42", "")
	if n := <-names; n != "mw:/room-42" {
		t.Fatalf("%q", n)
	}
	if len(parent.Children()) != 1 {
		t.Fatal("child not created")
	}
	c.send("40/room-x,")
	c.expect(`44/room-x,{"message":"Invalid namespace"}`)
	c.send(`42/room-42,["bye"]`)
	c.expect("41/room-42,")
	deadline := time.Now().Add(5 * time.Second)
	for len(parent.Children()) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("empty child namespace not cleaned up")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDisconnectReasons(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	type event struct {
		reason string
		rooms  int
	}
	events := make(chan event, 8)
	sockets := make(chan *Socket, 8)
	srv.OnConnection(func(s *Socket) {
		s.Join("r")
		s.OnDisconnecting(func(reason string) { events <- event{reason, len(s.Rooms())} })
		s.OnDisconnect(func(reason string) { events <- event{reason, len(s.Rooms())} })
		sockets <- s
	})
	check := func(reason string) {
		t.Helper()
		if e := <-events; e != (event{reason, 2}) {
			t.Fatalf("disconnecting %+v, want %s with rooms", e, reason)
		}
		if e := <-events; e != (event{reason, 0}) {
			t.Fatalf("disconnect %+v, want %s without rooms", e, reason)
		}
	}

	c := dialWS(t, url, "")
	c.connect("/", "")
	<-sockets
	c.send("41")
	check(ReasonClientNamespaceDisconnect)

	c.connect("/", "")
	s := <-sockets
	s.Disconnect(false)
	c.expect("41")
	check(ReasonServerNamespaceDisconnect)

	c.connect("/", "")
	s = <-sockets
	s.Disconnect(true)
	c.expect("41")
	c.expectClosed()
	check(ReasonServerNamespaceDisconnect)

	c = dialWS(t, url, "")
	c.connect("/", "")
	<-sockets
	_ = c.conn.CloseNow()
	check(ReasonTransportClose)
}

func TestPendingAckFailsOnDisconnect(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	errs := make(chan error, 1)
	srv.OnConnection(func(s *Socket) {
		go func() {
			_, err := s.EmitWithAck(context.Background(), "never-answered")
			errs <- err
		}()
	})
	c := dialWS(t, url, "")
	c.connect("/", "")
	c.expectPrefix(`420["never-answered"]`)
	_ = c.conn.CloseNow()
	select {
	case err := <-errs:
		if DisconnectReason(err) != ReasonTransportClose {
			t.Fatalf("err %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("pending ack still waiting after disconnect")
	}
}

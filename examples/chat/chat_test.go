package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/gosio/gosio/helper"
	"github.com/gosio/gosio/internal/testutil"
	"github.com/gosio/gosio/socketio"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// startChat serves an in-memory chat on an httptest server.
func startChat(t *testing.T, o chatOptions) (*chat, string) {
	t.Helper()
	o.Logger = quiet
	c, err := newChat(t.Context(), o)
	testutil.NoErr(t, err)
	srv := httptest.NewServer(newMux(c, t.TempDir()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		testutil.NoErr(t, c.Shutdown(ctx))
		srv.Close()
	})
	return c, srv.URL
}

// user is a chat client in Go: a helper.ClientHelper recording the chat's
// events.
type user struct {
	name string
	c    *helper.ClientHelper

	mu     sync.Mutex
	events map[string][]socketio.Args
	unauth []string
}

var chatEvents = []string{EventWelcome, EventJoined, EventDenied, EventLeft, EventMessage, EventTyping, EventPresence, EventError}

// connect connects name to url and authenticates; with ok false it expects
// the server to refuse the name.
func connect(t *testing.T, url, name string, ok bool) *user {
	t.Helper()
	u := &user{name: name, events: map[string][]socketio.Args{}}
	authed := make(chan struct{})
	refused := make(chan struct{})
	var err error
	u.c, err = helper.NewClient(&helper.ClientOptions{
		URL:             url,
		Socket:          &socketio.ClientOptions{SocketOptions: socketio.SocketOptions{Auth: authPayload{User: name}}},
		OnAuthenticated: func() { close(authed) },
		OnUnauthenticated: func(msg string) {
			u.mu.Lock()
			u.unauth = append(u.unauth, msg)
			u.mu.Unlock()
			close(refused)
		},
		Logger: quiet,
	})
	testutil.NoErr(t, err)
	t.Cleanup(func() { _ = u.c.Shutdown() })
	for _, ev := range chatEvents {
		testutil.NoErr(t, u.c.Subscribe(ev, func(a socketio.Args) {
			u.mu.Lock()
			u.events[ev] = append(u.events[ev], a)
			u.mu.Unlock()
		}))
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	testutil.NoErr(t, u.c.Connect(ctx))
	testutil.NoErr(t, u.c.Authenticate())
	want, other := authed, refused
	if !ok {
		want, other = refused, authed
	}
	select {
	case <-want:
	case <-other:
		t.Fatalf("%s: authenticated %v, want %v", name, !ok, ok)
	case <-ctx.Done():
		t.Fatalf("%s: no answer to authenticate", name)
	}
	return u
}

// got returns the JSON of the first argument of every event ev so far.
func (u *user) got(ev string) []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []string
	for _, a := range u.events[ev] {
		if len(a) > 0 {
			out = append(out, string(a[0].JSON))
		}
	}
	return out
}

// wait waits until the last event ev received has the JSON want.
func (u *user) wait(t *testing.T, ev, want string) {
	t.Helper()
	testutil.WaitUntil(t, 5*time.Second, fmt.Sprintf("%s gets %s %s (has %v)", u.name, ev, want, u.got(ev)), func() bool {
		g := u.got(ev)
		return len(g) > 0 && g[len(g)-1] == want
	})
}

func (u *user) emit(t *testing.T, ev string, arg any) {
	t.Helper()
	testutil.NoErr(t, u.c.Emit(ev, arg))
}

// presence returns the users of the latest (highest version) presence list
// of room, as the page keeps it.
func (u *user) presence(room string) string {
	u.mu.Lock()
	defer u.mu.Unlock()
	var best presencePayload
	for _, a := range u.events[EventPresence] {
		var p presencePayload
		if a.Decode(0, &p) == nil && p.Room == room && p.Version > best.Version {
			best = p
		}
	}
	return strings.Join(best.Users, ",")
}

func (u *user) waitPresence(t *testing.T, room, want string) {
	t.Helper()
	testutil.WaitUntil(t, 5*time.Second, fmt.Sprintf("%s sees %s in %s (has %q)", u.name, want, room, u.presence(room)), func() bool {
		return u.presence(room) == want
	})
}

// messages returns "user: text" of every message event of room.
func (u *user) messages(room string) []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []string
	for _, a := range u.events[EventMessage] {
		var m Message
		if a.Decode(0, &m) == nil && m.Room == room {
			out = append(out, m.User+": "+m.Text)
		}
	}
	return out
}

func TestChatInMemory(t *testing.T) {
	c, url := startChat(t, chatOptions{Name: "solo", History: 2})

	for _, bad := range []string{"", "two words", "<script>", strings.Repeat("x", 25)} {
		u := connect(t, url, bad, false)
		u.mu.Lock()
		testutil.Equal(t, u.unauth, []string{helper.MessageInvalidToken})
		u.mu.Unlock()
	}

	alice := connect(t, url, "alice", true)
	alice.wait(t, EventWelcome, `{"user":"alice","server":"solo","channels":["general","random","golang"]}`)
	alice.emit(t, helper.EventJoin, roomsPayload{Rooms: []string{"general", "admin", "general"}})
	alice.wait(t, EventJoined, `{"room":"general","history":[]}`)
	alice.wait(t, EventDenied, `{"room":"admin","reason":"no such channel"}`)
	alice.waitPresence(t, "general", "alice")
	testutil.Equal(t, len(alice.got(EventJoined)), 1)
	ci, _ := c.h.Client(alice.c.Socket().ID())
	testutil.Equal(t, ci.Rooms[1:], []string{helper.RoomDefault, helper.RoomNotification, "general"})

	bob := connect(t, url, "bob", true)
	bob.emit(t, helper.EventJoin, roomsPayload{Rooms: []string{"general"}})
	bob.wait(t, EventJoined, `{"room":"general","history":[]}`)
	alice.waitPresence(t, "general", "alice,bob")
	bob.waitPresence(t, "general", "alice,bob")

	bob.emit(t, EventTyping, typingPayload{Room: "general", Typing: true})
	alice.wait(t, EventTyping, `{"room":"general","user":"bob","typing":true}`)
	// Typing in a room one is not in goes nowhere.
	bob.emit(t, EventTyping, typingPayload{Room: "random", Typing: true})

	for _, text := range []string{"one", "  two  ", "three"} {
		bob.emit(t, EventMessage, messageIn{Room: "general", Text: text})
	}
	want := []string{"bob: one", "bob: two", "bob: three"}
	testutil.WaitUntil(t, 5*time.Second, "alice gets bob's messages", func() bool { return len(alice.messages("general")) == 3 })
	testutil.Equal(t, alice.messages("general"), want)
	testutil.WaitUntil(t, 5*time.Second, "bob gets his messages", func() bool { return len(bob.messages("general")) == 3 })
	if g := bob.got(EventTyping); len(g) != 0 {
		t.Errorf("bob got typing events: %v", g)
	}
	if g := alice.got(EventTyping); len(g) != 1 {
		t.Errorf("alice got typing events %v, want the one of general", g)
	}

	// Refused messages.
	alice.emit(t, EventMessage, messageIn{Room: "random", Text: "not joined"})
	alice.wait(t, EventError, `{"message":"join random first"}`)
	alice.emit(t, EventMessage, messageIn{Room: "general", Text: "   "})
	alice.wait(t, EventError, `{"message":"empty message"}`)
	alice.emit(t, EventMessage, messageIn{Room: "general", Text: strings.Repeat("é", maxText+1)})
	alice.wait(t, EventError, `{"message":"message too long"}`)
	alice.emit(t, helper.EventJoin, "not an object") // the helper refuses it; the chat stays up
	alice.emit(t, EventMessage, messageIn{Room: "general", Text: strings.Repeat("é", maxText)})
	testutil.WaitUntil(t, 5*time.Second, "the longest message", func() bool { return len(bob.messages("general")) == 4 })

	// A newcomer gets the history: the last 2 messages.
	carol := connect(t, url, "carol", true)
	carol.emit(t, helper.EventJoin, roomsPayload{Rooms: []string{"general"}})
	testutil.WaitUntil(t, 5*time.Second, "carol's history", func() bool { return len(carol.got(EventJoined)) == 1 })
	var joined joinedPayload
	carol.mu.Lock()
	testutil.NoErr(t, carol.events[EventJoined][0].Decode(0, &joined))
	carol.mu.Unlock()
	var history []string
	for _, m := range joined.History {
		history = append(history, m.User+": "+m.Text+" @"+m.Server)
	}
	testutil.Equal(t, history, []string{"bob: three @solo", "alice: " + strings.Repeat("é", maxText) + " @solo"})
	alice.waitPresence(t, "general", "alice,bob,carol")

	bob.emit(t, helper.EventLeave, roomsPayload{Rooms: []string{"general"}})
	bob.wait(t, EventLeft, `{"room":"general"}`)
	alice.waitPresence(t, "general", "alice,carol")

	testutil.NoErr(t, carol.c.Shutdown())
	alice.waitPresence(t, "general", "alice")
}

// A join before authentication is refused by the helper; the chat says so.
func TestChatJoinBeforeAuthenticate(t *testing.T) {
	_, url := startChat(t, chatOptions{Name: "solo"})
	u := &user{name: "eve", events: map[string][]socketio.Args{}}
	c, err := helper.NewClient(&helper.ClientOptions{
		URL:    url,
		Socket: &socketio.ClientOptions{SocketOptions: socketio.SocketOptions{Auth: authPayload{User: "eve"}}},
		Logger: quiet,
	})
	testutil.NoErr(t, err)
	u.c = c
	defer c.Shutdown()
	testutil.NoErr(t, c.Subscribe(EventDenied, func(a socketio.Args) {
		u.mu.Lock()
		u.events[EventDenied] = append(u.events[EventDenied], a)
		u.mu.Unlock()
	}))
	testutil.NoErr(t, c.Connect(t.Context()))
	testutil.NoErr(t, c.JoinRooms("general"))
	u.wait(t, EventDenied, `{"room":"general","reason":"not authenticated"}`)
}

func TestMemStoreKeepsTheLast(t *testing.T) {
	testStore(t, newMemStore(3))
}

func TestRedisStore(t *testing.T) {
	addr := testutil.StartRedis(t)
	rc, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}, DisableCache: true})
	testutil.NoErr(t, err)
	defer rc.Close()
	testStore(t, &redisStore{rc: rc, size: 3, prefix: "test:"})
	// Foreign entries in the list are skipped.
	testutil.NoErr(t, rc.Do(t.Context(), rc.B().Rpush().Key("test:history:x").Element("not json").Build()).Error())
	h, err := (&redisStore{rc: rc, size: 3, prefix: "test:"}).History(t.Context(), "x")
	testutil.NoErr(t, err)
	testutil.Equal(t, len(h), 0)
}

func testStore(t *testing.T, s store) {
	ctx := t.Context()
	h, err := s.History(ctx, "r")
	testutil.NoErr(t, err)
	testutil.Equal(t, len(h), 0)
	for i := range 5 {
		testutil.NoErr(t, s.Append(ctx, Message{ID: fmt.Sprint(i), Room: "r", Text: fmt.Sprint("m", i)}))
	}
	testutil.NoErr(t, s.Append(ctx, Message{ID: "o", Room: "other", Text: "elsewhere"}))
	h, err = s.History(ctx, "r")
	testutil.NoErr(t, err)
	var texts []string
	for _, m := range h {
		texts = append(texts, m.Text)
	}
	testutil.Equal(t, texts, []string{"m2", "m3", "m4"})
	for want := int64(1); want <= 3; want++ {
		v, err := s.Next(ctx, "r")
		testutil.NoErr(t, err)
		testutil.Equal(t, v, want)
	}
	v, err := s.Next(ctx, "other")
	testutil.NoErr(t, err)
	testutil.Equal(t, v, int64(1))
}

func TestFindClientDist(t *testing.T) {
	dir := t.TempDir()
	_, err := findClientDist(dir)
	if err == nil || !strings.Contains(err.Error(), "make npm") {
		t.Errorf("missing bundle: %v, want an error that says to run make npm", err)
	}
	testutil.NoErr(t, os.WriteFile(filepath.Join(dir, clientBundle), []byte("//"), 0o644))
	got, err := findClientDist(dir)
	testutil.NoErr(t, err)
	testutil.Equal(t, got, dir)

	// The program stops at once with that error.
	var stderr strings.Builder
	err = run(t.Context(), []string{"-addr", "127.0.0.1:0", "-client-dist", t.TempDir()}, io.Discard, &stderr)
	if err == nil || !strings.Contains(err.Error(), clientBundle) {
		t.Errorf("run without the bundle: %v", err)
	}
}

// The server's ReadTimeout bounds the read of a request's body, but cuts
// neither a long poll nor a WebSocket connection that outlive it (see
// newHTTPServer).
func TestReadTimeoutSparesSocketIO(t *testing.T) {
	const readTimeout = 300 * time.Millisecond
	wait := 3 * readTimeout
	errs := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost: // a body sent too slowly
			_, err := io.ReadAll(r.Body)
			errs <- err
		case r.Header.Get("Upgrade") != "": // hijack, then read a late byte
			conn, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close()
			_, _ = conn.Write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"))
			_, err = brw.ReadByte()
			errs <- err
		default: // a long poll
			select {
			case <-time.After(wait):
				errs <- nil
			case <-r.Context().Done():
				errs <- r.Context().Err()
			}
		}
	})
	srv := httptest.NewUnstartedServer(h)
	srv.Config = newHTTPServer(h, quiet)
	srv.Config.ReadTimeout = readTimeout
	srv.Start()
	defer srv.Close()
	dial := func() net.Conn {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		testutil.NoErr(t, err)
		return conn
	}

	go func() {
		if resp, err := http.Get(srv.URL + "/socket.io/?EIO=4&transport=polling"); err == nil {
			resp.Body.Close()
		}
	}()
	if err := <-errs; err != nil {
		t.Errorf("long poll past ReadTimeout: %v", err)
	}

	conn := dial()
	defer conn.Close()
	_, _ = fmt.Fprintf(conn, "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
	_, _ = bufio.NewReader(conn).ReadString('\n')
	time.Sleep(wait)
	_, _ = conn.Write([]byte{0x81})
	if err := <-errs; err != nil {
		t.Errorf("WebSocket read past ReadTimeout: %v", err)
	}

	slow := dial()
	defer slow.Close()
	_, _ = fmt.Fprintf(slow, "POST /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345")
	if err := <-errs; err == nil {
		t.Error("a body slower than ReadTimeout was read whole")
	}
}

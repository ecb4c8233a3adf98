package helper_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosio/gosio/helper"
	"github.com/gosio/gosio/internal/testutil"
	"github.com/gosio/gosio/socketio"
)

func TestServerAuthenticateSuccess(t *testing.T) {
	t.Parallel()
	var connected atomic.Int32
	h, url := startServer(t, helper.ServerOptions{
		ClientConnected: func(ctx context.Context, s *socketio.Socket) error {
			connected.Add(1)
			return nil
		},
	})
	c := newClient(t, url, "good", true)
	c.rec.waitKind(t, "authenticated")
	id := c.Socket().ID()

	// ping first, then authenticated, as on the TypeScript server's wire.
	evs := c.rec.all()
	var names []string
	for _, e := range evs {
		if e.Kind == "event" {
			names = append(names, e.Name)
		}
	}
	if len(names) < 2 || names[0] != helper.EventPing || names[1] != helper.EventAuthenticated {
		t.Fatalf("events %v, want ping then authenticated", names)
	}
	var ping struct{ Time string }
	testutil.NoErr(t, json.Unmarshal(c.rec.events(helper.EventPing)[0].Data, &ping))
	checkISO(t, ping.Time)
	var au map[string]string
	testutil.NoErr(t, json.Unmarshal(c.rec.events(helper.EventAuthenticated)[0].Data, &au))
	testutil.Equal(t, au["id"], id)
	checkISO(t, au["time"])
	testutil.Equal(t, len(au), 2)
	testutil.Equal(t, string(c.rec.events(helper.EventAuthenticated)[0].Data)[:7], `{"id":"`)

	testutil.Equal(t, c.State(), helper.StateAuthenticated)
	testutil.WaitUntil(t, 2*time.Second, "ClientConnected", func() bool { return connected.Load() == 1 })
	ci, ok := h.Client(id)
	if !ok {
		t.Fatal("client not tracked")
	}
	testutil.Equal(t, ci.State, helper.StateAuthenticated)
	testutil.Equal(t, ci.Rooms[0], id)
	testutil.Equal(t, rooms(t, h, id), sorted(id, helper.RoomDefault, helper.RoomNotification))
	testutil.Equal(t, len(h.Clients()), 1)
}

func TestServerAuthorizationHeader(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, helper.ServerOptions{})
	c := newClient(t, url, "", true, func(o *helper.ClientOptions) {
		o.Socket.ManagerOptions.Header = http.Header{"Authorization": {"Bearer good"}}
	})
	c.rec.waitKind(t, "authenticated")
}

func TestServerStatesAndDefaultRooms(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	h, url := startServer(t, helper.ServerOptions{
		DefaultRooms: []string{},
		Authenticate: func(ctx context.Context, hs *socketio.Handshake) (bool, error) {
			<-release
			return true, nil
		},
	})
	c := newClient(t, url, "", false)
	c.rec.waitKind(t, "connect")
	id := c.Socket().ID()
	testutil.WaitUntil(t, 2*time.Second, "tracked", func() bool { _, ok := h.Client(id); return ok })
	ci, _ := h.Client(id)
	testutil.Equal(t, ci.State, helper.StateUnauthorized)
	testutil.Equal(t, c.State(), helper.StateUnauthorized)
	testutil.NoErr(t, c.Authenticate())
	testutil.Equal(t, c.State(), helper.StateAuthenticating)
	testutil.WaitUntil(t, 2*time.Second, "authenticating", func() bool {
		ci, _ := h.Client(id)
		return ci.State == helper.StateAuthenticating
	})
	close(release)
	c.rec.waitKind(t, "authenticated")
	testutil.Equal(t, rooms(t, h, id), []string{id}) // DefaultRooms: [] joins none
}

func TestServerBadToken(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ token, msg string }{
		{"bad", helper.MessageInvalidToken},
		{"error", helper.MessageAuthenticateFailed},
		{"panic", helper.MessageAuthenticateFailed},
	} {
		t.Run(tc.token, func(t *testing.T) {
			t.Parallel()
			h, url := startServer(t, helper.ServerOptions{})
			c := newClient(t, url, tc.token, true)
			d := c.rec.waitKind(t, "disconnect")
			testutil.Equal(t, d.Name, socketio.ReasonIOServerDisconnect)
			u := c.rec.events(helper.EventUnauthenticated)
			if len(u) != 1 {
				t.Fatalf("got %d unauthenticated events, want 1 (seen %v)", len(u), c.rec.seq())
			}
			if !u[0].At.Before(d.At) && !u[0].At.Equal(d.At) {
				t.Errorf("unauthenticated after the disconnect")
			}
			var p map[string]string
			testutil.NoErr(t, json.Unmarshal(u[0].Data, &p))
			testutil.Equal(t, p["message"], tc.msg)
			checkISO(t, p["time"])
			testutil.Equal(t, c.rec.kinds("unauthenticated")[0].Name, tc.msg)
			testutil.Equal(t, len(c.rec.events(helper.EventAuthenticated)), 0)
			testutil.Equal(t, c.State(), helper.StateUnauthorized)
			testutil.WaitUntil(t, 2*time.Second, "forgotten", func() bool { return len(h.Clients()) == 0 })
		})
	}
}

func TestServerAuthenticateTimeout(t *testing.T) {
	t.Parallel()
	t.Run("never asked", func(t *testing.T) {
		t.Parallel()
		h, url := startServer(t, helper.ServerOptions{AuthenticateTimeout: 300 * time.Millisecond})
		start := time.Now()
		c := newClient(t, url, "good", false)
		d := c.rec.waitKind(t, "disconnect")
		if el := d.At.Sub(start); el < 250*time.Millisecond || el > 3*time.Second {
			t.Errorf("disconnected after %v, want about 300ms", el)
		}
		testutil.Equal(t, d.Name, socketio.ReasonIOServerDisconnect)
		testutil.Equal(t, len(c.rec.kinds("event")), 0)
		testutil.Equal(t, len(h.Clients()), 0)
	})
	t.Run("slow authenticate past the timeout", func(t *testing.T) {
		t.Parallel()
		var ctxErr atomic.Value
		h, url := startServer(t, helper.ServerOptions{
			AuthenticateTimeout: 300 * time.Millisecond,
			Authenticate: func(ctx context.Context, hs *socketio.Handshake) (bool, error) {
				select {
				case <-time.After(2 * time.Second):
				case <-ctx.Done():
					ctxErr.Store(ctx.Err())
				}
				return true, nil
			},
		})
		c := newClient(t, url, "", true)
		d := c.rec.waitKind(t, "disconnect")
		testutil.Equal(t, d.Name, socketio.ReasonIOServerDisconnect)
		testutil.WaitUntil(t, 2*time.Second, "Authenticate's ctx cancelled", func() bool { return ctxErr.Load() != nil })
		time.Sleep(100 * time.Millisecond)
		testutil.Equal(t, len(c.rec.events(helper.EventAuthenticated)), 0)
		testutil.Equal(t, len(h.Clients()), 0)
	})
	t.Run("slow authenticate within the timeout", func(t *testing.T) {
		t.Parallel()
		_, url := startServer(t, helper.ServerOptions{AuthenticateTimeout: 2 * time.Second})
		c := newClient(t, url, "slow:500", true)
		c.rec.waitKind(t, "authenticated")
		time.Sleep(2 * time.Second) // past the timeout: it was stopped
		testutil.Equal(t, len(c.rec.kinds("disconnect")), 0)
	})
}

func TestServerAuthenticateTwice(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	_, url := startServer(t, helper.ServerOptions{
		Authenticate: func(ctx context.Context, hs *socketio.Handshake) (bool, error) {
			calls.Add(1)
			time.Sleep(200 * time.Millisecond)
			return true, nil
		},
	})
	c := newClient(t, url, "", false)
	c.rec.waitKind(t, "connect")
	// Raw authenticate events: twice while authenticating, once after.
	testutil.NoErr(t, c.Socket().Emit(helper.EventAuthenticate))
	testutil.NoErr(t, c.Socket().Emit(helper.EventAuthenticate, "ignored", 1))
	c.rec.waitEvent(t, helper.EventAuthenticated, 1)
	testutil.NoErr(t, c.Socket().Emit(helper.EventAuthenticate))
	time.Sleep(400 * time.Millisecond)
	testutil.Equal(t, calls.Load(), int32(1))
	testutil.Equal(t, len(c.rec.events(helper.EventAuthenticated)), 1)
	testutil.Equal(t, len(c.rec.kinds("disconnect")), 0)
	// The client helper refuses a second Authenticate itself.
	if err := c.Authenticate(); !errors.Is(err, helper.ErrNotUnauthorized) {
		t.Errorf("Authenticate when authenticated: %v, want ErrNotUnauthorized", err)
	}
}

func TestServerClientConnectedFails(t *testing.T) {
	t.Parallel()
	for name, fn := range map[string]func(context.Context, *socketio.Socket) error{
		"error": func(context.Context, *socketio.Socket) error { return errors.New("no") },
		"panic": func(context.Context, *socketio.Socket) error { panic("no") },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h, url := startServer(t, helper.ServerOptions{ClientConnected: fn})
			c := newClient(t, url, "good", true)
			d := c.rec.waitKind(t, "disconnect")
			testutil.Equal(t, d.Name, socketio.ReasonIOServerDisconnect)
			testutil.Equal(t, c.rec.kinds("unauthenticated")[0].Name, helper.MessageAuthenticateFailed)
			testutil.Equal(t, c.State(), helper.StateUnauthorized)
			testutil.WaitUntil(t, 2*time.Second, "forgotten", func() bool { return len(h.Clients()) == 0 })
		})
	}
}

func TestServerPingInterval(t *testing.T) {
	t.Parallel()
	h, url := startServer(t, helper.ServerOptions{PingInterval: 150 * time.Millisecond})
	c := authed(t, url)
	pings := c.rec.waitEvent(t, helper.EventPing, 4)
	for i := 1; i < len(pings); i++ {
		if gap := pings[i].At.Sub(pings[i-1].At); gap < 50*time.Millisecond || gap > 2*time.Second {
			t.Errorf("ping gap %v, want about 150ms", gap)
		}
	}
	// Pings stop once the client is disconnected.
	h.Disconnect(c.Socket().ID())
	c.rec.waitKind(t, "disconnect")
	n := len(c.rec.events(helper.EventPing))
	time.Sleep(400 * time.Millisecond)
	testutil.Equal(t, len(c.rec.events(helper.EventPing)), n)
}

func TestServerJoinLeave(t *testing.T) {
	t.Parallel()
	var validated [][]string
	var mu sync.Mutex
	h, url := startServer(t, helper.ServerOptions{
		ValidateRooms: func(ctx context.Context, s *socketio.Socket, rooms []string) ([]string, error) {
			mu.Lock()
			validated = append(validated, rooms)
			mu.Unlock()
			out, _ := publicRooms(ctx, s, rooms)
			// Rooms that were not requested are never joined.
			return append(out, "public-not-requested"), nil
		},
	})
	c := authed(t, url)
	id := c.Socket().ID()
	testutil.NoErr(t, c.JoinRooms("public-a", "private-x", "public-b", "public-a"))
	waitRooms(t, h, id, id, helper.RoomDefault, helper.RoomNotification, "public-a", "public-b")
	mu.Lock()
	testutil.Equal(t, validated, [][]string{{"public-a", "private-x", "public-b"}})
	mu.Unlock()

	testutil.NoErr(t, c.LeaveRooms("public-a", id, helper.RoomNotification, "never-joined"))
	waitRooms(t, h, id, id, helper.RoomDefault, "public-b")

	// Send to the id still reaches it: the own id room was not left.
	testutil.NoErr(t, h.Send(context.Background(), id, "direct", map[string]int{"n": 1}))
	c.rec.waitEvent(t, "direct", 1)
	testutil.Equal(t, c.State(), helper.StateAuthenticated)
	testutil.Equal(t, len(c.rec.kinds("disconnect")), 0)
}

func TestServerJoinWithoutValidator(t *testing.T) {
	t.Parallel()
	h, url := startServer(t, helper.ServerOptions{})
	c := authed(t, url)
	id := c.Socket().ID()
	testutil.NoErr(t, c.JoinRooms("public-a"))
	// Ordering: a later leave is handled after the join was refused.
	testutil.NoErr(t, c.LeaveRooms(helper.RoomDefault))
	waitRooms(t, h, id, id, helper.RoomNotification)
}

func TestServerValidatorFails(t *testing.T) {
	t.Parallel()
	h, url := startServer(t, helper.ServerOptions{
		ValidateRooms: func(ctx context.Context, s *socketio.Socket, rooms []string) ([]string, error) {
			switch rooms[0] {
			case "panic":
				panic("validator panics")
			case "error":
				return nil, errors.New("validator fails")
			}
			return rooms, nil
		},
	})
	c := authed(t, url)
	id := c.Socket().ID()
	testutil.NoErr(t, c.JoinRooms("panic", "x"))
	testutil.NoErr(t, c.JoinRooms("error", "y"))
	testutil.NoErr(t, c.JoinRooms("ok"))
	waitRooms(t, h, id, id, helper.RoomDefault, helper.RoomNotification, "ok")
	testutil.Equal(t, len(c.rec.kinds("disconnect")), 0)
}

func TestServerJoinBeforeAuthenticate(t *testing.T) {
	t.Parallel()
	h, url := startServer(t, helper.ServerOptions{ValidateRooms: publicRooms})
	c := newClient(t, url, "good", false)
	c.rec.waitKind(t, "connect")
	testutil.NoErr(t, c.JoinRooms("public-early"))
	testutil.NoErr(t, c.Authenticate())
	c.rec.waitKind(t, "authenticated")
	testutil.NoErr(t, c.JoinRooms("public-late"))
	id := c.Socket().ID()
	waitRooms(t, h, id, id, helper.RoomDefault, helper.RoomNotification, "public-late")
}

func TestServerSend(t *testing.T) {
	t.Parallel()
	h, url := startServer(t, helper.ServerOptions{ValidateRooms: publicRooms})
	a, b := authed(t, url), authed(t, url)
	unauth := newClient(t, url, "", false)
	unauth.rec.waitKind(t, "connect")
	testutil.NoErr(t, b.JoinRooms("public-room"))
	waitRooms(t, h, b.Socket().ID(), b.Socket().ID(), helper.RoomDefault, helper.RoomNotification, "public-room")
	ctx := context.Background()

	testutil.NoErr(t, h.Send(ctx, a.Socket().ID(), "to-id", "a"))
	testutil.NoErr(t, h.Send(ctx, "public-room", "to-room", 0)) // falsy data is sent
	testutil.NoErr(t, h.Send(ctx, helper.RoomNotification, "to-default", false))
	testutil.NoErr(t, h.Send(ctx, "", "to-all", map[string]any{"x": []int{1}}))
	b.rec.waitEvent(t, "to-all", 1)
	a.rec.waitEvent(t, "to-all", 1)
	unauth.rec.waitEvent(t, "to-all", 1) // everyone: the namespace, as the TS helper
	testutil.Equal(t, len(a.rec.events("to-id")), 1)
	testutil.Equal(t, len(b.rec.events("to-id")), 0)
	testutil.Equal(t, len(a.rec.events("to-room")), 0)
	testutil.Equal(t, string(b.rec.events("to-room")[0].Data), "0")
	testutil.Equal(t, len(a.rec.events("to-default")), 1)
	testutil.Equal(t, len(b.rec.events("to-default")), 1)
	testutil.Equal(t, len(unauth.rec.events("to-default")), 0)
	testutil.Equal(t, string(a.rec.events("to-all")[0].Data), `{"x":[1]}`)

	if err := h.Send(ctx, "", "", 1); !errors.Is(err, helper.ErrEmptyTopic) {
		t.Errorf("Send without topic: %v", err)
	}
	if err := h.Send(ctx, "", "t", nil); !errors.Is(err, helper.ErrNoData) {
		t.Errorf("Send without data: %v", err)
	}
	if err := h.Send(ctx, "", "disconnect", 1); err == nil {
		t.Errorf("Send of a reserved event: no error")
	}
}

func TestServerDisconnect(t *testing.T) {
	t.Parallel()
	h, url := startServer(t, helper.ServerOptions{})
	c := authed(t, url)
	if !h.Disconnect(c.Socket().ID()) {
		t.Fatal("Disconnect: not tracked")
	}
	testutil.Equal(t, c.rec.waitKind(t, "disconnect").Name, socketio.ReasonIOServerDisconnect)
	testutil.Equal(t, len(h.Clients()), 0)
	testutil.Equal(t, h.Disconnect("nope"), false)
}

func TestServerShutdown(t *testing.T) {
	t.Parallel()
	h, err := helper.NewServer(context.Background(), &helper.ServerOptions{Authenticate: testAuth, Logger: quiet})
	testutil.NoErr(t, err)
	srv := newHTTPServer(t, h)
	a := authed(t, srv)
	b := newClient(t, srv, "", false)
	b.rec.waitKind(t, "connect")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	testutil.NoErr(t, h.Shutdown(ctx))
	testutil.Equal(t, a.rec.waitKind(t, "disconnect").Name, socketio.ReasonIOServerDisconnect)
	testutil.Equal(t, b.rec.waitKind(t, "disconnect").Name, socketio.ReasonIOServerDisconnect)
	testutil.Equal(t, len(h.Clients()), 0)
	testutil.NoErr(t, h.Shutdown(ctx)) // idempotent
	if err := h.Send(ctx, "", "t", 1); !errors.Is(err, helper.ErrClosed) {
		t.Errorf("Send after Shutdown: %v", err)
	}
	time.Sleep(300 * time.Millisecond)
	testutil.Equal(t, len(a.rec.kinds("connect")), 1) // no reconnection
}

func TestNewServerOptions(t *testing.T) {
	t.Parallel()
	if _, err := helper.NewServer(context.Background(), &helper.ServerOptions{}); !errors.Is(err, helper.ErrNoAuthenticate) {
		t.Errorf("NewServer without Authenticate: %v", err)
	}
	if _, err := helper.NewServer(context.Background(), nil); !errors.Is(err, helper.ErrNoAuthenticate) {
		t.Errorf("NewServer(nil): %v", err)
	}
	rooms := []string{"a"}
	opts := &helper.ServerOptions{Authenticate: testAuth, DefaultRooms: rooms}
	h, err := helper.NewServer(context.Background(), opts)
	testutil.NoErr(t, err)
	rooms[0] = "changed"
	testutil.Equal(t, opts.AuthenticateTimeout, time.Duration(0)) // not modified
	testutil.NoErr(t, h.Shutdown(context.Background()))
}

func TestServerMountsOnRouter(t *testing.T) {
	t.Parallel()
	h, err := helper.NewServer(context.Background(), &helper.ServerOptions{
		Authenticate: testAuth,
		Logger:       quiet,
		Server:       &socketio.Options{Engine: engineOptionsWithPath("/io/")},
	})
	testutil.NoErr(t, err)
	mux := http.NewServeMux()
	mux.Handle("/io/", h)
	mux.HandleFunc("/other", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
	url := newHTTPServer(t, mux)
	t.Cleanup(func() { _ = h.Shutdown(context.Background()) })
	c := newClient(t, url, "good", true, func(o *helper.ClientOptions) { o.Socket.ManagerOptions.Path = "/io/" })
	c.rec.waitKind(t, "authenticated")
	if !strings.HasPrefix(url, "http://") {
		t.Fatal(url)
	}
}

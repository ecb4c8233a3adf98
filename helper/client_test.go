package helper_test

import (
	"errors"
	"testing"
	"time"

	"github.com/gosio/gosio/helper"
	"github.com/gosio/gosio/internal/testutil"
	"github.com/gosio/gosio/socketio"
)

func TestClientSubscribe(t *testing.T) {
	t.Parallel()
	h, url := startServer(t, helper.ServerOptions{})
	c := authed(t, url)
	id := c.Socket().ID()
	ctx := t.Context()

	got := make(chan string, 8)
	testutil.NoErr(t, c.Subscribe("news", func(d map[string]string) { got <- "first " + d["t"] }))
	if err := c.Subscribe("news", func(d map[string]string) { got <- "second" }); !errors.Is(err, helper.ErrSubscribed) {
		t.Errorf("duplicate Subscribe: %v, want ErrSubscribed", err)
	}
	for _, ev := range []string{helper.EventPing, helper.EventAuthenticated, helper.EventUnauthenticated, "connect", "disconnect", "connect_error"} {
		if err := c.Subscribe(ev, func() {}); !errors.Is(err, helper.ErrProtectedEvent) {
			t.Errorf("Subscribe(%q): %v, want ErrProtectedEvent", ev, err)
		}
		if c.Unsubscribe(ev) {
			t.Errorf("Unsubscribe(%q) removed a helper event", ev)
		}
	}
	if err := c.Subscribe("bad-shape", 42); err == nil {
		t.Error("Subscribe with a non-func handler: no error")
	}
	testutil.NoErr(t, c.Subscribe("bad-shape", func() {})) // the failed one left nothing behind

	testutil.NoErr(t, h.Send(ctx, id, "news", map[string]string{"t": "1"}))
	select {
	case g := <-got:
		testutil.Equal(t, g, "first 1")
	case <-time.After(5 * time.Second):
		t.Fatal("no news")
	}
	testutil.Equal(t, c.Unsubscribe("news"), true)
	testutil.Equal(t, c.Unsubscribe("news"), false)
	testutil.NoErr(t, h.Send(ctx, id, "news", map[string]string{"t": "2"}))
	c.rec.waitEvent(t, "news", 2) // it arrived, but no handler ran
	select {
	case g := <-got:
		t.Errorf("handler ran after Unsubscribe: %q", g)
	case <-time.After(200 * time.Millisecond):
	}
	// Subscribing again works after Unsubscribe.
	testutil.NoErr(t, c.Subscribe("news", func(d map[string]string) { got <- "again " + d["t"] }))

	// A handler error goes to OnError.
	testutil.NoErr(t, c.SubscribeMany(map[string]any{
		"fails": func(int) error { return errors.New("handler failed") },
		"ok":    func(string) {},
	}))
	testutil.NoErr(t, h.Send(ctx, id, "fails", 1))
	testutil.WaitUntil(t, 5*time.Second, "OnError", func() bool {
		for _, e := range c.rec.kinds("error") {
			if e.Name == "handler failed" {
				return true
			}
		}
		return false
	})
	if err := c.SubscribeMany(map[string]any{"a-new": func() {}, "ok": func() {}}); !errors.Is(err, helper.ErrSubscribed) {
		t.Errorf("SubscribeMany with a subscribed event: %v", err)
	}
	c.UnsubscribeMany("fails", "ok", "a-new", "never")
	testutil.NoErr(t, c.Subscribe("ok", func() {}))
	// The helper's own handlers survived all of this.
	testutil.NoErr(t, h.Send(ctx, id, helper.EventUnauthenticated, map[string]string{"message": "by hand"}))
	testutil.WaitUntil(t, 5*time.Second, "OnUnauthenticated", func() bool { return len(c.rec.kinds("unauthenticated")) == 1 })
	testutil.Equal(t, c.rec.kinds("unauthenticated")[0].Name, "by hand")
	testutil.Equal(t, c.State(), helper.StateUnauthorized)
}

func TestClientNotConnected(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, helper.ServerOptions{})
	c := authed(t, url)
	c.Disconnect()
	testutil.Equal(t, c.rec.waitKind(t, "disconnect").Name, socketio.ReasonIOClientDisconnect)
	testutil.Equal(t, c.State(), helper.StateUnauthorized)
	for name, err := range map[string]error{
		"Emit":         c.Emit("x", 1),
		"JoinRooms":    c.JoinRooms("a"),
		"LeaveRooms":   c.LeaveRooms("a"),
		"Authenticate": c.Authenticate(),
	} {
		if !errors.Is(err, helper.ErrNotConnected) {
			t.Errorf("%s while disconnected: %v, want ErrNotConnected", name, err)
		}
	}
	if err := c.Emit("", 1); !errors.Is(err, helper.ErrEmptyTopic) {
		t.Errorf("Emit without topic: %v", err)
	}
	if err := c.JoinRooms(); !errors.Is(err, helper.ErrNoRooms) {
		t.Errorf("JoinRooms(): %v", err)
	}
	// Connect again, authenticate again.
	testutil.NoErr(t, c.Connect(t.Context()))
	testutil.WaitUntil(t, 5*time.Second, "second authenticated", func() bool { return len(c.rec.kinds("authenticated")) == 2 })

	testutil.NoErr(t, c.Shutdown())
	testutil.NoErr(t, c.Shutdown())
	testutil.Equal(t, c.State(), helper.StateUnauthorized)
	for name, err := range map[string]error{
		"Emit":         c.Emit("x", 1),
		"Authenticate": c.Authenticate(),
		"Connect":      c.Connect(t.Context()),
		"Subscribe":    c.Subscribe("x", func() {}),
	} {
		if !errors.Is(err, helper.ErrClosed) {
			t.Errorf("%s after Shutdown: %v, want ErrClosed", name, err)
		}
	}
}

// Reauthenticate: after the connection is lost and comes back, the client
// authenticates by itself; without it, it stays unauthorized.
func TestClientReauthenticate(t *testing.T) {
	t.Parallel()
	for _, re := range []bool{true, false} {
		t.Run(map[bool]string{true: "on", false: "off"}[re], func(t *testing.T) {
			t.Parallel()
			h, url := startServer(t, helper.ServerOptions{AuthenticateTimeout: 5 * time.Second})
			c := newClient(t, url, "good", false, func(o *helper.ClientOptions) {
				o.Reauthenticate = re
				o.Socket.ManagerOptions.ReconnectionDelay = 50 * time.Millisecond
				o.Socket.ManagerOptions.ReconnectionDelayMax = 100 * time.Millisecond
			})
			c.rec.waitKind(t, "connect")
			testutil.NoErr(t, c.Authenticate()) // the first time by hand
			c.rec.waitKind(t, "authenticated")
			ci, _ := h.Client(c.Socket().ID())
			ci.Socket.Conn().Close() // the connection drops: the client reconnects
			testutil.WaitUntil(t, 5*time.Second, "reconnected", func() bool { return len(c.rec.kinds("connect")) == 2 })
			if re {
				testutil.WaitUntil(t, 5*time.Second, "authenticated again", func() bool { return len(c.rec.kinds("authenticated")) == 2 })
				testutil.Equal(t, c.State(), helper.StateAuthenticated)
			} else {
				time.Sleep(300 * time.Millisecond)
				testutil.Equal(t, len(c.rec.kinds("authenticated")), 1)
				testutil.Equal(t, c.State(), helper.StateUnauthorized)
			}
			testutil.Equal(t, c.rec.kinds("disconnect")[0].Name, socketio.ReasonTransportClose)
		})
	}
}

func TestNewClientOptions(t *testing.T) {
	t.Parallel()
	if _, err := helper.NewClient(nil); err == nil {
		t.Error("NewClient(nil): no error")
	}
	if _, err := helper.NewClient(&helper.ClientOptions{URL: "::bad"}); err == nil {
		t.Error("NewClient with a bad URL: no error")
	}
}

func TestStateValid(t *testing.T) {
	t.Parallel()
	for _, s := range []helper.State{helper.StateUnauthorized, helper.StateAuthenticating, helper.StateAuthenticated} {
		if !s.Valid() {
			t.Errorf("%q not valid", s)
		}
	}
	if helper.State("invalid").Valid() {
		t.Error(`"invalid" valid`)
	}
	testutil.Equal(t, helper.DefaultRooms(), []string{"io-default", "io-notification"})
}

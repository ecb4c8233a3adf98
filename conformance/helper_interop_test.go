package conformance

// Interop of package helper with the real @venizia/ignis-helpers 0.0.7:
// the TS SocketIOClientHelper against the Go ServerHelper, the Go
// ClientHelper against the TS SocketIOServerHelper (the mixed cluster of
// both is helper_cluster_test.go). See
// ../shared/reference/ignis-helpers-behaviour.md §12 for the wire contract
// checked here.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosio/gosio/helper"
	"github.com/gosio/gosio/internal/testutil"
	"github.com/gosio/gosio/socketio"
)

// ----------------------------------------------- TS client, Go server

func TestHelperTSClientGoServer(t *testing.T) {
	t.Parallel()
	dir := igSetup(t)

	for _, via := range []string{"auth", "header"} {
		t.Run("good token by "+via, func(t *testing.T) {
			t.Parallel()
			var source atomic.Value
			g := igStartGoServer(t, "", helper.ServerOptions{
				Authenticate: func(ctx context.Context, hs *socketio.Handshake) (bool, error) {
					var a struct{ Token string }
					_ = json.Unmarshal(hs.Auth, &a)
					source.Store(fmt.Sprintf("auth=%q header=%q", a.Token, hs.Headers.Get("Authorization")))
					return igGoAuth(ctx, hs)
				},
			})
			c := igStartClient(t, dir, g.url, "--token", "good", "--via", via)
			id := c.id(t)
			c.wait(t, "cb", "onAuthenticated", 1)
			evs := c.lines("event", "")
			if len(evs) < 2 || evs[0]["event"] != helper.EventPing || evs[1]["event"] != helper.EventAuthenticated {
				t.Fatalf("TS client events: %s; want ping then authenticated", c.seq())
			}
			au := eventArg(evs[1])
			testutil.Equal(t, au["id"], any(id))
			if _, err := time.Parse("2006-01-02T15:04:05.000Z", fmt.Sprint(au["time"])); err != nil {
				t.Errorf("authenticated time %v: %v", au["time"], err)
			}
			if _, err := time.Parse("2006-01-02T15:04:05.000Z", fmt.Sprint(eventArg(evs[0])["time"])); err != nil {
				t.Errorf("ping time %v: %v", eventArg(evs[0])["time"], err)
			}
			st := c.wait(t, "cb", "onAuthenticated", 1)[0]
			testutil.Equal(t, st["state"], any("authenticated"))
			ci, ok := g.Client(id)
			if !ok {
				t.Fatalf("Go server does not track %s", id)
			}
			testutil.Equal(t, ci.State, helper.StateAuthenticated)
			testutil.Equal(t, g.roomsOf(t, id), igSorted([]string{id, helper.RoomDefault, helper.RoomNotification}))
			want := map[string]string{"auth": `auth="good" header=""`, "header": `auth="" header="Bearer good"`}[via]
			testutil.Equal(t, source.Load(), any(want))
		})
	}

	for _, tc := range []struct{ token, msg string }{
		{"bad", helper.MessageInvalidToken},
		{"throw", helper.MessageAuthenticateFailed},
	} {
		t.Run("bad token "+tc.token, func(t *testing.T) {
			t.Parallel()
			g := igStartGoServer(t, "", helper.ServerOptions{})
			c := igStartClient(t, dir, g.url, "--token", tc.token)
			cb := c.wait(t, "cb", "onUnauthenticated", 1)[0]
			testutil.Equal(t, cb["message"], any(tc.msg))
			d := c.wait(t, "disconnect", "", 1)[0]
			testutil.Equal(t, d["reason"], any(socketio.ReasonIOServerDisconnect))
			u := c.lines("event", helper.EventUnauthenticated)
			testutil.Equal(t, eventArg(u[0])["message"], any(tc.msg))
			if u[0]["t"].(float64) > d["t"].(float64) {
				t.Errorf("unauthenticated after the disconnect: %s", c.seq())
			}
			testutil.Equal(t, len(c.lines("event", helper.EventAuthenticated)), 0)
			time.Sleep(700 * time.Millisecond)
			if n := len(c.lines("engine", "")); n > 0 && strings.Contains(c.seq(), "reconnect") {
				t.Errorf("TS client reconnected after io server disconnect: %s", c.seq())
			}
			testutil.Equal(t, len(g.Clients()), 0)
		})
	}

	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		g := igStartGoServer(t, "", helper.ServerOptions{AuthenticateTimeout: 800 * time.Millisecond})
		c := igStartClient(t, dir, g.url, "--token", "good", "--no-auth")
		conn := c.wait(t, "connect", "", 1)[0]
		d := c.wait(t, "disconnect", "", 1)[0]
		testutil.Equal(t, d["reason"], any(socketio.ReasonIOServerDisconnect))
		if el := d["t"].(float64) - conn["t"].(float64); el < 600 || el > 5000 {
			t.Errorf("disconnected %vms after connect, want about 800", el)
		}
		testutil.Equal(t, len(c.lines("event", "")), 0)
	})

	t.Run("slow authenticate", func(t *testing.T) {
		t.Parallel()
		g := igStartGoServer(t, "", helper.ServerOptions{AuthenticateTimeout: 4 * time.Second})
		c := igStartClient(t, dir, g.url, "--token", "slow-good:700")
		a := c.wait(t, "cb", "onAuthenticated", 1)[0]
		act := c.wait(t, "action", "", 1)[0]
		if el := a["t"].(float64) - act["t"].(float64); el < 600 {
			t.Errorf("authenticated %vms after authenticate(), want about 700", el)
		}
		testutil.Equal(t, act["stateAfter"], any("authenticating"))
		_ = g
	})

	t.Run("slow authenticate past the timeout", func(t *testing.T) {
		t.Parallel()
		g := igStartGoServer(t, "", helper.ServerOptions{AuthenticateTimeout: 700 * time.Millisecond})
		c := igStartClient(t, dir, g.url, "--token", "slow-good:2500")
		d := c.wait(t, "disconnect", "", 1)[0]
		testutil.Equal(t, d["reason"], any(socketio.ReasonIOServerDisconnect))
		time.Sleep(2500 * time.Millisecond) // the late true is ignored
		testutil.Equal(t, len(c.lines("event", helper.EventAuthenticated)), 0)
		testutil.Equal(t, len(g.Clients()), 0)
	})

	t.Run("authenticate twice", func(t *testing.T) {
		t.Parallel()
		var calls atomic.Int32
		g := igStartGoServer(t, "", helper.ServerOptions{
			Authenticate: func(ctx context.Context, hs *socketio.Handshake) (bool, error) {
				calls.Add(1)
				return igGoAuth(ctx, hs)
			},
		})
		c := igStartClient(t, dir, g.url, "--token", "slow-good:400", "--auth-twice", "--reauth-after", "200")
		c.wait(t, "cb", "onAuthenticated", 1)
		c.wait(t, "action", "", 3) // authenticate(), raw second, raw after authenticated
		time.Sleep(500 * time.Millisecond)
		testutil.Equal(t, calls.Load(), int32(1))
		testutil.Equal(t, len(c.lines("event", helper.EventAuthenticated)), 1)
		testutil.Equal(t, len(c.lines("disconnect", "")), 0)
		if !g.logged("authenticate ignored") {
			t.Error("the Go server did not log the ignored authenticate")
		}
	})

	t.Run("allowed and denied rooms", func(t *testing.T) {
		t.Parallel()
		g := igStartGoServer(t, "", helper.ServerOptions{})
		c := igStartClient(t, dir, g.url, "--token", "good", "--rooms", "public-a,private-x,public-b", "--join-before-auth", "public-early")
		id := c.id(t)
		c.wait(t, "action", "joinRooms()", 1)
		want := igSorted([]string{id, helper.RoomDefault, helper.RoomNotification, "public-a", "public-b"})
		testutil.WaitUntil(t, 5*time.Second, "rooms joined", func() bool { return slices.Equal(g.roomsOf(t, id), want) })
		testutil.WaitUntil(t, 5*time.Second, "the refusals logged", func() bool {
			return g.logged("rooms denied") && g.logged("join before authentication refused")
		})
		testutil.Equal(t, len(c.lines("disconnect", "")), 0)
	})

	t.Run("no room validator", func(t *testing.T) {
		t.Parallel()
		g2 := igStartGoServerRaw(t, "", helper.ServerOptions{})
		c := igStartClient(t, dir, g2.url, "--token", "good", "--rooms", "public-a")
		id := c.id(t)
		c.wait(t, "action", "joinRooms()", 1)
		testutil.WaitUntil(t, 5*time.Second, "join refused", func() bool { return g2.logged("no ValidateRooms") })
		testutil.Equal(t, g2.roomsOf(t, id), igSorted([]string{id, helper.RoomDefault, helper.RoomNotification}))
	})

	t.Run("leave", func(t *testing.T) {
		t.Parallel()
		g := igStartGoServer(t, "", helper.ServerOptions{})
		c := igStartClient(t, dir, g.url, "--token", "good", "--rooms", "public-a,public-b", "--stdin")
		id := c.id(t)
		c.wait(t, "action", "joinRooms()", 1)
		testutil.WaitUntil(t, 5*time.Second, "rooms joined", func() bool { return len(g.roomsOf(t, id)) == 5 })
		c.command(t, map[string]any{"cmd": "leave", "rooms": []string{"public-a", helper.RoomNotification, id}})
		want := igSorted([]string{id, helper.RoomDefault, "public-b"})
		testutil.WaitUntil(t, 5*time.Second, "rooms left", func() bool { return slices.Equal(g.roomsOf(t, id), want) })
		// The own id room stayed: Send to the id still reaches it.
		testutil.NoErr(t, g.Send(context.Background(), id, "after-leave", map[string]string{"ok": "yes"}))
		c.wait(t, "event", "after-leave", 1)
	})

	t.Run("send", func(t *testing.T) {
		t.Parallel()
		g := igStartGoServer(t, "", helper.ServerOptions{})
		a := igStartClient(t, dir, g.url, "--token", "good")
		b := igStartClient(t, dir, g.url, "--token", "good", "--rooms", "public-r")
		ida, idb := a.id(t), b.id(t)
		a.wait(t, "cb", "onAuthenticated", 1)
		b.wait(t, "action", "joinRooms()", 1)
		testutil.WaitUntil(t, 5*time.Second, "b in public-r", func() bool { return slices.Contains(g.roomsOf(t, idb), "public-r") })
		ctx := context.Background()
		testutil.NoErr(t, g.Send(ctx, ida, "to-id", map[string]any{"n": 1}))
		testutil.NoErr(t, g.Send(ctx, "public-r", "to-room", []int{1, 2}))
		testutil.NoErr(t, g.Send(ctx, helper.RoomNotification, "to-notification", "x"))
		testutil.NoErr(t, g.Send(ctx, "", "to-all", map[string]any{"text": "hi"}))
		a.wait(t, "event", "to-all", 1)
		b.wait(t, "event", "to-all", 1)
		a.wait(t, "event", "to-notification", 1)
		b.wait(t, "event", "to-notification", 1)
		testutil.Equal(t, eventArg(a.lines("event", "to-id")[0])["n"], any(float64(1)))
		testutil.Equal(t, len(b.lines("event", "to-id")), 0)
		testutil.Equal(t, len(a.lines("event", "to-room")), 0)
		testutil.Equal(t, fmt.Sprint(b.lines("event", "to-room")[0]["args"]), "[[1 2]]")
		testutil.Equal(t, eventArg(b.lines("event", "to-all")[0])["text"], any("hi"))
	})

	t.Run("shutdown", func(t *testing.T) {
		t.Parallel()
		g := igStartGoServer(t, "", helper.ServerOptions{})
		a := igStartClient(t, dir, g.url, "--token", "good")
		b := igStartClient(t, dir, g.url, "--no-auth")
		a.wait(t, "cb", "onAuthenticated", 1)
		ida, idb := a.id(t), b.id(t)
		// Both on WebSocket first: a session still upgrading when the
		// server shuts down loses what is queued for it (the client has
		// paused polling and ignores the probe until it has upgraded), as
		// it does with Node's engine.io, and its client sees a transport
		// error, not the helper's disconnect.
		nsp := g.IO().Of("/")
		for _, id := range []string{ida, idb} {
			testutil.WaitUntil(t, 5*time.Second, id+" on websocket", func() bool {
				s := nsp.LocalSocket(id)
				return s != nil && s.Conn().Transport() == "websocket"
			})
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		testutil.NoErr(t, g.Shutdown(ctx))
		for _, c := range []*igClient{a, b} {
			d := c.wait(t, "disconnect", "", 1)[0]
			testutil.Equal(t, d["reason"], any(socketio.ReasonIOServerDisconnect))
		}
		testutil.NoErr(t, g.Shutdown(ctx))
		time.Sleep(700 * time.Millisecond)
		testutil.Equal(t, len(a.lines("connect", "")), 1)
		if strings.Contains(a.seq(), "reconnect") {
			t.Errorf("TS client tried to reconnect: %s", a.seq())
		}
	})
}

// ----------------------------------------------- bad input, Go server

// The malformed join and leave payloads of ignis-helpers-behaviour.md §5,
// and more, from the real TS client to the Go server: none crashes it or
// disconnects the client, none joins or leaves a room, each is logged, and
// another client is unaffected.
func TestHelperBadInputTSClient(t *testing.T) {
	t.Parallel()
	dir := igSetup(t)
	g := igStartGoServer(t, "", helper.ServerOptions{})
	joins := []string{`null`, `"public-z"`, `{"rooms":[]}`, `{"rooms":"public-str"}`, `{"rooms":[1,"public-b",null]}`,
		`{"rooms":{"length":1}}`, `{}`, `7`, `["public-arr"]`, `{"rooms":[""]}`, `{"rooms":[["public-n"]]}`, `{"rooms":null}`}
	leaves := []string{`{"rooms":"abc"}`, `{"rooms":{"length":1}}`, `null`, `"io-default"`, `{"rooms":[1]}`, `{"rooms":[]}`}
	c := igStartClient(t, dir, g.url, "--token", "good", "--stdin",
		"--raw-join", strings.Join(joins, ";;"), "--raw-leave", strings.Join(leaves, ";;"))
	other := igStartClient(t, dir, g.url, "--token", "good", "--rooms", "public-other")
	id, oid := c.id(t), other.id(t)
	c.wait(t, "cb", "onAuthenticated", 1)
	c.wait(t, "action", "raw leave", len(leaves))
	// A raw join and leave without any payload.
	c.command(t, map[string]any{"cmd": "raw", "event": "join"})
	c.command(t, map[string]any{"cmd": "raw", "event": "leave"})
	// Then a good join, handled after all of the above, in order.
	c.command(t, map[string]any{"cmd": "join", "rooms": []string{"public-ok"}})
	want := igSorted([]string{id, helper.RoomDefault, helper.RoomNotification, "public-ok"})
	testutil.WaitUntil(t, 5*time.Second, "the good join", func() bool { return slices.Equal(g.roomsOf(t, id), want) })
	testutil.Equal(t, strings.Count(g.logs.String(), "malformed join refused"), len(joins)+1)
	testutil.Equal(t, strings.Count(g.logs.String(), "malformed leave refused"), len(leaves)+1)
	testutil.Equal(t, len(c.lines("disconnect", "")), 0)
	ci, _ := g.Client(id)
	testutil.Equal(t, ci.State, helper.StateAuthenticated)

	testutil.WaitUntil(t, 5*time.Second, "other in public-other", func() bool { return slices.Contains(g.roomsOf(t, oid), "public-other") })
	testutil.NoErr(t, g.Send(context.Background(), "public-other", "still-fine", 1))
	testutil.NoErr(t, g.Send(context.Background(), id, "still-fine", 1))
	other.wait(t, "event", "still-fine", 1)
	c.wait(t, "event", "still-fine", 1)
	testutil.Equal(t, len(other.lines("disconnect", "")), 0)
}

// ----------------------------------------------- Go client, TS server

func TestHelperGoClientTSServer(t *testing.T) {
	t.Parallel()
	dir := igSetup(t)
	testutil.NeedTool(t, "redis-server")

	for _, tc := range []struct{ via, source string }{{"auth", "auth.token"}, {"header", "authorization header"}} {
		t.Run("good token by "+tc.via, func(t *testing.T) {
			t.Parallel()
			s := igStartServer(t, dir, testutil.StartRedis(t))
			c := igStartGoClient(t, s.url(), "good", tc.via, true)
			c.wait(t, "authenticated", "", 1)
			testutil.Equal(t, c.State(), helper.StateAuthenticated)
			evs := c.find("event", "")
			if len(evs) < 2 || evs[0].Name != helper.EventPing || evs[1].Name != helper.EventAuthenticated {
				t.Fatalf("Go client events %s, want ping then authenticated", c.seq())
			}
			var au struct{ ID, Time string }
			testutil.NoErr(t, json.Unmarshal(evs[1].Data, &au))
			id := c.Socket().ID()
			testutil.Equal(t, au.ID, id)
			ts, ok := s.client(t, id)
			if !ok {
				t.Fatalf("TS server does not track %s", id)
			}
			testutil.Equal(t, ts.State, "authenticated")
			testutil.Equal(t, igSorted(ts.Rooms), igSorted([]string{id, helper.RoomDefault, helper.RoomNotification}))
			obs := s.observations(t)
			testutil.Equal(t, len(obs.AuthCalls), 1)
			testutil.Equal(t, obs.AuthCalls[0].Source, tc.source)
			testutil.Equal(t, obs.AuthCalls[0].Token, "good")
		})
	}

	for _, tok := range []string{"bad", "throw"} {
		t.Run("bad token "+tok, func(t *testing.T) {
			t.Parallel()
			s := igStartServer(t, dir, testutil.StartRedis(t))
			c := igStartGoClient(t, s.url(), tok, "auth", true)
			d := c.wait(t, "disconnect", "", 1)[0]
			testutil.Equal(t, d.Name, socketio.ReasonIOServerDisconnect)
			testutil.Equal(t, c.State(), helper.StateUnauthorized)
			testutil.Equal(t, len(c.find("authenticated", "")), 0)
			// The TS server publishes unauthenticated through Redis after
			// the socket left its rooms: it never arrives (§4).
			t.Logf("unauthenticated events from the TS server: %d", len(c.find("unauthenticated", "")))
			time.Sleep(500 * time.Millisecond)
			testutil.Equal(t, len(c.find("connect", "")), 1) // no reconnection
		})
	}

	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		s := igStartServer(t, dir, testutil.StartRedis(t), "--authenticate-timeout", "800")
		c := igStartGoClient(t, s.url(), "good", "auth", false)
		conn := c.wait(t, "connect", "", 1)[0]
		d := c.wait(t, "disconnect", "", 1)[0]
		testutil.Equal(t, d.Name, socketio.ReasonIOServerDisconnect)
		if el := d.At.Sub(conn.At); el < 600*time.Millisecond || el > 5*time.Second {
			t.Errorf("disconnected %v after connect, want about 800ms", el)
		}
		testutil.Equal(t, len(c.find("event", "")), 0)
	})

	t.Run("slow authenticate", func(t *testing.T) {
		t.Parallel()
		s := igStartServer(t, dir, testutil.StartRedis(t), "--authenticate-timeout", "4000")
		c := igStartGoClient(t, s.url(), "slow-good:700", "auth", true)
		testutil.WaitUntil(t, 5*time.Second, "authenticating", func() bool { return len(c.find("connect", "")) == 1 })
		start := time.Now()
		testutil.Equal(t, c.State(), helper.StateAuthenticating)
		c.wait(t, "authenticated", "", 1)
		if el := time.Since(start); el < 500*time.Millisecond {
			t.Errorf("authenticated after %v, want about 700ms", el)
		}
	})

	t.Run("slow authenticate past the timeout", func(t *testing.T) {
		t.Parallel()
		s := igStartServer(t, dir, testutil.StartRedis(t), "--authenticate-timeout", "700")
		c := igStartGoClient(t, s.url(), "slow-good:2000", "auth", true)
		d := c.wait(t, "disconnect", "", 1)[0]
		testutil.Equal(t, d.Name, socketio.ReasonIOServerDisconnect)
		time.Sleep(2 * time.Second)
		testutil.Equal(t, len(c.find("authenticated", "")), 0)
	})

	t.Run("authenticate twice", func(t *testing.T) {
		t.Parallel()
		s := igStartServer(t, dir, testutil.StartRedis(t))
		c := igStartGoClient(t, s.url(), "slow-good:400", "auth", true)
		testutil.WaitUntil(t, 5*time.Second, "connected", func() bool { return len(c.find("connect", "")) == 1 })
		if err := c.Authenticate(); !errors.Is(err, helper.ErrNotUnauthorized) {
			t.Errorf("second Authenticate: %v, want ErrNotUnauthorized", err)
		}
		// Raw authenticate events reach the TS server, which drops them.
		testutil.NoErr(t, c.Socket().Emit(helper.EventAuthenticate))
		c.wait(t, "authenticated", "", 1)
		testutil.NoErr(t, c.Socket().Emit(helper.EventAuthenticate))
		time.Sleep(500 * time.Millisecond)
		testutil.Equal(t, len(s.observations(t).AuthCalls), 1)
		testutil.Equal(t, len(c.find("event", helper.EventAuthenticated)), 1)
		testutil.Equal(t, c.State(), helper.StateAuthenticated)
	})

	t.Run("rooms and leave", func(t *testing.T) {
		t.Parallel()
		s := igStartServer(t, dir, testutil.StartRedis(t))
		c := igStartGoClient(t, s.url(), "good", "auth", true)
		c.wait(t, "authenticated", "", 1)
		id := c.Socket().ID()
		testutil.NoErr(t, c.JoinRooms("public-a", "private-x", "public-b"))
		roomsOf := func() []string { ts, _ := s.client(t, id); return igSorted(ts.Rooms) }
		want := igSorted([]string{id, helper.RoomDefault, helper.RoomNotification, "public-a", "public-b"})
		testutil.WaitUntil(t, 5*time.Second, "rooms joined", func() bool { return slices.Equal(roomsOf(), want) })
		obs := s.observations(t)
		testutil.Equal(t, len(obs.ValidateCalls), 1)
		testutil.Equal(t, string(obs.ValidateCalls[0].Rooms), `["public-a","private-x","public-b"]`)
		testutil.NoErr(t, c.LeaveRooms("public-a"))
		want = igSorted([]string{id, helper.RoomDefault, helper.RoomNotification, "public-b"})
		testutil.WaitUntil(t, 5*time.Second, "room left", func() bool { return slices.Equal(roomsOf(), want) })
	})

	t.Run("send", func(t *testing.T) {
		t.Parallel()
		s := igStartServer(t, dir, testutil.StartRedis(t))
		a := igStartGoClient(t, s.url(), "good", "auth", true)
		b := igStartGoClient(t, s.url(), "good", "header", true)
		a.wait(t, "authenticated", "", 1)
		b.wait(t, "authenticated", "", 1)
		got := make(chan string, 16)
		for _, c := range []*igGoClient{a, b} {
			name := map[*igGoClient]string{a: "a", b: "b"}[c]
			testutil.NoErr(t, c.SubscribeMany(map[string]any{
				"to-id":   func(d map[string]int) { got <- fmt.Sprintf("%s to-id %d", name, d["n"]) },
				"to-room": func(d []int) { got <- fmt.Sprintf("%s to-room %v", name, d) },
				"to-all":  func(d string) { got <- fmt.Sprintf("%s to-all %s", name, d) },
			}))
		}
		testutil.NoErr(t, b.JoinRooms("public-r"))
		idb := b.Socket().ID()
		testutil.WaitUntil(t, 5*time.Second, "b in public-r", func() bool {
			ts, _ := s.client(t, idb)
			return slices.Contains(ts.Rooms, "public-r")
		})
		s.send(t, a.Socket().ID(), "to-id", map[string]int{"n": 7})
		s.send(t, "public-r", "to-room", []int{1, 2})
		s.send(t, "", "to-all", "hello")
		var seen []string
		for range 4 {
			select {
			case g := <-got:
				seen = append(seen, g)
			case <-time.After(10 * time.Second):
				t.Fatalf("Send from the TS server: got only %v", seen)
			}
		}
		slices.Sort(seen)
		testutil.Equal(t, seen, []string{"a to-all hello", "a to-id 7", "b to-all hello", "b to-room [1 2]"})
		// Unsubscribe really removes the handler.
		testutil.Equal(t, a.Unsubscribe("to-all"), true)
		s.send(t, "", "to-all", "again")
		b.wait(t, "event", "to-all", 2)
		a.wait(t, "event", "to-all", 2) // it arrived ...
		select {
		case g := <-got:
			testutil.Equal(t, g, "b to-all again") // ... but only b's handler ran
		case <-time.After(5 * time.Second):
			t.Fatal("b's handler did not run")
		}
		select {
		case g := <-got:
			t.Errorf("unexpected %q after Unsubscribe", g)
		case <-time.After(300 * time.Millisecond):
		}
	})

	t.Run("shutdown", func(t *testing.T) {
		t.Parallel()
		s := igStartServer(t, dir, testutil.StartRedis(t), "--stay-after-shutdown")
		a := igStartGoClient(t, s.url(), "good", "auth", true)
		b := igStartGoClient(t, s.url(), "", "auth", false)
		a.wait(t, "authenticated", "", 1)
		b.wait(t, "connect", "", 1)
		// Node's engine.close() discards what a session has not written
		// yet, so a client between two polls would never get the
		// DISCONNECT and would see its transport fail instead, with a
		// Node client as with ours. Over a WebSocket the DISCONNECT goes
		// out at once: shut down once both have upgraded, as in the
		// observation this test checks.
		for _, c := range []*igGoClient{a, b} {
			testutil.WaitUntil(t, 10*time.Second, "the Go client on websocket", func() bool {
				return c.Socket().Manager().Transport() == "websocket"
			})
		}
		s.call(t, "POST", "/shutdown", nil, nil)
		for _, c := range []*igGoClient{a, b} {
			d := c.wait(t, "disconnect", "", 1)[0]
			testutil.Equal(t, d.Name, socketio.ReasonIOServerDisconnect)
			testutil.Equal(t, c.State(), helper.StateUnauthorized)
			if err := c.Emit("x", 1); !errors.Is(err, helper.ErrNotConnected) {
				t.Errorf("Emit after the server's shutdown: %v, want ErrNotConnected", err)
			}
		}
	})
}

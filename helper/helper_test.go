package helper_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/helper"
	"github.com/gosio/gosio/internal/testutil"
	"github.com/gosio/gosio/socketio"
)

func TestMain(m *testing.M) { testutil.RunWithLeakCheck(m) }

// quiet is a logger for tests that expect warnings.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// tokenOf returns the token of a handshake: auth {"token"} first, else the
// Authorization header without "Bearer ".
func tokenOf(hs *socketio.Handshake) string {
	var a struct {
		Token string `json:"token"`
	}
	_ = json.Unmarshal(hs.Auth, &a)
	if a.Token != "" {
		return a.Token
	}
	return strings.TrimPrefix(hs.Headers.Get("Authorization"), "Bearer ")
}

// testAuth accepts "good", refuses anything else, and acts out the other
// tokens: "slow:MS" (good after MS or when ctx ends), "error", "panic".
func testAuth(ctx context.Context, hs *socketio.Handshake) (bool, error) {
	tok := tokenOf(hs)
	switch {
	case tok == "good":
		return true, nil
	case tok == "error":
		return false, errors.New("boom")
	case tok == "panic":
		panic("authenticate panics on purpose")
	case strings.HasPrefix(tok, "slow:"):
		ms, _ := strconv.Atoi(strings.TrimPrefix(tok, "slow:"))
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
			return true, nil
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	return false, nil
}

// publicRooms allows the rooms starting with "public-".
func publicRooms(_ context.Context, _ *socketio.Socket, rooms []string) ([]string, error) {
	var out []string
	for _, r := range rooms {
		if strings.HasPrefix(r, "public-") {
			out = append(out, r)
		}
	}
	return out, nil
}

// startServer serves a ServerHelper on an httptest server; both stop at
// the end of the test.
func startServer(t *testing.T, opts helper.ServerOptions) (*helper.ServerHelper, string) {
	t.Helper()
	if opts.Authenticate == nil {
		opts.Authenticate = testAuth
	}
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h, err := helper.NewServer(ctx, &opts)
	testutil.NoErr(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		srv.Close()
	})
	return h, srv.URL
}

// event is one thing a test client saw.
type event struct {
	Kind string // "event", "connect", "disconnect", "authenticated", "unauthenticated", "error"
	Name string // event name, disconnect reason, unauthenticated message
	Data json.RawMessage
	At   time.Time
}

// recorder collects what a client saw.
type recorder struct {
	mu  sync.Mutex
	evs []event
}

func (r *recorder) add(e event) {
	e.At = time.Now()
	r.mu.Lock()
	r.evs = append(r.evs, e)
	r.mu.Unlock()
}

func (r *recorder) all() []event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.evs)
}

// events returns the incoming events named name.
func (r *recorder) events(name string) []event {
	var out []event
	for _, e := range r.all() {
		if e.Kind == "event" && e.Name == name {
			out = append(out, e)
		}
	}
	return out
}

func (r *recorder) kinds(kind string) []event {
	var out []event
	for _, e := range r.all() {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// seq returns "kind:name" of every record, for order checks.
func (r *recorder) seq() []string {
	var out []string
	for _, e := range r.all() {
		out = append(out, e.Kind+":"+e.Name)
	}
	return out
}

func (r *recorder) waitEvent(t *testing.T, name string, n int) []event {
	t.Helper()
	testutil.WaitUntil(t, 5*time.Second, fmt.Sprintf("%d %q events (seen %v)", n, name, r.seq()), func() bool {
		return len(r.events(name)) >= n
	})
	return r.events(name)
}

func (r *recorder) waitKind(t *testing.T, kind string) event {
	t.Helper()
	testutil.WaitUntil(t, 5*time.Second, fmt.Sprintf("a %s (seen %v)", kind, r.seq()), func() bool {
		return len(r.kinds(kind)) > 0
	})
	return r.kinds(kind)[0]
}

// client is a ClientHelper with a recorder.
type client struct {
	*helper.ClientHelper
	rec *recorder
}

// newClient connects a ClientHelper with token in its auth payload (none
// when empty); authenticate calls Authenticate on connect.
func newClient(t *testing.T, url, token string, authenticate bool, tweak ...func(*helper.ClientOptions)) *client {
	t.Helper()
	rec := &recorder{}
	c := &client{rec: rec}
	so := &socketio.ClientOptions{}
	so.ManagerOptions.Transports = []string{"websocket"}
	if token != "" {
		so.SocketOptions.Auth = map[string]string{"token": token}
	}
	opts := &helper.ClientOptions{
		Identifier: "test",
		URL:        url,
		Socket:     so,
		Logger:     quiet,
		OnConnected: func() {
			rec.add(event{Kind: "connect"})
			if authenticate {
				if err := c.Authenticate(); err != nil {
					rec.add(event{Kind: "error", Name: err.Error()})
				}
			}
		},
		OnDisconnected:    func(reason string) { rec.add(event{Kind: "disconnect", Name: reason}) },
		OnError:           func(err error) { rec.add(event{Kind: "error", Name: err.Error()}) },
		OnAuthenticated:   func() { rec.add(event{Kind: "authenticated"}) },
		OnUnauthenticated: func(msg string) { rec.add(event{Kind: "unauthenticated", Name: msg}) },
	}
	for _, f := range tweak {
		f(opts)
	}
	ch, err := helper.NewClient(opts)
	testutil.NoErr(t, err)
	c.ClientHelper = ch
	ch.Socket().OnAny(func(ev string, a socketio.Args) {
		var d json.RawMessage
		if len(a) > 0 {
			d = a[0].JSON
		}
		rec.add(event{Kind: "event", Name: ev, Data: d})
	})
	t.Cleanup(func() { _ = ch.Shutdown() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	testutil.NoErr(t, ch.Connect(ctx))
	return c
}

// authed returns a client that authenticated with "good".
func authed(t *testing.T, url string) *client {
	t.Helper()
	c := newClient(t, url, "good", true)
	c.rec.waitKind(t, "authenticated")
	return c
}

func rooms(t *testing.T, h *helper.ServerHelper, id string) []string {
	t.Helper()
	ci, ok := h.Client(id)
	if !ok {
		t.Fatalf("client %s is not tracked", id)
	}
	r := slices.Clone(ci.Rooms)
	slices.Sort(r)
	return r
}

func sorted(s ...string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// waitRooms waits until the client's rooms are want.
func waitRooms(t *testing.T, h *helper.ServerHelper, id string, want ...string) {
	t.Helper()
	want = sorted(want...)
	testutil.WaitUntil(t, 5*time.Second, fmt.Sprintf("rooms %v", want), func() bool {
		ci, ok := h.Client(id)
		if !ok {
			return false
		}
		return slices.Equal(sorted(ci.Rooms...), want)
	})
}

// isoRE-like check of JavaScript's toISOString form.
func checkISO(t *testing.T, s string) {
	t.Helper()
	if _, err := time.Parse("2006-01-02T15:04:05.000Z", s); err != nil || len(s) != 24 {
		t.Errorf("time %q is not in toISOString form: %v", s, err)
	}
}

// newHTTPServer serves handler on an httptest server closed at the end of
// the test, and returns its URL.
func newHTTPServer(t *testing.T, handler http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return srv.URL
}

func engineOptionsWithPath(path string) engineio.Options { return engineio.Options{Path: path} }

package engineio

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gosio/gosio/internal/testutil"
)

// The tests in this file check heartbeat timing exactly, on the fake clock
// of testing/synctest. They call ServeHTTP directly with recorded
// responses: polling needs no network, which a synctest bubble cannot use.

// serveDirect runs one request through srv and returns the answer.
func serveDirect(srv *Server, method, query, body string) response {
	req := httptest.NewRequest(method, "/engine.io/?"+query, strings.NewReader(body))
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return response{rec.Code, rec.Body.String(), rec.Header()}
}

// syncServer returns a server for a synctest bubble, shut down at the end.
func syncServer(t *testing.T, interval, timeout time.Duration) (*Server, <-chan closeEvent) {
	srv := NewServer(&Options{PingInterval: interval, PingTimeout: timeout})
	closed := make(chan closeEvent, 1)
	srv.OnConnection(func(s *Session) {
		echo(s)
		s.OnClose(func(reason string, err error) { closed <- closeEvent{reason, err} })
	})
	t.Cleanup(func() { testutil.NoErr(t, srv.Shutdown(context.Background())) })
	return srv, closed
}

func syncOpen(t *testing.T, srv *Server) string {
	t.Helper()
	r := serveDirect(srv, http.MethodGet, "EIO=4&transport=polling", "")
	testutil.Equal(t, r.status, http.StatusOK)
	return parseOpen(t, r.body).SID
}

func TestHeartbeatTiming(t *testing.T) {
	t.Parallel()
	const interval, timeout = 25 * time.Second, 20 * time.Second

	t.Run("pings every interval after a pong", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			srv, closed := syncServer(t, interval, timeout)
			start := time.Now()
			sid := syncOpen(t, srv)
			// A GET waits for the first ping, due one interval after the
			// handshake.
			testutil.Equal(t, serveDirect(srv, http.MethodGet, pollQuery(sid), "").body, "2")
			testutil.Equal(t, time.Since(start), interval)

			// A pong just inside the timeout keeps the session.
			time.Sleep(timeout - time.Millisecond)
			testutil.Equal(t, serveDirect(srv, http.MethodPost, pollQuery(sid), "3").body, "ok")
			pong := time.Now()
			testutil.Equal(t, serveDirect(srv, http.MethodGet, pollQuery(sid), "").body, "2")
			testutil.Equal(t, time.Since(pong), interval)

			// No pong this time: the pending GET is answered with a close
			// packet exactly one timeout after the ping.
			ping := time.Now()
			testutil.Equal(t, serveDirect(srv, http.MethodGet, pollQuery(sid), "").body, "1")
			testutil.Equal(t, time.Since(ping), timeout)
			testutil.Equal(t, (<-closed).reason, ReasonPingTimeout)
			wantError(t, serveDirect(srv, http.MethodGet, pollQuery(sid), ""), 400, 1, "Session ID unknown")
		})
	})

	t.Run("deadline without any GET", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			srv, closed := syncServer(t, interval, timeout)
			sid := syncOpen(t, srv)
			time.Sleep(interval + timeout - time.Millisecond)
			// Still open: the ping queued at the interval is waiting.
			testutil.Equal(t, serveDirect(srv, http.MethodGet, pollQuery(sid), "").body, "2")
			time.Sleep(time.Millisecond)
			wantError(t, serveDirect(srv, http.MethodGet, pollQuery(sid), ""), 400, 1, "Session ID unknown")
			testutil.Equal(t, (<-closed).reason, ReasonPingTimeout)
		})
	})

	t.Run("suite timings", func(t *testing.T) {
		t.Parallel()
		// The suite's check: 300 ms + 200 ms after the handshake, a GET
		// finds the session gone.
		synctest.Test(t, func(t *testing.T) {
			srv, _ := syncServer(t, 300*time.Millisecond, 200*time.Millisecond)
			sid := syncOpen(t, srv)
			time.Sleep(500 * time.Millisecond)
			wantError(t, serveDirect(srv, http.MethodGet, pollQuery(sid), ""), 400, 1, "Session ID unknown")
		})
	})

	t.Run("messages do not count as pongs", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			srv, closed := syncServer(t, interval, timeout)
			sid := syncOpen(t, srv)
			for range 8 { // 8 x 5s: past interval + timeout
				time.Sleep(5 * time.Second)
				r := serveDirect(srv, http.MethodPost, pollQuery(sid), "4x")
				if r.status != http.StatusOK {
					break
				}
			}
			testutil.Equal(t, (<-closed).reason, ReasonPingTimeout)
		})
	})

	t.Run("lingering close ends", func(t *testing.T) {
		t.Parallel()
		// A session closed by its client waits, for a while, for the GET
		// it owes a noop; then it is forgotten.
		synctest.Test(t, func(t *testing.T) {
			srv, _ := syncServer(t, time.Hour, time.Hour)
			sid := syncOpen(t, srv)
			testutil.Equal(t, serveDirect(srv, http.MethodPost, pollQuery(sid), "1").body, "ok")
			if srv.lookup(sid) == nil {
				t.Fatal("session forgotten before its last GET")
			}
			time.Sleep(DefaultCloseTimeout)
			synctest.Wait()
			if srv.lookup(sid) != nil {
				t.Fatal("closed session still kept after DefaultCloseTimeout")
			}
			wantError(t, serveDirect(srv, http.MethodGet, pollQuery(sid), ""), 400, 1, "Session ID unknown")
		})
	})
}

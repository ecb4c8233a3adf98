package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/socketio"
)

// TestMetrics opens a session with the engineio client, refuses a
// request, and checks that /metrics shows both.
func TestMetrics(t *testing.T) {
	srv := socketio.NewServer(nil)
	hs := httptest.NewServer(newMux(srv))
	defer hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	defer func() { _ = srv.Shutdown(ctx) }()

	c, err := engineio.Dial(ctx, hs.URL, &engineio.DialOptions{Path: "/socket.io/", Transports: []string{engineio.TransportWebSocket}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res, err := http.Get(hs.URL + "/socket.io/?EIO=3&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()

	res, err = http.Get(hs.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{
		`socketio_engine_sessions{transport="websocket"} 1`,
		`socketio_engine_sessions{transport="polling"} 0`,
		`socketio_engine_sessions_opened_total 1`,
		`socketio_engine_connection_errors_total 1`,
		`socketio_namespace_sockets{namespace="/"} 0`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
}

package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestRawHTTP: keep-alive reuse, Content-Length and chunked bodies,
// Connection: close, POST bodies and non-200 answers, against net/http's
// server.
func TestRawHTTP(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("mode") {
		case "chunked":
			w.Write([]byte("part1-"))
			w.(http.Flusher).Flush()
			w.Write([]byte("part2"))
		case "close":
			w.Header().Set("Connection", "close")
			w.Write([]byte("bye"))
		case "echo":
			b, _ := io.ReadAll(r.Body)
			w.Write([]byte(r.Method + " " + r.Header.Get("Content-Type") + " " + string(b)))
		case "404":
			http.Error(w, "nope", http.StatusNotFound)
		default:
			w.Write([]byte("plain"))
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	ctx := context.Background()
	h, err := newRawHTTP(srv.URL + "/p?mode=plain")
	if err != nil {
		t.Fatal(err)
	}
	defer h.close()
	for range 3 {
		if b, err := h.do(ctx, "GET", nil); err != nil || string(b) != "plain" {
			t.Fatalf("GET: %q, %v", b, err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 3 keep-alive requests", n)
	}
	for mode, want := range map[string]string{"chunked": "part1-part2", "close": "bye", "echo": "POST text/plain;charset=UTF-8 42[\"x\"]"} {
		if err := h.setPath(srv.URL + "/p?mode=" + mode); err != nil {
			t.Fatal(err)
		}
		method, body := "GET", []byte(nil)
		if mode == "echo" {
			method, body = "POST", []byte(`42["x"]`)
		}
		if b, err := h.do(ctx, method, body); err != nil || string(b) != want {
			t.Errorf("%s: %q, %v; want %q", mode, b, err, want)
		}
	}
	_ = h.setPath(srv.URL + "/p?mode=404")
	if _, err := h.do(ctx, "GET", nil); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("404: %v", err)
	}
	// After Connection: close the next request dials again.
	_ = h.setPath(srv.URL + "/p?mode=plain")
	if b, err := h.do(ctx, "GET", nil); err != nil || string(b) != "plain" {
		t.Fatalf("after close: %q, %v", b, err)
	}
}

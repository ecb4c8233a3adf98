package socketio

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gosio/gosio/engineio"
)

// TestClientReportsHTTPStatus mounts the server under /rt/ without
// setting its path: a client's Connect that runs out of time reports the
// HTTP status of its attempts and the URL, for both transports.
func TestClientReportsHTTPStatus(t *testing.T) {
	t.Parallel()
	srv := NewServer(nil)
	mux := http.NewServeMux()
	mux.Handle("/rt/", http.StripPrefix("/rt", srv))
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hs.Close()
	})
	for _, transport := range []string{engineio.TransportPolling, engineio.TransportWebSocket} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			opts := &ClientOptions{}
			opts.Transports = []string{transport}
			s, err := Connect(ctx, hs.URL+"/rt", opts)
			if err == nil {
				_ = s.Close()
				t.Fatal("connected through a wrong path")
			}
			var he *engineio.HTTPError
			if !errors.As(err, &he) || he.StatusCode != http.StatusNotFound {
				t.Fatalf("err %v: no HTTP 404 in it", err)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err %v: not a deadline", err)
			}
			for _, want := range []string{"HTTP 404 Not Found", "/socket.io/"} {
				if !strings.Contains(err.Error(), want) {
					t.Fatalf("err %q lacks %q", err, want)
				}
			}
		})
	}
}

// Command chat is a real-time chat on gosio's helper.ServerHelper: channels
// as rooms, the last messages of each channel, a typing indicator and the
// list of who is in a channel, with a browser page that uses the official
// socket.io-client.
//
// It runs in memory by default (one process, no Redis):
//
//	go run ./examples/chat                 # or: make run
//
// and as a cluster of processes on one Redis, a browser on either:
//
//	go run ./examples/chat -addr :3001 -redis redis://127.0.0.1:6379 -name a
//	go run ./examples/chat -addr :3002 -redis redis://127.0.0.1:6379 -name b
//	                                       # or: make run-cluster
//
// The page talks the helper's protocol: it connects with its user name in
// the CONNECT auth payload, sends authenticate, waits for authenticated,
// then joins channels with join {rooms: [...]} and leaves them with leave.
// The server's ValidateRooms allows the chat's channels only, so a request
// for another room is refused (the page shows it). See chat.go for the
// chat's own events.
//
// The browser bundle of socket.io-client is not part of this repository: the
// server serves it from the installed npm package (conformance/node_modules,
// which `make npm` installs), or from the directory given by -client-dist.
package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/redis/rueidis"
)

//go:embed static
var staticFiles embed.FS

// clientBundle is the file of socket.io-client's dist the page loads.
const clientBundle = "socket.io.min.js"

// distFromRepo is where `make npm` installs socket.io-client's browser
// bundle, relative to the repository's root.
var distFromRepo = filepath.Join("conformance", "node_modules", "socket.io-client", "dist")

func main() {
	ctx, stop := signalContext()
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
}

// signalContext returns a context that ends at SIGINT or SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// run is the program: it parses args, serves until ctx ends, then shuts
// down. The URL to open goes to stdout, the log to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("chat", flag.ContinueOnError)
	fl.SetOutput(stderr)
	addr := fl.String("addr", ":3000", "listen address")
	redisURL := fl.String("redis", "", "Redis URL (redis://host:port/db) to run as one of several servers; empty: in memory")
	name := fl.String("name", "", "this server's name, shown on the page (default: the listen port)")
	dist := fl.String("client-dist", "", "directory of socket.io-client's browser bundle (default: "+distFromRepo+" of this repository)")
	history := fl.Int("history", 50, "messages kept per channel")
	channels := fl.String("channels", strings.Join(DefaultChannels, ","), "the channels, comma-separated")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fl.Args())
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))

	clientDir, err := findClientDist(*dist)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	if *name == "" {
		*name = fmt.Sprint(port)
	}

	var rc rueidis.Client
	mode := "in memory"
	if *redisURL != "" {
		opt, err := rueidis.ParseURL(*redisURL)
		if err != nil {
			return fmt.Errorf("-redis: %w", err)
		}
		opt.DisableCache = true // the helper's adapter and emitter need no client-side cache
		if rc, err = rueidis.NewClient(opt); err != nil {
			return fmt.Errorf("redis %s: %w", *redisURL, err)
		}
		defer rc.Close() // after the chat's Shutdown: deferred first, runs last
		mode = "on Redis " + *redisURL
	}

	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	c, err := newChat(sctx, chatOptions{
		Name:     *name,
		Channels: splitList(*channels),
		History:  *history,
		Redis:    rc,
		Logger:   log,
	})
	cancel()
	if err != nil {
		return err
	}

	srv := newHTTPServer(newMux(c, clientDir), log)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "chat: open http://%s/ in a browser (server %s, %s)\n", displayAddr(ln.Addr()), *name, mode)

	select {
	case err = <-served:
	case <-ctx.Done():
	}
	dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer dcancel()
	// The helper first (its clients get a DISCONNECT while their
	// connections are up), then the HTTP server.
	serr := c.Shutdown(dctx)
	herr := srv.Shutdown(dctx)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return errors.Join(err, serr, herr)
}

// newHTTPServer returns the chat's http.Server, with timeouts: a slow
// client cannot hold a connection with half a request (ReadHeaderTimeout,
// and ReadTimeout for a request with its body, such as a long-polling POST),
// and idle keep-alive connections are closed (IdleTimeout).
//
// ReadTimeout does not cut the long-lived Socket.IO requests: net/http
// clears the read deadline once a request without a body (a long-polling
// GET, a WebSocket upgrade) has been read, so a hijacked WebSocket
// connection has none either (TestReadTimeoutSparesSocketIO). There is no
// WriteTimeout: a long-polling response waits up to the ping interval for
// data, and Engine.IO's heartbeat finds dead peers.
func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// newMux routes the chat's requests: Socket.IO, the page and
// socket.io-client's bundle.
func newMux(c *chat, clientDir string) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", c.Handler())
	mux.Handle("GET /socket.io-client/", http.StripPrefix("/socket.io-client/", http.FileServer(http.Dir(clientDir))))
	static, _ := fs.Sub(staticFiles, "static")
	mux.Handle("/", http.FileServerFS(static))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	return mux
}

// findClientDist returns the directory of socket.io-client's browser
// bundle: dir when given, else conformance/node_modules/socket.io-client/dist
// of the repository, looked for from the working directory upwards and
// then next to this source file (for go run from anywhere in the tree).
func findClientDist(dir string) (string, error) {
	const hint = "run `make npm` at the repository's root (it installs conformance/node_modules), or pass -client-dist DIR"
	if dir != "" {
		if _, err := os.Stat(filepath.Join(dir, clientBundle)); err != nil {
			return "", fmt.Errorf("socket.io-client's browser bundle %s is not in -client-dist %s: %s", clientBundle, dir, hint)
		}
		return dir, nil
	}
	var tried []string
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		starts = append(starts, filepath.Dir(file))
	}
	for _, start := range starts {
		for d := start; ; d = filepath.Dir(d) {
			cand := filepath.Join(d, distFromRepo)
			if _, err := os.Stat(filepath.Join(cand, clientBundle)); err == nil {
				return cand, nil
			}
			tried = append(tried, cand)
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	return "", fmt.Errorf("socket.io-client's browser bundle %s not found (looked in %s): %s",
		clientBundle, strings.Join(tried, ", "), hint)
}

// displayAddr turns a listen address into one to open in a browser.
func displayAddr(a net.Addr) string {
	ta := a.(*net.TCPAddr)
	if ta.IP == nil || ta.IP.IsUnspecified() {
		return fmt.Sprintf("localhost:%d", ta.Port)
	}
	return ta.String()
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, it := range strings.Split(s, ",") {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	return out
}

// Command demo is gosio's demo server: a Socket.IO chat on :3000 with the
// in-memory adapter, and a browser page that uses the official
// socket.io-client. The server serves the client bundle at
// /socket.io/socket.io.min.js (socketio.Options.ClientFiles), as a Node
// socket.io server does, from -client-dist, by default
// conformance/node_modules/socket.io-client/dist (`make run` installs it
// with npm) found from the working directory upwards or next to this
// source file, so `go run` works from anywhere in the repository.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/gosio/gosio/socketio"
)

//go:embed index.html
var indexHTML []byte

func main() {
	addr := flag.String("addr", ":3000", "listen address")
	clientDist := flag.String("client-dist", "", "socket.io-client's dist directory (default: conformance/node_modules/socket.io-client/dist of the repository)")
	flag.Parse()

	dist, err := findClientDist(*clientDist)
	if err != nil {
		log.Fatal(err)
	}
	srv := socketio.NewServer(&socketio.Options{ClientFiles: os.DirFS(dist)})
	srv.OnConnection(func(s *socketio.Socket) {
		log.Printf("socket %s connected over %s", s.ID(), s.Conn().Transport())
		_ = s.Emit("welcome", "you are "+s.ID())
		s.On("join", func(room string) {
			s.Join(room)
			_ = s.To(room).Emit("info", s.ID()+" joined "+room)
		})
		s.On("chat", func(room, text string) {
			if room == "" {
				_ = srv.Emit("chat", s.ID(), text)
				return
			}
			_ = srv.To(room).Emit("chat", s.ID(), "["+room+"] "+text)
		})
		s.On("echo", func(args socketio.Args, ack socketio.Ack) {
			_ = ack(args.Any()...)
		})
		s.OnDisconnect(func(reason string) {
			log.Printf("socket %s disconnected: %s", s.ID(), reason)
			_ = srv.Emit("info", s.ID()+" left ("+reason+")")
		})
	})

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(indexHTML)
	})

	// Timeouts: see docs/security.md. ReadTimeout bounds reading a
	// request and its body (a long-polling GET the server holds and a
	// hijacked WebSocket are not cut by it); no WriteTimeout, which would
	// cut long polls held for up to the ping interval.
	hs := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		_ = hs.Shutdown(sctx)
	}()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("demo: open %s in a browser", browserURL(ln.Addr()))
	if err := hs.Serve(ln); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}

// distFromRepo is where `make npm` installs socket.io-client's bundle.
var distFromRepo = filepath.Join("conformance", "node_modules", "socket.io-client", "dist")

// findClientDist returns dir when given, else the repository's
// distFromRepo, looked for from the working directory upwards and then
// from this source file's directory upwards.
func findClientDist(dir string) (string, error) {
	const bundle = "socket.io.min.js"
	if dir != "" {
		if _, err := os.Stat(filepath.Join(dir, bundle)); err != nil {
			return "", fmt.Errorf("-client-dist %s has no %s: %w", dir, bundle, err)
		}
		return dir, nil
	}
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		starts = append(starts, filepath.Dir(file))
	}
	for _, d := range starts {
		for {
			cand := filepath.Join(d, distFromRepo)
			if _, err := os.Stat(filepath.Join(cand, bundle)); err == nil {
				return cand, nil
			}
			if filepath.Dir(d) == d {
				break
			}
			d = filepath.Dir(d)
		}
	}
	return "", errors.New("socket.io-client's bundle not found: run `make npm` at the repository's root, or pass -client-dist DIR")
}

// browserURL is the URL to open for a listener's address: localhost when
// it listens on every interface, its own host otherwise (an -addr of
// 127.0.0.1:3009 gives http://127.0.0.1:3009/).
func browserURL(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return "http://" + a.String() + "/"
	}
	if ta.IP == nil || ta.IP.IsUnspecified() {
		return fmt.Sprintf("http://localhost:%d/", ta.Port)
	}
	return "http://" + ta.String() + "/"
}

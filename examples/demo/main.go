// Command demo is gosio's demo server: a Socket.IO chat on :3000 with the
// in-memory adapter, and a browser page that uses the official
// socket.io-client (served from conformance/node_modules, which `make run`
// installs with npm).
package main

import (
	"context"
	_ "embed"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/gosio/gosio/socketio"
)

//go:embed index.html
var indexHTML []byte

func main() {
	addr := flag.String("addr", ":3000", "listen address")
	nodeModules := flag.String("node_modules", "conformance/node_modules", "where npm installed socket.io-client")
	flag.Parse()

	io := socketio.NewServer(nil)
	io.OnConnection(func(s *socketio.Socket) {
		log.Printf("socket %s connected over %s", s.ID(), s.Conn().Transport())
		_ = s.Emit("welcome", "you are "+s.ID())
		s.On("join", func(room string) {
			s.Join(room)
			_ = s.To(room).Emit("info", s.ID()+" joined "+room)
		})
		s.On("chat", func(room, text string) {
			if room == "" {
				_ = io.Emit("chat", s.ID(), text)
				return
			}
			_ = io.To(room).Emit("chat", s.ID(), "["+room+"] "+text)
		})
		s.On("echo", func(args socketio.Args, ack socketio.Ack) {
			_ = ack(args.Any()...)
		})
		s.OnDisconnect(func(reason string) {
			log.Printf("socket %s disconnected: %s", s.ID(), reason)
			_ = io.Emit("info", s.ID()+" left ("+reason+")")
		})
	})

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	mux.HandleFunc("/socket.io.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(*nodeModules, "socket.io-client", "dist", "socket.io.min.js"))
	})
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
		_ = io.Shutdown(sctx)
		_ = hs.Shutdown(sctx)
	}()
	log.Printf("demo: open http://localhost%s/ in a browser", *addr)
	if err := hs.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}

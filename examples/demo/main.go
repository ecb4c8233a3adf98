// Command demo is gosio's demo server: an Engine.IO echo service on :3000
// with a browser page that talks to it through the official engine.io-client
// (served from conformance/node_modules, installed by `make run`).
//
// Later versions turn it into a Socket.IO chat on the in-memory adapter.
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

	"github.com/gosio/gosio/engineio"
)

//go:embed index.html
var indexHTML []byte

func main() {
	addr := flag.String("addr", ":3000", "listen address")
	nodeModules := flag.String("node_modules", "conformance/node_modules", "where npm installed engine.io-client")
	flag.Parse()

	eio := engineio.NewServer(nil)
	eio.OnConnection(func(s *engineio.Session) {
		log.Printf("session %s opened over %s from %s", s.ID(), s.Transport(), s.Request().RemoteAddr)
		s.OnMessage(func(data []byte, binary bool) {
			if binary {
				_ = s.SendBinary(data)
				return
			}
			_ = s.SendText(append([]byte("echo: "), data...))
		})
		s.OnClose(func(reason string, err error) {
			log.Printf("session %s closed: %s", s.ID(), reason)
		})
	})

	mux := http.NewServeMux()
	mux.Handle("/engine.io/", eio)
	mux.HandleFunc("/engine.io.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(*nodeModules, "engine.io-client", "dist", "engine.io.min.js"))
	})
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(indexHTML)
	})

	hs := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = eio.Shutdown(sctx)
		_ = hs.Shutdown(sctx)
	}()
	log.Printf("demo: open http://localhost%s/ in a browser", *addr)
	if err := hs.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}

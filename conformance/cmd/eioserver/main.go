// Command eioserver is the Engine.IO server the official Engine.IO v4 test
// suite expects: path /engine.io/ on :3000 (or -addr), pingInterval 300ms,
// pingTimeout 200ms, maxPayload 1e6, CORS for any origin, and an
// application that echoes every message as it came (text or binary).
package main

import (
	"context"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gosio/gosio/engineio"
)

func main() {
	addr := flag.String("addr", ":3000", "listen address")
	flag.Parse()

	srv := engineio.NewServer(&engineio.Options{
		PingInterval:      300 * time.Millisecond,
		PingTimeout:       200 * time.Millisecond,
		MaxHTTPBufferSize: 1_000_000,
		CORS:              &engineio.CORSOptions{Origins: []string{"*"}},
	})
	srv.OnConnection(func(s *engineio.Session) {
		s.OnMessage(func(data []byte, binary bool) {
			if binary {
				_ = s.SendBinary(data)
			} else {
				_ = s.SendText(data)
			}
		})
	})
	// Timeouts as docs/security.md recommends; no WriteTimeout, which
	// would cut long polls.
	hs := &http.Server{Addr: *addr, Handler: srv, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = hs.Shutdown(ctx)
	}()
	log.Printf("eioserver listening on %s", *addr)
	if err := hs.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}

// Command sioserver is the Socket.IO server the official Socket.IO v5 test
// suite expects: path /socket.io/ on :3000 (or -addr), pingInterval 300ms,
// pingTimeout 200ms, maxPayload 1e6, connectTimeout 1s, CORS for any
// origin; namespaces "/" and "/custom" that emit "auth" with the CONNECT
// payload, and on "/" an echo of "message" as "message-back" and an ack of
// "message-with-ack" with the same arguments.
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
	"github.com/gosio/gosio/socketio"
)

func main() {
	addr := flag.String("addr", ":3000", "listen address")
	flag.Parse()

	io := socketio.NewServer(&socketio.Options{
		Engine: engineio.Options{
			PingInterval:      300 * time.Millisecond,
			PingTimeout:       200 * time.Millisecond,
			MaxHTTPBufferSize: 1_000_000,
			CORS:              &engineio.CORSOptions{Origins: []string{"*"}},
		},
		ConnectTimeout: time.Second,
	})
	io.OnConnection(func(s *socketio.Socket) {
		_ = s.Emit("auth", s.Handshake().Auth)
		s.On("message", func(args socketio.Args) {
			_ = s.Emit("message-back", args.Any()...)
		})
		s.On("message-with-ack", func(args socketio.Args, ack socketio.Ack) {
			_ = ack(args.Any()...)
		})
	})
	io.Of("/custom").OnConnection(func(s *socketio.Socket) {
		_ = s.Emit("auth", s.Handshake().Auth)
	})

	// Timeouts as docs/security.md recommends; no WriteTimeout, which
	// would cut long polls.
	hs := &http.Server{Addr: *addr, Handler: io, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = io.Shutdown(ctx)
		_ = hs.Shutdown(ctx)
	}()
	log.Printf("sioserver listening on %s", *addr)
	if err := hs.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}

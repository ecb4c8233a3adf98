package socketio_test

import (
	"context"
	"encoding/json"
	"errors"
	"expvar"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"regexp"
	"syscall"
	"time"

	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/socketio"
)

// The examples of this file back the snippets of docs/server.md. Each
// starts a server on an httptest listener, connects the Go client and
// prints what arrives. The server variable is srv, not io: io would shadow
// package io.

// ExampleNewServer is the smallest server: a connection handler that
// registers an event handler answering the client's acknowledgement.
func ExampleNewServer() {
	srv := socketio.NewServer(nil)
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("hello", func(name string, ack socketio.Ack) {
			_ = ack("hello, " + name)
		})
	})
	ts := httptest.NewServer(srv) // in production: mux.Handle("/socket.io/", srv)
	defer ts.Close()
	defer func() { _ = srv.Shutdown(context.Background()) }()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := socketio.Connect(ctx, ts.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	args, err := c.EmitWithAck(ctx, "hello", "gopher")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(args)
	// Output: ["hello, gopher"]
}

// ExampleNewServer_listen is a complete program's server on net/http, with
// the http.Server timeouts a public server needs. It is compiled, not run.
func ExampleNewServer_listen() {
	srv := socketio.NewServer(nil)
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("hello", func(name string, ack socketio.Ack) {
			_ = ack("hello, " + name)
		})
	})
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	hs := &http.Server{Addr: ":3000", Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second} // no WriteTimeout: see Limits
	log.Fatal(hs.ListenAndServe())
}

// ExampleServer_Of serves a static namespace next to the main one, with a
// connection middleware of its own. The client names the namespace in its
// URL's path.
func ExampleServer_Of() {
	srv := socketio.NewServer(nil)
	admin := srv.Of("/admin")
	admin.Use(func(s *socketio.Socket) error {
		if s.Handshake().Query.Get("role") != "admin" {
			return &socketio.ConnectError{Message: "admins only"}
		}
		return nil
	})
	admin.OnConnection(func(s *socketio.Socket) {
		_ = s.Emit("welcome", "you are in "+s.Namespace().Name())
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer func() { _ = srv.Shutdown(context.Background()) }()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := socketio.NewClient(ts.URL+"/admin?role=admin", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	welcome := make(chan string, 1)
	c.On("welcome", func(text string) { welcome <- text })
	if err := c.Connect(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println(<-welcome)
	// Output: you are in /admin
}

// ExampleServer_OfRegexp creates namespaces on demand: a client that
// connects to /room-42 gets a child namespace of that name, with the
// parent's middlewares and connection handlers.
func ExampleServer_OfRegexp() {
	srv := socketio.NewServer(&socketio.Options{CleanupEmptyChildNamespaces: true})
	rooms := srv.OfRegexp(regexp.MustCompile(`^/room-\d+$`))
	rooms.OnConnection(func(s *socketio.Socket) {
		// Emit to everyone in this child namespace only.
		_ = s.Namespace().Emit("joined", s.Namespace().Name())
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer func() { _ = srv.Shutdown(context.Background()) }()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := socketio.NewClient(ts.URL+"/room-42", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	joined := make(chan string, 1)
	c.On("joined", func(name string) { joined <- name })
	if err := c.Connect(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println(<-joined)

	// A name the parent does not match is refused.
	_, err = socketio.Connect(ctx, ts.URL+"/other", &socketio.ClientOptions{
		ManagerOptions: socketio.ManagerOptions{DisableReconnection: true},
	})
	var ce *socketio.ConnectError
	fmt.Println(errors.As(err, &ce), ce.Message)
	// Output:
	// /room-42
	// true Invalid namespace
}

// ExampleSocket_Join puts a socket in a room and broadcasts to the room.
// Events reach each client in the order they were emitted, so a last
// broadcast to everyone shows what each client got before it.
func ExampleSocket_Join() {
	srv := socketio.NewServer(nil)
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("join", func(room string, ack socketio.Ack) {
			s.Join(room)
			_ = ack()
		})
		s.On("leave", func(rooms []string) { s.Leave(rooms...) })
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer func() { _ = srv.Shutdown(context.Background()) }()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := make(chan string, 8)
	client := func(name string) *socketio.ClientSocket {
		c, err := socketio.NewClient(ts.URL, nil)
		if err != nil {
			log.Fatal(err)
		}
		c.On("news", func(text string) { got <- name + " got " + text })
		if err := c.Connect(ctx); err != nil {
			log.Fatal(err)
		}
		return c
	}
	alice, bob := client("alice"), client("bob")
	defer alice.Close()
	defer bob.Close()
	if _, err := alice.EmitWithAck(ctx, "join", "lobby"); err != nil {
		log.Fatal(err)
	}

	_ = srv.To("lobby").Emit("news", "lobby news")
	_ = srv.Except("lobby").Emit("news", "news for the others")
	_ = srv.Emit("news", "news for all")
	for range 4 {
		fmt.Println(<-got)
	}
	// Unordered output:
	// alice got lobby news
	// alice got news for all
	// bob got news for the others
	// bob got news for all
}

// ExampleSocket_EmitWithAck asks the client a question from a handler and
// waits for the answer. While it waits, this socket's later events wait
// too; other sockets are not held up.
func ExampleSocket_EmitWithAck() {
	srv := socketio.NewServer(nil)
	answers := make(chan string, 1)
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("ready", func() {
			ctx, cancel := context.WithTimeout(s.Context(), 5*time.Second)
			defer cancel()
			args, err := s.EmitWithAck(ctx, "name?")
			if err != nil {
				answers <- err.Error() // ctx's error, or a *DisconnectError
				return
			}
			var name string
			_ = args.Decode(0, &name)
			answers <- name
		})
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer func() { _ = srv.Shutdown(context.Background()) }()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := socketio.NewClient(ts.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	c.On("name?", func(ack socketio.Ack) { _ = ack("gopher") })
	if err := c.Connect(ctx); err != nil {
		log.Fatal(err)
	}
	_ = c.Emit("ready")
	fmt.Println(<-answers)
	// Output: gopher
}

// ExampleSocket_EmitWithAckFunc emits with an acknowledgement callback
// and returns at once, as Node's socket.timeout(ms).emit(ev, ..., cb): the
// callback runs later in the socket's handler order, so the socket's
// other events go on meanwhile.
func ExampleSocket_EmitWithAckFunc() {
	srv := socketio.NewServer(nil)
	done := make(chan string, 2)
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("ready", func() {
			err := s.Timeout(5*time.Second).EmitWithAckFunc("name?", func(args socketio.Args, err error) {
				if err != nil { // socketio.ErrAckTimeout, or a *DisconnectError
					done <- err.Error()
					return
				}
				done <- "answer " + args.String()
			})
			if err != nil {
				done <- err.Error()
			}
		})
		// The client answers name? only after the server handled "ping":
		// with a blocking EmitWithAck in "ready", this would never run.
		s.On("ping", func(ack socketio.Ack) { done <- "ping"; _ = ack() })
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer func() { _ = srv.Shutdown(context.Background()) }()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := socketio.NewClient(ts.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	c.On("name?", func(ack socketio.Ack) {
		if _, err := c.EmitWithAck(ctx, "ping"); err == nil {
			_ = ack("gopher")
		}
	})
	if err := c.Connect(ctx); err != nil {
		log.Fatal(err)
	}
	_ = c.Emit("ready")
	fmt.Println(<-done)
	fmt.Println(<-done)
	// Output:
	// ping
	// answer ["gopher"]
}

// ExampleBroadcastOperator_EmitWithAck broadcasts with acknowledgements and
// collects the first argument of every client's answer.
func ExampleBroadcastOperator_EmitWithAck() {
	srv := socketio.NewServer(nil)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer func() { _ = srv.Shutdown(context.Background()) }()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 3 {
		c, err := socketio.NewClient(ts.URL, nil)
		if err != nil {
			log.Fatal(err)
		}
		defer c.Close()
		c.On("vote?", func(ack socketio.Ack) { _ = ack("yes") })
		if err := c.Connect(ctx); err != nil {
			log.Fatal(err)
		}
	}
	votes, err := srv.Timeout(5*time.Second).EmitWithAck(ctx, "vote?")
	if err != nil {
		log.Fatal(err) // errors.Is(err, socketio.ErrAckTimeout): votes holds those that came
	}
	fmt.Println(votes)
	// Output: ["yes","yes","yes"]
}

// ExampleServer_Use refuses connections in a middleware; the client's
// connect_error carries the message and the data.
func ExampleServer_Use() {
	srv := socketio.NewServer(nil)
	srv.Use(func(s *socketio.Socket) error {
		var auth struct{ Token string }
		if err := json.Unmarshal(s.Handshake().Auth, &auth); err != nil || auth.Token != "secret" {
			return &socketio.ConnectError{Message: "not authorized", Data: map[string]string{"hint": "log in"}}
		}
		s.SetData(auth.Token) // available to handlers, FetchSockets and recovery
		return nil
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer func() { _ = srv.Shutdown(context.Background()) }()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := socketio.Connect(ctx, ts.URL, &socketio.ClientOptions{
		SocketOptions: socketio.SocketOptions{Auth: map[string]string{"Token": "wrong"}},
	})
	var ce *socketio.ConnectError
	if errors.As(err, &ce) {
		fmt.Printf("refused: %s %s\n", ce.Message, ce.Data)
	}
	// Output: refused: not authorized {"hint":"log in"}
}

// ExampleSocket_Use adds a packet middleware: it sees every incoming event
// before the handlers, and an error drops the event and goes to OnError.
func ExampleSocket_Use() {
	srv := socketio.NewServer(nil)
	errs := make(chan error, 1)
	srv.OnConnection(func(s *socketio.Socket) {
		s.Use(func(event string, args socketio.Args) error {
			if event == "admin:reset" {
				return errors.New("forbidden event " + event)
			}
			return nil
		})
		s.OnError(func(err error) { errs <- err })
		s.On("admin:reset", func() { fmt.Println("never printed") })
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer func() { _ = srv.Shutdown(context.Background()) }()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := socketio.Connect(ctx, ts.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	_ = c.Emit("admin:reset")
	fmt.Println(<-errs)
	// Output: forbidden event admin:reset
}

// ExampleSocket_OnError shows what happens to an argument that does not
// decode into its handler's parameter: the handler is not called, and an
// *ArgumentError goes to OnError (or is logged at warn level without one).
func ExampleSocket_OnError() {
	srv := socketio.NewServer(nil)
	errs := make(chan error, 1)
	srv.OnConnection(func(s *socketio.Socket) {
		s.OnError(func(err error) { errs <- err })
		s.On("age", func(years int, ack socketio.Ack) { _ = ack("ok") })
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer func() { _ = srv.Shutdown(context.Background()) }()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := socketio.Connect(ctx, ts.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	_ = c.Emit("age", 1.5) // not an int: the client's ack would never come
	var ae *socketio.ArgumentError
	if errors.As(<-errs, &ae) {
		fmt.Printf("event %q, argument %d, type %v\n", ae.Event, ae.Index, ae.Type)
	}
	// Output: event "age", argument 0, type int
}

// A File is sent with its bytes as a binary attachment.
type File struct {
	Name string `json:"name"`
	Data []byte `json:"data"` // a binary attachment, anywhere in the arguments
}

// ExampleSocket_Emit_binary sends []byte values as binary attachments,
// also inside structs, maps and slices, as Node sends a Buffer; they
// decode into []byte, in structs too.
func ExampleSocket_Emit_binary() {
	srv := socketio.NewServer(nil)
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("upload", func(f File, ack socketio.Ack) {
			_ = ack(len(f.Data))
			_ = s.Emit("download", File{Name: f.Name + ".bak", Data: f.Data})
		})
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer func() { _ = srv.Shutdown(context.Background()) }()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := socketio.NewClient(ts.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	files := make(chan File, 1)
	c.On("download", func(f File) { files <- f })
	if err := c.Connect(ctx); err != nil {
		log.Fatal(err)
	}
	args, err := c.EmitWithAck(ctx, "upload", File{Name: "a.bin", Data: []byte{0, 1, 2, 255}})
	if err != nil {
		log.Fatal(err)
	}
	f := <-files
	fmt.Println("server got", args, "bytes; client got", f.Name, f.Data)
	// Output: server got [4] bytes; client got a.bin.bak [0 1 2 255]
}

// ExampleConnectionStateRecovery lets a client that lost its connection
// get its socket back (id, rooms, data) with the events it missed.
func ExampleConnectionStateRecovery() {
	srv := socketio.NewServer(&socketio.Options{
		ConnectionStateRecovery: &socketio.ConnectionStateRecovery{MaxDisconnectionDuration: 2 * time.Minute},
	})
	gone := make(chan string, 1)
	srv.OnConnection(func(s *socketio.Socket) {
		if !s.Recovered() { // a recovered socket is in its rooms already
			s.Join("news")
			// A client recovers from the last event it got (its offset):
			// one that got none yet starts a new session.
			_ = s.Emit("news", "welcome")
		}
		s.On("drop-me", func() { s.Conn().Close() }) // as if the network failed
		s.OnDisconnect(func(reason string) { gone <- reason })
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer func() { _ = srv.Shutdown(context.Background()) }()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Reconnection is off here only to reconnect at a chosen moment; with
	// it on, the client reconnects and recovers by itself.
	c, err := socketio.NewClient(ts.URL, &socketio.ClientOptions{
		ManagerOptions: socketio.ManagerOptions{DisableReconnection: true},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	news := make(chan string, 2)
	c.On("news", func(text string) { news <- text }) // a last offset argument follows
	lost := make(chan string, 1)
	c.OnDisconnect(func(reason string) { lost <- reason })
	if err := c.Connect(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println(<-news, "recovered:", c.Recovered())
	id := c.ID()

	_ = c.Emit("drop-me")
	fmt.Println("client:", <-lost, "/ server:", <-gone)
	_ = srv.To("news").Emit("news", "sent while away")

	if err := c.Connect(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("recovered:", c.Recovered(), "same id:", c.ID() == id)
	fmt.Println(<-news)
	// Output:
	// welcome recovered: false
	// client: transport close / server: forced close
	// recovered: true same id: true
	// sent while away
}

// ExampleServer_Shutdown stops a server: Shutdown disconnects the sockets
// and closes the Engine.IO sessions (WebSockets are hijacked connections
// and long polls are pending requests, which http.Server.Shutdown does not
// close), then the http.Server stops.
func ExampleServer_Shutdown() {
	srv := socketio.NewServer(nil)
	reasons := make(chan string, 1)
	srv.OnConnection(func(s *socketio.Socket) {
		s.OnDisconnect(func(reason string) { reasons <- reason })
	})
	ts := httptest.NewServer(srv) // an *http.Server, hs, in production
	defer ts.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := socketio.Connect(ctx, ts.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	// On SIGTERM, for example (signal.NotifyContext):
	if err := srv.Shutdown(ctx); err != nil {
		log.Println("shutdown:", err) // ctx ended before the handlers returned
	}
	// then hs.Shutdown(ctx) for the other routes.
	fmt.Println(<-reasons)
	// Output: server shutting down
}

// ExampleServer_Shutdown_signal is the shutdown of a program: on SIGINT or
// SIGTERM, the Socket.IO server first, then the http.Server. It is compiled,
// not run.
func ExampleServer_Shutdown_signal() {
	srv := socketio.NewServer(nil)
	hs := &http.Server{Addr: ":3000", Handler: srv, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			log.Println("shutdown:", err) // ctx ended before the handlers returned
		}
		_ = hs.Shutdown(sctx)
	}()
	if err := hs.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// ExampleServer_ServeHTTP mounts the server on a net/http mux next to
// other routes, at the default path /socket.io/.
func ExampleServer_ServeHTTP() {
	srv := socketio.NewServer(nil)
	srv.OnConnection(func(s *socketio.Socket) { _ = s.Emit("hi", "from "+s.Handshake().URL[:11]) })
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
	ts := httptest.NewServer(mux)
	defer ts.Close()
	defer func() { _ = srv.Shutdown(context.Background()) }()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := socketio.NewClient(ts.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	hi := make(chan string, 1)
	c.On("hi", func(text string) { hi <- text })
	if err := c.Connect(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println(<-hi)
	// Output: from /socket.io/
}

// ExampleServer_ServeHTTP_prefix serves under a prefix, as a router that
// passes the request's full path does (chi's Mount, a gin or echo group):
// the server's path (Options.Engine.Path) and the client's
// (ManagerOptions.Path, path in socket.io-client) both name the full path.
// The client's URL path selects the namespace, never the server's path.
func ExampleServer_ServeHTTP_prefix() {
	srv := socketio.NewServer(&socketio.Options{Engine: engineio.Options{Path: "/rt/socket.io/"}})
	srv.OnConnection(func(s *socketio.Socket) { _ = s.Emit("hi", "from "+s.Handshake().URL[:14]) })
	mux := http.NewServeMux()
	mux.Handle("/rt/", srv) // chi: r.Mount("/rt", srv)
	ts := httptest.NewServer(mux)
	defer ts.Close()
	defer func() { _ = srv.Shutdown(context.Background()) }()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := socketio.NewClient(ts.URL, &socketio.ClientOptions{
		ManagerOptions: socketio.ManagerOptions{Path: "/rt/socket.io/"},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	hi := make(chan string, 1)
	c.On("hi", func(text string) { hi <- text })
	if err := c.Connect(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println(<-hi)
	// Output: from /rt/socket.io/
}

// ExampleServer_ServeHTTP_stripPrefix serves under a prefix that the router
// strips (http.StripPrefix): the server keeps its default path, the
// client still names the full path.
func ExampleServer_ServeHTTP_stripPrefix() {
	srv := socketio.NewServer(nil)
	srv.OnConnection(func(s *socketio.Socket) { _ = s.Emit("hi", "from "+s.Handshake().URL[:11]) })
	mux := http.NewServeMux()
	mux.Handle("/rt/", http.StripPrefix("/rt", srv))
	ts := httptest.NewServer(mux)
	defer ts.Close()
	defer func() { _ = srv.Shutdown(context.Background()) }()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := socketio.NewClient(ts.URL, &socketio.ClientOptions{
		ManagerOptions: socketio.ManagerOptions{Path: "/rt/socket.io/"},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	hi := make(chan string, 1)
	c.On("hi", func(text string) { hi <- text })
	if err := c.Connect(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println(<-hi)

	// Without the client's Path, the requests go to /socket.io/, which the
	// mux answers 404; the error says so.
	short, cancel2 := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel2()
	_, err = socketio.Connect(short, ts.URL+"/rt", nil) // "/rt" is taken as a namespace
	var he *engineio.HTTPError
	fmt.Println(errors.As(err, &he), he.StatusCode)
	// Output:
	// from /socket.io/
	// true 404
}

// ExampleNewServer_tls serves over TLS. The client trusts the test
// server's certificate through its http.Client, which carries the polling
// requests and the WebSocket handshake.
func ExampleNewServer_tls() {
	srv := socketio.NewServer(nil)
	srv.OnConnection(func(s *socketio.Socket) {
		_ = s.Emit("secure", s.Handshake().Secure)
	})
	ts := httptest.NewTLSServer(srv) // hs.ListenAndServeTLS("cert.pem", "key.pem") in production
	defer ts.Close()
	defer func() { _ = srv.Shutdown(context.Background()) }()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := socketio.NewClient(ts.URL, &socketio.ClientOptions{
		ManagerOptions: socketio.ManagerOptions{HTTPClient: ts.Client()},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	secure := make(chan bool, 1)
	c.On("secure", func(b bool) { secure <- b })
	if err := c.Connect(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("secure:", <-secure)
	// Output: secure: true
}

// ExampleNewServer_origins checks the Origin of every handshake, polling
// and WebSocket (CORS alone does not refuse anything), and sets CORS headers
// for the allowed origin's polling requests. See docs/security.md.
func ExampleNewServer_origins() {
	srv := socketio.NewServer(&socketio.Options{Engine: engineio.Options{
		AllowRequest: engineio.AllowOrigins("https://app.example.com"),
		CORS:         &engineio.CORSOptions{Origins: []string{"https://app.example.com"}, Credentials: true},
	}})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer func() { _ = srv.Shutdown(context.Background()) }()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, origin := range []string{"https://app.example.com", "https://evil.example"} {
		c, err := socketio.Connect(ctx, ts.URL, &socketio.ClientOptions{ManagerOptions: socketio.ManagerOptions{
			Header:              http.Header{"Origin": {origin}},
			DisableReconnection: true,
		}})
		var he *engineio.HTTPError
		switch {
		case err == nil:
			fmt.Println(origin, "connected")
			_ = c.Close()
		case errors.As(err, &he):
			fmt.Println(origin, he.StatusCode, he.Message)
		default:
			log.Fatal(err)
		}
	}
	// Output:
	// https://app.example.com connected
	// https://evil.example 403 engineio: origin not allowed
}

// ExampleNewServer_limits sets the limits a public server should review;
// docs/security.md has each default and what happens past it.
func ExampleNewServer_limits() {
	srv := socketio.NewServer(&socketio.Options{
		Engine: engineio.Options{
			MaxHTTPBufferSize: 100_000,          // largest message from a client; default 1e6
			SendQueueLimit:    256 << 10,        // bytes queued for a client that does not read; default 1 MiB
			SlowClientTimeout: 10 * time.Second, // then it is cut; default 5s
			PingInterval:      25 * time.Second,
			PingTimeout:       20 * time.Second,
		},
		ConnectTimeout: 10 * time.Second, // to join a namespace; default 45s
		MaxAttachments: 4,                // binary attachments per packet; default 10
	})
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	hs := &http.Server{
		Addr:              ":3000",
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
		// No WriteTimeout: it would cut long polls.
	}
	_ = hs // hs.ListenAndServe()
}

// ExampleServer_Stats reads the server's counters, publishes them with
// expvar (/debug/vars) and reports refused requests. See
// docs/observability.md.
func ExampleServer_Stats() {
	refused := make(chan string, 1)
	srv := socketio.NewServer(&socketio.Options{Engine: engineio.Options{
		OnConnectionError: func(r *http.Request, err *engineio.ConnectionError) {
			refused <- fmt.Sprint(err.Code, " ", err.Message)
		},
	}})
	expvar.Publish("socketio-example", srv.StatsVar())
	srv.OnConnection(func(s *socketio.Socket) {
		s.Join("lobby")
		s.On("ping", func(ack socketio.Ack) { _ = ack() })
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer func() { _ = srv.Shutdown(context.Background()) }()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := socketio.Connect(ctx, ts.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if _, err := c.EmitWithAck(ctx, "ping"); err != nil { // the connection handler has run
		log.Fatal(err)
	}
	resp, err := http.Get(ts.URL + "/socket.io/?EIO=4&transport=carrier-pigeon")
	if err != nil {
		log.Fatal(err)
	}
	_ = resp.Body.Close()
	fmt.Println("refused:", <-refused)

	st := srv.Stats()
	fmt.Println("sessions opened:", st.Engine.SessionsOpened, "connection errors:", st.Engine.ConnectionErrors)
	for _, n := range st.Namespaces {
		fmt.Printf("%s: %d sockets, %d rooms\n", n.Name, n.Sockets, n.Rooms)
	}
	// Output:
	// refused: 0 Transport unknown
	// sessions opened: 1 connection errors: 1
	// /: 1 sockets, 1 rooms
}

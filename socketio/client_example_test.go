package socketio_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"time"

	"github.com/gosio/gosio/socketio"
)

// ExampleConnect connects to the main namespace of a server, emits an
// event and waits for its acknowledgement. The server here is gosio's own,
// in process; any Socket.IO 4.x server does.
func ExampleConnect() {
	srv := socketio.NewServer(nil)
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("sum", func(a, b int, ack socketio.Ack) { _ = ack(a + b) })
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer func() { _ = srv.Shutdown(context.Background()) }()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := socketio.Connect(ctx, ts.URL, nil) // ts.URL+"/admin" for namespace /admin
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	args, err := s.EmitWithAck(ctx, "sum", 1, 2)
	if err != nil {
		log.Fatal(err)
	}
	var sum int
	if err := args.Decode(0, &sum); err != nil {
		log.Fatal(err)
	}
	fmt.Println("1 + 2 =", sum)
	// Output: 1 + 2 = 3
}

// ExampleNewClient registers handlers before connecting, so that no event
// is missed, and follows the reconnection. Auth is sent with every
// (re)connection; the server can refuse it with a *socketio.ConnectError.
func ExampleNewClient() {
	srv := socketio.NewServer(nil)
	srv.Use(func(s *socketio.Socket) error {
		if string(s.Handshake().Auth) != `{"token":"secret"}` {
			return &socketio.ConnectError{Message: "not authorized"}
		}
		return nil
	})
	srv.OnConnection(func(s *socketio.Socket) { _ = s.Emit("welcome", "hello") })
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer func() { _ = srv.Shutdown(context.Background()) }()

	s, err := socketio.NewClient(ts.URL, &socketio.ClientOptions{
		ManagerOptions: socketio.ManagerOptions{ReconnectionDelayMax: 10 * time.Second},
		SocketOptions:  socketio.SocketOptions{Auth: map[string]string{"token": "secret"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	welcome := make(chan string, 1)
	s.On("welcome", func(text string) { welcome <- text })
	s.OnDisconnect(func(reason string) { log.Println("disconnected:", reason) })
	s.Manager().OnReconnect(func(attempt int) { log.Println("reconnected after", attempt, "attempts") })

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Connect(ctx); err != nil {
		log.Fatal(err) // a *socketio.ConnectError if the server refused
	}
	fmt.Println(<-welcome)
	// Output: hello
}

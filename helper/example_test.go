package helper_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/gosio/gosio/helper"
	"github.com/gosio/gosio/socketio"
)

// A server helper on a router, in memory (no Redis). Clients authenticate
// with a token in their CONNECT auth payload or an Authorization header,
// and may join the rooms starting with "public-".
func ExampleNewServer() {
	ctx := context.Background()
	h, err := helper.NewServer(ctx, &helper.ServerOptions{
		Identifier: "example",
		Authenticate: func(ctx context.Context, hs *socketio.Handshake) (bool, error) {
			var auth struct{ Token string }
			_ = json.Unmarshal(hs.Auth, &auth)
			if auth.Token == "" {
				auth.Token = strings.TrimPrefix(hs.Headers.Get("Authorization"), "Bearer ")
			}
			return auth.Token == "secret", nil
		},
		ValidateRooms: func(ctx context.Context, s *socketio.Socket, rooms []string) ([]string, error) {
			var ok []string
			for _, r := range rooms {
				if strings.HasPrefix(r, "public-") {
					ok = append(ok, r)
				}
			}
			return ok, nil
		},
		Logger: quiet,
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", h)
	srv := httptest.NewServer(mux) // http.ListenAndServe(":3000", mux) in a program
	defer srv.Close()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.Shutdown(ctx) // before the http.Server closes
	}()

	// A client authenticates and joins a room.
	done := make(chan struct{})
	var c *helper.ClientHelper
	c, err = helper.NewClient(&helper.ClientOptions{
		URL:             srv.URL,
		Socket:          &socketio.ClientOptions{SocketOptions: socketio.SocketOptions{Auth: map[string]string{"token": "secret"}}},
		OnConnected:     func() { _ = c.Authenticate() },
		OnAuthenticated: func() { close(done) },
		Logger:          quiet,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Shutdown()
	if err := c.Connect(ctx); err != nil {
		log.Fatal(err)
	}
	<-done
	_ = c.JoinRooms("public-news", "private-x")
	for {
		ci, _ := h.Client(c.Socket().ID())
		if len(ci.Rooms) == 4 {
			fmt.Println(ci.State, ci.Rooms[1:])
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Output: authenticated [io-default io-notification public-news]
}

// A client helper: it connects, authenticates from OnConnected, and
// receives what the server sends to its room.
func ExampleNewClient() {
	h, err := helper.NewServer(context.Background(), &helper.ServerOptions{
		Authenticate: func(ctx context.Context, hs *socketio.Handshake) (bool, error) {
			return hs.Headers.Get("Authorization") == "Bearer secret", nil
		},
		Logger: quiet,
	})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Shutdown(context.Background())

	authenticated := make(chan struct{})
	news := make(chan string, 1)
	var c *helper.ClientHelper
	c, err = helper.NewClient(&helper.ClientOptions{
		Identifier: "example-client",
		URL:        srv.URL,
		Socket: &socketio.ClientOptions{ManagerOptions: socketio.ManagerOptions{
			Header: http.Header{"Authorization": {"Bearer secret"}},
		}},
		OnConnected: func() {
			if err := c.Authenticate(); err != nil {
				log.Print(err)
			}
		},
		OnAuthenticated: func() { close(authenticated) },
		OnDisconnected:  func(reason string) { fmt.Println("disconnected:", reason) },
		Reauthenticate:  true, // authenticate again after a reconnection
		Logger:          quiet,
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = c.Subscribe("news", func(item struct{ Title string }) { news <- item.Title })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		log.Fatal(err)
	}
	<-authenticated
	fmt.Println(c.State())

	_ = h.Send(context.Background(), helper.RoomNotification, "news", map[string]string{"title": "hello"})
	fmt.Println(<-news)
	_ = c.Shutdown()
	// Output:
	// authenticated
	// hello
	// disconnected: io client disconnect
}

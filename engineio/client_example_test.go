package engineio_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"time"

	"github.com/gosio/gosio/engineio"
)

// ExampleDial opens a connection to an echo server, sends a text and a
// binary message, reads the echoes from OnMessage and closes. Setting the
// callbacks in the options makes sure no message is missed.
func ExampleDial() {
	srv := engineio.NewServer(nil)
	srv.OnConnection(func(s *engineio.Session) {
		s.OnMessage(func(data []byte, binary bool) {
			if binary {
				_ = s.SendBinary(data)
			} else {
				_ = s.SendText(data)
			}
		})
	})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer func() { _ = srv.Shutdown(context.Background()) }()

	echoes := make(chan string, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := engineio.Dial(ctx, hs.URL, &engineio.DialOptions{
		OnMessage: func(data []byte, binary bool) { echoes <- fmt.Sprintf("%q binary=%v", data, binary) },
		OnClose:   func(reason string, err error) { log.Println("closed:", reason) },
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	_ = c.SendText([]byte("hello"))
	_ = c.SendBinary([]byte{1, 2, 3})
	fmt.Println(<-echoes)
	fmt.Println(<-echoes)
	// Output:
	// "hello" binary=false
	// "\x01\x02\x03" binary=true
}

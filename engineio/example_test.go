package engineio_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gosio/gosio/engineio"
)

// ExampleNewServer runs an echo server: it registers the session callbacks
// in OnConnection, serves under the default path, and shuts down in order:
// first the Engine.IO server, which closes WebSockets and releases pending
// polls (http.Server.Shutdown would wait for those), then the HTTP server,
// each within a bounded context.
func ExampleNewServer() {
	srv := engineio.NewServer(&engineio.Options{PingInterval: 10 * time.Second})
	closed := make(chan string, 1)
	srv.OnConnection(func(s *engineio.Session) {
		s.OnMessage(func(data []byte, binary bool) {
			if binary {
				_ = s.SendBinary(data)
				return
			}
			_ = s.SendText(data)
		})
		s.OnClose(func(reason string, err error) {
			closed <- reason
		})
	})

	mux := http.NewServeMux()
	mux.Handle(engineio.DefaultPath, srv)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()

	// A client: open a session over polling, send a message, poll the echo.
	client := &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	base := "http://" + ln.Addr().String() + engineio.DefaultPath + "?EIO=4&transport=polling"
	open := request(client, http.MethodGet, base, "")
	var handshake struct {
		SID string `json:"sid"`
	}
	_ = json.Unmarshal([]byte(strings.TrimPrefix(open, "0")), &handshake)
	fmt.Println("sessions:", srv.Count())
	fmt.Println("POST:", request(client, http.MethodPost, base+"&sid="+handshake.SID, "4hello"))
	fmt.Println("GET:", request(client, http.MethodGet, base+"&sid="+handshake.SID, ""))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Print("engineio shutdown: ", err)
	}
	if err := hs.Shutdown(ctx); err != nil {
		log.Print("http shutdown: ", err)
	}
	fmt.Println("closed:", <-closed)
	// Output:
	// sessions: 1
	// POST: ok
	// GET: 4hello
	// closed: forced close
}

func request(client *http.Client, method, url, body string) string {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	res, err := client.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

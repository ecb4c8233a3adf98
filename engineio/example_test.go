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

// ExampleServer_NewGroup relays every message to every session, as a chat
// room does: sessions join the group when they open and leave it when they
// close, and a message is copied once for the lot, however many members.
func ExampleServer_NewGroup() {
	srv := engineio.NewServer(nil)
	room := srv.NewGroup()
	srv.OnConnection(func(s *engineio.Session) {
		room.Add(s)
		s.OnClose(func(string, error) { room.Remove(s) })
		s.OnMessage(func(data []byte, binary bool) {
			if !binary {
				room.QueueAll([]*engineio.Message{engineio.NewTextMessage(data)})
			}
		})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()

	client := &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	base := "http://" + ln.Addr().String() + engineio.DefaultPath + "?EIO=4&transport=polling"
	open := func() string {
		var handshake struct {
			SID string `json:"sid"`
		}
		_ = json.Unmarshal([]byte(strings.TrimPrefix(request(client, http.MethodGet, base, ""), "0")), &handshake)
		return base + "&sid=" + handshake.SID
	}
	alice, bob := open(), open()
	fmt.Println("members:", room.Len())
	fmt.Println("alice POST:", request(client, http.MethodPost, alice, "4hi all"))
	fmt.Println("alice GET:", request(client, http.MethodGet, alice, ""))
	fmt.Println("bob GET:", request(client, http.MethodGet, bob, ""))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	_ = hs.Shutdown(ctx)
	fmt.Println("members after shutdown:", room.Len())
	// Output:
	// members: 2
	// alice POST: ok
	// alice GET: 4hi all
	// bob GET: 4hi all
	// members after shutdown: 0
}

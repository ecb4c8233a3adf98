package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/rueidis"

	"github.com/gosio/gosio/helper"
	"github.com/gosio/gosio/socketio"
)

// serveGo is "helperbench serve-go": the Go side of the benchmark, a
// helper.ServerHelper on Redis with the same callbacks and control API as
// ts-server.mjs. It prints a {"event":"ready"} line once both servers
// listen and exits on SIGTERM.
func serveGo(args []string) error {
	fs := flag.NewFlagSet("serve-go", flag.ContinueOnError)
	port := fs.Int("port", 0, "Socket.IO port")
	ctlPort := fs.Int("control-port", 0, "control API port")
	redisURL := fs.String("redis", "redis://127.0.0.1:6379", "Redis URL")
	logFile := fs.String("log", os.DevNull, "file for the helper's info log lines")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	lf, err := os.OpenFile(*logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer lf.Close()
	log := slog.New(slog.NewJSONHandler(lf, &slog.HandlerOptions{Level: slog.LevelInfo}))

	ropt, err := rueidis.ParseURL(*redisURL)
	if err != nil {
		return err
	}
	ropt.DisableCache = true
	rc, err := rueidis.NewClient(ropt)
	if err != nil {
		return err
	}
	defer rc.Close()
	h, err := helper.NewServer(ctx, &helper.ServerOptions{
		Identifier:    "bench-go",
		Redis:         rc,
		Logger:        log,
		Authenticate:  benchAuthenticate,
		ValidateRooms: benchRooms,
	})
	if err != nil {
		return err
	}
	sio, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(*port))
	if err != nil {
		return err
	}
	ctl, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(*ctlPort))
	if err != nil {
		return err
	}
	sioHTTP := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ctlHTTP := &http.Server{Handler: goControl{h}, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = sioHTTP.Serve(sio) }()
	go func() { _ = ctlHTTP.Serve(ctl) }()
	fmt.Printf("{\"event\":\"ready\",\"impl\":\"go\",\"pid\":%d,\"port\":%d,\"controlPort\":%d}\n", os.Getpid(), *port, *ctlPort)

	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = ctlHTTP.Close()
	err = h.Shutdown(sctx)
	_ = sioHTTP.Close()
	return err
}

// benchAuthenticate accepts the handshake's auth token "good", as
// ts-server.mjs does.
func benchAuthenticate(_ context.Context, hs *socketio.Handshake) (bool, error) {
	var a struct {
		Token string `json:"token"`
	}
	_ = json.Unmarshal(hs.Auth, &a)
	return a.Token == "good", nil
}

// benchRooms allows the requested rooms that start with "bench-".
func benchRooms(_ context.Context, _ *socketio.Socket, rooms []string) ([]string, error) {
	out := rooms[:0:0]
	for _, r := range rooms {
		if strings.HasPrefix(r, "bench-") {
			out = append(out, r)
		}
	}
	return out, nil
}

// goControl is the control API of serve-go (see ts-server.mjs for the
// contract):
//
//	POST /send-burst {destination, topic, count, data} -> count Sends of {"n":i, ...data}
//	GET  /stats?room=R -> {"clients":N, "authenticated":A, "room":size of R on this server}
type goControl struct{ h *helper.ServerHelper }

func (c goControl) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/send-burst":
		var b burstBody
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for i := range b.Count {
			data := map[string]any{"n": i, "text": b.Data.Text}
			if err := c.h.Send(r.Context(), b.Destination, b.Topic, data); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	case r.Method == http.MethodGet && r.URL.Path == "/stats":
		var st statsBody
		for _, ci := range c.h.Clients() {
			st.Clients++
			if ci.State == helper.StateAuthenticated {
				st.Authenticated++
			}
		}
		if room := r.URL.Query().Get("room"); room != "" {
			st.Room = len(c.h.IO().Sockets().Adapter().Sockets([]string{room}))
		}
		_ = json.NewEncoder(w).Encode(st)
	default:
		http.NotFound(w, r)
	}
}

// burstBody is POST /send-burst.
type burstBody struct {
	Destination string `json:"destination"`
	Topic       string `json:"topic"`
	Count       int    `json:"count"`
	Data        struct {
		Text string `json:"text"`
	} `json:"data"`
}

// statsBody is GET /stats.
type statsBody struct {
	Clients       int `json:"clients"`
	Authenticated int `json:"authenticated"`
	Room          int `json:"room"`
}

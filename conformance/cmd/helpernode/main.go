// Command helpernode is the Go process of the helper layer's mixed cluster
// test: a helper.ServerHelper on a Redis, with an HTTP control API in the
// spirit of the one of the TypeScript peer (shared/peers/ignis/server.mjs),
// so that a test drives Go and TypeScript helper servers alike.
//
//	helpernode --port P --redis redis://HOST:PORT [--identifier NAME] [--host 127.0.0.1]
//	           [--control-port P+1000] [--authenticate-timeout MS] [--ping-interval MS]
//	           [--default-rooms a,b] [--no-validate-room] [--slow-ms MS]
//
// The Socket.IO server (path /socket.io/) listens on P, the control API on
// --control-port (default P+1000), both on --host. Once both listen, it
// prints one JSON line on stdout:
//
//	{"event":"ready","pid":..,"impl":"go","identifier":..,"port":P,"controlPort":..,"redis":..}
//
// Authenticate follows the TypeScript peer's authenticateFn: the token is
// the handshake's auth.token, or else its Authorization header without a
// "Bearer " prefix; "good" authenticates, "slow-good[:MS]" and
// "slow-bad[:MS]" answer true and false after MS (default --slow-ms),
// "throw" fails with an error, anything else is refused. ValidateRooms
// keeps the rooms that start with "public-" (none with
// --no-validate-room, which leaves it unset).
//
// Control API (JSON):
//
//	POST /send       {destination?, topic, data}  -> ServerHelper.Send; {"ok":true}
//	GET  /clients    {clients:[{id,state,rooms,connected}], sockets:[ids]}
//	POST /disconnect {id}                          -> ServerHelper.Disconnect; 404 if unknown
//	POST /shutdown                                 -> ServerHelper.Shutdown, the answer, then exit 0
//
// SIGTERM and SIGINT shut down the same way. Shutdown closes the helper,
// both HTTP servers and the Redis client.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/rueidis"

	"github.com/gosio/gosio/helper"
	"github.com/gosio/gosio/socketio"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// config is the command line.
type config struct {
	port, controlPort   int
	host, redisURL, id  string
	authTimeout, pingIv time.Duration
	defaultRooms        []string // nil: the helper's default
	noValidate          bool
	slow                time.Duration
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("helpernode", flag.ContinueOnError)
	fs.SetOutput(stderr)
	port := fs.Int("port", 0, "Socket.IO port (required)")
	ctl := fs.Int("control-port", 0, "control API port (default port+1000)")
	host := fs.String("host", "127.0.0.1", "address both servers bind")
	redisURL := fs.String("redis", "redis://127.0.0.1:6379", "Redis URL")
	id := fs.String("identifier", "", "helper identifier (default go-helper-<port>)")
	authMS := fs.Int("authenticate-timeout", 0, "AuthenticateTimeout in ms (0: the helper's default)")
	pingMS := fs.Int("ping-interval", 0, "PingInterval in ms (0: the helper's default)")
	rooms := fs.String("default-rooms", "\x00", "DefaultRooms, comma-separated (an empty value: none)")
	noValidate := fs.Bool("no-validate-room", false, "leave ValidateRooms unset (every join refused)")
	slowMS := fs.Int("slow-ms", 1500, `delay of the tokens "slow-good" and "slow-bad" without ":MS"`)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *port <= 0 || *port > 65535 {
		return nil, errors.New("--port is required")
	}
	c := &config{port: *port, controlPort: *ctl, host: *host, redisURL: *redisURL, id: *id,
		authTimeout: time.Duration(*authMS) * time.Millisecond, pingIv: time.Duration(*pingMS) * time.Millisecond,
		noValidate: *noValidate, slow: time.Duration(*slowMS) * time.Millisecond}
	if c.controlPort == 0 {
		c.controlPort = c.port + 1000
	}
	if c.controlPort > 65535 {
		return nil, errors.New("--control-port: port+1000 is not a valid port")
	}
	if c.id == "" {
		c.id = "go-helper-" + strconv.Itoa(c.port)
	}
	if *rooms != "\x00" {
		c.defaultRooms = []string{}
		for r := range strings.SplitSeq(*rooms, ",") {
			if r = strings.TrimSpace(r); r != "" {
				c.defaultRooms = append(c.defaultRooms, r)
			}
		}
	}
	return c, nil
}

// run serves until ctx ends or POST /shutdown, and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "helpernode: %v\n", err)
		}
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	ropt, err := rueidis.ParseURL(cfg.redisURL)
	if err != nil {
		fmt.Fprintf(stderr, "helpernode: --redis: %v\n", err)
		return 2
	}
	ropt.DisableCache = true
	rc, err := rueidis.NewClient(ropt)
	if err != nil {
		fmt.Fprintf(stderr, "helpernode: redis: %v\n", err)
		return 1
	}
	defer rc.Close()

	opts := &helper.ServerOptions{
		Identifier:          cfg.id,
		Redis:               rc,
		Authenticate:        cfg.authenticate,
		AuthenticateTimeout: cfg.authTimeout,
		PingInterval:        cfg.pingIv,
		DefaultRooms:        cfg.defaultRooms,
		Logger:              log,
	}
	if !cfg.noValidate {
		opts.ValidateRooms = publicRooms
	}
	startCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	h, err := helper.NewServer(startCtx, opts)
	cancel()
	if err != nil {
		fmt.Fprintf(stderr, "helpernode: %v\n", err)
		return 1
	}

	sioLn, err := net.Listen("tcp", net.JoinHostPort(cfg.host, strconv.Itoa(cfg.port)))
	if err != nil {
		fmt.Fprintf(stderr, "helpernode: %v\n", err)
		_ = h.Shutdown(context.Background())
		return 1
	}
	ctlLn, err := net.Listen("tcp", net.JoinHostPort(cfg.host, strconv.Itoa(cfg.controlPort)))
	if err != nil {
		fmt.Fprintf(stderr, "helpernode: %v\n", err)
		_ = sioLn.Close()
		_ = h.Shutdown(context.Background())
		return 1
	}
	// No read timeout on the Socket.IO server: long polling waits up to the
	// ping interval, and WebSocket connections are hijacked.
	errLog := slog.NewLogLogger(log.Handler(), slog.LevelDebug)
	sioHTTP := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, ErrorLog: errLog}
	quit := make(chan struct{})
	var quitOnce sync.Once
	ctl := &control{h: h, quit: func() { quitOnce.Do(func() { close(quit) }) }}
	ctlHTTP := &http.Server{Handler: ctl, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute, ErrorLog: errLog}
	var serving sync.WaitGroup
	serving.Add(2)
	go func() { defer serving.Done(); _ = sioHTTP.Serve(sioLn) }()
	go func() { defer serving.Done(); _ = ctlHTTP.Serve(ctlLn) }()

	ready, _ := json.Marshal(map[string]any{
		"event": "ready", "pid": os.Getpid(), "impl": "go", "identifier": cfg.id,
		"port": cfg.port, "host": cfg.host, "controlPort": cfg.controlPort, "redis": strings.Join(ropt.InitAddress, ","),
	})
	fmt.Fprintf(stdout, "%s\n", ready)

	select {
	case <-ctx.Done():
	case <-quit:
	}
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	if err := h.Shutdown(sctx); err != nil {
		log.Warn("helper shutdown", "err", err)
	}
	if err := ctlHTTP.Shutdown(sctx); err != nil {
		_ = ctlHTTP.Close()
	}
	_ = sioHTTP.Close()
	serving.Wait()
	fmt.Fprintf(stdout, "{\"event\":\"shutdown\",\"pid\":%d}\n", os.Getpid())
	return 0
}

// authenticate is the TypeScript peer's authenticateFn.
func (c *config) authenticate(ctx context.Context, hs *socketio.Handshake) (bool, error) {
	tok := tokenOf(hs)
	switch {
	case tok == "good":
		return true, nil
	case tok == "throw":
		return false, errors.New("authenticate failed on purpose")
	case strings.HasPrefix(tok, "slow-good"), strings.HasPrefix(tok, "slow-bad"):
		d := c.slow
		if _, ms, ok := strings.Cut(tok, ":"); ok {
			n, err := strconv.Atoi(ms)
			if err != nil {
				return false, fmt.Errorf("bad delay in token %q", tok)
			}
			d = time.Duration(n) * time.Millisecond
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return false, ctx.Err()
		}
		return strings.HasPrefix(tok, "slow-good"), nil
	}
	return false, nil
}

// tokenOf returns the handshake's auth.token, or else its Authorization
// header without "Bearer ".
func tokenOf(hs *socketio.Handshake) string {
	var a struct {
		Token string `json:"token"`
	}
	if len(hs.Auth) > 0 && json.Unmarshal(hs.Auth, &a) == nil && a.Token != "" {
		return a.Token
	}
	h := hs.Headers.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimLeft(h[7:], " ")
	}
	return h
}

// publicRooms is the TypeScript peer's validateRoomFn: the requested rooms
// that start with "public-".
func publicRooms(_ context.Context, _ *socketio.Socket, rooms []string) ([]string, error) {
	var out []string
	for _, r := range rooms {
		if strings.HasPrefix(r, "public-") {
			out = append(out, r)
		}
	}
	return out, nil
}

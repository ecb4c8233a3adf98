// Command clusternode is the Go node of the interop cluster tests: a gosio
// Socket.IO server with a Redis adapter and the JSON control API of the
// Node reference node, so that a test drives Go and Node nodes alike and
// mixes them in one cluster. It implements the contract of
// shared/peers/cluster/README.md (the Node reference is node-server.mjs
// next to it): the same command line, ready line (with impl "go"), HTTP
// control API and socket handlers.
//
//	clusternode --port P --redis redis://HOST:PORT --adapter classic|sharded|streams [--name NAME] [--host 127.0.0.1]
//
// The Socket.IO server listens on P (path /socket.io/), the control API on
// P+1000, both on --host. Once both listen, it prints one line on stdout:
//
//	{"ready":true,"name":..,"impl":"go","adapter":..,"port":P,"controlPort":P+1000}
//
// It exits 0 on SIGTERM or SIGINT, after shutting down the server and the
// adapter.
//
// Adapters: classic is redis.New (Node's createAdapter), sharded is
// redis.NewSharded (createShardedAdapter, subscription mode dynamic) and
// streams is redis.NewStreams (the streams adapter's createAdapter), all
// with their default options, on one rueidis client made from --redis
// (rueidis.ParseURL, client-side caching off). As on the Node node,
// connection state recovery is on only with streams (2 minutes, the
// middlewares skipped).
//
// Extension: --adapter memory runs the in-memory adapter, without Redis
// (--redis is ignored), to try the control API on one node; the node is
// then alone in its cluster (server count 1, no server-side emits).
//
// Extension: GET /all-rooms[?nsp=] answers {"rooms":[...]}, the sorted
// adapter.allRooms() of the namespace (classic: every node, Node ones
// included, answers the request).
//
// Extension: --adapter-opts JSON sets adapter options by their Node names:
// subscriptionMode (sharded), parser "json" and
// publishOnSpecificResponseChannel (classic). The mixed tests give the
// Node node the same JSON through conformance/js/node-with-opts.mjs.
//
// Differences from the Node node, where gosio's API differs:
//   - /sse rejects the event names gosio reserves for server-side emits
//     (connect, connect_error, disconnect, disconnecting, newListener,
//     removeListener) besides Node's (connect, connection, new_namespace),
//     with gosio's error text;
//   - /fetch with timeoutMs bounds the call's context too, so the classic
//     adapter gives up after timeoutMs where Node's waits its 5 s;
//   - /fetch lists the data of another node's socket with its keys sorted
//     (socketio decodes it into a map).
//
// socket.data is set and the query's rooms are joined in a middleware, not
// in the connection handler: see node.prepare.
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
	"syscall"
	"time"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/socketio"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// config is the command line.
type config struct {
	port        int
	controlPort int
	redisURL    string
	adapter     string
	name        string
	host        string
	opts        adapterOpts
}

// adapterOpts are the adapter options --adapter-opts sets, by their Node
// names (an extension of the contract, for the option coverage of the
// mixed tests; the tests give Node nodes the same JSON).
type adapterOpts struct {
	SubscriptionMode                 string `json:"subscriptionMode"`                 // sharded: dynamic|static|dynamic-private
	Parser                           string `json:"parser"`                           // classic: "json" for the JSON parser
	PublishOnSpecificResponseChannel bool   `json:"publishOnSpecificResponseChannel"` // classic
}

// csr reports whether connection state recovery is on: with the streams
// adapter only, as on the Node node.
func (c *config) csr() bool { return c.adapter == "streams" }

// exitUsage is the exit status for a bad command line, as the Node node's.
const exitUsage = 2

// parseFlags parses the command line as node-server.mjs does.
func parseFlags(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("clusternode", flag.ContinueOnError)
	fs.SetOutput(stderr)
	port := fs.String("port", "", "Socket.IO port P; the control API listens on P+1000")
	redisURL := fs.String("redis", "redis://127.0.0.1:6379", "Redis URL")
	adapterKind := fs.String("adapter", "classic", "classic|sharded|streams (memory: in-memory, no Redis)")
	name := fs.String("name", "", "node name (default node-P)")
	host := fs.String("host", "127.0.0.1", "address both servers bind")
	optsJSON := fs.String("adapter-opts", "", `adapter options by their Node names, as JSON (extension): {"subscriptionMode":"static"}, {"parser":"json"}, {"publishOnSpecificResponseChannel":true}`)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	p, err := strconv.Atoi(*port)
	if err != nil || p <= 0 || p+1000 > 65535 {
		return nil, errors.New("--port P is required (P+1000 must be a valid port)")
	}
	switch *adapterKind {
	case "classic", "sharded", "streams", "memory":
	default:
		return nil, fmt.Errorf("--adapter must be classic|sharded|streams|memory, got %s", *adapterKind)
	}
	c := &config{port: p, controlPort: p + 1000, redisURL: *redisURL, adapter: *adapterKind, name: *name, host: *host}
	if *optsJSON != "" {
		dec := json.NewDecoder(strings.NewReader(*optsJSON))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c.opts); err != nil {
			return nil, fmt.Errorf("--adapter-opts: %v", err)
		}
		switch c.opts.SubscriptionMode {
		case "", "dynamic", "static", "dynamic-private":
		default:
			return nil, fmt.Errorf("--adapter-opts: unknown subscriptionMode %q", c.opts.SubscriptionMode)
		}
		if c.opts.Parser != "" && c.opts.Parser != "json" {
			return nil, fmt.Errorf(`--adapter-opts: parser must be "json"`)
		}
	}
	if c.name == "" {
		c.name = "node-" + strconv.Itoa(p)
	}
	return c, nil
}

// run runs the node until ctx is done and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "clusternode: %v\n", err)
		}
		return exitUsage
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("node", cfg.name)

	startCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	factory, closeAdapter, err := newAdapter(startCtx, cfg, log)
	cancel()
	if err != nil {
		fmt.Fprintf(stderr, "clusternode: %s adapter: %v\n", cfg.adapter, err)
		return 1
	}
	n := newNode(cfg, log)
	sopts := &socketio.Options{Adapter: n.tap(factory), Logger: log}
	if cfg.csr() {
		sopts.ConnectionStateRecovery = &socketio.ConnectionStateRecovery{MaxDisconnectionDuration: 2 * time.Minute}
	}
	n.srv = socketio.NewServer(sopts)
	for _, name := range namespaces {
		nsp, err := n.srv.OfContext(ctx, name)
		if err != nil {
			fmt.Fprintf(stderr, "clusternode: namespace %s: %v\n", name, err)
			shutdown(n, nil, nil, closeAdapter, log)
			return 1
		}
		n.nsps[name] = nsp
		nsp.Use(n.prepare)
		nsp.OnConnection(n.onConnection)
	}

	sioLn, err := net.Listen("tcp", net.JoinHostPort(cfg.host, strconv.Itoa(cfg.port)))
	if err != nil {
		fmt.Fprintf(stderr, "clusternode: %v\n", err)
		shutdown(n, nil, nil, closeAdapter, log)
		return 1
	}
	ctlLn, err := net.Listen("tcp", net.JoinHostPort(cfg.host, strconv.Itoa(cfg.controlPort)))
	if err != nil {
		fmt.Fprintf(stderr, "clusternode: %v\n", err)
		_ = sioLn.Close()
		shutdown(n, nil, nil, closeAdapter, log)
		return 1
	}
	// No read or write timeout on the Socket.IO server: long polling waits
	// up to the ping interval, and WebSocket connections are hijacked with
	// the deadlines set so far.
	sioHTTP := &http.Server{Handler: n.srv, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	// The control API's waits are bounded by the routes' own timeouts.
	ctlHTTP := &http.Server{Handler: n, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	go func() { _ = sioHTTP.Serve(sioLn) }()
	go func() { _ = ctlHTTP.Serve(ctlLn) }()

	log.Info(fmt.Sprintf("socket.io on %s (adapter=%s, csr=%t), control API on %s", sioLn.Addr(), cfg.adapter, cfg.csr(), ctlLn.Addr()))
	ready, _ := json.Marshal(struct {
		Ready       bool   `json:"ready"`
		Name        string `json:"name"`
		Impl        string `json:"impl"`
		Adapter     string `json:"adapter"`
		Port        int    `json:"port"`
		ControlPort int    `json:"controlPort"`
	}{true, cfg.name, "go", cfg.adapter, cfg.port, cfg.controlPort})
	if _, err := fmt.Fprintf(stdout, "%s\n", ready); err != nil {
		log.Error("cannot print the ready line", "err", err)
	}

	<-ctx.Done()
	log.Info("shutting down")
	shutdown(n, sioHTTP, ctlHTTP, closeAdapter, log)
	return 0
}

// shutdown stops the control API, the Socket.IO server (which closes the
// namespaces' adapters) and the adapter's connections, within a few
// seconds.
func shutdown(n *node, sioHTTP, ctlHTTP *http.Server, closeAdapter func() error, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if ctlHTTP != nil {
		c, cc := context.WithTimeout(ctx, time.Second)
		if err := ctlHTTP.Shutdown(c); err != nil {
			_ = ctlHTTP.Close()
		}
		cc()
	}
	if err := n.srv.Shutdown(ctx); err != nil {
		log.Warn("socket.io shutdown", "err", err)
	}
	if sioHTTP != nil {
		_ = sioHTTP.Close()
	}
	if err := closeAdapter(); err != nil {
		log.Warn("adapter close", "err", err)
	}
}

// newAdapter returns the adapter factory of cfg.adapter and what closes
// the adapter's connections.
func newAdapter(ctx context.Context, cfg *config, log *slog.Logger) (adapter.Factory, func() error, error) {
	if cfg.adapter == "memory" {
		return adapter.NewMemory, func() error { return nil }, nil
	}
	return newRedisAdapter(ctx, cfg, log)
}

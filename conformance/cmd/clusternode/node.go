package main

import (
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/parser"
	"github.com/gosio/gosio/socketio"
)

// namespaces exist from the start and have the same handlers.
var namespaces = []string{"/", "/custom"}

// node is the running program: the server, its namespaces and the list of
// server-side emits received.
type node struct {
	cfg  *config
	log  *slog.Logger
	srv  *socketio.Server
	nsps map[string]*socketio.Namespace

	mu          sync.Mutex
	receivedSSE []sseRecord
}

func newNode(cfg *config, log *slog.Logger) *node {
	return &node{cfg: cfg, log: log, nsps: make(map[string]*socketio.Namespace)}
}

// sseRecord is one received server-side emit, as GET /received-sse lists it.
type sseRecord struct {
	Nsp        string          `json:"nsp"`
	Event      string          `json:"event"`
	Args       json.RawMessage `json:"args"`
	WithAck    bool            `json:"withAck"`
	ReceivedAt int64           `json:"receivedAt"`
}

// tap wraps an adapter factory so that the adapter hands the server-side
// emits it receives to the node, whatever their event name: socketio has
// no catch-all for them (OnServerSideEmit takes one event name), so the
// node listens where the adapter delivers them, as the Node node replaces
// Namespace#_onServerSideEmit.
func (n *node) tap(f adapter.Factory) adapter.Factory {
	return func(nsp adapter.Namespace) adapter.Adapter { return f(sseTap{Namespace: nsp, n: n}) }
}

// sseTap is the adapter.Namespace the adapters get: the namespace, with
// HandleServerSideEmit recording each event and answering its ack.
type sseTap struct {
	adapter.Namespace
	n *node
}

// HandleServerSideEmit implements adapter.Namespace. It does not block: the
// ack (a publish) is sent from a goroutine of its own.
func (t sseTap) HandleServerSideEmit(event string, args []parser.Value, ack func(arg any)) {
	rec := sseRecord{Nsp: t.Name(), Event: event, Args: fromValues(args), WithAck: ack != nil, ReceivedAt: time.Now().UnixMilli()}
	t.n.mu.Lock()
	t.n.receivedSSE = append(t.n.receivedSSE, rec)
	t.n.mu.Unlock()
	if ack != nil {
		go ack(t.n.cfg.name + ":ack")
	}
}

// nodeData is socket.data: the node holding the socket, and the node it
// first connected to.
type nodeData struct {
	Server      string `json:"server"`
	FirstServer string `json:"firstServer"`
}

// prepare sets socket.data and joins the rooms of the query, as the Node
// node's connection handler does. It is a middleware, so that both are
// done before the client gets its CONNECT reply: socketio runs the
// connection handlers after queueing the reply, so a client (or a test
// driving the control API once the client is connected) could otherwise
// see the socket before it joined its rooms, which Node's single thread
// never shows.
func (n *node) prepare(s *socketio.Socket) error {
	n.setData(s)

	// handshake.query.rooms is the last value of the key (see
	// socketio.Handshake.MarshalJSON).
	if q := s.Handshake().Query["rooms"]; len(q) > 0 {
		rooms := []string{s.ID()} // its own room first, as socketio adds it after the middlewares
		for _, r := range strings.Split(q[len(q)-1], ",") {
			if r = strings.TrimSpace(r); r != "" {
				rooms = append(rooms, r)
			}
		}
		if len(rooms) > 1 {
			s.Join(rooms...)
		}
	}
	return nil
}

// setData sets socket.data.server, and firstServer unless the socket's
// restored data has one.
func (n *node) setData(s *socketio.Socket) {
	data := nodeData{Server: n.cfg.name, FirstServer: n.cfg.name}
	switch d := s.Data().(type) {
	case nodeData:
		data.FirstServer = d.FirstServer
	case parser.Value: // restored from Redis
		var m struct {
			FirstServer *string `json:"firstServer"`
		}
		if json.Unmarshal(d.JSON, &m) == nil && m.FirstServer != nil {
			data.FirstServer = *m.FirstServer
		}
	}
	s.SetData(data)
}

// onConnection registers the socket's handlers. A recovered socket skipped
// the middlewares (Node's skipMiddlewares), and gets its data here, as the
// Node node's connection handler sets it.
func (n *node) onConnection(s *socketio.Socket) {
	if s.Recovered() {
		n.setData(s)
	}
	s.On("join", func(args socketio.Args, ack socketio.Ack) {
		if rooms := roomsArg(args); len(rooms) > 0 {
			s.Join(rooms...)
		}
		_ = ack(jsSorted(s.Rooms()))
	})
	s.On("leave", func(args socketio.Args, ack socketio.Ack) {
		for _, r := range roomsArg(args) {
			s.Leave(r)
		}
		_ = ack(jsSorted(s.Rooms()))
	})
	s.On("echo", func(args socketio.Args, ack socketio.Ack) {
		_ = ack(args.Any()...)
	})
}

// roomsArg returns the rooms of a join or leave: the first argument, a
// room or an array of rooms (as strings, String(x) for other values).
func roomsArg(args socketio.Args) []string {
	if len(args) == 0 || len(args[0].JSON) == 0 {
		return nil
	}
	v, err := parseJSON(args[0].JSON)
	if err != nil {
		return nil
	}
	if v.kind != 'a' {
		return []string{jsString(v)}
	}
	out := make([]string, 0, len(v.arr))
	for _, e := range v.arr {
		out = append(out, jsString(e))
	}
	return out
}

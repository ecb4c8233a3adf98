package helper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/redis/rueidis"

	"github.com/gosio/gosio/adapter/redis"
	"github.com/gosio/gosio/emitter"
	"github.com/gosio/gosio/socketio"
)

// Errors of the server helper.
var (
	// ErrNoAuthenticate is returned by NewServer when
	// ServerOptions.Authenticate is nil.
	ErrNoAuthenticate = errors.New("helper: ServerOptions.Authenticate is required")
	// ErrClosed is returned by Send after Shutdown, and by the client
	// helper's methods after its Shutdown.
	ErrClosed = errors.New("helper: closed")
	// ErrEmptyTopic is returned by Send and ClientHelper.Emit for an empty
	// event name.
	ErrEmptyTopic = errors.New("helper: topic is required")
	// ErrNoData is returned by Send for nil data: the payload is required.
	ErrNoData = errors.New("helper: data is required")
)

// ServerOptions configures NewServer. The zero value of every field but
// Authenticate selects the TypeScript helper's default; NewServer never
// modifies the caller's ServerOptions.
type ServerOptions struct {
	// Identifier names the helper in its log lines (TS identifier).
	Identifier string

	// Server configures the Socket.IO server underneath (TS
	// serverOptions): path, Engine.IO options, logger. Nil selects every
	// default. Its Adapter must be nil when Redis is set.
	Server *socketio.Options

	// Redis, when not nil, scales the helper out over Redis (TS
	// redisConnection): the namespaces get the classic Redis adapter
	// (adapter/redis New, Node's @socket.io/redis-adapter) and Send goes
	// through the pub/sub emitter (package emitter, Node's
	// @socket.io/redis-emitter), both with the default key "socket.io",
	// so TypeScript and Go helpers on one Redis form one cluster.
	//
	// The TypeScript helper duplicates its connection three times (adapter
	// publisher, adapter subscriber, emitter). On rueidis the adapter takes
	// one dedicated connection from this client for its subscriptions
	// (TS redisSub) and both the adapter's publishes (TS redisPub) and the
	// emitter's (TS redisEmitter) go through the client's shared pipelined
	// connection. Shutdown releases the dedicated connection; the client
	// stays the caller's to close, after Shutdown. Make it with
	// DisableCache.
	//
	// Nil means the in-memory adapter: one server, no Redis at all.
	// Send then broadcasts through the server's adapter (Server.Adapter,
	// if set, or the in-memory adapter).
	Redis rueidis.Client

	// Authenticate checks the credentials of a client that sent
	// EventAuthenticate, from its handshake (the Auth payload of its
	// CONNECT, its headers such as Authorization, its query). It is
	// required (TS authenticateFn). It runs on a goroutine of its own;
	// ctx ends when the client disconnects, when AuthenticateTimeout
	// passes or at Shutdown. An error or a panic fails the authentication
	// as false does, with MessageAuthenticateFailed.
	Authenticate func(ctx context.Context, hs *socketio.Handshake) (bool, error)

	// ClientConnected, when not nil, is called once a client is
	// authenticated, after it got EventAuthenticated (TS
	// clientConnectedFn). An error or a panic turns the success into a
	// failure: the client gets EventUnauthenticated and is disconnected.
	ClientConnected func(ctx context.Context, s *socketio.Socket) error

	// ValidateRooms returns the rooms of a join request the client may
	// join (TS validateRoomFn). Only rooms that were both requested and
	// returned are joined. Nil refuses every join. An error or a panic
	// refuses the whole request; the client stays connected. It runs in
	// order with the client's other events.
	ValidateRooms func(ctx context.Context, s *socketio.Socket, rooms []string) ([]string, error)

	// AuthenticateTimeout disconnects a client that is not authenticated
	// within it after connecting, whether it never asked or its
	// Authenticate is still running. Zero means 10 s.
	AuthenticateTimeout time.Duration

	// PingInterval is the period of EventPing to authenticated clients,
	// sent first right at authentication. Zero means 30 s. It is not
	// Engine.IO's heartbeat, which Server.Engine configures.
	PingInterval time.Duration

	// DefaultRooms are the rooms clients join on authentication. Nil means
	// DefaultRooms(); an empty non-nil slice means none.
	DefaultRooms []string

	// Logger receives the helper's log lines. Nil means slog.Default().
	Logger *slog.Logger
}

// ClientInfo describes a client the server helper tracks.
type ClientInfo struct {
	ID    string
	State State
	// Rooms are the socket's rooms, its own id room first.
	Rooms []string
	// Socket is the client's socket, for programmatic room management
	// (Join, Leave) and direct emits.
	Socket *socketio.Socket
}

// A ServerHelper is a Socket.IO server with the TypeScript helper's
// challenge-response authentication, client tracking, room rules and
// cluster-wide Send. It is an http.Handler: mount it on any router at the
// Socket.IO path. All methods are safe for concurrent use.
//
// A client connects unauthorized, sends EventAuthenticate, and the server
// calls Authenticate with its handshake. On success it sends EventPing,
// joins the default rooms, starts the ping timer, sends
// EventAuthenticated and calls ClientConnected; from then on the client's
// EventJoin and EventLeave requests are served. On failure the client gets
// EventUnauthenticated and then is disconnected ("io server disconnect"
// on its side). A client not authenticated within AuthenticateTimeout is
// disconnected.
type ServerHelper struct {
	opts    ServerOptions // with defaults
	io      *socketio.Server
	cluster *redis.Cluster   // nil without Redis
	emit    *emitter.Emitter // nil without Redis
	log     *slog.Logger

	ctx    context.Context // ends at Shutdown; parent of every client's
	cancel context.CancelFunc
	wg     sync.WaitGroup // Authenticate goroutines

	mu      sync.Mutex // guards clients, closing and every client's state and timers
	clients map[string]*serverClient
	closing bool

	shutdownOnce sync.Once
	shutdownErr  error
}

// serverClient is one tracked client. Its state and timers are guarded by
// the helper's mu.
type serverClient struct {
	id        string
	sock      *socketio.Socket
	state     State
	authTimer *time.Timer
	pingTimer *time.Timer
	ctx       context.Context // ends when the client is forgotten
	cancel    context.CancelFunc
}

// NewServer returns a ServerHelper configured by opts. With a Redis client
// it starts the Redis adapter, which subscribes its channels before
// NewServer returns, bounded by ctx. It fails with ErrNoAuthenticate when
// opts.Authenticate is nil.
func NewServer(ctx context.Context, opts *ServerOptions) (*ServerHelper, error) {
	if opts == nil || opts.Authenticate == nil {
		return nil, ErrNoAuthenticate
	}
	o := *opts
	if o.AuthenticateTimeout <= 0 {
		o.AuthenticateTimeout = DefaultAuthenticateTimeout
	}
	if o.PingInterval <= 0 {
		o.PingInterval = DefaultPingInterval
	}
	if o.DefaultRooms == nil {
		o.DefaultRooms = DefaultRooms()
	} else {
		o.DefaultRooms = slices.Clone(o.DefaultRooms)
	}
	var sio socketio.Options
	if o.Server != nil {
		sio = *o.Server
	}
	if o.Redis != nil && sio.Adapter != nil {
		return nil, errors.New("helper: ServerOptions.Server.Adapter must be nil when Redis is set")
	}
	lg := o.Logger
	if lg == nil {
		lg = slog.Default()
	}
	h := &ServerHelper{
		opts:    o,
		log:     lg.With("helper", o.Identifier),
		clients: make(map[string]*serverClient),
	}
	if o.Redis != nil {
		cl, err := redis.New(ctx, o.Redis, &redis.Options{Logger: lg})
		if err != nil {
			return nil, fmt.Errorf("helper: redis adapter: %w", err)
		}
		h.cluster = cl
		h.emit = emitter.New(o.Redis, nil)
		sio.Adapter = cl.Adapter
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.io = socketio.NewServer(&sio)
	h.io.OnConnection(h.onConnection)
	return h, nil
}

// ServeHTTP implements http.Handler: it serves the Socket.IO server.
func (h *ServerHelper) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.io.ServeHTTP(w, r) }

// IO returns the Socket.IO server underneath (TS getIOServer), for other
// namespaces, middlewares and broadcasts.
func (h *ServerHelper) IO() *socketio.Server { return h.io }

// Clients returns the clients the helper tracks on this server, sorted by
// id (TS getClients()).
func (h *ServerHelper) Clients() []ClientInfo {
	h.mu.Lock()
	cs := make([]*serverClient, 0, len(h.clients))
	states := make([]State, 0, len(h.clients))
	for _, c := range h.clients {
		cs = append(cs, c)
		states = append(states, c.state)
	}
	h.mu.Unlock()
	out := make([]ClientInfo, len(cs))
	for i, c := range cs {
		out[i] = ClientInfo{ID: c.id, State: states[i], Rooms: c.sock.Rooms(), Socket: c.sock}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Client returns the tracked client with socket id id (TS getClients({id})),
// and whether there is one on this server.
func (h *ServerHelper) Client(id string) (ClientInfo, bool) {
	h.mu.Lock()
	c, ok := h.clients[id]
	var st State
	if ok {
		st = c.state
	}
	h.mu.Unlock()
	if !ok {
		return ClientInfo{}, false
	}
	return ClientInfo{ID: c.id, State: st, Rooms: c.sock.Rooms(), Socket: c.sock}, true
}

// Send emits topic with data to destination: a socket id, a room, or every
// client when destination is "" (TS send). With Redis it goes through the
// emitter, so it reaches the clients of every server of the cluster, Go
// and TypeScript alike, this one included; the error is Redis's. Without
// Redis it goes through the server's adapter. The compress flag is set, as
// the TypeScript helper sets it. Send fails with ErrEmptyTopic, ErrNoData
// for nil data, a reserved event name's error, or ErrClosed after Shutdown.
func (h *ServerHelper) Send(ctx context.Context, destination, topic string, data any) error {
	if topic == "" {
		return ErrEmptyTopic
	}
	if data == nil {
		return ErrNoData
	}
	h.mu.Lock()
	closing := h.closing
	h.mu.Unlock()
	if closing {
		return ErrClosed
	}
	if h.emit != nil {
		op := h.emit.Compress(true)
		if destination != "" {
			op = op.To(destination)
		}
		return op.Emit(ctx, topic, data)
	}
	b := h.io.Sockets().Compress(true)
	if destination != "" {
		b = b.To(destination)
	}
	return b.Emit(topic, data)
}

// Disconnect disconnects the client with socket id id from this server
// (TS disconnect): it stops its timers, stops tracking it and disconnects
// its socket ("io server disconnect" on the client). It reports whether
// the client was tracked here.
func (h *ServerHelper) Disconnect(id string) bool {
	h.mu.Lock()
	c, ok := h.clients[id]
	h.mu.Unlock()
	if !ok {
		return false
	}
	h.disconnect(c)
	return true
}

// Shutdown stops the helper in the TypeScript helper's order: for each
// tracked client it stops the ping and authenticate timers and disconnects
// the socket; it forgets every client; it shuts the Socket.IO server down
// (every other socket, the Engine.IO sessions, the adapters), waits for
// running Authenticate calls, and releases the Redis adapter's connection.
// The connection is released even when ctx ends first (Shutdown then
// returns ctx's error). The Redis client itself stays open: it is the
// caller's. Shutdown is idempotent: later calls wait for the first and
// return its result. It does not close the http.Server the helper is
// mounted on.
func (h *ServerHelper) Shutdown(ctx context.Context) error {
	h.shutdownOnce.Do(func() { h.shutdownErr = h.shutdown(ctx) })
	return h.shutdownErr
}

func (h *ServerHelper) shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.closing = true
	cs := make([]*serverClient, 0, len(h.clients))
	for _, c := range h.clients {
		cs = append(cs, c)
		c.stopTimers()
	}
	clear(h.clients)
	h.mu.Unlock()
	for _, c := range cs {
		c.cancel()
		c.sock.Disconnect(false)
	}
	h.cancel()
	var errs []error
	if err := h.io.Shutdown(ctx); err != nil {
		errs = append(errs, err)
	}
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, ctx.Err())
	}
	if h.cluster != nil {
		if err := h.cluster.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	h.log.Info("helper: shut down", "clients", len(cs))
	return errors.Join(errs...)
}

func (c *serverClient) stopTimers() {
	if c.authTimer != nil {
		c.authTimer.Stop()
	}
	if c.pingTimer != nil {
		c.pingTimer.Stop()
	}
}

// onConnection starts tracking a new socket, unauthorized, with its
// authenticate timer.
func (h *ServerHelper) onConnection(s *socketio.Socket) {
	c := &serverClient{id: s.ID(), sock: s, state: StateUnauthorized}
	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		s.Disconnect(false)
		return
	}
	c.ctx, c.cancel = context.WithCancel(h.ctx)
	h.clients[c.id] = c
	c.authTimer = time.AfterFunc(h.opts.AuthenticateTimeout, func() { h.authTimeout(c) })
	h.mu.Unlock()

	s.OnDisconnect(func(reason string) { h.forget(c) })
	s.On(EventAuthenticate, func(socketio.Args) { h.onAuthenticate(c) })
	s.On(EventJoin, func(a socketio.Args) { h.onJoin(c, a) })
	s.On(EventLeave, func(a socketio.Args) { h.onLeave(c, a) })
	if !s.Connected() {
		// Disconnected before its handler was registered.
		h.forget(c)
	}
}

// tracked reports whether c is still the tracked client of its id. The
// caller holds h.mu.
func (h *ServerHelper) tracked(c *serverClient) bool { return h.clients[c.id] == c }

// forget stops tracking c, if it still is tracked.
func (h *ServerHelper) forget(c *serverClient) {
	h.mu.Lock()
	if h.tracked(c) {
		delete(h.clients, c.id)
	}
	c.stopTimers()
	h.mu.Unlock()
	c.cancel()
}

// disconnect forgets c and disconnects its socket.
func (h *ServerHelper) disconnect(c *serverClient) {
	h.forget(c)
	c.sock.Disconnect(false)
}

func (h *ServerHelper) authTimeout(c *serverClient) {
	h.mu.Lock()
	expired := h.tracked(c) && c.state != StateAuthenticated
	state := c.state
	h.mu.Unlock()
	if expired {
		h.log.Info("helper: authenticate timeout, disconnecting", "id", c.id, "state", string(state))
		h.disconnect(c)
	}
}

func (h *ServerHelper) onAuthenticate(c *serverClient) {
	h.mu.Lock()
	if !h.tracked(c) || h.closing || c.state != StateUnauthorized {
		state := c.state
		h.mu.Unlock()
		h.log.Warn("helper: authenticate ignored", "id", c.id, "state", string(state))
		return
	}
	c.state = StateAuthenticating
	h.wg.Add(1)
	h.mu.Unlock()
	go h.authenticate(c)
}

// authenticate runs Authenticate for c and acts on its result.
func (h *ServerHelper) authenticate(c *serverClient) {
	defer h.wg.Done()
	ok, err := callAuthenticate(c.ctx, h.opts.Authenticate, c.sock.Handshake())
	h.mu.Lock()
	if !h.tracked(c) || c.state != StateAuthenticating {
		// Timed out, disconnected or shut down meanwhile.
		h.mu.Unlock()
		return
	}
	if err != nil || !ok {
		c.state = StateUnauthorized
		h.mu.Unlock()
		msg := MessageInvalidToken
		if err != nil {
			msg = MessageAuthenticateFailed
			h.log.Warn("helper: authenticate failed", "id", c.id, "err", err)
		} else {
			h.log.Info("helper: invalid credentials", "id", c.id)
		}
		h.reject(c, msg)
		return
	}
	c.state = StateAuthenticated
	c.authTimer.Stop()
	h.mu.Unlock()
	h.accept(c)
}

// accept runs the documented success sequence for an authenticated c.
func (h *ServerHelper) accept(c *serverClient) {
	s := c.sock
	_ = s.Emit(EventPing, pingPayload{Time: isoTime(time.Now())})
	if len(h.opts.DefaultRooms) > 0 {
		s.Join(h.opts.DefaultRooms...)
	}
	h.mu.Lock()
	if !h.tracked(c) {
		h.mu.Unlock()
		return
	}
	c.pingTimer = time.AfterFunc(h.opts.PingInterval, func() { h.ping(c) })
	h.mu.Unlock()
	_ = s.Emit(EventAuthenticated, authenticatedPayload{ID: c.id, Time: isoTime(time.Now())})
	h.log.Info("helper: authenticated", "id", c.id)
	if h.opts.ClientConnected == nil {
		return
	}
	if err := callConnected(c.ctx, h.opts.ClientConnected, s); err != nil {
		h.mu.Lock()
		still := h.tracked(c)
		if still {
			c.state = StateUnauthorized
			c.stopTimers()
		}
		h.mu.Unlock()
		h.log.Warn("helper: client connected callback failed", "id", c.id, "err", err)
		if still {
			h.reject(c, MessageAuthenticateFailed)
		}
	}
}

// reject tells c its authentication failed, then disconnects it: the
// event is queued on the connection before the DISCONNECT packet, so the
// client receives it first.
func (h *ServerHelper) reject(c *serverClient, msg string) {
	_ = c.sock.Emit(EventUnauthenticated, unauthenticatedPayload{Message: msg, Time: isoTime(time.Now())})
	h.disconnect(c)
}

func (h *ServerHelper) ping(c *serverClient) {
	h.mu.Lock()
	live := h.tracked(c) && c.state == StateAuthenticated && !h.closing
	if live {
		c.pingTimer.Reset(h.opts.PingInterval)
	}
	h.mu.Unlock()
	if !live {
		return
	}
	if !c.sock.Connected() {
		h.forget(c)
		return
	}
	_ = c.sock.Emit(EventPing, pingPayload{Time: isoTime(time.Now())})
}

// authenticated reports whether c is tracked and authenticated.
func (h *ServerHelper) authenticated(c *serverClient) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.tracked(c) && c.state == StateAuthenticated
}

// roomsArg decodes the rooms of a join or leave event's arguments.
func roomsArg(a socketio.Args) ([]string, error) {
	if len(a) == 0 {
		return nil, errors.New("no payload")
	}
	return decodeRooms(a[0].JSON)
}

func (h *ServerHelper) onJoin(c *serverClient, a socketio.Args) {
	if !h.authenticated(c) {
		h.log.Warn("helper: join before authentication refused", "id", c.id)
		return
	}
	rooms, err := roomsArg(a)
	if err != nil {
		h.log.Warn("helper: malformed join refused", "id", c.id, "err", err, "payload", logPayload(a))
		return
	}
	if h.opts.ValidateRooms == nil {
		h.log.Warn("helper: join refused, no ValidateRooms", "id", c.id, "rooms", rooms)
		return
	}
	allowed, err := callValidate(c.ctx, h.opts.ValidateRooms, c.sock, slices.Clone(rooms))
	if err != nil {
		h.log.Warn("helper: join refused, ValidateRooms failed", "id", c.id, "rooms", rooms, "err", err)
		return
	}
	ok := make(map[string]bool, len(allowed))
	for _, r := range allowed {
		ok[r] = true
	}
	var join, denied []string
	for _, r := range rooms {
		if ok[r] {
			join = append(join, r)
		} else {
			denied = append(denied, r)
		}
	}
	// The refusal is logged before the join is seen, so that whoever
	// watches the rooms finds the log line written.
	if len(denied) > 0 {
		h.log.Warn("helper: rooms denied", "id", c.id, "rooms", denied)
	}
	if len(join) > 0 {
		c.sock.Join(join...)
	}
	h.log.Debug("helper: joined", "id", c.id, "rooms", join)
}

func (h *ServerHelper) onLeave(c *serverClient, a socketio.Args) {
	if !h.authenticated(c) {
		h.log.Warn("helper: leave before authentication refused", "id", c.id)
		return
	}
	rooms, err := roomsArg(a)
	if err != nil {
		h.log.Warn("helper: malformed leave refused", "id", c.id, "err", err, "payload", logPayload(a))
		return
	}
	for _, r := range rooms {
		if r == c.id {
			// Send to the socket id reaches it through this room.
			h.log.Warn("helper: leaving the own id room refused", "id", c.id)
			continue
		}
		c.sock.Leave(r)
	}
}

// logPayload bounds a payload for a log line.
func logPayload(a socketio.Args) string {
	const max = 256
	s := a.String()
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}

// The call* functions run a user callback, turning a panic into an error.

func callAuthenticate(ctx context.Context, fn func(context.Context, *socketio.Handshake) (bool, error), hs *socketio.Handshake) (ok bool, err error) {
	defer recoverTo(&err, "Authenticate")
	return fn(ctx, hs)
}

func callConnected(ctx context.Context, fn func(context.Context, *socketio.Socket) error, s *socketio.Socket) (err error) {
	defer recoverTo(&err, "ClientConnected")
	return fn(ctx, s)
}

func callValidate(ctx context.Context, fn func(context.Context, *socketio.Socket, []string) ([]string, error), s *socketio.Socket, rooms []string) (out []string, err error) {
	defer recoverTo(&err, "ValidateRooms")
	return fn(ctx, s, rooms)
}

func recoverTo(err *error, name string) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("helper: %s panicked: %v", name, r)
	}
}

package helper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/gosio/gosio/socketio"
)

// Errors of the client helper.
var (
	// ErrNotConnected is returned by Authenticate, Emit, JoinRooms and
	// LeaveRooms while the client is not connected.
	ErrNotConnected = errors.New("helper: client is not connected")
	// ErrNotUnauthorized is returned by Authenticate when the client is
	// already authenticating or authenticated.
	ErrNotUnauthorized = errors.New("helper: client is not in the unauthorized state")
	// ErrProtectedEvent is returned by Subscribe and Unsubscribe for the
	// events the helper handles itself: EventPing, EventAuthenticated,
	// EventUnauthenticated and Socket.IO's reserved events.
	ErrProtectedEvent = errors.New("helper: event is handled by the helper")
	// ErrSubscribed is returned by Subscribe for an event that already has
	// a subscription.
	ErrSubscribed = errors.New("helper: event already subscribed")
	// ErrNoRooms is returned by JoinRooms and LeaveRooms without rooms.
	ErrNoRooms = errors.New("helper: no rooms")
)

// ClientOptions configures NewClient. The zero value of every field but
// URL selects the TypeScript helper's behaviour; NewClient never modifies
// the caller's ClientOptions.
type ClientOptions struct {
	// Identifier names the client in its log lines (TS identifier).
	Identifier string

	// URL is the server (TS host), such as "http://localhost:3000"; its
	// path selects the namespace ("/" when empty).
	URL string

	// Socket configures the Socket.IO client underneath (TS options):
	// Path, Header (TS extraHeaders, such as Authorization), Auth (the
	// CONNECT payload, TS auth), transports and reconnection. Nil selects
	// every default.
	Socket *socketio.ClientOptions

	// OnConnected is called each time the socket connects or reconnects.
	OnConnected func()
	// OnDisconnected is called each time the socket disconnects, with the
	// reason ("io server disconnect" when the server disconnected it).
	OnDisconnected func(reason string)
	// OnError is called when a connection attempt fails and when a
	// subscribed handler returns an error.
	OnError func(err error)
	// OnAuthenticated is called when the server sends EventAuthenticated.
	OnAuthenticated func()
	// OnUnauthenticated is called with the server's message when it sends
	// EventUnauthenticated. The server disconnects the client next.
	OnUnauthenticated func(message string)

	// Reauthenticate makes the client call Authenticate by itself each
	// time it reconnects (not on its first connection, where the
	// application calls Authenticate, typically from OnConnected). The
	// TypeScript helper never does.
	Reauthenticate bool

	// Logger receives the helper's log lines. Nil means slog.Default().
	Logger *slog.Logger
}

// A ClientHelper is a Socket.IO client with the TypeScript client helper's
// lifecycle: it connects, authenticates with the credentials of its
// handshake when Authenticate is called, tracks its State, and joins and
// leaves rooms through the server helper. All methods are safe for
// concurrent use. Callbacks run one at a time, in the order of the events,
// on the client's handler goroutine.
type ClientHelper struct {
	opts ClientOptions
	sock *socketio.ClientSocket
	log  *slog.Logger

	mu        sync.Mutex
	state     State
	subs      map[string]bool
	connected int // connections so far
	closed    bool
}

// NewClient returns a ClientHelper for opts.URL, not connected yet: call
// Connect. (The TypeScript constructor connects at once; in Go the
// callbacks, which typically call the helper's methods, could then run
// before NewClient returned the helper to them.) It fails only for a bad
// URL or options.
func NewClient(opts *ClientOptions) (*ClientHelper, error) {
	if opts == nil || opts.URL == "" {
		return nil, errors.New("helper: ClientOptions.URL is required")
	}
	o := *opts
	lg := o.Logger
	if lg == nil {
		lg = slog.Default()
	}
	sock, err := socketio.NewClient(o.URL, o.Socket)
	if err != nil {
		return nil, fmt.Errorf("helper: %w", err)
	}
	c := &ClientHelper{
		opts:  o,
		sock:  sock,
		log:   lg.With("helper", o.Identifier),
		state: StateUnauthorized,
		subs:  make(map[string]bool),
	}
	sock.OnConnect(c.onConnect)
	sock.OnDisconnect(c.onDisconnect)
	sock.OnConnectError(c.onError)
	sock.OnError(c.onError)
	sock.On(EventAuthenticated, c.onAuthenticated)
	sock.On(EventUnauthenticated, c.onUnauthenticated)
	sock.On(EventPing, func(a socketio.Args) { c.log.Debug("helper: ping", "args", a.String()) })
	return c, nil
}

func (c *ClientHelper) onConnect() {
	c.mu.Lock()
	c.state = StateUnauthorized
	c.connected++
	re := c.opts.Reauthenticate && c.connected > 1
	c.mu.Unlock()
	c.log.Debug("helper: connected", "id", c.sock.ID())
	if c.opts.OnConnected != nil {
		c.opts.OnConnected()
	}
	if re {
		if err := c.Authenticate(); err != nil && !errors.Is(err, ErrNotUnauthorized) {
			c.log.Warn("helper: authenticate after reconnect", "err", err)
		}
	}
}

func (c *ClientHelper) onDisconnect(reason string) {
	c.mu.Lock()
	c.state = StateUnauthorized
	c.mu.Unlock()
	c.log.Debug("helper: disconnected", "reason", reason)
	if c.opts.OnDisconnected != nil {
		c.opts.OnDisconnected(reason)
	}
}

func (c *ClientHelper) onError(err error) {
	c.log.Debug("helper: error", "err", err)
	if c.opts.OnError != nil {
		c.opts.OnError(err)
	}
}

func (c *ClientHelper) onAuthenticated(a socketio.Args) {
	c.mu.Lock()
	c.state = StateAuthenticated
	c.mu.Unlock()
	c.log.Debug("helper: authenticated", "args", a.String())
	if c.opts.OnAuthenticated != nil {
		c.opts.OnAuthenticated()
	}
}

func (c *ClientHelper) onUnauthenticated(a socketio.Args) {
	var p struct {
		Message string `json:"message"`
	}
	if len(a) > 0 {
		_ = a.Decode(0, &p) // a payload without a message gives ""
	}
	c.mu.Lock()
	c.state = StateUnauthorized
	c.mu.Unlock()
	c.log.Debug("helper: unauthenticated", "message", p.Message)
	if c.opts.OnUnauthenticated != nil {
		c.opts.OnUnauthenticated(p.Message)
	}
}

// Socket returns the Socket.IO client socket underneath (TS
// getSocketClient).
func (c *ClientHelper) Socket() *socketio.ClientSocket { return c.sock }

// State returns the client's authentication state (TS getState).
func (c *ClientHelper) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Connect connects the client (TS connect), also again after Disconnect,
// and waits until it is connected; OnConnected runs then. It returns a
// *socketio.ConnectError when the server refused the connection, ctx's
// error when ctx ended first (the client then keeps trying in the
// background, and OnConnected reports success), or ErrClosed after
// Shutdown. See socketio.ClientSocket.Connect.
func (c *ClientHelper) Connect(ctx context.Context) error {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return ErrClosed
	}
	return c.sock.Connect(ctx)
}

// Disconnect disconnects the client (TS disconnect); OnDisconnected gets
// "io client disconnect". Connect connects it again.
func (c *ClientHelper) Disconnect() { c.sock.Disconnect() }

// Authenticate asks the server to authenticate the connection with the
// credentials of the handshake (TS authenticate): the state becomes
// StateAuthenticating until the server answers with EventAuthenticated
// or EventUnauthenticated. It fails with ErrNotConnected, or with
// ErrNotUnauthorized while authenticating or once authenticated.
func (c *ClientHelper) Authenticate() error {
	c.mu.Lock()
	switch {
	case c.closed:
		c.mu.Unlock()
		return ErrClosed
	case !c.sock.Connected():
		c.mu.Unlock()
		return ErrNotConnected
	case c.state != StateUnauthorized:
		c.mu.Unlock()
		return ErrNotUnauthorized
	}
	c.state = StateAuthenticating
	c.mu.Unlock()
	if err := c.sock.Emit(EventAuthenticate); err != nil {
		c.mu.Lock()
		if c.state == StateAuthenticating {
			c.state = StateUnauthorized
		}
		c.mu.Unlock()
		return err
	}
	return nil
}

// protected reports whether the helper keeps event for itself.
func protected(event string) bool {
	switch event {
	case EventPing, EventAuthenticated, EventUnauthenticated,
		"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener":
		return true
	}
	return false
}

// Subscribe registers handler for event (TS subscribe). handler is a func
// of any shape socketio.ClientSocket.On accepts, such as
// func(data MyType) or func(socketio.Args); an error it returns goes to
// OnError. An event has at most one subscription: a second Subscribe fails
// with ErrSubscribed until Unsubscribe. The helper's own events fail with
// ErrProtectedEvent.
func (c *ClientHelper) Subscribe(event string, handler any) (err error) {
	if event == "" {
		return ErrEmptyTopic
	}
	if protected(event) {
		return fmt.Errorf("%w: %q", ErrProtectedEvent, event)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if c.subs[event] {
		return fmt.Errorf("%w: %q", ErrSubscribed, event)
	}
	defer func() {
		if r := recover(); r != nil { // a handler of a shape On refuses
			err = fmt.Errorf("helper: subscribe %q: %v", event, r)
		}
	}()
	c.sock.On(event, handler)
	c.subs[event] = true
	return nil
}

// SubscribeMany subscribes every handler of events (TS subscribeMany). It
// stops at the first error, leaving the events before it subscribed.
func (c *ClientHelper) SubscribeMany(events map[string]any) error {
	// A fixed order makes the partial result predictable.
	names := make([]string, 0, len(events))
	for e := range events {
		names = append(names, e)
	}
	slices.Sort(names)
	for _, e := range names {
		if err := c.Subscribe(e, events[e]); err != nil {
			return err
		}
	}
	return nil
}

// Unsubscribe removes the subscription of event (TS unsubscribe) and
// reports whether there was one. The helper's own events cannot be
// unsubscribed.
func (c *ClientHelper) Unsubscribe(event string) bool {
	if protected(event) {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.subs[event] {
		return false
	}
	delete(c.subs, event)
	c.sock.Off(event)
	return true
}

// UnsubscribeMany removes the subscriptions of events (TS
// unsubscribeMany).
func (c *ClientHelper) UnsubscribeMany(events ...string) {
	for _, e := range events {
		c.Unsubscribe(e)
	}
}

// Emit sends event with args to the server (TS emit). Unlike a plain
// socketio.ClientSocket, which buffers, it fails with ErrNotConnected
// while the client is not connected.
func (c *ClientHelper) Emit(event string, args ...any) error {
	if event == "" {
		return ErrEmptyTopic
	}
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if !c.sock.Connected() {
		return ErrNotConnected
	}
	return c.sock.Emit(event, args...)
}

// JoinRooms asks the server to join rooms (TS joinRooms): EventJoin with
// {"rooms": rooms}. The server answers nothing; rooms it allows are joined.
func (c *ClientHelper) JoinRooms(rooms ...string) error {
	if len(rooms) == 0 {
		return ErrNoRooms
	}
	return c.Emit(EventJoin, roomsPayload{Rooms: rooms})
}

// LeaveRooms asks the server to leave rooms (TS leaveRooms): EventLeave
// with {"rooms": rooms}.
func (c *ClientHelper) LeaveRooms(rooms ...string) error {
	if len(rooms) == 0 {
		return ErrNoRooms
	}
	return c.Emit(EventLeave, roomsPayload{Rooms: rooms})
}

// Shutdown removes every subscription, disconnects, resets the state to
// StateUnauthorized and closes the client for good (TS shutdown), waiting
// for its goroutines (see socketio.ClientSocket.Close). It is idempotent.
func (c *ClientHelper) Shutdown() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	for e := range c.subs {
		c.sock.Off(e)
	}
	clear(c.subs)
	c.mu.Unlock()
	err := c.sock.Close()
	c.mu.Lock()
	c.state = StateUnauthorized
	c.mu.Unlock()
	return err
}

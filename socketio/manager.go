package socketio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"runtime"
	"sync"
	"time"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/parser"
)

// Defaults of the reference client (socket.io-client 4.8).
const (
	DefaultReconnectionDelay    = time.Second
	DefaultReconnectionDelayMax = 5 * time.Second
	DefaultRandomizationFactor  = 0.5
	DefaultOpenTimeout          = 20 * time.Second
	// DefaultMaxQueuedEvents is the default of
	// ManagerOptions.MaxQueuedEvents.
	DefaultMaxQueuedEvents = 256
)

// ManagerOptions configures a Manager. The zero value of every field
// selects the reference client's default; NewManager never modifies the
// caller's ManagerOptions.
type ManagerOptions struct {
	// Path is the URL path of the Socket.IO server. Default "/socket.io/".
	Path string
	// Query holds extra query parameters sent with every Engine.IO request.
	Query url.Values
	// Header holds extra HTTP headers (Authorization...) sent with every
	// Engine.IO request and WebSocket handshake.
	Header http.Header
	// HTTPClient sends the requests; see engineio.DialOptions.HTTPClient.
	// Nil means a private client per Engine.IO connection.
	HTTPClient *http.Client
	// Transports lists the transports to use, in order; see
	// engineio.DialOptions.Transports. Nil means polling, then an upgrade
	// to WebSocket.
	Transports []string
	// DisableUpgrade keeps connections on the transport they opened with.
	DisableUpgrade bool
	// MaxMessageSize bounds each Engine.IO packet from the server; see
	// engineio.DialOptions.MaxMessageSize. Zero means 1 MB (the server's
	// default MaxHTTPBufferSize); a negative value means no bound.
	MaxMessageSize int64
	// Parser is the wire format of the Socket.IO packets; it must be the
	// server's. Nil means the default format of socket.io-parser;
	// msgpackparser.Parser{} (package parser/msgpackparser) is the one of
	// socket.io-msgpack-parser.
	Parser parser.Parser

	// DisableReconnection stops the Manager from reconnecting after the
	// connection is lost or cannot be opened. Reconnection is on by default.
	DisableReconnection bool
	// ReconnectionAttempts bounds the reconnection attempts in a row before
	// the Manager gives up (OnReconnectFailed). Zero means no limit.
	ReconnectionAttempts int
	// ReconnectionDelay is the delay before the first reconnection
	// attempt; it doubles with each failed attempt. Default 1s.
	ReconnectionDelay time.Duration
	// ReconnectionDelayMax caps the delay between attempts. Default 5s.
	ReconnectionDelayMax time.Duration
	// RandomizationFactor spreads each delay d over [d-f*d, d+f*d] with the
	// reference's jitter formula. Zero means 0.5; a negative value (or one
	// above 1) disables the jitter.
	RandomizationFactor float64
	// MaxQueuedEvents bounds the events received and waiting for their
	// handlers (and OnAny listeners). When that many wait, the Manager
	// stops reading its connection until a handler returns, as a Node
	// client whose event loop is busy does: no event is dropped and the
	// order is kept, TCP slows the server down, and a handler that blocks
	// for long makes the heartbeat time the connection out (then the
	// Manager reconnects). So a handler that waits in EmitWithAck while
	// the queue is full waits for an answer that cannot be read until its
	// context ends: give it a deadline. Events received before the
	// socket connected (the reference server sends none) are kept up to
	// the same bound and dropped beyond it. The queue's memory is at most
	// about MaxQueuedEvents × MaxMessageSize. Zero means
	// DefaultMaxQueuedEvents.
	MaxQueuedEvents int
	// Timeout bounds the opening of each Engine.IO connection, up to the
	// server's handshake. Zero means 20s; a negative value means no bound.
	Timeout time.Duration
}

func (o *ManagerOptions) withDefaults() *ManagerOptions {
	var c ManagerOptions
	if o != nil {
		c = *o
	}
	if c.Path == "" {
		c.Path = DefaultPath
	}
	if c.ReconnectionDelay <= 0 {
		c.ReconnectionDelay = DefaultReconnectionDelay
	}
	if c.ReconnectionDelayMax <= 0 {
		c.ReconnectionDelayMax = DefaultReconnectionDelayMax
	}
	switch {
	case c.RandomizationFactor == 0:
		c.RandomizationFactor = DefaultRandomizationFactor
	case c.RandomizationFactor < 0 || c.RandomizationFactor > 1:
		c.RandomizationFactor = 0
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultOpenTimeout
	}
	if c.MaxQueuedEvents <= 0 {
		c.MaxQueuedEvents = DefaultMaxQueuedEvents
	}
	if c.ReconnectionAttempts < 0 {
		c.ReconnectionAttempts = 0
	}
	if c.Parser == parser.Default {
		c.Parser = nil
	}
	c.Query = cloneValues(c.Query)
	c.Header = c.Header.Clone()
	return &c
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	c := make(url.Values, len(v))
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// backoff computes reconnection delays as the reference client does:
// min·2^attempts, spread by the jitter, capped at max.
type backoff struct {
	min, max time.Duration
	jitter   float64
	attempts int
	rand     func() float64
}

// duration returns the delay of the next attempt and counts it.
func (b *backoff) duration() time.Duration {
	ms := float64(b.min.Milliseconds()) * math.Pow(2, float64(b.attempts))
	b.attempts++
	if b.jitter > 0 {
		r := b.rand()
		dev := math.Floor(r * b.jitter * ms)
		if int(math.Floor(r*10))&1 == 0 {
			ms -= dev
		} else {
			ms += dev
		}
	}
	maxMS := float64(b.max.Milliseconds())
	if math.IsNaN(ms) || ms > maxMS {
		ms = maxMS
	}
	return time.Duration(int64(ms)) * time.Millisecond
}

type managerState uint8

const (
	stateClosed managerState = iota
	stateOpening
	stateOpen
)

// A Manager is one Engine.IO connection to a Socket.IO server, shared by
// the client sockets of every namespace it serves (multiplexing), and
// reconnects it when it is lost.
//
// Create sockets with Socket; the Manager opens its connection when the
// first of them connects and closes it when the last disconnects. Close
// ends it all.
//
// Handlers of the Manager and of its sockets run one at a time, in the
// order of the events, on a goroutine that exists only while there is
// work; never under the Manager's lock nor on the goroutine reading the
// connection, so a handler may block, emit, and wait for acknowledgements.
// Events waiting for their handlers are bounded by
// ManagerOptions.MaxQueuedEvents. All methods are safe for concurrent use.
type Manager struct {
	url  string
	opts *ManagerOptions

	// mu guards the Manager and every socket of it. Lock order:
	// Manager.mu -> engineio.ClientConn's lock (Send); engine callbacks
	// are never called with the latter held.
	mu             sync.Mutex
	cond           sync.Cond // signals the end of a handler or of dispatching
	closed         bool
	state          managerState
	gen            uint64 // engine generation: callbacks of older ones are ignored
	engine         *engineio.ClientConn
	engines        []*engineio.ClientConn // every engine not known to be done
	early          *engineClose           // close of the engine being opened
	closeReason    string                 // reason to report for the engine being closed
	closeErr       error                  // and the error behind it
	openCancel     context.CancelFunc
	sockets        map[string]*ClientSocket
	backoff        backoff
	reconnecting   bool
	skipReconnect  bool
	reconnectTimer *time.Timer
	lastErr        error

	onAttempt   []func(attempt int)
	onReconnect []func(attempt int)
	onRecErr    []func(err error)
	onRecFailed []func()

	tasks      []clientTask
	events     int  // event tasks in tasks
	running    bool // the dispatcher runs
	inHandler  bool
	dispatcher uint64         // goroutine id of the dispatcher
	finished   bool           // Close returned: no handler is queued any more
	workers    sync.WaitGroup // goroutines opening connections or calling AuthFunc
	ctx        context.Context
	cancel     context.CancelFunc // on Close
}

type engineClose struct {
	reason string
	err    error
}

// NewManager returns a Manager for the Socket.IO server at rawURL (http,
// https, ws or wss; the path selects no namespace here, see Socket). It
// connects nothing until a socket connects. nil opts selects every default.
func NewManager(rawURL string, opts *ManagerOptions) *Manager {
	o := opts.withDefaults()
	m := &Manager{
		url:     rawURL,
		opts:    o,
		sockets: make(map[string]*ClientSocket),
		backoff: backoff{min: o.ReconnectionDelay, max: o.ReconnectionDelayMax, jitter: o.RandomizationFactor, rand: rand.Float64},
	}
	m.cond.L = &m.mu
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m
}

// Socket returns the client socket for namespace nsp ("/" when empty),
// creating it with opts the first time; later calls return the same socket
// and ignore opts. The socket is not connected: register its handlers,
// then call Connect or Open.
func (m *Manager) Socket(nsp string, opts *SocketOptions) *ClientSocket {
	if nsp == "" || nsp[0] != '/' {
		nsp = "/" + nsp
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.sockets[nsp]; s != nil {
		return s
	}
	s := newClientSocket(m, nsp, opts)
	m.sockets[nsp] = s
	return s
}

// Transport returns the transport of the Manager's connection, "polling"
// or "websocket", or "" when it is not open.
func (m *Manager) Transport() string {
	m.mu.Lock()
	e := m.engine
	m.mu.Unlock()
	if e == nil {
		return ""
	}
	return e.Transport()
}

// OnReconnectAttempt adds a handler called before each reconnection
// attempt, with its number (1 for the first).
func (m *Manager) OnReconnectAttempt(fn func(attempt int)) {
	m.mu.Lock()
	m.onAttempt = append(m.onAttempt, fn)
	m.mu.Unlock()
}

// OnReconnect adds a handler called when a reconnection attempt succeeded,
// with the number of attempts it took.
func (m *Manager) OnReconnect(fn func(attempt int)) {
	m.mu.Lock()
	m.onReconnect = append(m.onReconnect, fn)
	m.mu.Unlock()
}

// OnReconnectError adds a handler called when a reconnection attempt failed.
func (m *Manager) OnReconnectError(fn func(err error)) {
	m.mu.Lock()
	m.onRecErr = append(m.onRecErr, fn)
	m.mu.Unlock()
}

// OnReconnectFailed adds a handler called when the Manager gives up after
// ReconnectionAttempts attempts.
func (m *Manager) OnReconnectFailed(fn func()) {
	m.mu.Lock()
	m.onRecFailed = append(m.onRecFailed, fn)
	m.mu.Unlock()
}

// Close closes the Manager for good: its connection closes, reconnection
// stops, its connected sockets disconnect with reason "forced close" and
// every waiting EmitWithAck and Connect fails.
//
// The events still waiting for their handlers are dropped, as a Node
// client emits nothing after it closed; the connect, disconnect and
// reconnection handlers already queued, and the disconnect handlers of
// Close, run before Close returns. Close waits for the Manager's
// goroutines, the handler that is running included, except when it is
// called from a handler: then it runs those handlers itself and returns
// while that handler goes on. After Close returns, no handler starts.
// Close is idempotent and returns nil.
func (m *Manager) Close() error {
	m.mu.Lock()
	var eng *engineio.ClientConn
	if !m.closed {
		m.closed = true
		m.cancel()
		m.skipReconnect = true
		m.reconnecting = false
		if m.reconnectTimer != nil {
			m.reconnectTimer.Stop()
		}
		eng = m.detachEngineLocked()
		m.dropEventsLocked()
		for _, s := range m.sockets {
			s.closeLocked(ReasonForcedClose, ErrClientClosed, true)
		}
		m.cond.Broadcast() // a reader waiting for room in the queue gives up
	}
	m.mu.Unlock()
	if eng != nil {
		_ = eng.Close()
	}
	m.workers.Wait()
	m.mu.Lock()
	engines := m.engines
	m.engines = nil
	m.mu.Unlock()
	for _, e := range engines {
		<-e.Done()
	}
	var self uint64
	m.mu.Lock()
	if m.running && m.inHandler {
		m.mu.Unlock()
		self = goid() // only here: it costs a stack header
		m.mu.Lock()
	}
	if m.running && m.inHandler && self == m.dispatcher {
		// Called from a handler: run what is left in its place.
		for len(m.tasks) > 0 {
			t := m.popLocked()
			m.mu.Unlock()
			t.fn()
			m.mu.Lock()
		}
	} else {
		for m.running {
			m.cond.Wait()
		}
	}
	m.finished = true
	m.tasks = nil
	m.mu.Unlock()
	return nil
}

// goid returns the id of the calling goroutine, read from the header of
// its stack trace ("goroutine 18 [running]:"): Close uses it to tell
// whether a handler called it.
func goid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	var id uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}

// detachEngineLocked forgets the current engine (its callbacks are
// ignored from now on) and stops an opening one. It returns the engine to
// close, outside the lock.
func (m *Manager) detachEngineLocked() *engineio.ClientConn {
	eng := m.engine
	m.engine = nil
	m.gen++
	m.state = stateClosed
	m.early = nil
	if m.openCancel != nil {
		m.openCancel()
		m.openCancel = nil
	}
	m.backoff.attempts = 0
	return eng
}

// openLocked opens the engine unless it is open or opening.
func (m *Manager) openLocked(reconnect bool) {
	if m.closed || m.state != stateClosed {
		return
	}
	m.state = stateOpening
	m.skipReconnect = false
	m.gen++
	gen := m.gen
	var (
		ctx    context.Context
		cancel context.CancelFunc
	)
	if m.opts.Timeout > 0 {
		ctx, cancel = context.WithTimeout(m.ctx, m.opts.Timeout)
	} else {
		ctx, cancel = context.WithCancel(m.ctx)
	}
	m.openCancel = cancel
	m.workers.Add(1)
	go func() {
		defer m.workers.Done()
		m.openEngine(ctx, cancel, gen, reconnect)
	}()
}

// openEngine dials the engine of generation gen.
func (m *Manager) openEngine(ctx context.Context, cancel context.CancelFunc, gen uint64, reconnect bool) {
	var dec parser.PacketDecoder
	if m.opts.Parser != nil {
		dec = m.opts.Parser.NewDecoder(0)
	} else {
		dec = parser.NewDecoder(0)
	}
	eng, err := engineio.Dial(ctx, m.url, &engineio.DialOptions{
		Path:           m.opts.Path,
		Query:          m.opts.Query,
		Header:         m.opts.Header,
		HTTPClient:     m.opts.HTTPClient,
		Transports:     m.opts.Transports,
		DisableUpgrade: m.opts.DisableUpgrade,
		MaxMessageSize: m.opts.MaxMessageSize,
		OnMessage:      func(data []byte, binary bool) { m.onEngineMessage(gen, dec, data, binary) },
		OnClose:        func(reason string, err error) { m.onEngineClose(gen, reason, err) },
	})
	if err != nil && ctx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("socketio: timeout: %w", err)
	}
	cancel()

	m.mu.Lock()
	if m.closed || gen != m.gen {
		m.mu.Unlock()
		if eng != nil {
			_ = eng.Close()
		}
		return
	}
	m.openCancel = nil
	if eng != nil {
		m.pruneEnginesLocked()
		m.engines = append(m.engines, eng)
		if m.early != nil {
			err = lostError(m.early.reason, m.early.err)
			m.early = nil
		}
	}
	if err != nil {
		m.onOpenErrorLocked(err, reconnect)
		m.mu.Unlock()
		if eng != nil {
			_ = eng.Close() // closed already, unless a packet could not be decoded
		}
		return
	}
	m.engine = eng
	m.state = stateOpen
	if reconnect {
		attempt := m.backoff.attempts
		m.reconnecting = false
		m.backoff.attempts = 0
		fns := m.onReconnect
		m.dispatchLocked(func() {
			for _, fn := range fns {
				fn(attempt)
			}
		})
	}
	for _, s := range m.sockets {
		if s.active {
			s.onOpenLocked()
		}
	}
	m.mu.Unlock()
}

// pruneEnginesLocked forgets the engines whose goroutines have ended.
func (m *Manager) pruneEnginesLocked() {
	kept := m.engines[:0]
	for _, e := range m.engines {
		select {
		case <-e.Done():
		default:
			kept = append(kept, e)
		}
	}
	clear(m.engines[len(kept):])
	m.engines = kept
}

// onOpenErrorLocked handles a failed opening, as the reference's open
// callback and maybeReconnectOnOpen do.
func (m *Manager) onOpenErrorLocked(err error, reconnect bool) {
	m.state = stateClosed
	m.lastErr = err
	for _, s := range m.sockets {
		if s.active && !s.connected {
			s.connectErrorLocked(err)
		}
	}
	if reconnect {
		m.reconnecting = false
		m.reconnectLocked()
		fns := m.onRecErr
		m.dispatchLocked(func() {
			for _, fn := range fns {
				fn(err)
			}
		})
	} else if !m.reconnecting && !m.opts.DisableReconnection && m.backoff.attempts == 0 {
		m.reconnectLocked()
	}
	if !m.reconnecting {
		for _, s := range m.sockets {
			s.notifyLocked(err)
		}
	}
}

// reconnectLocked schedules the next reconnection attempt, or gives up.
func (m *Manager) reconnectLocked() {
	if m.reconnecting || m.skipReconnect || m.closed {
		return
	}
	if max := m.opts.ReconnectionAttempts; max > 0 && m.backoff.attempts >= max {
		m.backoff.attempts = 0
		m.reconnecting = false
		fns := m.onRecFailed
		m.dispatchLocked(func() {
			for _, fn := range fns {
				fn()
			}
		})
		err := fmt.Errorf("socketio: reconnection failed after %d attempts", max)
		if m.lastErr != nil {
			err = fmt.Errorf("%w: %w", err, m.lastErr)
		}
		for _, s := range m.sockets {
			s.notifyLocked(err)
		}
		return
	}
	delay := m.backoff.duration()
	m.reconnecting = true
	m.reconnectTimer = time.AfterFunc(delay, m.onReconnectTimer)
}

func (m *Manager) onReconnectTimer() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.skipReconnect || m.closed || !m.reconnecting {
		return
	}
	attempt := m.backoff.attempts
	fns := m.onAttempt
	m.dispatchLocked(func() {
		for _, fn := range fns {
			fn(attempt)
		}
	})
	m.openLocked(true)
}

// onEngineClose handles the close of the engine of generation gen.
func (m *Manager) onEngineClose(gen uint64, reason string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if gen != m.gen || m.closed {
		return
	}
	if m.state == stateOpening {
		if m.early == nil {
			m.early = &engineClose{reason, err} // Dial has not returned yet
		}
		return
	}
	if m.closeReason != "" {
		reason, err = m.closeReason, m.closeErr
		m.closeReason, m.closeErr = "", nil
	}
	m.detachEngineLocked()
	// Without a reconnection to wait for, a socket that was still
	// connecting gets the error now: its Connect returns it.
	var waitErr error
	if m.opts.DisableReconnection || m.skipReconnect {
		waitErr = lostError(reason, err)
	}
	for _, s := range m.sockets {
		if s.active {
			var werr error
			if !s.connected {
				werr = waitErr
			}
			s.closeLocked(reason, werr, false)
		}
	}
	if !m.opts.DisableReconnection && !m.skipReconnect {
		m.reconnectLocked()
	}
}

// lostError is the error of a connection that closed before a socket
// connected: a *DisconnectError with the reason, and the cause if any.
func lostError(reason string, cause error) error {
	de := &DisconnectError{Reason: reason}
	if cause == nil {
		return fmt.Errorf("socketio: connection closed before the socket connected: %w", de)
	}
	return fmt.Errorf("socketio: connection closed before the socket connected: %w: %w", de, cause)
}

// onEngineMessage decodes a message of the engine of generation gen. It
// runs on the engine's reading goroutine; dec belongs to it.
func (m *Manager) onEngineMessage(gen uint64, dec parser.PacketDecoder, data []byte, binary bool) {
	p, err := dec.Decode(data, binary)
	if err != nil {
		m.mu.Lock()
		var eng *engineio.ClientConn
		switch {
		case gen != m.gen || m.closed:
		case m.engine != nil:
			m.closeReason, m.closeErr = ReasonParseError, err
			eng = m.engine
		case m.state == stateOpening && m.early == nil:
			// A bad packet with the handshake: openEngine closes the
			// engine and fails the attempt.
			m.early = &engineClose{ReasonParseError, err}
		}
		m.mu.Unlock()
		if eng != nil {
			_ = eng.Close()
		}
		return
	}
	if p == nil {
		return
	}
	m.mu.Lock()
	if p.Type == parser.Event || p.Type == parser.BinaryEvent {
		// The queue of handlers is full: stop reading until one returns.
		for m.events >= m.opts.MaxQueuedEvents && gen == m.gen && !m.closed {
			m.cond.Wait()
		}
	}
	if gen != m.gen || m.closed {
		m.mu.Unlock()
		return
	}
	s := m.sockets[p.Namespace]
	if s == nil || !s.active {
		m.mu.Unlock()
		return
	}
	s.onPacketLocked(p)
	eng := m.destroyIfIdleLocked()
	m.mu.Unlock()
	if eng != nil {
		_ = eng.Close()
	}
}

// destroyIfIdleLocked closes the connection when no socket is active any
// more, as the reference does; it returns the engine to close outside the
// lock.
func (m *Manager) destroyIfIdleLocked() *engineio.ClientConn {
	for _, s := range m.sockets {
		if s.active {
			return nil
		}
	}
	if m.state == stateClosed && !m.reconnecting {
		return nil
	}
	m.skipReconnect = true
	m.reconnecting = false
	if m.reconnectTimer != nil {
		m.reconnectTimer.Stop()
	}
	return m.detachEngineLocked()
}

// encode encodes p in the Manager's wire format.
func (m *Manager) encode(p *parser.Packet) ([]*engineio.Message, error) {
	return adapter.EncodeWith(m.opts.Parser, p)
}

// sendLocked queues a packet on the open engine. It reports whether it did.
func (m *Manager) sendLocked(frames []*engineio.Message, volatile bool) bool {
	if m.engine == nil {
		return false
	}
	if volatile {
		return m.engine.SendVolatile(frames...)
	}
	return m.engine.Send(frames...) == nil
}

// A clientTask is a function queued for the dispatcher: the handlers of an
// event (or the OnAny listeners of one), or of a change of state.
type clientTask struct {
	fn    func()
	event bool // dropped by Close, bounded by MaxQueuedEvents
}

// dispatchLocked queues the handlers of a change of state to run on the
// dispatcher, after the functions already queued.
func (m *Manager) dispatchLocked(fn func()) { m.pushLocked(clientTask{fn: fn}) }

// dispatchEventLocked queues the handlers of an event, counted in
// MaxQueuedEvents; once Close began, it drops them.
func (m *Manager) dispatchEventLocked(fn func()) {
	if m.closed {
		return
	}
	m.events++
	m.pushLocked(clientTask{fn: fn, event: true})
}

func (m *Manager) pushLocked(t clientTask) {
	if m.finished {
		return
	}
	m.tasks = append(m.tasks, t)
	if !m.running {
		m.running = true
		go m.drain()
	}
}

// popLocked takes the next task out of the queue.
func (m *Manager) popLocked() clientTask {
	t := m.tasks[0]
	m.tasks[0] = clientTask{}
	m.tasks = m.tasks[1:]
	if t.event {
		m.events--
		m.cond.Broadcast() // room for a reader waiting in onEngineMessage
	}
	return t
}

// dropEventsLocked drops the queued event tasks.
func (m *Manager) dropEventsLocked() {
	kept := m.tasks[:0]
	for _, t := range m.tasks {
		if !t.event {
			kept = append(kept, t)
		}
	}
	clear(m.tasks[len(kept):])
	m.tasks = kept
	m.events = 0
}

// drain runs queued functions until there is none left.
func (m *Manager) drain() {
	id := goid()
	m.mu.Lock()
	m.dispatcher = id
	for len(m.tasks) > 0 {
		t := m.popLocked()
		m.inHandler = true
		m.mu.Unlock()
		t.fn()
		m.mu.Lock()
		m.inHandler = false
		m.cond.Broadcast()
	}
	m.tasks = nil
	m.running = false
	m.cond.Broadcast()
	m.mu.Unlock()
}

// ErrClientClosed is returned by the operations of a client socket whose
// Manager was closed.
var ErrClientClosed = errors.New("socketio: client closed")

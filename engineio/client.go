package engineio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// DefaultClientCloseTimeout bounds how long ClientConn.Close spends
// delivering the packets still queued and saying goodbye to the server
// before it cuts the connection.
const DefaultClientCloseTimeout = 5 * time.Second

// DialOptions configures Dial. The zero value of every field selects the
// reference client's default (engine.io-client 6.6); Dial never modifies
// the caller's DialOptions.
type DialOptions struct {
	// Path is the URL path of the Engine.IO server; a trailing slash is
	// added. The path of the URL given to Dial is ignored, as the reference
	// client does. Default "/engine.io/".
	Path string

	// Query holds extra query parameters sent with every request, next to
	// those of the URL given to Dial.
	Query url.Values

	// Header holds extra HTTP headers (Authorization, Cookie...) sent with
	// every polling request and with the WebSocket handshake.
	Header http.Header

	// HTTPClient sends the polling requests and the WebSocket handshakes;
	// TLS settings, proxies and dialers come from it. Its Timeout, if any,
	// must be longer than the server's ping interval, because a poll waits
	// up to that long for data. Nil means a client of the connection's own
	// (a clone of http.DefaultTransport), whose idle connections are closed
	// with the connection.
	HTTPClient *http.Client

	// Transports lists the transports the client may use, TransportPolling
	// and/or TransportWebSocket, in order of preference: the connection
	// opens with the first and, from polling, upgrades to WebSocket when
	// it is listed and the server offers it. Nil means polling then
	// WebSocket.
	Transports []string

	// DisableUpgrade keeps a connection on the transport it opened with.
	DisableUpgrade bool

	// MaxMessageSize bounds each packet from the server, as it travels: a
	// WebSocket message, or one packet of a polling body (a binary one
	// counted in its base64 form) after the body's gzip or deflate
	// encoding is undone; a polling body of many packets may be longer. A larger packet closes
	// the connection with ReasonTransportError and ErrMessageTooLarge
	// (Dial returns it for the handshake, which may take 64 KiB whatever
	// the bound, and whose polling body is bounded whole). Zero means
	// DefaultMaxHTTPBufferSize (1 MB, the server's default); a negative
	// value means no bound.
	MaxMessageSize int64

	// OnMessage, when not nil, is called with each message from the server:
	// its text, or its bytes when binary is set. data belongs to the callee.
	// Calls are made one at a time, in order, from the goroutine reading
	// the connection, which answers no ping meanwhile: a slow callback
	// should hand its work off. Setting it here, before the connection
	// exists, is what makes sure that no message is missed.
	OnMessage func(data []byte, binary bool)

	// OnClose, when not nil, is called once when the connection closes,
	// after the last OnMessage call, with one of the Reason constants
	// (ReasonForcedClose after Close) and, where there is one, the error
	// behind it.
	OnClose func(reason string, err error)
}

// ErrMessageTooLarge closes a client connection whose server sent a packet
// larger than DialOptions.MaxMessageSize.
var ErrMessageTooLarge = errors.New("engineio: message from the server exceeds MaxMessageSize")

// withDefaults returns a copy of o with the defaults applied.
func (o *DialOptions) withDefaults() (*DialOptions, error) {
	var c DialOptions
	if o != nil {
		c = *o
	}
	if c.Path == "" {
		c.Path = DefaultPath
	}
	if c.Path[0] != '/' {
		c.Path = "/" + c.Path
	}
	if c.Path[len(c.Path)-1] != '/' {
		c.Path += "/"
	}
	if c.Transports == nil {
		c.Transports = []string{TransportPolling, TransportWebSocket}
	} else {
		c.Transports = slices.Clone(c.Transports)
	}
	if len(c.Transports) == 0 {
		return nil, errors.New("no transport")
	}
	for _, t := range c.Transports {
		if t != TransportPolling && t != TransportWebSocket {
			return nil, fmt.Errorf("unknown transport %q", t)
		}
	}
	if c.MaxMessageSize == 0 {
		c.MaxMessageSize = DefaultMaxHTTPBufferSize
	}
	c.Header = c.Header.Clone()
	return &c, nil
}

// An HTTPError reports that the server answered a request of the client
// with an error status, such as a refused handshake or an unknown session.
// Retrieve it with errors.As.
type HTTPError struct {
	StatusCode int    // HTTP status, such as 400 or 403
	Code       int    // Engine.IO error code of the JSON body, -1 when there is none
	Message    string // message of the JSON body, or the body's text
}

// Error implements error.
func (e *HTTPError) Error() string {
	text := http.StatusText(e.StatusCode)
	if e.Message == "" || e.Message == text {
		return fmt.Sprintf("engineio: HTTP %d %s", e.StatusCode, text)
	}
	return fmt.Sprintf("engineio: HTTP %d %s: %s", e.StatusCode, text, e.Message)
}

// newHTTPError reads an error response's body, as much as fits in max.
func newHTTPError(status int, body []byte) *HTTPError {
	e := &HTTPError{StatusCode: status, Code: -1, Message: http.StatusText(status)}
	var j struct {
		Code    *int   `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &j) == nil && j.Code != nil {
		e.Code, e.Message = *j.Code, j.Message
	} else if len(body) > 0 {
		if len(body) > 256 {
			body = body[:256]
		}
		e.Message = strings.TrimSpace(string(body))
	}
	return e
}

// A ClientConn is the client side of an Engine.IO connection, made by Dial.
//
// It rides on HTTP long-polling or a WebSocket, upgrading from the first to
// the second as the reference client does, answers the server's pings and
// closes itself with ReasonPingTimeout when they stop. Its methods are safe
// for concurrent use; Send and SendVolatile never block on the network.
//
// Goroutines: one reads the connection (the poller or the WebSocket
// reader); a writer runs only while there is something to write; an
// upgrade runs in a goroutine of its own until it completes or fails.
type ClientConn struct {
	opts       *DialOptions
	hc         *http.Client
	ownTr      *http.Transport // hc's transport when the conn made it
	pollURL    url.URL         // http(s) URL of the server, without query
	wsURL      url.URL         // ws(s) URL of the server, without query
	query      url.Values      // user query, EIO and sid
	id         string
	interval   time.Duration
	timeout    time.Duration
	maxPayload int

	ctx    context.Context // ends every request and WebSocket operation
	cancel context.CancelFunc
	done   chan struct{}

	mu         sync.Mutex
	cond       sync.Cond // signals changes of live, inCallback, polling, writing
	transport  transportKind
	closed     bool
	graceful   bool // closed by Close: deliver the queue and say goodbye first
	reason     string
	err        error
	notified   bool // OnClose was called or is being called
	queue      []*Message
	writing    bool // a writer goroutine runs
	polling    bool // the poller runs
	pausing    bool // an upgrade paused polling
	ws         *websocket.Conn
	pingTimer  *time.Timer
	closeTimer *time.Timer
	live       int // goroutines running
	inCallback int // of which inside OnMessage or OnClose
}

// pongMessage answers a ping.
var pongMessage = &Message{frame: []byte{typePong}}

// cacheBuster makes the t query parameter of polling requests.
var cacheBuster atomic.Uint64

// Dial opens an Engine.IO connection to the server at rawURL (http, https,
// ws or wss; only its scheme, host and query are used, see
// DialOptions.Path) and returns once the server's handshake has arrived.
// ctx bounds the handshake only. nil opts selects every default.
//
// The connection starts on the first of opts.Transports and, from polling,
// probes a WebSocket upgrade in the background. Close it with Close.
func Dial(ctx context.Context, rawURL string, opts *DialOptions) (*ClientConn, error) {
	c, err := dial(ctx, rawURL, opts)
	if err != nil {
		return nil, fmt.Errorf("engineio: dial %s: %w", rawURL, err)
	}
	return c, nil
}

func dial(ctx context.Context, rawURL string, opts *DialOptions) (*ClientConn, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	c := &ClientConn{opts: o, hc: o.HTTPClient, done: make(chan struct{})}
	c.cond.L = &c.mu
	switch u.Scheme {
	case "http", "ws":
		c.pollURL.Scheme, c.wsURL.Scheme = "http", "ws"
	case "https", "wss":
		c.pollURL.Scheme, c.wsURL.Scheme = "https", "wss"
	default:
		return nil, fmt.Errorf("unsupported URL scheme %q", u.Scheme)
	}
	if u.Host == "" {
		return nil, errors.New("URL has no host")
	}
	c.pollURL.Host, c.wsURL.Host = u.Host, u.Host
	c.pollURL.Path, c.wsURL.Path = o.Path, o.Path
	c.query = u.Query()
	for k, vs := range o.Query {
		c.query[k] = append([]string(nil), vs...)
	}
	c.query.Set("EIO", "4")
	if c.hc == nil {
		c.ownTr = http.DefaultTransport.(*http.Transport).Clone()
		c.hc = &http.Client{Transport: c.ownTr}
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())

	var (
		first []packet
		ws    *websocket.Conn
	)
	if o.Transports[0] == TransportWebSocket {
		c.transport = webSocket
		ws, first, err = c.openWebSocket(ctx)
	} else {
		first, err = c.openPolling(ctx)
	}
	if err != nil {
		c.cancel()
		c.closeIdle()
		if he := (*HTTPError)(nil); errors.As(err, &he) {
			// Name the URL: a 404 there is a server mounted elsewhere.
			u := c.pollURL
			if c.transport == webSocket {
				u = c.wsURL
			}
			return nil, fmt.Errorf("handshake: %w, from %s", err, u.String())
		}
		return nil, err
	}
	hs, err := parseHandshake(first[0])
	if err != nil {
		c.cancel()
		if ws != nil {
			_ = ws.CloseNow()
		}
		c.closeIdle()
		return nil, err
	}
	c.id = hs.SID
	c.query.Set("sid", hs.SID)
	c.interval, c.timeout = hs.interval, hs.timeout
	c.maxPayload = int(min(max(hs.MaxPayload, 0), math.MaxInt32)) // 0: no bound

	c.mu.Lock()
	c.pingTimer = time.AfterFunc(c.interval+c.timeout, c.onPingTimeout)
	if ws != nil {
		c.ws = ws
		c.goLocked(func() { c.readWebSocket(ws, first[1:]) })
	} else {
		c.polling = true
		c.goLocked(func() { c.poll(first[1:]) })
		if !o.DisableUpgrade && slices.Contains(o.Transports, TransportWebSocket) && slices.Contains(hs.Upgrades, TransportWebSocket) {
			c.goLocked(c.upgrade)
		}
	}
	c.mu.Unlock()
	return c, nil
}

// handshake is the payload of the open packet.
type handshake struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int64    `json:"pingInterval"`
	PingTimeout  int64    `json:"pingTimeout"`
	MaxPayload   int64    `json:"maxPayload"`

	interval, timeout time.Duration // PingInterval and PingTimeout
}

// maxHandshakeMillis bounds pingInterval and pingTimeout: the largest
// delay a JavaScript timer holds (about 24.8 days). Larger values would
// overflow time.Duration or, in the reference client, fire at once.
const maxHandshakeMillis = math.MaxInt32

func parseHandshake(p packet) (*handshake, error) {
	if p.typ != typeOpen {
		return nil, fmt.Errorf("%w: the first packet is not an open packet", errParse)
	}
	var hs handshake
	if err := json.Unmarshal(p.data, &hs); err != nil {
		return nil, fmt.Errorf("%w: invalid handshake: %v", errParse, err)
	}
	if hs.SID == "" || hs.PingInterval <= 0 || hs.PingTimeout <= 0 ||
		hs.PingInterval > maxHandshakeMillis || hs.PingTimeout > maxHandshakeMillis {
		return nil, fmt.Errorf("%w: invalid handshake %.200s", errParse, p.data)
	}
	hs.interval = time.Duration(hs.PingInterval) * time.Millisecond
	hs.timeout = time.Duration(hs.PingTimeout) * time.Millisecond
	return &hs, nil
}

// ID returns the session id the server assigned.
func (c *ClientConn) ID() string { return c.id }

// Transport returns the name of the current transport: "polling" or
// "websocket".
func (c *ClientConn) Transport() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.transport == webSocket {
		return TransportWebSocket
	}
	return TransportPolling
}

// Done returns a channel that is closed once the connection has closed and
// every goroutine it started has ended, OnClose included.
func (c *ClientConn) Done() <-chan struct{} { return c.done }

// Send queues msgs for the server as one unit, in order, without blocking:
// no other message is queued between them. It returns ErrClosed once the
// connection has closed. Messages queued during an upgrade wait for it to
// complete. Over polling, queued messages go in as few requests as the
// server's maxPayload allows.
func (c *ClientConn) Send(msgs ...*Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	c.queue = append(c.queue, msgs...)
	c.kickLocked()
	return nil
}

// SendVolatile queues msgs as Send does, but only if the transport can
// take them right away: the connection is open, not upgrading, and nothing
// is queued or being written. It reports whether it queued them.
func (c *ClientConn) SendVolatile(msgs ...*Message) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.pausing || c.writing || len(c.queue) > 0 {
		return false
	}
	c.queue = append(c.queue, msgs...)
	c.kickLocked()
	return true
}

// SendText queues a text message; a shim over Send.
func (c *ClientConn) SendText(data []byte) error { return c.Send(NewTextMessage(data)) }

// SendBinary queues a binary message; a shim over Send. It keeps data.
func (c *ClientConn) SendBinary(data []byte) error { return c.Send(NewBinaryMessage(data)) }

// Close closes the connection with ReasonForcedClose: it writes what is
// queued and the close packet (over polling) or closes the WebSocket
// handshake, within DefaultClientCloseTimeout, and waits for the
// connection's goroutines to end. It is idempotent and always returns nil.
//
// Called from OnMessage or OnClose, or while one of them runs, Close does
// not wait for the goroutine running that callback, which ends on its own
// when the callback returns; Done reports the end of every goroutine.
func (c *ClientConn) Close() error {
	c.mu.Lock()
	if !c.closed {
		c.closed, c.reason, c.graceful = true, ReasonForcedClose, true
		c.pingTimer.Stop()
		if c.transport == polling {
			c.queue = append(c.queue, closeMessage)
		}
		// The writer sends the queue and says goodbye, then cancels; during
		// an upgrade, the upgrade's goroutine starts it once polling is
		// paused.
		c.kickLocked()
		c.closeTimer = time.AfterFunc(DefaultClientCloseTimeout, c.cancel)
		c.cond.Broadcast() // an upgrade waiting for polling to pause gives up
	}
	for c.live > c.inCallback {
		c.cond.Wait()
	}
	c.mu.Unlock()
	return nil
}

// fail closes the connection at once, dropping what is queued.
func (c *ClientConn) fail(reason string, err error) {
	c.mu.Lock()
	if !c.closed {
		c.closed, c.reason, c.err = true, reason, err
		c.pingTimer.Stop()
	}
	c.graceful = false
	c.queue = nil
	c.cond.Broadcast()
	c.mu.Unlock()
	c.cancel()
}

func (c *ClientConn) onPingTimeout() { c.fail(ReasonPingTimeout, nil) }

// goLocked starts fn on a goroutine counted in c.live.
func (c *ClientConn) goLocked(fn func()) {
	c.live++
	go func() {
		defer c.exit()
		fn()
	}()
}

// exit counts a goroutine out; the last one of a closed connection makes
// sure OnClose ran and closes done.
func (c *ClientConn) exit() {
	c.mu.Lock()
	if c.live == 1 && c.closed && !c.notified {
		c.mu.Unlock()
		c.notifyClose()
		c.mu.Lock()
	}
	c.live--
	last := c.live == 0 && c.closed
	c.cond.Broadcast()
	c.mu.Unlock()
	if last {
		if c.closeTimer != nil {
			c.closeTimer.Stop()
		}
		c.cancel()
		c.closeIdle()
		close(c.done)
	}
}

// closeIdle closes the idle connections of the conn's own HTTP transport.
func (c *ClientConn) closeIdle() {
	if c.ownTr != nil {
		c.ownTr.CloseIdleConnections()
	}
}

// kickLocked starts a writer when there is something to write.
func (c *ClientConn) kickLocked() {
	if c.writing || c.pausing {
		return
	}
	switch c.transport {
	case polling:
		if len(c.queue) == 0 || (c.closed && !c.graceful) {
			return
		}
		c.writing = true
		c.goLocked(c.writePolling)
	case webSocket:
		if len(c.queue) == 0 && !c.closed {
			return
		}
		c.writing = true
		ws := c.ws
		c.goLocked(func() { c.writeWebSocket(ws) })
	}
}

// deliver passes a message to OnMessage unless the connection closed.
func (c *ClientConn) deliver(data []byte, binary bool) {
	fn := c.opts.OnMessage
	c.mu.Lock()
	if c.closed || fn == nil {
		c.mu.Unlock()
		return
	}
	c.inCallback++
	c.cond.Broadcast()
	c.mu.Unlock()
	defer c.leaveCallback()
	fn(data, binary)
}

// notifyClose calls OnClose once the connection has closed. Only the
// goroutine reading the connection calls it, after its last delivery (or
// the last goroutine, if no reader is left).
func (c *ClientConn) notifyClose() {
	c.mu.Lock()
	if !c.closed || c.notified {
		c.mu.Unlock()
		return
	}
	c.notified = true
	reason, err := c.reason, c.err
	c.inCallback++
	c.cond.Broadcast()
	c.mu.Unlock()
	defer c.leaveCallback()
	if fn := c.opts.OnClose; fn != nil {
		fn(reason, err)
	}
}

func (c *ClientConn) leaveCallback() {
	c.mu.Lock()
	c.inCallback--
	c.cond.Broadcast()
	c.mu.Unlock()
}

// onPacket handles a packet from the server on the active transport. It
// reports false when the packet closed the connection.
func (c *ClientConn) onPacket(p packet) bool {
	switch p.typ {
	case typeMessage:
		c.deliver(p.data, p.binary)
	case typePing:
		c.mu.Lock()
		if !c.closed {
			c.pingTimer.Reset(c.interval + c.timeout)
			c.queue = append(c.queue, pongMessage)
			c.kickLocked()
		}
		c.mu.Unlock()
	case typeClose:
		c.fail(ReasonTransportClose, nil)
		return false
	default:
		// open, pong, upgrade and noop packets carry nothing here.
	}
	return true
}

// requestQuery returns the query of a request, with a cache buster for
// polling.
func (c *ClientConn) requestQuery(transport string) string {
	q := make(url.Values, len(c.query)+2)
	for k, v := range c.query {
		q[k] = v
	}
	q.Set("transport", transport)
	if transport == TransportPolling {
		q.Set("t", strconv.FormatUint(cacheBuster.Add(1), 36))
	}
	return q.Encode()
}

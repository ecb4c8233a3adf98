package engineio

import (
	"log/slog"
	"net/http"
	"slices"
	"time"
)

// Defaults of the reference server (engine.io 6.6).
const (
	DefaultPath                     = "/engine.io/"
	DefaultPingInterval             = 25 * time.Second
	DefaultPingTimeout              = 20 * time.Second
	DefaultUpgradeTimeout           = 10 * time.Second
	DefaultMaxHTTPBufferSize        = 1_000_000
	DefaultHTTPCompressionThreshold = 1024
	DefaultSendQueueLimit           = 1 << 20
	DefaultSlowClientTimeout        = 5 * time.Second
	DefaultCloseTimeout             = 30 * time.Second
)

// Transport names, as they appear in the transport query parameter.
const (
	TransportPolling   = "polling"
	TransportWebSocket = "websocket"
)

// Options configures a Server. The zero value of every field selects the
// reference server's default; NewServer never modifies the caller's Options.
type Options struct {
	// Path is the URL path the server answers under. Any path that starts
	// with it is accepted, as the reference server does. Default "/engine.io/".
	Path string

	// PingInterval is how long the server waits after a pong (or the
	// handshake) before it sends the next ping. Default 25s.
	PingInterval time.Duration
	// PingTimeout is how long the server waits for a pong after a ping
	// before it closes the session with "ping timeout". Default 20s.
	PingTimeout time.Duration
	// UpgradeTimeout bounds an upgrade from polling to WebSocket, from the
	// WebSocket's opening to the client's upgrade packet. Default 10s.
	UpgradeTimeout time.Duration

	// MaxHTTPBufferSize is the largest accepted POST body and WebSocket
	// message, in bytes; it is announced to clients as maxPayload. A larger
	// POST is answered 413; a larger WebSocket message closes the session.
	// Default 1,000,000.
	MaxHTTPBufferSize int64

	// Transports lists the enabled transports, TransportPolling and/or
	// TransportWebSocket. Nil enables both.
	Transports []string
	// DisableUpgrades stops polling sessions from upgrading to WebSocket.
	DisableUpgrades bool

	// CORS, when not nil, adds Cross-Origin Resource Sharing headers to
	// polling responses and answers preflight requests. Nil adds none.
	CORS *CORSOptions

	// Cookie, when not nil, is set on the handshake response with the
	// session id as its value, for sticky load balancing. An empty Name
	// means "io" and an empty Path means "/". Nil sets no cookie.
	Cookie *http.Cookie

	// AllowRequest, when not nil, is called for each handshake request. A
	// non-nil error rejects it with 403 and a JSON body that carries the
	// error's text as its message. No origin is checked otherwise: a
	// WebSocket handshake from any origin is accepted unless AllowRequest
	// refuses it; AllowOrigins makes an origin check for it.
	AllowRequest func(r *http.Request) error

	// PerMessageDeflate enables the WebSocket permessage-deflate extension
	// (without context takeover, for messages of 1024 bytes or more).
	PerMessageDeflate bool

	// LibraryWebSocket makes coder/websocket handle every WebSocket
	// session: its handshake, reads and writes. By default the server
	// answers the handshake and frames the messages of an uncompressed,
	// binary-capable session itself, and on Linux reads idle sessions
	// through its epoll poller (no goroutine per idle connection); see
	// docs/dependencies.md. Sessions with PerMessageDeflate or base64
	// binary always use the library. Turn it on to rule the server's own
	// WebSocket code out when looking for a fault.
	LibraryWebSocket bool

	// HTTPCompressionThreshold is the size from which polling responses are
	// compressed (gzip or deflate, as the client accepts). Zero means 1024;
	// a negative value disables HTTP compression.
	HTTPCompressionThreshold int

	// InitialPacket, when not nil, is sent as a text message right after
	// the handshake.
	InitialPacket []byte

	// SendQueueLimit is how many bytes may wait for a client that does not
	// read. A session whose queue is past it while its transport takes
	// nothing (no bytes written to the WebSocket, no GET that takes the
	// queue) for SlowClientTimeout is closed ("transport error" with
	// ErrSlowClient). While the client reads, the queue may grow past the
	// limit, as bursts queue faster than any socket drains, up to 64 times
	// the limit: a message that would pass that bound closes the session
	// at once. Volatile messages are dropped whenever anything is queued.
	// Zero means 1 MiB.
	SendQueueLimit int
	// SlowClientTimeout is how long a session whose queue is past
	// SendQueueLimit may go without its transport taking anything before
	// it is closed as a slow client. Zero means 5s.
	SlowClientTimeout time.Duration

	// InitialHeaders, when not nil, is called with the headers of the
	// response that opens a session (the first polling GET's answer, or
	// the WebSocket handshake's 101) and its request, before they are
	// written, as the reference server's initial_headers event. Headers
	// it sets go in the response; on a polling handshake the session
	// cookie (see Cookie) is set already, as the reference server sets it
	// on polling only. It runs before Headers, on the request's goroutine.
	InitialHeaders func(h http.Header, r *http.Request)
	// Headers, when not nil, is called with the headers of every transport
	// response (each polling GET's and POST's answer, each WebSocket
	// handshake's 101, the opening one included) and its request, before
	// they are written, as the reference server's headers event. Error
	// answers (see OnConnectionError) do not call it. It gives access to
	// the headers of each request of a session, where Session.Request
	// keeps the opening one: the session id is r.URL.Query().Get("sid"),
	// empty on the opening request.
	Headers func(h http.Header, r *http.Request)

	// OnConnectionError, when not nil, is called with each request the
	// server refuses with an Engine.IO error code (a ConnectionError, see
	// the Code constants), after the answer is written, as the reference
	// server's connection_error event. Stats counts them too.
	OnConnectionError func(r *http.Request, err *ConnectionError)

	// AllowEIO3 accepts socket.io 2.x clients: sessions opened with EIO=3
	// speak Engine.IO protocol v3 (see Session.Protocol), and the socketio
	// package speaks Socket.IO protocol v4 on them. Off, an EIO=3 request is
	// refused with CodeUnsupportedVersion, as the reference server refuses
	// it without allowEIO3. JSONP polling (the j query parameter) is not
	// supported.
	AllowEIO3 bool

	// Logger receives the server's log: session opening and closing and
	// protocol errors caused by clients at debug level, slow clients cut
	// at warn level. Nil means slog.Default().
	Logger *slog.Logger
}

// CORSOptions configures Cross-Origin Resource Sharing for polling requests.
type CORSOptions struct {
	// Origins lists the allowed origins; "*" allows any. Nil allows any.
	Origins []string
	// Credentials sets Access-Control-Allow-Credentials; with it the
	// request's origin is echoed instead of "*".
	Credentials bool
	// AllowedHeaders is sent as Access-Control-Allow-Headers on preflight
	// responses. Nil echoes the requested headers.
	AllowedHeaders []string
	// MaxAge sets Access-Control-Max-Age on preflight responses when positive.
	MaxAge time.Duration
}

// withDefaults returns a copy of o with the defaults applied.
func (o *Options) withDefaults() *Options {
	var c Options
	if o != nil {
		c = *o
	}
	if c.Path == "" {
		c.Path = DefaultPath
	}
	if c.Path[len(c.Path)-1] != '/' {
		c.Path += "/"
	}
	if c.PingInterval <= 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.PingTimeout <= 0 {
		c.PingTimeout = DefaultPingTimeout
	}
	if c.UpgradeTimeout <= 0 {
		c.UpgradeTimeout = DefaultUpgradeTimeout
	}
	if c.MaxHTTPBufferSize <= 0 {
		c.MaxHTTPBufferSize = DefaultMaxHTTPBufferSize
	}
	if c.Transports == nil {
		c.Transports = []string{TransportPolling, TransportWebSocket}
	} else {
		c.Transports = slices.Clone(c.Transports)
	}
	if c.HTTPCompressionThreshold == 0 {
		c.HTTPCompressionThreshold = DefaultHTTPCompressionThreshold
	}
	if c.SendQueueLimit <= 0 {
		c.SendQueueLimit = DefaultSendQueueLimit
	}
	if c.SlowClientTimeout <= 0 {
		c.SlowClientTimeout = DefaultSlowClientTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Cookie != nil {
		ck := *c.Cookie
		if ck.Name == "" {
			ck.Name = "io"
		}
		if ck.Path == "" {
			ck.Path = "/"
		}
		c.Cookie = &ck
	}
	if c.CORS != nil {
		cors := *c.CORS
		c.CORS = &cors
	}
	return &c
}

func (o *Options) transportEnabled(name string) bool {
	return slices.Contains(o.Transports, name)
}

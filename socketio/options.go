package socketio

import (
	"io/fs"
	"log/slog"
	"time"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/parser"
)

// Defaults of the reference server (socket.io 4.8).
const (
	DefaultPath           = "/socket.io/"
	DefaultConnectTimeout = 45 * time.Second
)

// Options configures a Server. The zero value of every field selects the
// reference server's default; NewServer never modifies the caller's Options.
type Options struct {
	// Engine configures the Engine.IO server underneath. Its Path defaults
	// to "/socket.io/" here.
	Engine engineio.Options

	// ConnectTimeout closes a connection that has not joined a namespace
	// within it. Default 45s.
	ConnectTimeout time.Duration

	// MaxAttachments bounds the binary attachments of one packet. Default 10.
	MaxAttachments int

	// Parser is the wire format of the Socket.IO packets. Nil means the
	// default format of socket.io-parser; msgpackparser.Parser{} (package
	// parser/msgpackparser) is the one of socket.io-msgpack-parser. The
	// clients, and every server of a cluster, must use the same parser.
	Parser parser.Parser

	// Adapter creates each namespace's adapter. Nil means the in-memory
	// adapter.
	Adapter adapter.Factory

	// CleanupEmptyChildNamespaces removes a namespace created from a
	// dynamic parent (OfFunc, OfRegexp) once its last socket leaves.
	CleanupEmptyChildNamespaces bool

	// ConnectionStateRecovery, when not nil, lets a client that lost its
	// connection get back its socket (id, rooms, data) and the packets it
	// missed. It switches the default adapter to the session-aware
	// in-memory adapter.
	ConnectionStateRecovery *ConnectionStateRecovery

	// AdapterInitTimeout bounds each namespace adapter's Init (a cluster
	// adapter subscribes its channels there). Zero means 10 s.
	AdapterInitTimeout time.Duration

	// ClientFiles, when not nil, serves the socket.io client bundle under
	// the server's path, as the reference server's serveClient does:
	// socket.io.js, socket.io.min.js, socket.io.esm.min.js and
	// socket.io.msgpack.min.js, with their .map source maps, are read
	// from it, for example from the dist directory of the socket.io-client
	// npm package (os.DirFS("node_modules/socket.io-client/dist")) or an
	// embed.FS. Each file is read on its first request and kept in memory;
	// it is answered with the reference's headers (Cache-Control "public,
	// max-age=0", an ETag, 304 to a matching If-None-Match) and gzip or
	// deflate when the client accepts them (Brotli is not offered). A file
	// the FS lacks is answered 404. Nil serves no file, where the
	// reference serves its own copy by default: those paths then get
	// Engine.IO's error, as any other request does.
	ClientFiles fs.FS

	// Logger receives the server's log lines: a client's protocol errors
	// and a namespace not joined in time (debug); event arguments that do
	// not decode into a handler's types when the socket has no OnError
	// handler (warn, see ArgumentError); handler and middleware panics and
	// adapter failures (error). It is also the engine's logger unless
	// Engine.Logger is set. Nil means slog.Default().
	Logger *slog.Logger
}

// DefaultAdapterInitTimeout is the default of Options.AdapterInitTimeout.
const DefaultAdapterInitTimeout = 10 * time.Second

// ConnectionStateRecovery configures connection state recovery.
type ConnectionStateRecovery struct {
	// MaxDisconnectionDuration is how long a disconnected session can be
	// recovered. Zero means 2 minutes.
	MaxDisconnectionDuration time.Duration
	// RunMiddlewares runs the connection middlewares again when a session
	// is recovered. The zero value skips them, as the reference's default
	// skipMiddlewares: true does.
	RunMiddlewares bool
}

func (o *Options) withDefaults() *Options {
	var c Options
	if o != nil {
		c = *o
	}
	if c.Engine.Path == "" {
		c.Engine.Path = DefaultPath
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.ConnectionStateRecovery != nil {
		csr := *c.ConnectionStateRecovery
		if csr.MaxDisconnectionDuration <= 0 {
			csr.MaxDisconnectionDuration = adapter.DefaultMaxDisconnectionDuration
		}
		c.ConnectionStateRecovery = &csr
		if c.Adapter == nil {
			c.Adapter = adapter.NewSessionAwareMemory(&adapter.SessionOptions{MaxDisconnectionDuration: csr.MaxDisconnectionDuration})
		}
	}
	if c.Adapter == nil {
		c.Adapter = adapter.NewMemory
	}
	if c.Parser == parser.Default {
		c.Parser = nil // the default's own fast paths
	}
	if c.AdapterInitTimeout <= 0 {
		c.AdapterInitTimeout = DefaultAdapterInitTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Engine.Logger == nil {
		c.Engine.Logger = c.Logger
	}
	return &c
}

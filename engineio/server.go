package engineio

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/gosio/gosio/internal/workers"
)

// A Server is an Engine.IO v4 server: an http.Handler that opens sessions
// over HTTP long-polling and WebSocket and upgrades the first to the second.
//
// Create it with NewServer, register the connection callback with
// OnConnection, and mount it on any net/http server or router. Stop it with
// Shutdown: sessions ride on hijacked connections and pending polls that
// http.Server.Shutdown does not close.
type Server struct {
	opts   *Options
	onConn atomic.Pointer[func(*Session)]

	mu       sync.Mutex
	sessions map[string]*Session
	closing  bool
	open     atomic.Int64   // sessions not closed yet
	wg       sync.WaitGroup // requests in progress and session goroutines
	writers  writePool      // see QueueAll
	stats    stats          // see Stats

	// WebSocket reading without a goroutine per session (see poller).
	poller    *poller
	pollerErr error
	pool      workers.Pool // the poller's readers
}

// NewServer returns a Server configured by opts; nil opts selects every
// default. NewServer does not keep or modify opts.
func NewServer(opts *Options) *Server {
	return &Server{
		opts:     opts.withDefaults(),
		sessions: make(map[string]*Session),
	}
}

// OnConnection sets the function called with each new session, before
// the session reads anything from its client. Register the session's
// OnMessage and OnClose there. Set it before serving requests.
func (srv *Server) OnConnection(fn func(*Session)) { srv.onConn.Store(&fn) }

// Options returns the server's options, with defaults applied. The caller
// must not modify them.
func (srv *Server) Options() *Options { return srv.opts }

// Count returns the number of open sessions.
func (srv *Server) Count() int { return int(srv.open.Load()) }

// Session returns the open session with the given id, or nil.
func (srv *Server) Session(id string) *Session {
	if s := srv.lookup(id); s != nil && !s.isClosed() {
		return s
	}
	return nil
}

// ServeHTTP implements http.Handler.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, srv.opts.Path) && r.URL.Path+"/" != srv.opts.Path {
		http.NotFound(w, r)
		return
	}
	if !srv.begin() {
		w.Header().Set("Connection", "close")
		http.Error(w, "engineio: server shutting down", http.StatusServiceUnavailable)
		return
	}
	defer srv.wg.Done()

	if srv.opts.CORS != nil && srv.applyCORS(w, r) {
		return
	}
	q := r.URL.Query()
	transport := q.Get("transport")
	if !srv.opts.transportEnabled(transport) {
		srv.refuseRequest(w, r, CodeUnknownTransport, "", nil)
		return
	}
	upgrade := isWebSocketUpgrade(r)
	if sid := q.Get("sid"); sid != "" {
		s := srv.lookup(sid)
		if s == nil {
			srv.refuseRequest(w, r, CodeUnknownSID, "", nil)
			return
		}
		if transport == TransportWebSocket && upgrade {
			srv.serveUpgrade(w, r, s)
			return
		}
		if transport != TransportPolling || s.Transport() != TransportPolling {
			srv.refuseRequest(w, r, CodeBadRequest, "TRANSPORT_MISMATCH", nil)
			return
		}
		switch r.Method {
		case http.MethodGet:
			s.handleGet(w, r)
		case http.MethodPost:
			s.handlePost(w, r)
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
		return
	}
	if r.Method != http.MethodGet {
		srv.refuseRequest(w, r, CodeBadHandshakeMethod, "", nil)
		return
	}
	if transport == TransportWebSocket && !upgrade {
		srv.refuseRequest(w, r, CodeBadRequest, "TRANSPORT_HANDSHAKE_ERROR", nil)
		return
	}
	if srv.opts.AllowRequest != nil {
		if err := srv.opts.AllowRequest(r); err != nil {
			srv.refuseRequest(w, r, CodeForbidden, "", err)
			return
		}
	}
	eio3 := false
	if v := q.Get("EIO"); v != "4" {
		if v != "3" || !srv.opts.AllowEIO3 {
			srv.refuseRequest(w, r, CodeUnsupportedVersion, "", nil)
			return
		}
		eio3 = true
	}
	srv.handshake(w, r, q, transport, eio3)
}

// begin counts a request in, unless the server is shutting down.
func (srv *Server) begin() bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.closing {
		return false
	}
	srv.wg.Add(1)
	return true
}

func (srv *Server) shuttingDown() bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.closing
}

// goTracked runs fn on a goroutine that Shutdown waits for.
func (srv *Server) goTracked(fn func()) { srv.wg.Go(fn) }

// closeConn closes a WebSocket with a close handshake, off the caller's
// goroutine because the handshake waits for the peer.
func (srv *Server) closeConn(conn wsConn, code websocket.StatusCode) {
	srv.goTracked(func() { conn.close(code) })
}

func isWebSocketUpgrade(r *http.Request) bool {
	return r.Method == http.MethodGet &&
		headerContainsToken(r.Header, "Connection", "upgrade") &&
		headerContainsToken(r.Header, "Upgrade", "websocket")
}

func headerContainsToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}

// handshake opens a session.
func (srv *Server) handshake(w http.ResponseWriter, r *http.Request, q map[string][]string, transport string, eio3 bool) {
	now := time.Now()
	s := &Session{
		srv:  srv,
		id:   NewID(),
		info: newRequestInfo(r, q, now),
		b64:  q["b64"] != nil,
		eio3: eio3,
		ctr:  srv.stats.shard(),
	}
	upgrades := []string{}
	var conn wsConn
	if transport == TransportWebSocket {
		srv.responseHeaders(w, r, true)
		var err error
		if conn, err = srv.acceptWebSocket(w, r, s.b64 || s.eio3); err != nil {
			return
		}
		s.transport, s.ws, s.poolable = webSocket, conn, conn.poolable()
	} else if !srv.opts.DisableUpgrades && srv.opts.transportEnabled(TransportWebSocket) {
		upgrades = append(upgrades, TransportWebSocket)
	}
	maxPayload := srv.opts.MaxHTTPBufferSize
	if eio3 {
		maxPayload = 0 // v3 has no maxPayload
	}
	open, _ := json.Marshal(struct {
		SID          string   `json:"sid"`
		Upgrades     []string `json:"upgrades"`
		PingInterval int64    `json:"pingInterval"`
		PingTimeout  int64    `json:"pingTimeout"`
		MaxPayload   int64    `json:"maxPayload,omitempty"`
	}{s.id, upgrades, srv.opts.PingInterval.Milliseconds(), srv.opts.PingTimeout.Milliseconds(), maxPayload})

	// s.mu is held from before the session is registered until it is set
	// up (its timer armed): Shutdown may close it as soon as it sees it.
	s.mu.Lock()
	srv.mu.Lock()
	if srv.closing {
		srv.mu.Unlock()
		s.mu.Unlock()
		if conn.ok() {
			srv.closeConn(conn, websocket.StatusGoingAway)
		} else {
			http.Error(w, "engineio: server shutting down", http.StatusServiceUnavailable)
		}
		return
	}
	srv.sessions[s.id] = s
	srv.open.Add(1)
	srv.mu.Unlock()
	srv.stats.opened.Add(1)
	if s.transport == webSocket {
		srv.stats.webSocket.Add(1)
	} else {
		srv.stats.polling.Add(1)
	}
	if l := srv.opts.Logger; l.Enabled(context.Background(), slog.LevelDebug) {
		l.Debug("engineio: session opened", "sid", s.id, "transport", transport, "remote", r.RemoteAddr)
	}

	s.enqueueLocked(controlMessage(typeOpen, open))
	if p := srv.opts.InitialPacket; p != nil {
		m := NewTextMessage(p)
		s.ctr.countOut(1, m.size())
		s.enqueueLocked(m)
	}
	s.startHeartbeat(now)
	s.mu.Unlock()

	if fn := srv.onConn.Load(); fn != nil {
		(*fn)(s)
	}
	if conn.ok() {
		// Read elsewhere and let the HTTP handler return: the request, the
		// response and the handler's grown stack are freed, and an idle
		// session keeps no goroutine (or one small one: see startReading).
		srv.startReading(s, conn)
		return
	}
	if ck := srv.opts.Cookie; ck != nil {
		c := *ck
		c.Value = s.id
		http.SetCookie(w, &c)
	}
	if fn := srv.opts.InitialHeaders; fn != nil {
		fn(w.Header(), r)
	}
	s.handleGet(w, r) // its answer runs Headers

}

// remove forgets a closed session.
func (srv *Server) remove(s *Session) {
	srv.mu.Lock()
	if srv.sessions[s.id] == s {
		delete(srv.sessions, s.id)
	}
	srv.mu.Unlock()
}

// lookup returns the session with the given id, including a closed
// polling session that still owes its client a last answer.
func (srv *Server) lookup(id string) *Session {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.sessions[id]
}

// Shutdown closes every session with ReasonForcedClose (telling each
// client), releases pending polls, refuses new requests and waits until
// every request and goroutine of the server has ended, or until ctx is
// done, when it returns ctx.Err(). It is safe to call more than once.
func (srv *Server) Shutdown(ctx context.Context) error {
	srv.mu.Lock()
	srv.closing = true
	sessions := make([]*Session, 0, len(srv.sessions))
	for _, s := range srv.sessions {
		sessions = append(sessions, s)
	}
	p := srv.poller
	srv.mu.Unlock()
	for _, s := range sessions {
		s.mu.Lock()
		if s.closed {
			s.owed = nil
			s.timer.Stop()
			s.srv.remove(s)
			s.mu.Unlock()
			continue
		}
		s.closeLocked(ReasonForcedClose, nil, closeByServer)
	}
	if p != nil {
		// It stops when the last connection has closed (each client
		// answers the close, or wsCloseGrace passes).
		p.closeWhenEmpty()
	}
	done := make(chan struct{})
	go func() {
		srv.wg.Wait() // the poller's goroutine among them
		srv.pool.Close()
		srv.pool.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// responseHeaders runs the InitialHeaders (when initial) and Headers hooks
// on a transport response's headers.
func (srv *Server) responseHeaders(w http.ResponseWriter, r *http.Request, initial bool) {
	if fn := srv.opts.InitialHeaders; initial && fn != nil {
		fn(w.Header(), r)
	}
	if fn := srv.opts.Headers; fn != nil {
		fn(w.Header(), r)
	}
}

// logf reports a client's protocol error at debug level.
func (srv *Server) logf(s *Session, msg string, err error) {
	if err != nil {
		srv.opts.Logger.Debug("engineio: "+msg, "sid", s.id, "err", err)
		return
	}
	srv.opts.Logger.Debug("engineio: "+msg, "sid", s.id)
}

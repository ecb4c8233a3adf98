package engineio

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// RequestInfo is what a session keeps of the HTTP request that opened it,
// as plain values: the request itself is not retained.
type RequestInfo struct {
	Header     http.Header // request headers; shared with the request, do not modify
	Query      url.Values  // URL query parameters
	URL        string      // request URI, path and query
	Host       string      // Host header
	RemoteAddr string      // network address of the client
	Secure     bool        // whether the request came over TLS
	Time       time.Time   // when the session was opened
}

func newRequestInfo(r *http.Request, q url.Values, now time.Time) RequestInfo {
	uri := r.URL.RequestURI()
	if uri == r.RequestURI {
		// The request line's, which the query's strings keep anyway.
		uri = r.RequestURI
	}
	return RequestInfo{
		Header:     r.Header, // not cloned: nothing writes to it after the request is read
		Query:      q,
		URL:        uri,
		Host:       r.Host,
		RemoteAddr: r.RemoteAddr,
		Secure:     r.TLS != nil,
		Time:       now,
	}
}

type transportKind uint8

const (
	polling transportKind = iota
	webSocket
)

// closeKind says who closed a session, which decides what a polling
// client's next GET receives.
type closeKind uint8

const (
	closeByError  closeKind = iota // nothing owed: later requests get 400
	closeByServer                  // the client is owed a close packet
	closeByClient                  // the client is owed a noop for a racing GET
)

// A Session is one Engine.IO connection with a client, over polling or
// WebSocket, surviving an upgrade from the first to the second.
//
// Register OnMessage and OnClose from the Server's connection callback;
// they are called one at a time, in the order packets arrive, from the
// goroutine that read them (the WebSocket reader or the POST request), so a
// slow callback slows down only its own session.
//
// Send and Close are safe for concurrent use and never block on the network.
//
// Its fields are ordered so that the small ones share words: a session is
// the largest object an idle connection keeps.
type Session struct {
	// What queueing a broadcast reads and writes, first and together: a
	// broadcast to many sessions touches each one's, and a cache line
	// less per session is a miss less per delivery.
	mu        sync.Mutex
	closed    bool
	transport transportKind
	posting   bool
	flushing  bool // a flusher goroutine owns the WebSocket writes
	pooled    bool // waits in the server's writePool
	poolable  bool // a WebSocket the writePool can write (see queueForPoolLocked), set with ws
	probed    bool // the probe answered 2probe
	eio3      bool // Engine.IO protocol v3 (see eio3.go); set at creation, here to be read without the lock
	queue     []*Message
	queued    int // bytes queued or being written
	srv       *Server
	ctr       *counters

	id   string
	info RequestInfo

	onMessage atomic.Pointer[func(data []byte, binary bool)]
	onClose   atomic.Pointer[func(reason string, err error)]
	closeErr  error         // set with reason, under mu
	done      chan struct{} // made by Done, or nil: closed with the session
	b64       bool          // the client asked for binary as base64 text on WebSocket
	notified  atomic.Bool   // the OnClose function was called

	awaitPong bool
	reason    string
	owed      *Message   // after a close: what the next polling GET receives
	spare     []*Message // recycled backing array for queue

	// The slow-consumer check (see admitLocked): taken counts the writes
	// and GETs by which the transport took queued bytes; slowTimer runs
	// while the queue is past SendQueueLimit, and slowMark is taken as it
	// was when the timer was armed.
	taken     atomic.Uint64
	slowMark  uint64
	slowTimer *time.Timer

	poll *pollWaiter // pending GET

	// Group broadcasts (see Group): grp is the group whose log s takes
	// from, Added grefs times, gpos how far into the log s has had it,
	// and gidx s's index among grp's members (under grp's lock, the rest
	// under mu, written under both); wantGrp is the group s may take from
	// once it upgrades to a WebSocket.
	grp     *Group
	wantGrp *Group
	gpos    int64
	gidx    int32
	grefs   int32

	ws   wsConn // ws.raw is nil with compression or b64
	head []byte // the unwritten end of a frame a sender began; its flusher holds ws.raw.gate

	probe        wsConn // WebSocket upgrading this polling session
	upgradeTimer *time.Timer

	// The heartbeat's times are since info.Time (monotonic), which takes
	// a third of the room of a time.Time.
	timer        *time.Timer   // heartbeat, then lingering after a polling close
	nextPing     time.Duration // when the next ping is due
	pongDeadline time.Duration // when the pending ping expires
}

// since returns how long after the session opened t is.
func (s *Session) since(t time.Time) time.Duration { return t.Sub(s.info.Time) }

// ID returns the session id (20 characters).
func (s *Session) ID() string { return s.id }

// Request returns what the session kept of its opening request. The caller
// must not modify it.
func (s *Session) Request() *RequestInfo { return &s.info }

// Transport returns the name of the current transport: "polling" or "websocket".
func (s *Session) Transport() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.transport == webSocket {
		return TransportWebSocket
	}
	return TransportPolling
}

// OnMessage sets the function called with each message the client sends.
// data belongs to the callee. Set it from the connection callback.
func (s *Session) OnMessage(fn func(data []byte, binary bool)) { s.onMessage.Store(&fn) }

// OnClose sets the function called once when the session closes, with one
// of the Reason constants and, where there is one, the error behind it.
// Set it from the connection callback.
//
// If the session closed before fn was set (a client gone during the
// connection callback), fn is called at once.
func (s *Session) OnClose(fn func(reason string, err error)) {
	s.onClose.Store(&fn)
	s.mu.Lock()
	closed, reason, err := s.closed, s.reason, s.closeErr
	s.mu.Unlock()
	if closed {
		s.notifyClose(reason, err)
	}
}

// notifyClose calls the OnClose function once, if it is set.
func (s *Session) notifyClose(reason string, err error) {
	fn := s.onClose.Load()
	if fn != nil && !s.notified.Swap(true) {
		(*fn)(reason, err)
	}
}

// Done returns a channel closed when the session has closed.
func (s *Session) Done() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done == nil {
		// Made on first use: most sessions are never asked.
		if s.closed {
			return closedChan
		}
		s.done = make(chan struct{})
	}
	return s.done
}

// closedChan is the Done channel of a session closed before it was asked.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// Send queues m for the client without blocking. It returns ErrClosed after
// the session closed and ErrSlowClient when m would pass the hard bound of
// the queue (64 times SendQueueLimit), in which case the session is closed;
// see Options.SendQueueLimit.
func (s *Session) Send(m *Message) error {
	s.mu.Lock()
	if err := s.admitLocked(m.size(), true); err != nil {
		return err
	}
	s.ctr.countOut(1, m.size())
	s.enqueueLocked(m)
	s.mu.Unlock()
	return nil
}

// slowClientBound is how many times SendQueueLimit a queue may hold while
// its client reads, before the session is closed whatever the client does.
const slowClientBound = 64

// admitLocked checks that size more bytes may be queued. If not, it
// unlocks s.mu and returns ErrClosed after the session closed, or closes
// the session and returns ErrSlowClient when the bytes would pass the hard
// bound; with cut false, such bytes are admitted and the bound is left to
// the next send.
//
// What decides that a client is slow is not how much is queued, since a
// burst (a broadcast loop, the echoes of a long POST) queues faster than
// any transport drains, but whether the transport takes it: past
// SendQueueLimit, a timer checks every SlowClientTimeout that something
// was taken meanwhile (see checkSlow).
func (s *Session) admitLocked(size int, cut bool) error {
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	limit := s.srv.opts.SendQueueLimit
	if s.queued > 0 && s.queued+size > limit {
		if cut && s.queued+size > min(limit, math.MaxInt/slowClientBound)*slowClientBound {
			s.cutSlowLocked("send queue past its hard bound")
			return ErrSlowClient
		}
		s.armSlowLocked()
	}
	return nil
}

// armSlowLocked starts the slow-consumer check, unless it runs.
func (s *Session) armSlowLocked() {
	if s.slowTimer == nil {
		s.slowMark = s.taken.Load()
		s.slowTimer = time.AfterFunc(s.srv.opts.SlowClientTimeout, s.checkSlow)
	}
}

// checkSlow runs SlowClientTimeout after the queue passed SendQueueLimit:
// it closes the session as a slow client if its transport took nothing
// since, and otherwise checks again later while the queue is still past
// the limit.
func (s *Session) checkSlow() {
	s.mu.Lock()
	if s.closed || s.queued <= s.srv.opts.SendQueueLimit {
		s.slowTimer = nil
		s.mu.Unlock()
		return
	}
	if n := s.taken.Load(); n != s.slowMark {
		s.slowMark = n
		s.slowTimer.Reset(s.srv.opts.SlowClientTimeout)
		s.mu.Unlock()
		return
	}
	s.slowTimer = nil
	s.cutSlowLocked("transport took nothing for SlowClientTimeout")
}

// cutSlowLocked closes the session as a slow client; it unlocks s.mu. A
// policy cut is logged at warn level: it says that the limits or the
// client need a look.
func (s *Session) cutSlowLocked(why string) {
	s.srv.stats.slow.Add(1)
	s.srv.opts.Logger.Warn("engineio: slow client cut", "sid", s.id, "queued", s.queued, "limit", s.srv.opts.SendQueueLimit, "why", why)
	s.closeLocked(ReasonTransportError, ErrSlowClient, closeByError)
}

// SendVolatile queues m only if the transport can take it right now: the
// session is open, nothing is waiting to be written and, over polling, a
// GET is pending. It reports whether m was queued.
func (s *Session) SendVolatile(m *Message) bool {
	s.mu.Lock()
	ok := s.readyLocked()
	if ok {
		s.ctr.countOut(1, m.size())
		s.enqueueLocked(m)
	} else {
		s.ctr.dropped.Add(1)
	}
	s.mu.Unlock()
	return ok
}

// readyLocked reports whether the transport can take a volatile message
// right now: the session is open, nothing is waiting to be written and,
// over polling, a GET is pending.
func (s *Session) readyLocked() bool {
	if !s.closed && s.catchUpLocked(nil) {
		s.scheduleWriteLocked() // what the group log had for s goes first
	}
	return !s.closed && s.queued == 0 && (s.transport == webSocket || s.poll != nil)
}

// SendText queues a text message; a shim over Send.
func (s *Session) SendText(data []byte) error { return s.Send(NewTextMessage(data)) }

// SendBinary queues a binary message; a shim over Send. It keeps data.
func (s *Session) SendBinary(data []byte) error { return s.Send(NewBinaryMessage(data)) }

// Close closes the session with ReasonForcedClose after the messages
// already queued, telling the client. It is idempotent.
func (s *Session) Close() {
	s.mu.Lock()
	s.closeLocked(ReasonForcedClose, nil, closeByServer)
}

// enqueueLocked adds m to the queue and hands the queue to whoever writes.
func (s *Session) enqueueLocked(m *Message) {
	s.catchUpLocked(nil)
	if s.writeInlineLocked([]*Message{m}) {
		return
	}
	s.queue = append(s.queue, m)
	s.queued += m.size()
	s.kickLocked()
}

// kickLocked starts the writing of queued messages: it releases a pending
// GET, or starts the WebSocket flusher if none runs.
func (s *Session) kickLocked() {
	if len(s.queue) == 0 {
		return
	}
	switch s.transport {
	case polling:
		if s.poll != nil {
			s.releasePollLocked(nil, true)
		}
	case webSocket:
		if !s.flushing {
			s.flushing = true
			s.srv.goTracked(s.flushWS)
		}
	}
}

// wsCloseGrace bounds how long a WebSocket closed by the server may take to
// write its last queued messages.
const wsCloseGrace = 5 * time.Second

// takeQueueLocked removes and returns every queued message.
func (s *Session) takeQueueLocked() []*Message {
	q := s.queue
	s.queue = s.spare[:0]
	s.spare = nil
	return q
}

// recycle gives a drained queue's array back for reuse.
func (s *Session) recycleLocked(q []*Message) {
	if cap(q) <= 64 {
		clear(q)
		s.spare = q[:0]
	}
}

// closeLocked closes the session with reason; it unlocks s.mu. Messages
// already queued are still written when the server closed the session.
func (s *Session) closeLocked(reason string, err error, kind closeKind) {
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.reason, s.closeErr = reason, err
	s.srv.open.Add(-1)
	if s.transport == webSocket {
		s.srv.stats.webSocket.Add(-1)
	} else {
		s.srv.stats.polling.Add(-1)
	}
	if l := s.srv.opts.Logger; l.Enabled(context.Background(), slog.LevelDebug) {
		l.Debug("engineio: session closed", "sid", s.id, "reason", reason, "err", err)
	}
	if s.done != nil {
		close(s.done)
	}
	if s.upgradeTimer != nil {
		s.upgradeTimer.Stop()
	}
	if s.slowTimer != nil {
		s.slowTimer.Stop()
		s.slowTimer = nil
	}
	if s.probe.ok() {
		s.srv.closeConn(s.probe, websocket.StatusGoingAway)
		s.probe = wsConn{}
	}
	linger := false
	switch s.transport {
	case polling:
		var final *Message
		switch kind {
		case closeByServer:
			final = closeMessage
		case closeByClient:
			final = noopMessage
			// The client is gone: what is queued for it is dropped.
			s.queue, s.queued = nil, 0
		}
		switch {
		case kind == closeByServer && len(s.queue) > 0 && !s.srv.shuttingDown():
			// As the reference does, deliver what is queued first and
			// the close packet in a later poll, so that the client reads
			// the packets before it learns of the close.
			if s.poll != nil {
				s.releasePollLocked(nil, true)
			}
			s.owed = final
			linger = true
		case s.poll != nil:
			if final == nil {
				final = closeMessage
			}
			s.releasePollLocked(final, true)
		case final != nil && !s.srv.shuttingDown():
			// The client will poll once more (a GET racing its own close
			// packet, or the next poll after a server close): answer it.
			s.owed = final
			linger = true
		}
	case webSocket:
		if kind != closeByServer {
			s.queue, s.queued = nil, 0
		} else {
			s.catchUpLocked(nil) // broadcasts before the close go out too
		}
		switch {
		case !s.flushing:
			s.flushing = true
			s.srv.goTracked(s.flushWS)
		case kind != closeByServer:
			// The flusher may be blocked writing to a client that does not
			// read (a slow client, a dead peer): cut the connection so that
			// its write fails and it ends.
			ws := s.ws
			s.srv.goTracked(ws.closeNow)
		default:
			// The flusher writes what is queued, then closes; a client that
			// stops reading cannot hold it longer than wsCloseGrace.
			time.AfterFunc(wsCloseGrace, s.ws.closeNow)
		}
	}
	if linger {
		s.timer.Reset(DefaultCloseTimeout)
	} else {
		s.timer.Stop()
		s.srv.remove(s)
	}
	s.mu.Unlock()
	s.notifyClose(reason, err)
}

// closeWith closes the session; see closeLocked.
func (s *Session) closeWith(reason string, err error, kind closeKind) {
	s.mu.Lock()
	s.closeLocked(reason, err, kind)
}

// startHeartbeat arms the session's timer for the first ping.
func (s *Session) startHeartbeat(now time.Time) {
	s.nextPing = s.since(now) + s.srv.opts.PingInterval
	s.timer = time.AfterFunc(s.srv.opts.PingInterval, s.onTimer)
}

// onTimer runs the heartbeat: it sends a ping when one is due and closes
// the session when a ping went unanswered. After a polling close it ends
// the lingering. The pong deadline counts from when the ping was queued,
// as the reference does; a session whose ping is overdue by more than
// PingTimeout (a late timer) is closed without one.
func (s *Session) onTimer() {
	s.mu.Lock()
	if s.closed {
		s.owed = nil
		s.srv.remove(s)
		s.mu.Unlock()
		return
	}
	now := time.Now()
	if s.expiredLocked(now) {
		s.closeLocked(ReasonPingTimeout, nil, closeByError)
		return
	}
	if s.eio3 {
		// The client pings (see onPingV3): wait for the deadline.
		s.timer.Reset(s.nextPing + s.srv.opts.PingTimeout - s.since(now))
		s.mu.Unlock()
		return
	}
	if !s.awaitPong && s.since(now) >= s.nextPing {
		s.awaitPong = true
		s.pongDeadline = s.since(now) + s.srv.opts.PingTimeout
		if s.transport == polling && s.poll == nil {
			// The client sees this ping only when it polls: count from
			// when the ping was due, so that a late timer cannot keep a
			// silent client alive past PingInterval+PingTimeout.
			s.pongDeadline = s.nextPing + s.srv.opts.PingTimeout
		}
		s.enqueueLocked(pingMessage)
	}
	if s.awaitPong {
		s.timer.Reset(s.pongDeadline - s.since(now))
	} else {
		s.timer.Reset(s.nextPing - s.since(now))
	}
	s.mu.Unlock()
}

// expiredLocked reports whether the heartbeat deadline has passed at now,
// whether or not the timer has fired yet.
func (s *Session) expiredLocked(now time.Time) bool {
	if s.awaitPong {
		return s.since(now) >= s.pongDeadline
	}
	return s.since(now) >= s.nextPing+s.srv.opts.PingTimeout
}

// onPong records a pong and schedules the next ping.
func (s *Session) onPong() {
	s.mu.Lock()
	if !s.closed && s.awaitPong {
		now := time.Now()
		s.awaitPong = false
		s.nextPing = s.since(now) + s.srv.opts.PingInterval
		s.timer.Reset(s.srv.opts.PingInterval)
	}
	s.mu.Unlock()
}

// onPacket handles one packet from the client.
func (s *Session) onPacket(p packet) {
	switch p.typ {
	case typeMessage:
		n := uint64(len(p.data))
		if !p.binary {
			n++ // the type byte
		}
		s.ctr.msgsIn.Add(1)
		s.ctr.bytesIn.Add(n)
		if fn := s.onMessage.Load(); fn != nil && !s.isClosed() {
			(*fn)(p.data, p.binary)
		}
	case typePong:
		if s.eio3 {
			s.srv.logf(s, "client sent a pong", nil)
			s.closeWith(ReasonTransportError, ErrHeartbeatDirection, closeByError)
			return
		}
		s.onPong()
	case typeClose:
		s.closeWith(ReasonTransportClose, nil, closeByClient)
	case typePing:
		if s.eio3 {
			s.onPingV3()
			return
		}
		s.srv.logf(s, "client sent a ping", nil)
		s.closeWith(ReasonTransportError, ErrHeartbeatDirection, closeByError)
	default:
		// open, upgrade and noop packets carry nothing for an open session.
	}
}

func (s *Session) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

package engineio

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// acceptWebSocket completes a WebSocket handshake. Unless messages are
// compressed or library is set (binary goes as base64 text, or the session
// speaks Engine.IO v3), the server answers it itself and the session reads
// and writes the frames itself (see acceptRaw and wsRaw); otherwise the
// WebSocket library does everything. A refused handshake has been answered.
func (srv *Server) acceptWebSocket(w http.ResponseWriter, r *http.Request, library bool) (wsConn, error) {
	if !srv.opts.PerMessageDeflate && !library && !srv.opts.LibraryWebSocket {
		raw, err := acceptRaw(w, r)
		return wsConn{raw: raw}, err
	}
	opts := &websocket.AcceptOptions{
		// Engine.IO does not check origins; AllowRequest is the hook.
		InsecureSkipVerify: true,
	}
	if srv.opts.PerMessageDeflate {
		opts.CompressionMode = websocket.CompressionNoContextTakeover
		opts.CompressionThreshold = 1024
	} else {
		opts.CompressionMode = websocket.CompressionDisabled
	}
	conn, err := websocket.Accept(limitWriter{w, srv.opts.MaxHTTPBufferSize}, r, opts)
	if err != nil {
		return wsConn{}, err
	}
	conn.SetReadLimit(srv.opts.MaxHTTPBufferSize)
	return wsConn{lib: conn}, nil
}

// readLoop reads packets from the session's WebSocket c until it fails or
// the session closes. It runs on its own goroutine, started when the HTTP
// request that opened the WebSocket returns; it is the only goroutine of
// an idle session. After the session closed, a raw connection is read on
// until the client answers the close, and then closed.
func (s *Session) readLoop(c wsConn) {
	limit := s.srv.opts.MaxHTTPBufferSize
	for {
		binary, data, err := c.read(limit)
		if err != nil {
			s.closeWith(readErrorReason(err), err, closeByError)
			if c.raw != nil {
				c.raw.endRead(err)
			}
			return
		}
		if !s.onFrame(data, binary) && c.lib != nil {
			return
		}
	}
}

// startReading reads the session's WebSocket c: on the server's poller
// when c is a raw TCP connection on Linux, otherwise on a goroutine of its
// own (see readLoop).
func (srv *Server) startReading(s *Session, c wsConn) {
	if c.raw != nil && c.raw.rc != nil {
		if p := srv.getPoller(); p != nil && p.add(c.raw, s) {
			return
		}
	}
	srv.goTracked(func() { s.readLoop(c) })
}

// getPoller returns the server's poller, started on first use; nil when
// the system has none or it could not start (then it is not tried again).
func (srv *Server) getPoller() *poller {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.poller == nil && srv.pollerErr == nil && !srv.closing {
		srv.poller, srv.pollerErr = newPoller(srv)
		if srv.pollerErr != nil {
			srv.opts.Logger.Debug("engineio: sessions read on goroutines of their own", "err", srv.pollerErr)
		}
	}
	return srv.poller
}

// testHookPollIdle, when set, runs when readReady found r's socket empty
// and is about to go idle.
var testHookPollIdle func(r *wsRaw)

// readReady reads the messages that r, a connection the poller watches,
// holds, on a worker after the poller saw it readable. It returns when
// the socket has nothing more and nothing came since, or when reading
// failed; a message that arrived in part is waited for.
func (s *Session) readReady(r *wsRaw) {
	limit := s.srv.opts.MaxHTTPBufferSize
	for {
		for r.br.tryFill(r.rc) {
			binary, data, err := r.readMessage(limit)
			if err != nil {
				s.closeWith(readErrorReason(err), err, closeByError)
				r.poller.Load().remove(r)
				r.endRead(err)
				return
			}
			s.onFrame(data, binary)
		}
		r.br.release()
		if testHookPollIdle != nil {
			testHookPollIdle(r)
		}
		if r.pollState.CompareAndSwap(pollReading, pollIdle) {
			return
		}
		r.pollState.Store(pollReading) // pollAgain: an edge came meanwhile
	}
}

// readErrorReason returns the close reason for a failed WebSocket read.
func readErrorReason(err error) string {
	if websocket.CloseStatus(err) == -1 && !errors.Is(err, context.Canceled) && !isClosedConn(err) {
		return ReasonTransportError
	}
	return ReasonTransportClose
}

// onFrame handles one WebSocket message. A bad packet closes the session,
// and onFrame reports false.
func (s *Session) onFrame(data []byte, binary bool) bool {
	if s.eio3 {
		return s.onFrameV3(data, binary)
	}
	var p packet
	if binary {
		p = packet{typ: typeMessage, data: data, binary: true}
	} else {
		var err error
		if p, err = decodeText(data); err != nil {
			s.srv.logf(s, "bad packet", err)
			s.closeWith(ReasonParseError, err, closeByError)
			return false
		}
	}
	s.onPacket(p)
	return true
}

// flushChunk is about how many bytes a flusher writes at a time: a client
// that reads slowly shows progress between them (see checkSlow).
const flushChunk = 256 << 10

// maxPooledReadBuf bounds the scratch buffers readWS keeps for reuse; a
// larger message's buffer is left to the collector. sync.Pool drops idle
// buffers within two collections.
const maxPooledReadBuf = 1 << 20

// readBufs holds scratch buffers for readWS.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// readWS reads the next message from conn, as conn.Read does, into a
// shared scratch buffer first and then into an allocation of its exact
// size: conn.Read's io.ReadAll starts at 512 bytes and grows by copying.
// An idle reader holds no buffer.
func readWS(ctx context.Context, conn *websocket.Conn) (websocket.MessageType, []byte, error) {
	typ, r, err := conn.Reader(ctx)
	if err != nil {
		return 0, nil, err
	}
	bp := readBufs.Get().(*[]byte)
	b := (*bp)[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		var n int
		n, err = r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			break
		}
	}
	var data []byte
	if err == io.EOF {
		data, err = append([]byte(nil), b...), nil
		if data == nil {
			data = []byte{}
		}
	}
	if cap(b) <= maxPooledReadBuf {
		*bp = b[:0]
		readBufs.Put(bp)
	}
	return typ, data, err
}

// isClosedConn reports whether err is the error of a read on a connection
// that closed abruptly (which the reference reports as "transport close").
func isClosedConn(err error) bool {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return true
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return true
	}
	return strings.Contains(err.Error(), "connection reset")
}

// writeInlineLocked writes msgs to the WebSocket at once, from the
// sender's goroutine, when nothing is queued and no flusher runs: the
// socket nearly always takes the frames whole, so no goroutine is needed,
// as the reference writes to its socket from the emitting code. It never
// waits (see writeFramesLocked). It reports false, having done nothing,
// when msgs must be queued the usual way.
func (s *Session) writeInlineLocked(msgs []*Message) bool {
	r := s.ws.raw
	if s.transport != webSocket || r == nil || r.rc == nil || s.flushing || len(s.queue) > 0 || !r.gate.TryLock() {
		return false
	}
	s.writeFramesLocked(r, msgs, false)
	return true
}

// writeFramesLocked writes the frames of msgs without waiting. The caller
// holds s.mu and r.gate; nothing is queued and no flusher runs. What the
// socket does not take right away is left to a flusher (see settleLocked).
// counted says whether msgs are counted in s.queued already.
func (s *Session) writeFramesLocked(r *wsRaw, msgs []*Message, counted bool) {
	n, _ := r.writeNow(msgs)
	s.settleLocked(r, msgs, n, counted)
}

// settleLocked accounts for a write without waiting that took the first n
// bytes of msgs' frames; the caller holds s.mu and r.gate, and messages
// queued meanwhile (while s.flushing kept others off the socket) are in
// s.queue. What the socket did not take is left to a new flusher: the
// unwritten end of a begun frame as s.head, with the gate, which the
// flusher inherits, and the untouched messages ahead of s.queue. A failed
// write is left to the flusher too, which meets the error again and closes
// the session. When all of msgs went out, messages queued meanwhile go back
// to the server's writers, and a session closed meanwhile to a flusher,
// which closes the connection.
func (s *Session) settleLocked(r *wsRaw, msgs []*Message, n int, counted bool) {
	if n > 0 {
		s.taken.Add(1)
	}
	i := 0
	for ; i < len(msgs) && n >= len(msgs[i].wsFrame()); i++ {
		n -= len(msgs[i].wsFrame())
		if counted {
			s.queued -= msgs[i].size()
		}
	}
	if i == len(msgs) {
		r.gate.Unlock()
		switch {
		case s.closed:
			s.flushing = true
			s.srv.goTracked(s.flushWS)
		case len(s.queue) > 0:
			s.flushing = false
			if !s.pooled {
				s.srv.poolLocked(s)
			}
		default:
			s.flushing = false
		}
		return
	}
	rest := msgs[i:]
	if n > 0 {
		s.head = msgs[i].wsFrame()[n:]
		if counted {
			s.queued -= msgs[i].size()
		}
		s.queued += len(s.head)
		rest = rest[1:]
	} else {
		r.gate.Unlock()
	}
	if !counted {
		for _, m := range rest {
			s.queued += m.size()
		}
	}
	s.queue = slices.Insert(s.queue, 0, rest...)
	s.flushing = true
	s.srv.goTracked(s.flushWS)
}

// writeQueued writes what QueueAll queued for s, for the server's shared
// writers (see writePool). It writes without holding s.mu, so that a
// broadcast queueing for s meanwhile does not wait for the system call:
// s.flushing keeps every other writer off the socket until it is done.
func (s *Session) writeQueued() {
	s.mu.Lock()
	s.pooled = false
	s.writeQueuedLocked()
}

// writeQueuedLocked is writeQueued for a caller that holds s.mu; it
// unlocks it.
func (s *Session) writeQueuedLocked() {
	if s.flushing || len(s.queue) == 0 {
		s.mu.Unlock()
		return // a flusher writes the queue, or there is nothing left
	}
	r := s.ws.raw
	if !r.gate.TryLock() {
		// The reader writes a control frame: leave the queue to a
		// flusher, which waits at the gate.
		s.flushing = true
		s.mu.Unlock()
		s.srv.goTracked(s.flushWS)
		return
	}
	batch := s.takeQueueLocked()
	s.flushing = true
	s.mu.Unlock()
	n, _ := r.writeNow(batch)
	s.mu.Lock()
	s.settleLocked(r, batch, n, true)
	s.recycleLocked(batch)
	s.mu.Unlock()
}

// flushWS writes queued messages to the WebSocket until the queue is
// empty; it runs only while there is something to write. After the session
// closed it closes the connection.
func (s *Session) flushWS() {
	ctx := context.Background() // writes are ended by closing conn
	for {
		s.mu.Lock()
		conn, r, head := s.ws, s.ws.raw, s.head
		s.head = nil // with head, this goroutine holds r.gate
		if len(s.queue) == 0 && head == nil {
			if s.closed {
				s.mu.Unlock()
				// An empty close frame (1005 at the client), as the
				// reference server sends.
				conn.close(websocket.StatusNoStatusRcvd)
				return
			}
			s.flushing = false
			s.mu.Unlock()
			return
		}
		batch := s.takeQueueLocked()
		s.mu.Unlock()

		size := len(head)
		var err error
		if r != nil {
			// The batch's pre-built frames in writevs of up to
			// flushChunk bytes, behind the rest of a frame a sender
			// began: each one that completes counts as progress for the
			// slow-consumer check. The gate keeps the reader's control
			// frames out of them.
			bufs := make(net.Buffers, 0, len(batch)+1)
			chunk := len(head)
			if head != nil {
				bufs = append(bufs, head)
			} else {
				r.gate.Lock()
			}
			for i, m := range batch {
				size += m.size()
				bufs = append(bufs, m.wsFrame())
				chunk += len(m.wsFrame())
				if chunk >= flushChunk || i == len(batch)-1 {
					if _, err = bufs.WriteTo(r.conn); err != nil {
						break
					}
					s.taken.Add(1)
					bufs, chunk = bufs[:0], 0
				}
			}
			if len(batch) == 0 && err == nil && len(bufs) > 0 {
				if _, err = bufs.WriteTo(r.conn); err == nil {
					s.taken.Add(1)
				}
			}
			r.gate.Unlock()
		} else {
			for _, m := range batch {
				size += m.size()
				switch {
				case !m.binary:
					err = conn.lib.Write(ctx, websocket.MessageText, m.frame)
				case s.eio3:
					typ := websocket.MessageBinary
					payload, text := s.wsFrameV3(m)
					if text {
						typ = websocket.MessageText
					}
					err = conn.lib.Write(ctx, typ, payload)
				case s.b64:
					err = conn.lib.Write(ctx, websocket.MessageText, m.base64Frame())
				default:
					err = conn.lib.Write(ctx, websocket.MessageBinary, m.frame)
				}
				if err != nil {
					break
				}
				s.taken.Add(1)
			}
		}

		s.mu.Lock()
		s.queued = max(0, s.queued-size)
		s.recycleLocked(batch)
		if err != nil {
			s.queue, s.queued = nil, 0
			s.closeLocked(ReasonTransportError, err, closeByError)
			conn.closeNow()
			return
		}
		s.mu.Unlock()
	}
}

// serveUpgrade handles a WebSocket that upgrades the polling session s:
// 2probe/3probe, then the client's upgrade packet switches the transport.
func (srv *Server) serveUpgrade(w http.ResponseWriter, r *http.Request, s *Session) {
	// As the reference server does, a WebSocket for a session that cannot
	// upgrade (already upgraded or upgrading) is accepted and then closed.
	srv.responseHeaders(w, r, false)
	conn, err := srv.acceptWebSocket(w, r, s.b64 || s.eio3)
	if err != nil {
		return // the handshake has been answered
	}
	s.mu.Lock()
	if s.closed || s.transport != polling || s.probe.ok() || srv.opts.DisableUpgrades {
		s.mu.Unlock()
		srv.endProbe(conn, websocket.StatusPolicyViolation, nil)
		return
	}
	s.probe = conn
	s.upgradeTimer = time.AfterFunc(srv.opts.UpgradeTimeout, func() { s.abortUpgrade(conn) })
	s.mu.Unlock()

	limit := srv.opts.MaxHTTPBufferSize
	for {
		binary, data, err := conn.read(limit)
		if err != nil {
			s.detachProbe(conn)
			srv.endProbe(conn, websocket.StatusNormalClosure, err)
			return
		}
		if !binary && string(data) == "2probe" {
			if err := conn.writeText(probeResponse); err != nil {
				s.detachProbe(conn)
				srv.endProbe(conn, websocket.StatusNormalClosure, err)
				return
			}
			s.mu.Lock()
			if s.probe == conn {
				s.probed = true
				if s.poll != nil && len(s.queue) == 0 {
					s.releasePollLocked(noopMessage, false)
				}
			}
			s.mu.Unlock()
			continue
		}
		if !binary && string(data) == "5" {
			if s.completeUpgrade(conn) {
				s.promoteGroup()
				srv.startReading(s, conn) // see handshake
			} else {
				srv.endProbe(conn, websocket.StatusNormalClosure, nil)
			}
			return
		}
		srv.logf(s, "unexpected packet during upgrade", nil)
		s.detachProbe(conn)
		srv.endProbe(conn, websocket.StatusNormalClosure, nil)
		return
	}
}

// endProbe closes the connection of an upgrade that will not happen, on
// the goroutine that read it (readErr is why reading stopped, nil when it
// did not fail). A raw connection's close handshake is finished here:
// messages are read and dropped until the client answers, at most
// wsCloseGrace; the library's goes on on a goroutine of its own.
func (srv *Server) endProbe(conn wsConn, code websocket.StatusCode, readErr error) {
	if conn.raw == nil {
		srv.closeConn(conn, code)
		return
	}
	if readErr == nil {
		conn.raw.closeHandshake(code)
		for readErr == nil {
			_, _, readErr = conn.raw.readMessage(srv.opts.MaxHTTPBufferSize)
		}
	}
	conn.raw.endRead(readErr)
}

// completeUpgrade switches s to the WebSocket conn and reports whether it did.
func (s *Session) completeUpgrade(conn wsConn) bool {
	s.mu.Lock()
	if s.closed || s.probe != conn {
		s.mu.Unlock()
		return false
	}
	s.probe, s.probed = wsConn{}, false
	s.upgradeTimer.Stop()
	s.transport = webSocket
	s.srv.stats.polling.Add(-1)
	s.srv.stats.webSocket.Add(1)
	s.ws, s.poolable = conn, conn.poolable()
	if s.poll != nil {
		s.poll.mismatch = s.poll.afterProbe
		s.releasePollLocked(noopMessage, false)
	}
	s.kickLocked()
	s.mu.Unlock()
	return true
}

// abortUpgrade gives up the upgrade through conn, if it is still under
// way, and starts closing conn, which ends its reader (see endProbe). The
// session stays on polling.
func (s *Session) abortUpgrade(conn wsConn) {
	if s.detachProbe(conn) {
		s.srv.closeConn(conn, websocket.StatusNormalClosure)
	}
}

// detachProbe forgets conn as s's upgrade, if it still is, and reports
// whether it was.
func (s *Session) detachProbe(conn wsConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.probe != conn {
		return false
	}
	s.probe, s.probed = wsConn{}, false
	s.upgradeTimer.Stop()
	return true
}

package engineio

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// errInvalidContent closes a session that POSTed a binary content type,
// which Engine.IO v4 does not allow.
var errInvalidContent = errors.New("engineio: invalid content type application/octet-stream")

// pollWaiter is a pending GET waiting for packets.
type pollWaiter struct {
	ch    chan struct{} // closed when msgs and final are set
	msgs  []*Message
	final *Message // appended after msgs; nil for none

	afterProbe bool // registered while an upgrade was under way
	mismatch   bool // answer 400: the upgrade completed meanwhile
}

// upgradePollDelay is how long a GET that arrives during an upgrade waits
// for the upgrade to complete before it is answered with a noop (the
// reference server checks every 100 ms).
const upgradePollDelay = 100 * time.Millisecond

// releasePollLocked answers the pending GET with the queue (when
// takeQueue) followed by final.
func (s *Session) releasePollLocked(final *Message, takeQueue bool) {
	w := s.poll
	s.poll = nil
	if takeQueue {
		w.msgs = s.takeQueueLocked()
		s.queued = 0
		s.taken.Add(1)
	}
	w.final = final
	close(w.ch)
}

// handleGet serves a polling GET: it answers at once with what is queued,
// or waits until something is.
func (s *Session) handleGet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closed {
		owed := s.owed
		var msgs []*Message
		switch {
		case owed == closeMessage && len(s.queue) > 0:
			// Packets queued before a server close go first; the close
			// packet waits for the next poll.
			msgs, owed = s.takeQueueLocked(), nil
		case owed == closeMessage:
			msgs = []*Message{noopMessage}
			fallthrough
		case owed != nil:
			s.owed = nil
			s.timer.Stop()
			s.srv.remove(s)
		default:
			s.mu.Unlock()
			s.srv.refuseRequest(w, r, CodeUnknownSID, "", nil)
			return
		}
		s.mu.Unlock()
		s.writePoll(w, r, msgs, owed)
		return
	}
	if s.expiredLocked(time.Now()) {
		s.closeLocked(ReasonPingTimeout, nil, closeByError)
		s.srv.refuseRequest(w, r, CodeUnknownSID, "", nil)
		return
	}
	if s.poll != nil {
		s.srv.logf(s, "overlapping GET", nil)
		s.closeLocked(ReasonTransportError, ErrPollOverlap, closeByError)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if len(s.queue) > 0 {
		msgs := s.takeQueueLocked()
		s.queued = 0
		s.taken.Add(1)
		s.mu.Unlock()
		s.writePoll(w, r, msgs, nil)
		s.mu.Lock()
		s.recycleLocked(msgs)
		s.mu.Unlock()
		return
	}
	wait := &pollWaiter{ch: make(chan struct{})}
	s.poll = wait
	if s.probed {
		// A GET during an upgrade gets a noop soon, unless the upgrade
		// completes first: then it is for a transport no longer in use.
		// Waiting a little keeps the answer from depending on whether
		// this request or the WebSocket's upgrade packet is read first.
		wait.afterProbe = true
		time.AfterFunc(upgradePollDelay, func() {
			s.mu.Lock()
			if s.poll == wait {
				s.releasePollLocked(noopMessage, false)
			}
			s.mu.Unlock()
		})
	}
	s.mu.Unlock()

	select {
	case <-wait.ch:
	case <-r.Context().Done():
		s.mu.Lock()
		if s.poll == wait {
			s.poll = nil
			s.closeLocked(ReasonTransportError, ErrPollAborted, closeByError)
			return
		}
		s.mu.Unlock()
		return // released at the same moment; the client is gone anyway
	}
	if wait.mismatch {
		s.srv.refuseRequest(w, r, CodeBadRequest, "TRANSPORT_MISMATCH", nil)
		return
	}
	s.writePoll(w, r, wait.msgs, wait.final)
	if wait.msgs != nil {
		s.mu.Lock()
		s.recycleLocked(wait.msgs)
		s.mu.Unlock()
	}
}

// handlePost serves a polling POST: it decodes the payload and handles its
// packets in order before answering "ok", so replies the application
// queues synchronously are ready for the next GET.
func (s *Session) handlePost(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.srv.refuseRequest(w, r, CodeUnknownSID, "", nil)
		return
	}
	if s.expiredLocked(time.Now()) {
		s.closeLocked(ReasonPingTimeout, nil, closeByError)
		s.srv.refuseRequest(w, r, CodeUnknownSID, "", nil)
		return
	}
	if s.posting {
		s.srv.logf(s, "overlapping POST", nil)
		s.closeLocked(ReasonTransportError, ErrPollOverlap, closeByError)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	s.posting = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.posting = false
		s.mu.Unlock()
	}()

	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	binaryBody := ct == "application/octet-stream"
	if binaryBody && !s.eio3 {
		s.srv.logf(s, "binary POST", errInvalidContent)
		s.closeWith(ReasonTransportError, errInvalidContent, closeByError)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	limit := s.srv.opts.MaxHTTPBufferSize
	if r.ContentLength > limit {
		tooLarge(w, r)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			tooLarge(w, r)
			return
		}
		s.closeWith(ReasonTransportError, err, closeByError)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	// A body is text: as the reference server decodes it, what is not
	// UTF-8 becomes U+FFFD, so that no handler receives, and no client is
	// relayed, invalid UTF-8 (a WebSocket closes with 1007 instead).
	var pkts []packet
	switch {
	case !s.eio3:
		pkts, err = decodePayload(wellFormed(body))
	case binaryBody:
		pkts, err = decodeBinaryPayloadV3(body)
	default:
		pkts, err = decodePayloadV3(wellFormed(body))
	}
	if err != nil {
		s.srv.logf(s, "bad payload", err)
		s.closeWith(ReasonParseError, err, closeByError)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	for _, p := range pkts {
		s.onPacket(p)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", "2")
	h.Set("Cache-Control", "no-store")
	if fn := s.srv.opts.Headers; fn != nil {
		fn(h, r)
	}
	_, _ = io.WriteString(w, "ok")
}

// maxDiscard bounds how much of an oversized POST body is read and
// dropped so that the client sees the 413 rather than a reset connection.
const maxDiscard = 8 << 20

// tooLarge answers 413 to a POST over MaxHTTPBufferSize, without closing
// the session. As the reference server does, it reads the body first (up
// to maxDiscard): answering with much of it unread makes net/http reset
// the connection, and clients then report the reset instead of the 413.
func tooLarge(w http.ResponseWriter, r *http.Request) {
	_, _ = io.CopyN(io.Discard, r.Body, maxDiscard)
	w.Header().Set("Connection", "close")
	w.WriteHeader(http.StatusRequestEntityTooLarge)
}

// writePayload answers a GET with msgs and final joined by 0x1e,
// compressed when large enough and the client accepts it.
func (srv *Server) writePayload(w http.ResponseWriter, r *http.Request, msgs []*Message, final *Message) {
	n := 0
	for _, m := range msgs {
		n += len(m.pollingFrame()) + 1
	}
	if final != nil {
		n += len(final.frame) + 1
	}
	body := make([]byte, 0, n)
	for i, m := range msgs {
		if i > 0 {
			body = append(body, recordSeparator)
		}
		body = append(body, m.pollingFrame()...)
	}
	if final != nil {
		if len(msgs) > 0 {
			body = append(body, recordSeparator)
		}
		body = append(body, final.frame...)
	}
	srv.writeBody(w, r, body, "text/plain; charset=UTF-8")
}

// writeBody answers a GET with body, compressed when large enough and the
// client accepts it.
func (srv *Server) writeBody(w http.ResponseWriter, r *http.Request, body []byte, contentType string) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-store")
	if t := srv.opts.HTTPCompressionThreshold; t >= 0 && len(body) >= t {
		if enc := acceptedEncoding(r.Header.Get("Accept-Encoding")); enc != "" {
			if zipped, err := compress(enc, body); err == nil {
				h.Set("Content-Encoding", enc)
				h.Add("Vary", "Accept-Encoding")
				body = zipped
			}
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if fn := srv.opts.Headers; fn != nil {
		fn(h, r)
	}
	_, _ = w.Write(body)
}

// acceptedEncoding picks gzip or deflate from an Accept-Encoding header.
func acceptedEncoding(header string) string {
	var deflate bool
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if refusedCoding(params) {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "gzip":
			return "gzip"
		case "deflate":
			deflate = true
		}
	}
	if deflate {
		return "deflate"
	}
	return ""
}

// refusedCoding reports whether the parameters of an Accept-Encoding
// entry give it q=0 (in any spelling: "q=0", "q=0.0", "q=0.000").
func refusedCoding(params string) bool {
	for p := range strings.SplitSeq(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return err == nil && q == 0
		}
	}
	return false
}

func compress(enc string, body []byte) ([]byte, error) {
	var buf bytes.Buffer
	var zw io.WriteCloser
	if enc == "gzip" {
		zw = gzip.NewWriter(&buf)
	} else {
		zw = zlib.NewWriter(&buf) // HTTP "deflate" is the zlib format
	}
	if _, err := zw.Write(body); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

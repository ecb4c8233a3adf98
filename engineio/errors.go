package engineio

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

// Close reasons reported to Session.OnClose, with the reference server's
// wording.
const (
	ReasonTransportClose = "transport close" // the client closed the session or its connection
	ReasonTransportError = "transport error" // the connection failed or the client broke the protocol
	ReasonPingTimeout    = "ping timeout"    // no pong within PingTimeout
	ReasonParseError     = "parse error"     // the client sent a malformed packet
	ReasonForcedClose    = "forced close"    // Session.Close or Server.Shutdown
)

// Errors passed to Session.OnClose with ReasonTransportError, and returned
// by Session.Send.
var (
	// ErrClosed is returned by Send after the session closed.
	ErrClosed = errors.New("engineio: session closed")
	// ErrSlowClient closes a session whose send queue passed SendQueueLimit.
	ErrSlowClient = errors.New("engineio: send queue limit exceeded (slow client)")
	// ErrPollOverlap closes a session that sent a second GET or POST while
	// one was in progress.
	ErrPollOverlap = errors.New("engineio: overlapping polling request")
	// ErrPollAborted closes a session whose pending GET was cut short.
	ErrPollAborted = errors.New("engineio: poll connection closed prematurely")
	// ErrHeartbeatDirection closes a session whose client sent a ping.
	ErrHeartbeatDirection = errors.New("engineio: invalid heartbeat direction")
)

// HTTP error codes of the reference server, sent as {"code":N,"message":"..."}.
const (
	codeUnknownTransport   = 0
	codeUnknownSID         = 1
	codeBadHandshakeMethod = 2
	codeBadRequest         = 3
	codeForbidden          = 4
	codeUnsupportedVersion = 5
)

var codeMessages = [...]string{
	codeUnknownTransport:   "Transport unknown",
	codeUnknownSID:         "Session ID unknown",
	codeBadHandshakeMethod: "Bad handshake method",
	codeBadRequest:         "Bad request",
	codeForbidden:          "Forbidden",
	codeUnsupportedVersion: "Unsupported protocol version",
}

// writeError answers with the reference server's JSON error body. An
// empty message selects the code's standard text.
func writeError(w http.ResponseWriter, code int, message string) {
	status := http.StatusBadRequest
	if code == codeForbidden {
		status = http.StatusForbidden
	}
	if message == "" {
		message = codeMessages[code]
	}
	body, _ := json.Marshal(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{code, message})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

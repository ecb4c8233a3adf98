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

// Error codes of the reference server. A refused request is answered with
// the JSON body {"code":N,"message":"..."} (status 403 for CodeForbidden,
// 400 otherwise), and reported to Options.OnConnectionError.
const (
	CodeUnknownTransport   = 0 // "Transport unknown": transport missing or not enabled
	CodeUnknownSID         = 1 // "Session ID unknown": no open session has the sid
	CodeBadHandshakeMethod = 2 // "Bad handshake method": a handshake other than GET
	CodeBadRequest         = 3 // "Bad request": a transport the session does not use, a WebSocket handshake without Upgrade
	CodeForbidden          = 4 // "Forbidden": AllowRequest refused the handshake
	CodeUnsupportedVersion = 5 // "Unsupported protocol version": EIO is not 4
)

var codeMessages = [...]string{
	CodeUnknownTransport:   "Transport unknown",
	CodeUnknownSID:         "Session ID unknown",
	CodeBadHandshakeMethod: "Bad handshake method",
	CodeBadRequest:         "Bad request",
	CodeForbidden:          "Forbidden",
	CodeUnsupportedVersion: "Unsupported protocol version",
}

// A ConnectionError describes a request the server refused with one of the
// Code constants, as the reference server's connection_error event does.
type ConnectionError struct {
	Code    int    // one of the Code constants
	Message string // the code's text, "Transport unknown" to "Unsupported protocol version"
	// Context names the failed check where the reference server names
	// it: "TRANSPORT_MISMATCH" (a request on a transport the session does
	// not use) or "TRANSPORT_HANDSHAKE_ERROR" (a WebSocket handshake
	// without Upgrade). It is empty otherwise.
	Context string
	// Err is the error AllowRequest returned, for CodeForbidden; its text
	// is the message the client received. Nil otherwise.
	Err error
}

// Error implements error.
func (e *ConnectionError) Error() string {
	return "engineio: connection error " + strconv.Itoa(e.Code) + ": " + e.Message
}

// Unwrap returns Err.
func (e *ConnectionError) Unwrap() error { return e.Err }

// refuseRequest answers r with the reference server's error body for code (with
// err's text as the message for CodeForbidden), counts it and reports it
// to OnConnectionError.
func (srv *Server) refuseRequest(w http.ResponseWriter, r *http.Request, code int, name string, err error) {
	srv.stats.connErrors.Add(1)
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	writeError(w, code, msg)
	if fn := srv.opts.OnConnectionError; fn != nil {
		fn(r, &ConnectionError{Code: code, Message: codeMessages[code], Context: name, Err: err})
	}
}

// writeError answers with the reference server's JSON error body. An
// empty message selects the code's standard text.
func writeError(w http.ResponseWriter, code int, message string) {
	status := http.StatusBadRequest
	if code == CodeForbidden {
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

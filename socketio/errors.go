package socketio

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// Disconnect reasons, with the reference server's wording.
const (
	ReasonTransportError            = "transport error"
	ReasonTransportClose            = "transport close"
	ReasonForcedClose               = "forced close"
	ReasonPingTimeout               = "ping timeout"
	ReasonParseError                = "parse error"
	ReasonServerShuttingDown        = "server shutting down"
	ReasonForcedServerClose         = "forced server close"
	ReasonClientNamespaceDisconnect = "client namespace disconnect"
	ReasonServerNamespaceDisconnect = "server namespace disconnect"
)

// Errors returned by the server API.
var (
	// ErrReservedEvent is returned when emitting an event whose name is
	// reserved by the protocol (connect, connect_error, disconnect,
	// disconnecting, newListener, removeListener).
	ErrReservedEvent = errors.New("socketio: reserved event name")
	// ErrAckAlreadySent is returned by an Ack called a second time.
	ErrAckAlreadySent = errors.New("socketio: ack already sent")
	// ErrNoAck is returned by the Ack given to a handler whose event did
	// not ask for an acknowledgement.
	ErrNoAck = errors.New("socketio: the client did not ask for an ack")
	// ErrAckTimeout is returned when an acknowledgement did not arrive in
	// time ("operation has timed out" in the reference).
	ErrAckTimeout = errors.New("socketio: operation has timed out")
)

// An ArgumentError reports that an argument of an incoming event did not
// decode into its handler's parameter: a string where a struct is
// expected, 1.5 for an int. The handler is not called, and so does not
// answer the acknowledgement the peer may have asked for. The socket's
// OnError handlers receive it (retrieve it with errors.As); a socket
// without any logs it at warn level (Options.Logger on the server,
// slog.Default on the client), with the event, index and type.
type ArgumentError struct {
	Event string       // the event's name
	Index int          // the argument's index, 0 for the first after the name
	Type  reflect.Type // the Go type of the handler's parameter
	Err   error        // the decoding error
}

// Error implements error.
func (e *ArgumentError) Error() string {
	return fmt.Sprintf("socketio: event %q: argument %d does not decode into %v: %v", e.Event, e.Index, e.Type, e.Err)
}

// Unwrap returns the decoding error.
func (e *ArgumentError) Unwrap() error { return e.Err }

// logArgs returns the attributes an ArgumentError is logged with.
func (e *ArgumentError) logArgs() []any {
	return []any{"event", e.Event, "index", e.Index, "type", e.Type.String(), "err", e.Err}
}

// DisconnectError is returned by operations that failed because their
// socket disconnected, and passed to waiters of pending acks.
type DisconnectError struct {
	Reason string // one of the Reason constants
}

// Error implements error.
func (e *DisconnectError) Error() string { return "socketio: socket disconnected: " + e.Reason }

// DisconnectReason returns the reason carried by a *DisconnectError in
// err's chain, or "" when there is none.
func DisconnectReason(err error) string {
	var de *DisconnectError
	if errors.As(err, &de) {
		return de.Reason
	}
	return ""
}

// ConnectError is what a middleware returns to refuse a connection with
// data for the client: the client's connect_error carries Message as
// err.message and Data as err.data. Any other error refuses the
// connection with its text as the message.
type ConnectError struct {
	Message string
	Data    any // encoded as JSON; omitted when nil
}

// Error implements error.
func (e *ConnectError) Error() string { return e.Message }

// connectErrorPayload encodes the CONNECT_ERROR payload for err.
func connectErrorPayload(err error) json.RawMessage {
	body := struct {
		Message string `json:"message"`
		Data    any    `json:"data,omitempty"`
	}{Message: err.Error()}
	var ce *ConnectError
	if errors.As(err, &ce) {
		body.Message, body.Data = ce.Message, ce.Data
	}
	b, mErr := json.Marshal(body)
	if mErr != nil {
		b, _ = json.Marshal(struct {
			Message string `json:"message"`
		}{body.Message})
	}
	return b
}

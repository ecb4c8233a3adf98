package helper

import "time"

// Event names of the helper protocol, as the TypeScript SocketIOConstants
// name them.
const (
	// EventPing is the application-level keep-alive the server sends to
	// authenticated clients, {"time": ISO-8601}. It is not Engine.IO's ping.
	EventPing = "ping"
	// EventConnect is the server-side connection event (TS EVENT_CONNECT).
	EventConnect = "connection"
	// EventDisconnect is the disconnection event.
	EventDisconnect = "disconnect"
	// EventJoin asks the server to join rooms: {"rooms": [...]}.
	EventJoin = "join"
	// EventLeave asks the server to leave rooms: {"rooms": [...]}.
	EventLeave = "leave"
	// EventAuthenticate asks the server to authenticate the connection
	// with the credentials of its handshake. It carries no arguments.
	EventAuthenticate = "authenticate"
	// EventAuthenticated tells the client it is authenticated:
	// {"id": socket id, "time": ISO-8601}.
	EventAuthenticated = "authenticated"
	// EventUnauthenticated tells the client its authentication failed:
	// {"message": text, "time": ISO-8601}. The server disconnects it next.
	EventUnauthenticated = "unauthenticated"
)

// Rooms every authenticated client joins unless ServerOptions.DefaultRooms
// says otherwise.
const (
	RoomDefault      = "io-default"
	RoomNotification = "io-notification"
)

// Messages of the unauthenticated event, with the TypeScript helper's words.
const (
	// MessageInvalidToken: Authenticate returned false.
	MessageInvalidToken = "Invalid token to authenticate! Please login again!"
	// MessageAuthenticateFailed: Authenticate or ClientConnected returned an
	// error or panicked.
	MessageAuthenticateFailed = "Failed to authenticate connection! Please login again!"
)

// Defaults of ServerOptions, the TypeScript helper's.
const (
	DefaultAuthenticateTimeout = 10 * time.Second
	DefaultPingInterval        = 30 * time.Second
)

// DefaultRooms returns the rooms authenticated clients join by default:
// RoomDefault and RoomNotification.
func DefaultRooms() []string { return []string{RoomDefault, RoomNotification} }

// State is the authentication state of a client.
type State string

// The states of a client: Unauthorized when it connects (and again after a
// failed authentication or a disconnection), Authenticating while the
// server checks its credentials, Authenticated once accepted.
const (
	StateUnauthorized   State = "unauthorized"
	StateAuthenticating State = "authenticating"
	StateAuthenticated  State = "authenticated"
)

// Valid reports whether s is one of the three states.
func (s State) Valid() bool {
	switch s {
	case StateUnauthorized, StateAuthenticating, StateAuthenticated:
		return true
	}
	return false
}

// isoTime formats t as JavaScript's Date.prototype.toISOString does:
// UTC, milliseconds, a Z.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// The payloads of the server's events, with the TypeScript helper's keys in
// its order.
type pingPayload struct {
	Time string `json:"time"`
}

type authenticatedPayload struct {
	ID   string `json:"id"`
	Time string `json:"time"`
}

type unauthenticatedPayload struct {
	Message string `json:"message"`
	Time    string `json:"time"`
}

type roomsPayload struct {
	Rooms []string `json:"rooms"`
}

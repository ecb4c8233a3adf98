// Package helper brings the Socket.IO helpers of the TypeScript package
// @venizia/ignis-helpers (SocketIOServerHelper, SocketIOClientHelper 0.0.7)
// to Go, wire-compatible with them: TypeScript clients work with a Go
// ServerHelper, a Go ClientHelper works with a TypeScript server, and Go
// and TypeScript servers share one Redis as one cluster.
//
// # Server
//
// A ServerHelper wraps a socketio.Server with a challenge-response login:
// a client connects unauthorized, sends EventAuthenticate (no arguments;
// the credentials travel in its handshake, the CONNECT auth payload or an
// Authorization header), and ServerOptions.Authenticate decides. An
// authenticated client gets EventPing {"time"} at once and every
// PingInterval, joins the default rooms (RoomDefault, RoomNotification),
// gets EventAuthenticated {"id","time"}, and may then ask to join and
// leave rooms with EventJoin and EventLeave {"rooms": [...]}; joins are
// refused unless ServerOptions.ValidateRooms allows them. A failed
// authentication sends EventUnauthenticated {"message","time"} and then
// disconnects the client; a client not authenticated within
// AuthenticateTimeout is disconnected.
//
// ServerHelper.Send emits to a socket id, a room or everyone, across the
// cluster through Redis (package emitter) when ServerOptions.Redis is set,
// and through the in-memory adapter otherwise.
//
//	h, err := helper.NewServer(ctx, &helper.ServerOptions{
//		Authenticate: func(ctx context.Context, hs *socketio.Handshake) (bool, error) {
//			return verify(hs.Headers.Get("Authorization")), nil
//		},
//	})
//	http.Handle("/socket.io/", h)
//	defer h.Shutdown(context.Background())
//
// # Client
//
// A ClientHelper connects to a helper server (Go or TypeScript), tracks its
// State, and offers Authenticate, JoinRooms, LeaveRooms, Emit and
// duplicate-protected Subscribe.
//
// # Differences from the TypeScript code
//
// Where the published TypeScript code breaks its own documentation, this
// package follows the documentation: EventUnauthenticated really reaches
// the client before it is disconnected; a panic or an error in a callback
// is an authentication failure, never a stuck client; malformed join and
// leave payloads are refused with a log line; only rooms both requested and
// allowed are joined; a client cannot leave its own id room; Shutdown is
// idempotent and always releases Redis. docs/helper.md lists them all.
//
// # Locks
//
// ServerHelper has one mutex (mu), never held while calling a callback or
// a socket method. ClientHelper has one mutex (mu), held around
// socketio.ClientSocket's On and Off, which take only the socket's own
// locks and never call back.
package helper

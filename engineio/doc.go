// Package engineio implements the Engine.IO v4 protocol: the transport
// sessions under Socket.IO, over HTTP long-polling and WebSocket
// (github.com/coder/websocket), with the upgrade from the first to the
// second and the server-driven heartbeat. It knows nothing of Socket.IO.
//
// # Server
//
// A Server is an http.Handler, mountable on any router under its Path
// (default /engine.io/). Each client is a Session:
//
//	srv := engineio.NewServer(&engineio.Options{PingInterval: 10 * time.Second})
//	srv.OnConnection(func(s *engineio.Session) {
//		s.OnMessage(func(data []byte, binary bool) { _ = s.SendText(data) })
//		s.OnClose(func(reason string, err error) { log.Println(s.ID(), reason) })
//	})
//	http.Handle("/engine.io/", srv)
//	...
//	_ = srv.Shutdown(ctx) // before http.Server.Shutdown
//
// Errors answer with the reference server's status codes and JSON bodies;
// a client that breaks the protocol loses its own session only.
//
// With Options.AllowEIO3 the server also speaks Engine.IO v3 to sessions
// opened with EIO=3 (socket.io 2.x clients), as the reference server does
// with allowEIO3: see Session.Protocol.
//
// # Goroutines and memory
//
// An idle WebSocket session costs one goroutine, its reader. Writes go
// through a per-session queue, drained by a flusher goroutine that exists
// only while there is something to write. A client that does not read is
// cut: a queue past Options.SendQueueLimit whose transport takes nothing
// for Options.SlowClientTimeout closes the session, and so does a queue
// past 64 times the limit; a client that reads may have more queued than
// the limit meanwhile (volatile sends are dropped whenever anything is
// queued). A polling session has no goroutine of its own
// between requests. Each session has one timer for its heartbeat. What the
// session keeps of its opening request is copied into a RequestInfo.
//
// # Client
//
// Dial opens a client session (polling with an upgrade to WebSocket, or
// either transport alone) and returns a ClientConn; it answers the server's
// pings and batches polling writes as the reference client does.
//
// # Broadcasting
//
// A Message is encoded once and may be queued on many sessions: the same
// bytes are written to each WebSocket and joined into each poll response.
package engineio

// Package socketio implements a Socket.IO v5 server on top of package
// engineio, compatible with the official JavaScript clients (socket.io-client
// 4.x) and shaped after Node's socket.io server.
//
// # Server, namespaces, sockets
//
// A Server is an http.Handler (default path /socket.io/). Clients connect
// to namespaces ("/" and any created with Server.Of, or children created on
// demand from Server.OfFunc / Server.OfRegexp); each connection to a
// namespace is a Socket:
//
//	srv := socketio.NewServer(nil) // not io: that would shadow package io
//	srv.Use(func(s *socketio.Socket) error { // connection middleware
//		if !validToken(s.Handshake().Auth) {
//			return &socketio.ConnectError{Message: "not authorized"}
//		}
//		return nil
//	})
//	srv.OnConnection(func(s *socketio.Socket) {
//		s.Join("lobby")
//		s.On("chat", func(text string) {
//			_ = s.To("lobby").Emit("chat", s.ID(), text)
//		})
//		s.On("sum", func(a, b int, ack socketio.Ack) { _ = ack(a + b) })
//	})
//	http.Handle("/socket.io/", srv)
//
// docs/server.md is the guide to the server, and docs/migrating-from-node.md
// maps Node's socket.io API to this package.
//
// # Handlers and ordering
//
// Event handlers are funcs whose parameters are decoded from the event's
// arguments (see Socket.On). The connection, event and disconnect handlers
// of one socket run one at a time, in the order its packets arrived, on a
// goroutine that exists only while there is work, and never under the
// server's locks; as in Node, the sockets of one client in other
// namespaces never wait for them. Connection middlewares run one CONNECT
// at a time per client. Socket.Context is cancelled when the socket
// disconnects, so that a long handler can stop.
//
// Acknowledgements are read independently, so a handler may wait in
// Socket.EmitWithAck for the client's answer. While it waits, that
// socket's later events wait too (they are handled in order): when the
// answer depends on the server handling another event of the same socket,
// use Socket.EmitWithAckFunc (Node's socket.timeout(ms).emit(ev, ..., cb)),
// whose callback runs in the socket's order once the answer arrives.
//
// # Broadcasting
//
// Server, Namespace and Socket return BroadcastOperator values (To, In,
// Except, Local, Volatile, Compress, Timeout). A broadcast is encoded once
// and the same bytes are queued on every connection, through the namespace's
// adapter (package adapter); a client that does not read is disconnected
// when its queue stays past engineio.Options.SendQueueLimit with nothing
// taken for engineio.Options.SlowClientTimeout, and volatile packets are
// dropped for it instead.
//
// # Data passthrough
//
// Args keeps arguments as the client sent them, so that re-emitting them
// sends byte-identical JSON and the same binary attachments.
//
// # Client
//
// The package also holds a client that behaves like socket.io-client 4.x:
// Connect (or NewClient, to register handlers before connecting) returns a
// ClientSocket for one namespace; a Manager multiplexes several namespaces
// over one Engine.IO connection (engineio.Dial) and reconnects with the
// reference's backoff. See docs/client.md.
package socketio

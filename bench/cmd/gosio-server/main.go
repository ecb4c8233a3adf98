// Command gosio-server is gosio under the suite's app contract (see
// docs/benchmarks.md, "App contract"), with every option at its default.
package main

import (
	"net/http"
	"sync/atomic"

	"github.com/gosio/gosio/bench/internal/appkit"
	"github.com/gosio/gosio/socketio"
)

func main() {
	f := appkit.ParseFlags()
	var conns atomic.Int64
	io := socketio.NewServer(nil)
	io.OnConnection(func(s *socketio.Socket) {
		conns.Add(1)
		s.OnDisconnect(func(string) { conns.Add(-1) })
		// echo acknowledges its arguments unchanged (text and binary).
		s.On("echo", func(args socketio.Args, ack socketio.Ack) { _ = ack(args.Any()...) })
		// bcast re-emits its argument to every socket as "b".
		s.On("bcast", func(args socketio.Args) { _ = io.Emit("b", args.Any()...) })
		// join adds the socket to a room and acknowledges.
		s.On("join", func(args socketio.Args, ack socketio.Ack) {
			var room string
			_ = args.Decode(0, &room)
			s.Join(room)
			_ = ack()
		})
		// room re-emits its second argument to the room named by the first.
		s.On("room", func(args socketio.Args) {
			var room string
			if len(args) < 2 || args.Decode(0, &room) != nil {
				return
			}
			_ = io.To(room).Emit("b", args[1:].Any()...)
		})
	})
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	appkit.Admin(mux, "gosio", &conns)
	appkit.Serve(f, mux)
}

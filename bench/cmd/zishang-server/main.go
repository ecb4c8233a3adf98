// Command zishang-server is github.com/zishang520/socket.io v3 under the
// suite's app contract, with every option at its default.
package main

import (
	"net/http"
	"sync/atomic"

	"github.com/gosio/gosio/bench/internal/appkit"
	"github.com/zishang520/socket.io/servers/socket/v3"
)

func main() {
	f := appkit.ParseFlags()
	var conns atomic.Int64
	io := socket.NewServer(nil, nil)
	io.On("connection", func(clients ...any) {
		s := clients[0].(*socket.Socket)
		conns.Add(1)
		s.On("disconnect", func(...any) { conns.Add(-1) })
		s.On("echo", func(args ...any) {
			if n := len(args); n > 0 {
				if ack, ok := args[n-1].(socket.Ack); ok {
					ack(args[:n-1], nil)
				}
			}
		})
		s.On("bcast", func(args ...any) { io.Emit("b", args...) })
		s.On("join", func(args ...any) {
			if len(args) < 2 {
				return
			}
			room, _ := args[0].(string)
			s.Join(socket.Room(room))
			if ack, ok := args[len(args)-1].(socket.Ack); ok {
				ack(nil, nil)
			}
		})
		s.On("room", func(args ...any) {
			if len(args) < 2 {
				return
			}
			room, _ := args[0].(string)
			io.To(socket.Room(room)).Emit("b", args[1:]...)
		})
	})
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io.ServeHandler(nil))
	appkit.Admin(mux, "zishang520", &conns)
	appkit.Serve(f, mux)
}

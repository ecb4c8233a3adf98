// Command floor-server is the true floor of the suite: an epoll event loop
// (github.com/lesismal/nbio, one poller) that frames just enough
// Engine.IO 4 / Socket.IO 5 for the app contract and nothing more: the
// open packet, "40", echo and binary echo acks, bcast, join and room, by
// slicing bytes (no JSON decoding), no heartbeat, no send queue, no
// slow-client policy. Each read's replies go out in one write, and the
// broadcasts one read carries go to every receiver in one write each:
// what is left is the cost of moving the bytes through the kernel.
//
// Its HTTP is only the upgrade of /socket.io/ and the /stats and /gc admin
// endpoints, one request per connection; it has no polling.
package main

import (
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/gosio/gosio/bench/internal/appkit"
)

func main() {
	f := appkit.ParseFlags()
	if f.PProf != "" {
		go func() { log.Println(servePProf(f.PProf)) }()
	}
	addr, err := startLoop(f.Addr, newServer())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening %s\n", addr)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	<-ch
}

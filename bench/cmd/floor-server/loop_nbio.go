package main

import (
	"sync"

	"github.com/lesismal/nbio"
	"github.com/lesismal/nbio/logging"
)

// startLoop runs s on one nbio poller. nbio calls OnClose from another
// goroutine, so the server's state is under mu.
func startLoop(addr string, s *server) (string, error) {
	logging.SetLevel(logging.LevelNone)
	e := nbio.NewEngine(nbio.Config{Network: "tcp", Addrs: []string{addr}, NPoller: 1})
	var mu sync.Mutex
	e.OnOpen(func(c *nbio.Conn) { c.SetSession(newPeer(c)) })
	e.OnData(func(c *nbio.Conn, data []byte) {
		p, _ := c.Session().(*peer)
		if p == nil {
			return
		}
		mu.Lock()
		b := data
		if len(p.in) > 0 {
			p.in = append(p.in, data...)
			b = p.in
		}
		n, closeIt := s.consume(p, b)
		if rest := len(b) - n; rest == 0 {
			p.in = trim(p.in)
		} else {
			// b may be p.in itself; copy handles the overlap.
			p.in = append(p.in[:0], b[n:]...)
		}
		mu.Unlock()
		if closeIt {
			_ = c.Close()
		}
	})
	e.OnClose(func(c *nbio.Conn, _ error) {
		if p, _ := c.Session().(*peer); p != nil {
			mu.Lock()
			s.closed(p)
			mu.Unlock()
		}
	})
	if err := e.Start(); err != nil {
		return "", err
	}
	return e.Addrs[0], nil
}

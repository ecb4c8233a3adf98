//go:build linux

package engineio

import (
	"fmt"
	"os"
	"sync"
	"syscall"
)

// A poller watches the raw WebSockets of a server with an epoll instance
// of its own, so that an idle connection needs no goroutine: a goroutine
// parked in a read is a stack that every collection scans (at 10,000
// idle connections that was over 40% of a collection's work) and memory
// that the idle connection keeps. When a connection becomes readable, the
// poller hands it to the server's workers, which read its messages until
// it has nothing more (see Session.readReady); a message that arrived in
// part is waited for there.
//
// The epoll descriptor is itself watched by Go's network poller, so the
// poller's goroutine parks like any reader: no thread is blocked.
// Connections are registered edge-triggered; a worker reads until the
// socket has nothing more (a read that does not fill the buffer tells, see
// connReader.tryFill), and an edge that comes while it reads makes it read
// once more (see wsRaw.pollState), so no data waits unseen.
type poller struct {
	srv  *Server
	file *os.File        // the epoll descriptor, for Go's network poller
	rc   syscall.RawConn // file's: every use of the descriptor goes through it

	mu      sync.Mutex
	conns   map[uint64]*wsRaw // by key; a stale event's key finds nothing
	next    uint64
	closing bool // the server shuts down: stop when conns is empty

	events [128]syscall.EpollEvent // the loop's
	batch  []*wsRaw                // the loop's
}

// epollET is EPOLLET as the uint32 of an EpollEvent.
const epollET = 1 << 31

// ready has a worker read r, or tells the worker reading it to read once
// more.
func (p *poller) ready(r *wsRaw) {
	for {
		switch r.pollState.Load() {
		case pollIdle:
			if r.pollState.CompareAndSwap(pollIdle, pollReading) {
				p.srv.pool.Run((*pollTask)(r))
				return
			}
		case pollReading:
			if r.pollState.CompareAndSwap(pollReading, pollAgain) {
				return
			}
		default:
			return // pollAgain already
		}
	}
}

// newPoller starts the poller of srv.
func newPoller(srv *Server) (*poller, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("engineio: epoll_create1: %w", err)
	}
	if err := syscall.SetNonblock(epfd, true); err != nil {
		_ = syscall.Close(epfd)
		return nil, fmt.Errorf("engineio: epoll descriptor: %w", err)
	}
	f := os.NewFile(uintptr(epfd), "engineio-epoll")
	rc, err := f.SyscallConn()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("engineio: epoll descriptor: %w", err)
	}
	p := &poller{srv: srv, file: f, rc: rc, conns: make(map[uint64]*wsRaw)}
	srv.goTracked(p.loop)
	return p, nil
}

// loop dispatches the readable connections until the poller is closed.
func (p *poller) loop() {
	_ = p.rc.Read(func(epfd uintptr) bool {
		for {
			n, err := syscall.EpollWait(int(epfd), p.events[:], 0)
			if err == syscall.EINTR {
				continue
			}
			if err != nil || n <= 0 {
				return false // wait until the epoll descriptor is readable
			}
			p.mu.Lock()
			for _, ev := range p.events[:n] {
				key := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
				if r := p.conns[key]; r != nil {
					p.batch = append(p.batch, r)
				}
			}
			p.mu.Unlock()
			for i, r := range p.batch {
				p.ready(r)
				p.batch[i] = nil
			}
			p.batch = p.batch[:0]
			if n < len(p.events) {
				return false
			}
		}
	})
	_ = p.file.Close()
}

// add watches r, read by s, and reports whether it does; when it does not,
// the caller reads r on a goroutine of its own.
func (p *poller) add(r *wsRaw, s *Session) bool {
	p.mu.Lock()
	if p.closing {
		p.mu.Unlock()
		return false
	}
	p.next++
	key := p.next
	r.pollKey, r.reader = key, s
	r.poller.Store(p)
	// Until it is registered, this goroutine is r's reader: an edge that
	// comes meanwhile leaves pollAgain.
	r.pollState.Store(pollReading)
	p.conns[key] = r
	p.mu.Unlock()
	ev := syscall.EpollEvent{
		Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | epollET,
		Fd:     int32(uint32(key)),
		Pad:    int32(uint32(key >> 32)),
	}
	if err := p.ctl(r, syscall.EPOLL_CTL_ADD, &ev); err != nil {
		p.mu.Lock()
		delete(p.conns, key)
		p.mu.Unlock()
		r.poller.Store(nil)
		return false
	}
	if r.br.Buffered() == 0 && r.pollState.CompareAndSwap(pollReading, pollIdle) {
		return true
	}
	// Frames came with the handshake, or since the registration.
	r.pollState.Store(pollReading)
	p.srv.pool.Run((*pollTask)(r))
	return true
}

// remove stops watching r; it is safe to call more than once. It runs
// before r's connection is closed (see wsRaw.closeConn); see ctl for why a
// descriptor is never taken out of the wrong epoll set.
func (p *poller) remove(r *wsRaw) {
	p.mu.Lock()
	if p.conns[r.pollKey] != r {
		p.mu.Unlock()
		return
	}
	delete(p.conns, r.pollKey)
	stop := p.closing && len(p.conns) == 0
	p.mu.Unlock()
	_ = p.ctl(r, syscall.EPOLL_CTL_DEL, nil)
	if stop {
		p.stop()
	}
}

// ctl runs epoll_ctl for r's descriptor. Both descriptors are held open
// meanwhile (RawConn.Control), so neither can be closed and its number
// reused by another file under the call: a connection closed elsewhere, or
// a poller stopped by a concurrent remove, makes ctl fail instead.
func (p *poller) ctl(r *wsRaw, op int, ev *syscall.EpollEvent) error {
	var errno error
	err := p.rc.Control(func(epfd uintptr) {
		cerr := r.rc.Control(func(fd uintptr) {
			errno = syscall.EpollCtl(int(epfd), op, int(fd), ev)
		})
		if errno == nil {
			errno = cerr
		}
	})
	if err == nil {
		err = errno
	}
	return err
}

// closeWhenEmpty stops the poller once it watches nothing: now, or when
// the last connection is removed.
func (p *poller) closeWhenEmpty() {
	p.mu.Lock()
	p.closing = true
	stop := len(p.conns) == 0
	p.mu.Unlock()
	if stop {
		p.stop()
	}
}

// stop ends the loop: closing the file wakes it with an error.
func (p *poller) stop() { _ = p.file.Close() }

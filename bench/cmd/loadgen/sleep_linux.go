package main

import (
	"os"
	"syscall"
	"time"
	"unsafe"
)

// A sleeper sleeps with microsecond precision. time.Sleep on an otherwise
// idle Go process wakes up to a millisecond late on Linux (the runtime
// waits in epoll with a millisecond timeout), which would put a floor of
// about 1 ms under every open-loop latency, whatever the server. A timerfd
// read through the runtime's poller wakes when the timer expires.
type sleeper struct {
	f *os.File // a non-blocking timerfd, or nil: use time.Sleep
}

func newSleeper() *sleeper {
	const clockMonotonic, tfdNonblock, tfdCloexec = 1, syscall.O_NONBLOCK, syscall.O_CLOEXEC
	fd, _, e := syscall.Syscall(syscall.SYS_TIMERFD_CREATE, clockMonotonic, tfdNonblock|tfdCloexec, 0)
	if e != 0 {
		return &sleeper{}
	}
	return &sleeper{f: os.NewFile(fd, "timerfd")}
}

// sleep waits for d (d > 0).
func (s *sleeper) sleep(d time.Duration) {
	if s.f == nil {
		time.Sleep(d)
		return
	}
	// struct itimerspec: interval {0, 0}, value {sec, nsec}, relative.
	spec := [4]int64{0, 0, int64(d / time.Second), int64(d % time.Second)}
	if _, _, e := syscall.Syscall6(syscall.SYS_TIMERFD_SETTIME, s.f.Fd(), 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0); e != 0 {
		time.Sleep(d)
		return
	}
	var buf [8]byte
	if _, err := s.f.Read(buf[:]); err != nil {
		time.Sleep(d)
	}
}

func (s *sleeper) close() {
	if s.f != nil {
		s.f.Close()
	}
}

//go:build unix

package engineio

import "syscall"

// writeNow writes as much of p to rc as the socket takes without waiting
// and returns how much that was. An error is either the socket's or rc's
// (a closed connection); a full socket is not an error.
func writeNow(rc syscall.RawConn, p []byte) (n int, err error) {
	cerr := rc.Write(func(fd uintptr) bool {
		for n < len(p) {
			m, e := syscall.Write(int(fd), p[n:])
			if m > 0 {
				n += m
				continue
			}
			if e == syscall.EINTR {
				continue
			}
			if e != syscall.EAGAIN && e != nil {
				err = e
			}
			break
		}
		return true // never wait for the socket to drain
	})
	if err == nil {
		err = cerr
	}
	return n, err
}

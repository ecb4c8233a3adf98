//go:build unix

package engineio

import "syscall"

// readNow is readFn: one read(2) of the non-blocking descriptor.
func (c *connReader) readNow(fd uintptr) bool {
	for {
		n, err := syscall.Read(int(fd), *c.buf)
		if err == syscall.EINTR {
			continue
		}
		c.opN, c.opErr = max(n, 0), err
		return true // never wait: the caller's poller does
	}
}

//go:build unix && !linux

package engineio

import "syscall"

// writeSome is wsRaw.writeFn on Unix systems other than Linux: the frames
// of r.opMsgs, from the start, one write each, for as long as the socket
// takes them.
func (r *wsRaw) writeSome(fd uintptr) bool {
	for _, m := range r.opMsgs {
		f := m.wsFrame()
		for off := 0; off < len(f); {
			w, e := syscall.Write(int(fd), f[off:])
			if w > 0 {
				off += w
				r.opN += w
				continue
			}
			if e == syscall.EINTR {
				continue
			}
			if e != syscall.EAGAIN && e != nil {
				r.opErr = e
			}
			return true
		}
	}
	return true
}

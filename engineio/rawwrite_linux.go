//go:build linux

package engineio

import (
	"syscall"
	"unsafe"
)

// writeSome is wsRaw.writeFn on Linux: the frames of r.opMsgs, from the
// start, in writev calls of up to 64 frames, for as long as the socket
// takes them whole.
func (r *wsRaw) writeSome(fd uintptr) bool {
	msgs := r.opMsgs
	var iov [64]syscall.Iovec
	skip := 0 // bytes of msgs[0]'s frame already written
	for len(msgs) > 0 {
		k, want := 0, 0
		for i, m := range msgs[:min(len(msgs), len(iov))] {
			f := m.wsFrame()
			if i == 0 {
				f = f[skip:]
			}
			iov[k].Base = &f[0]
			iov[k].SetLen(len(f))
			k++
			want += len(f)
		}
		w, _, e := syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&iov[0])), uintptr(k))
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			if e != syscall.EAGAIN {
				r.opErr = e
			}
			break
		}
		r.opN += int(w)
		adv := skip + int(w)
		for len(msgs) > 0 && adv >= len(msgs[0].wsFrame()) {
			adv -= len(msgs[0].wsFrame())
			msgs = msgs[1:]
		}
		skip = adv
		if int(w) < want {
			break // the socket is full
		}
	}
	return true // never wait for the socket to drain
}

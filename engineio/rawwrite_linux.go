//go:build linux

package engineio

import (
	"sync"
	"syscall"
	"unsafe"
)

// iovMax is Linux's limit on the buffers of one writev (UIO_MAXIOV).
const iovMax = 1024

// bigIovs holds the iovec arrays of writes of more than 64 frames: a
// burst of broadcasts queues hundreds of frames for each receiver, and
// writing them 64 at a time took ten system calls where one does.
var bigIovs = sync.Pool{New: func() any { return new([iovMax]syscall.Iovec) }}

// writeSome is wsRaw.writeFn on Linux: the frames of r.opMsgs, from the
// start, in writev calls of up to iovMax frames, for as long as the socket
// takes them whole.
func (r *wsRaw) writeSome(fd uintptr) bool {
	msgs := r.opMsgs
	var small [64]syscall.Iovec
	iov := small[:]
	if len(msgs) > len(small) {
		big := bigIovs.Get().(*[iovMax]syscall.Iovec)
		defer func() {
			clear(big[:min(len(r.opMsgs), iovMax)]) // the pool must not keep frames alive
			bigIovs.Put(big)
		}()
		iov = big[:]
	}
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

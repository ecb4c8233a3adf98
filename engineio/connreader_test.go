//go:build linux

package engineio

import (
	"bytes"
	"io"
	"net"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/gosio/gosio/internal/testutil"
)

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (server *net.TCPConn, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	testutil.NoErr(t, err)
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	testutil.NoErr(t, err)
	c, err := ln.Accept()
	testutil.NoErr(t, err)
	t.Cleanup(func() { _ = client.Close(); _ = c.Close() })
	return c.(*net.TCPConn), client
}

// waitReadable waits until conn has at least n bytes to read.
func waitReadable(t *testing.T, rc syscall.RawConn, n int) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for time.Now().Before(deadline) {
		var avail int32
		_ = rc.Control(func(fd uintptr) {
			_, _, _ = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&avail)))
		})
		if int(avail) >= n {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("%d bytes did not arrive", n)
}

// TestTryFillSkipsTheReadAfterAShortOne checks the read tryFill saves: a
// read that took less than the buffer is not followed by another before
// the caller comes back (the poller's next edge), while a full read, and a
// read that did not come from tryFill, are.
func TestTryFillSkipsTheReadAfterAShortOne(t *testing.T) {
	t.Parallel()
	srv, cli := tcpPair(t)
	rc, err := srv.SyscallConn()
	testutil.NoErr(t, err)
	c := newConnReader(srv, nil)
	drain := func(want []byte) {
		t.Helper()
		got := make([]byte, len(want))
		_, err := io.ReadFull(c, got)
		testutil.NoErr(t, err)
		if !bytes.Equal(got, want) {
			t.Fatalf("read %q, want %q", got, want)
		}
	}

	if c.tryFill(rc) {
		t.Fatal("tryFill reported data on an empty connection")
	}
	// A short read, then data that came after it: tryFill first reports
	// nothing without reading, then reads it.
	_, _ = cli.Write([]byte("first"))
	waitReadable(t, rc, 5)
	if !c.tryFill(rc) {
		t.Fatal("tryFill missed the first bytes")
	}
	drain([]byte("first"))
	_, _ = cli.Write([]byte("second"))
	waitReadable(t, rc, 6)
	if c.tryFill(rc) {
		t.Fatal("tryFill read again right after a short read")
	}
	if !c.tryFill(rc) {
		t.Fatal("tryFill did not read what came after the short read")
	}
	drain([]byte("second"))
	c.short = false

	// A full read: the socket may hold more, so tryFill reads again.
	full := bytes.Repeat([]byte("x"), connReadSize+10)
	_, _ = cli.Write(full)
	waitReadable(t, rc, len(full))
	if !c.tryFill(rc) {
		t.Fatal("tryFill missed the full buffer")
	}
	drain(full[:connReadSize])
	if !c.tryFill(rc) {
		t.Fatal("tryFill skipped the read after a full one")
	}
	drain(full[connReadSize:])
	if c.tryFill(rc) {
		t.Fatal("tryFill read again right after a short read")
	}

	// A blocking read (a worker waiting for the rest of a frame) leaves
	// nothing for tryFill to skip.
	_, _ = cli.Write([]byte("blocking"))
	drain([]byte("blocking"))
	_, _ = cli.Write([]byte("next"))
	waitReadable(t, rc, 4)
	if !c.tryFill(rc) {
		t.Fatal("tryFill skipped a read after a blocking one")
	}
	drain([]byte("next"))
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// epoch is the load generator's clock origin. Every timestamp the suite
// puts on the wire is microseconds since epoch, taken from the monotonic
// clock in this one process, so send and receive stamps share a clock and
// stay far below 2^53 (JavaScript servers re-serialise them as doubles).
var epoch = time.Now()

func now() int64 { return int64(time.Since(epoch) / time.Microsecond) }

// sourceIPs spreads client sockets over several loopback source addresses
// so that TIME_WAIT sockets of earlier runs never exhaust the ephemeral
// ports of one address pair.
var (
	srcNext   atomic.Uint32
	srcOffset = uint32(time.Now().UnixNano() % 200)
)

// loopbackDialer dials from the next source address.
func loopbackDialer() net.Dialer {
	n := srcNext.Add(1)
	ip := net.IPv4(127, 0, byte(1+(srcOffset+n/4096)%200), byte(2+n%250))
	return net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 30 * time.Second}
}

func dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d := loopbackDialer()
	return d.DialContext(ctx, network, addr)
}

// smallBufDial dials sockets with a fixed 16 KiB receive buffer (set
// before connect, so the advertised window stays small and the kernel does
// not autotune it), as a constrained client has: a client that stops
// reading then pushes back on the server within a second, not after the
// tens of MiB a loopback socket can otherwise absorb.
func smallBufDial(ctx context.Context, network, addr string) (net.Conn, error) {
	d := loopbackDialer()
	d.Control = func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 16<<10)
		})
		if err != nil {
			return err
		}
		return serr
	}
	return d.DialContext(ctx, network, addr)
}

// handlers receive what a client's reader decodes. Each is optional. body
// aliases the reader's buffer and is valid only during the call.
type handlers struct {
	event  func(c *client, body []byte)           // "42..." after the type
	ack    func(c *client, body []byte)           // "43<id>..." after the id
	binAck func(c *client, header, attach []byte) // "461-<id>..." and its attachment
	closed func(c *client, err error)
}

// client is one Engine.IO 4 / Socket.IO 5 connection over WebSocket to the
// main namespace.
type client struct {
	idx    int
	ws     *wsConn
	h      *handlers
	nextID atomic.Uint64
	ackCh  chan struct{} // one signal per ack, for closed-loop workers

	pauseMu sync.Mutex // held while the reader is paused (slow consumer)
	paused  atomic.Bool
	dead    atomic.Bool
}

// dialWS opens a WebSocket, reads the Engine.IO open packet, connects to
// the main namespace and waits for its CONNECT reply; it returns the time
// the whole handshake took.
func dialWS(ctx context.Context, url string, idx int, h *handlers) (*client, time.Duration, error) {
	return dialWSWith(ctx, dialContext, url, idx, h)
}

// readLimit is the largest message the load generator accepts.
const readLimit = 16 << 20

func dialWSWith(ctx context.Context, dial func(context.Context, string, string) (net.Conn, error), url string, idx int, h *handlers) (*client, time.Duration, error) {
	start := time.Now()
	ws, err := dialRaw(ctx, dial, url)
	if err != nil {
		return nil, 0, err
	}
	fail := func(err error) (*client, time.Duration, error) {
		ws.close()
		return nil, 0, err
	}
	// The handshake's reads must not outlive ctx.
	if dl, ok := ctx.Deadline(); ok {
		_ = ws.nc.SetReadDeadline(dl)
	}
	_, open, err := ws.readMessage(nil, readLimit)
	if err != nil {
		return fail(err)
	}
	if len(open) == 0 || open[0] != '0' {
		return fail(fmt.Errorf("unexpected open packet %q", open))
	}
	if err := ws.write(opText, []byte("40")); err != nil {
		return fail(err)
	}
	var m []byte
	for {
		_, m, err = ws.readMessage(m[:0], readLimit)
		if err != nil {
			return fail(err)
		}
		if bytes.HasPrefix(m, []byte("40")) {
			break
		}
		if bytes.HasPrefix(m, []byte("44")) {
			return fail(fmt.Errorf("connect refused: %q", m))
		}
		if string(m) == "2" {
			_ = ws.write(opText, []byte("3"))
		}
	}
	_ = ws.nc.SetReadDeadline(time.Time{})
	d := time.Since(start)
	c := &client{idx: idx, ws: ws, h: h, ackCh: make(chan struct{}, 1)}
	go c.read()
	return c, d, nil
}

func (c *client) send(b []byte) error { return c.ws.write(opText, b) }

func (c *client) sendBinary(b []byte) error { return c.ws.write(opBinary, b) }

func (c *client) close() { c.ws.close() }

// pause stops the reader before its next message, so the server's writes
// back up into the TCP window (a slow consumer); resume undoes it.
func (c *client) pause() {
	if c.paused.CompareAndSwap(false, true) {
		c.pauseMu.Lock()
	}
}

func (c *client) resume() {
	if c.paused.CompareAndSwap(true, false) {
		c.pauseMu.Unlock()
	}
}

// read is the connection's only reader. It answers pings and hands events,
// acks and binary acks to the handlers, reusing one buffer.
func (c *client) read() {
	buf := make([]byte, 0, 512)
	var header []byte // a binary ack waiting for its attachment
	for {
		if c.paused.Load() {
			c.pauseMu.Lock()
			c.pauseMu.Unlock() //nolint:staticcheck // a barrier
		}
		typ, b, err := c.ws.readMessage(buf[:0], readLimit)
		buf = b
		if err != nil {
			c.dead.Store(true)
			if c.h.closed != nil {
				c.h.closed(c, err)
			}
			return
		}
		if typ == opBinary {
			if header != nil && c.h.binAck != nil {
				c.h.binAck(c, header, buf)
			}
			header = nil
			c.signal()
			continue
		}
		switch {
		case len(buf) == 1 && buf[0] == '2':
			_ = c.send([]byte("3"))
		case bytes.HasPrefix(buf, []byte("42")):
			if c.h.event != nil {
				c.h.event(c, buf[2:])
			}
		case bytes.HasPrefix(buf, []byte("43")):
			_, rest := splitID(buf[2:])
			if c.h.ack != nil {
				c.h.ack(c, rest)
			}
			c.signal()
		case bytes.HasPrefix(buf, []byte("461-")):
			header = append(header[:0], buf...)
		}
	}
}

func (c *client) signal() {
	select {
	case c.ackCh <- struct{}{}:
	default:
	}
}

// waitAck waits for the next ack signal.
func (c *client) waitAck(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c.ackCh:
		return true
	case <-t.C:
		return false
	}
}

// splitID splits "123[...]" into 123 and "[...]".
func splitID(b []byte) (uint64, []byte) {
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	id, _ := strconv.ParseUint(string(b[:i]), 10, 64)
	return id, b[i:]
}

// field returns the integer after `"key":` in b (keys are "t" and "s").
func field(b []byte, key string) (int64, bool) {
	var pat [8]byte
	p := append(append(append(pat[:0], '"'), key...), '"', ':')
	i := bytes.Index(b, p)
	if i < 0 {
		return 0, false
	}
	i += len(p)
	var v int64
	j := i
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		v = v*10 + int64(b[j]-'0')
		j++
	}
	return v, j > i
}

// payload builds {"t":T,"s":S,"p":"xxx..."} padded to about size bytes.
func payload(dst []byte, t, s int64, size int) []byte {
	dst = append(dst, `{"t":`...)
	dst = strconv.AppendInt(dst, t, 10)
	dst = append(dst, `,"s":`...)
	dst = strconv.AppendInt(dst, s, 10)
	dst = append(dst, `,"p":"`...)
	for n := size - len(dst) - 2; n > 0; n-- {
		dst = append(dst, 'x')
	}
	return append(dst, '"', '}')
}

// connectMany dials n clients with the given concurrency, calling done
// with each handshake duration. Failed dials are counted, not retried.
func connectMany(ctx context.Context, url string, first, n, conc int, h *handlers, done func(time.Duration)) ([]*client, int) {
	out := make([]*client, n)
	var fails atomic.Int64
	var mu sync.Mutex
	parallel(conc, n, func(i int) {
		c, d, err := dialWS(ctx, url, first+i, h)
		if err != nil {
			if fails.Add(1) <= 3 {
				logf("dial %d: %v", first+i, err)
			}
			return
		}
		out[i] = c
		if done != nil {
			mu.Lock()
			done(d)
			mu.Unlock()
		}
	})
	live := out[:0]
	for _, c := range out {
		if c != nil {
			live = append(live, c)
		}
	}
	return live, int(fails.Load())
}

// parallel calls fn(i) for every i in [0, n), from at most workers
// goroutines at once, and returns when all calls have.
func parallel(workers, n int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}

package socketio

import (
	"bufio"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var idleHeapProfile = flag.String("idleconn.heapprofile", "", "BenchmarkIdleConnMemory writes a heap profile (every allocation sampled) to this file while its connections are open")

// idleConns is how many idle connections BenchmarkIdleConnMemory opens.
const idleConns = 2000

// idleClientsEnv names the server address that makes TestIdleConnClients
// the client process of BenchmarkIdleConnMemory.
const idleClientsEnv = "GOSIO_IDLECONN_SERVER"

// BenchmarkIdleConnMemory reports what the server holds for one idle
// Socket.IO connection over WebSocket: a socket in the main namespace with
// four event handlers and a disconnect handler, opened by a browser-like
// request (ten headers, the usual query). The clients run in a child
// process (TestIdleConnClients), so the numbers are the server's alone:
//
//   - B/conn: live heap (HeapAlloc after two collections, before and
//     after the connections opened) per connection;
//   - inuseB/conn: the same in heap spans (HeapInuse), with the
//     fragmentation of the size classes;
//   - stackB/conn: goroutine stacks per connection (near 0: an idle
//     connection has no goroutine where the poller reads);
//   - allocs/conn and allocB/conn: what opening a connection allocated,
//     garbage included.
//
// With -idleconn.heapprofile=file it also writes a heap profile, every
// allocation sampled, while the connections are open: see what holds the
// bytes with go tool pprof -sample_index=inuse_space.
func BenchmarkIdleConnMemory(b *testing.B) {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	if *idleHeapProfile != "" {
		runtime.MemProfileRate = 1
		defer func() { runtime.MemProfileRate = 512 * 1024 }()
	}
	var connected, disconnected atomic.Int64
	srv := NewServer(nil)
	srv.OnConnection(func(s *Socket) {
		s.On("message", func(args Args, ack Ack) { _ = ack(args.Any()...) })
		s.On("join", func(room string) { s.Join(room) })
		s.On("leave", func(room string) { s.Leave(room) })
		s.On("typing", func() { _ = s.Broadcast().Emit("typing", s.ID()) })
		s.OnDisconnect(func(string) { disconnected.Add(1) })
		connected.Add(1)
	})
	u := startBenchServer(b, srv)
	addr := strings.TrimPrefix(u, "ws://")
	addr = addr[:strings.IndexByte(addr, '/')]

	// One connection first, so that what the server starts on first use
	// (the poller, workers) is in the baseline.
	runIdleClients(b, exe, addr, 1, nil)
	waitCount(b, &disconnected, 1)

	measure := func() runtime.MemStats {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms
	}
	for i := 0; i < b.N; i++ {
		connected.Store(0)
		disconnected.Store(0)
		m0 := measure()
		runIdleClients(b, exe, addr, idleConns, func() {
			waitCount(b, &connected, idleConns) // the handlers are set
			m1 := measure()
			n := float64(idleConns)
			b.ReportMetric(float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc))/n, "B/conn")
			b.ReportMetric(float64(int64(m1.HeapInuse)-int64(m0.HeapInuse))/n, "inuseB/conn")
			b.ReportMetric(float64(int64(m1.StackInuse)-int64(m0.StackInuse))/n, "stackB/conn")
			b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/n, "allocs/conn")
			b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/n, "allocB/conn")
			if *idleHeapProfile != "" && i == 0 {
				writeHeapProfile(b, *idleHeapProfile)
			}
		})
		waitCount(b, &disconnected, idleConns)
	}
}

// runIdleClients runs n clients of the server at addr in a child process,
// calls open (when not nil) once they have joined the main namespace, and
// then has them close.
func runIdleClients(b *testing.B, exe, addr string, n int, open func()) {
	b.Helper()
	cmd := exec.Command(exe, "-test.run=^TestIdleConnClients$", "-test.count=1")
	cmd.Env = append(os.Environ(), idleClientsEnv+"="+addr, "GOSIO_IDLECONN_N="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if line != "ready\n" {
		_ = stdin.Close()
		_ = cmd.Wait()
		b.Fatalf("client process: %q, %v", line, err)
	}
	if open != nil {
		open()
	}
	_ = stdin.Close() // the clients close their connections and exit
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	if err := cmd.Wait(); err != nil {
		b.Fatalf("client process: %v", err)
	}
}

// waitCount waits until c reaches want.
func waitCount(b *testing.B, c *atomic.Int64, want int64) {
	b.Helper()
	deadline := time.Now().Add(time.Minute)
	for c.Load() < want {
		if time.Now().After(deadline) {
			b.Fatalf("count %d after a minute, want %d", c.Load(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func writeHeapProfile(b *testing.B, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}

// TestIdleConnClients is the client process of BenchmarkIdleConnMemory;
// it does nothing in a test run. It opens GOSIO_IDLECONN_N WebSockets to
// the server at GOSIO_IDLECONN_SERVER, each with browser-like headers,
// joins the main namespace on each, writes "ready" and holds them until
// its standard input ends.
func TestIdleConnClients(t *testing.T) {
	addr := os.Getenv(idleClientsEnv)
	if addr == "" {
		t.Skip("the client process of BenchmarkIdleConnMemory")
	}
	n, err := strconv.Atoi(os.Getenv("GOSIO_IDLECONN_N"))
	if err != nil {
		t.Fatal(err)
	}
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	for range n {
		c, err := dialIdleClient(addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// dialIdleClient opens a WebSocket to the server at addr as a browser's
// socket.io-client does and joins the main namespace.
func dialIdleClient(addr string) (net.Conn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	req := "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n" +
		"Host: " + addr + "\r\n" +
		"Connection: Upgrade\r\n" +
		"Pragma: no-cache\r\n" +
		"Cache-Control: no-cache\r\n" +
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36\r\n" +
		"Upgrade: websocket\r\n" +
		"Origin: http://" + addr + "\r\n" +
		"Sec-WebSocket-Version: 13\r\n" +
		"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
		"Accept-Language: en-US,en;q=0.9\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
	br := bufio.NewReader(c)
	fail := func(err error) (net.Conn, error) {
		_ = c.Close()
		return nil, err
	}
	if _, err := io.WriteString(c, req); err != nil {
		return fail(err)
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return fail(err)
		}
		if line == "\r\n" {
			break
		}
	}
	if _, err := readServerFrame(br); err != nil { // the open packet
		return fail(err)
	}
	// "40", masked with a zero key.
	if _, err := c.Write([]byte{0x81, 0x82, 0, 0, 0, 0, '4', '0'}); err != nil {
		return fail(err)
	}
	p, err := readServerFrame(br)
	if err != nil {
		return fail(err)
	}
	if !strings.HasPrefix(string(p), "40") {
		return fail(fmt.Errorf("CONNECT answered with %q", p))
	}
	if br.Buffered() > 0 {
		return fail(errors.New("unexpected frames after the CONNECT"))
	}
	return c, nil
}

// readServerFrame reads one unmasked, unfragmented frame's payload.
func readServerFrame(br *bufio.Reader) ([]byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return nil, err
	}
	n := int(h[1] & 0x7f)
	switch n {
	case 126:
		var l [2]byte
		if _, err := io.ReadFull(br, l[:]); err != nil {
			return nil, err
		}
		n = int(binary.BigEndian.Uint16(l[:]))
	case 127:
		return nil, errors.New("frame too large")
	}
	p := make([]byte, n)
	_, err := io.ReadFull(br, p)
	return p, err
}

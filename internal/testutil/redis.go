package testutil

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// InCI reports whether the tests run under CI (CI=true), where a missing
// external tool is a failure instead of a skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// NeedTool skips the test loudly when the named binary is not on the PATH,
// or fails it when running in CI. It returns the binary's path.
func NeedTool(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if InCI() {
			tb.Fatalf("%s is required in CI but not on the PATH", name)
		}
		tb.Skipf("SKIPPED: %s is not on the PATH; install it to run this test", name)
	}
	return p
}

// StartRedis starts a private redis-server on a free port for the duration
// of the test and returns its address ("127.0.0.1:port"). Extra arguments
// are passed to redis-server (for example "--maxmemory", "10mb").
func StartRedis(tb testing.TB, args ...string) string {
	tb.Helper()
	return StartRedisServer(tb, args...).Addr()
}

// redisStartTimeout bounds the wait for a started redis-server to answer PING.
const redisStartTimeout = 10 * time.Second

// RedisServer is a private redis-server process started by StartRedisServer.
// It can be killed and started again on the same port, for tests of
// reconnection. Its methods are safe for concurrent use.
type RedisServer struct {
	tb   testing.TB
	bin  string
	port int
	dir  string
	args []string // full command line after the binary

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has been waited for
}

// StartRedisServer starts a private redis-server on a free port of
// 127.0.0.1, in its own temp dir, without persistence (--save "",
// --appendonly no), and waits until it answers PING. Extra arguments are
// passed to redis-server after the defaults. The server is killed at the
// end of the test.
func StartRedisServer(tb testing.TB, args ...string) *RedisServer {
	tb.Helper()
	bin := NeedTool(tb, "redis-server")
	return startRedisServer(tb, bin, FreePort(tb), tb.TempDir(), args...)
}

// startRedisServer starts redis-server on port with dir as working dir and
// waits for PING.
func startRedisServer(tb testing.TB, bin string, port int, dir string, args ...string) *RedisServer {
	tb.Helper()
	s := launchRedisServer(tb, bin, port, dir, args...)
	if err := s.waitPing(redisStartTimeout); err != nil {
		tb.Fatalf("%v\n%s", err, s.logTail())
	}
	return s
}

// launchRedisServer starts the process without waiting for it to answer.
func launchRedisServer(tb testing.TB, bin string, port int, dir string, args ...string) *RedisServer {
	tb.Helper()
	all := append([]string{
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no",
		"--dir", dir, "--logfile", filepath.Join(dir, "redis.log"),
	}, args...)
	s := &RedisServer{tb: tb, bin: bin, port: port, dir: dir, args: all}
	if err := s.start(); err != nil {
		tb.Fatalf("start redis-server: %v", err)
	}
	tb.Cleanup(s.Stop)
	return s
}

// Addr returns the server's address, "127.0.0.1:port".
func (s *RedisServer) Addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
}

// Port returns the server's TCP port.
func (s *RedisServer) Port() int { return s.port }

// Dir returns the server's working directory (its log is redis.log there).
func (s *RedisServer) Dir() string { return s.dir }

func (s *RedisServer) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("redis-server is already running")
	}
	cmd := exec.Command(s.bin, s.args...)
	cmd.Stdout, cmd.Stderr = nil, nil // --logfile
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	s.cmd, s.done = cmd, done
	return nil
}

// Stop kills the server with SIGKILL (no shutdown, no save) and waits for
// the process to end. Stopping a stopped server does nothing.
func (s *RedisServer) Stop() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd, s.done = nil, nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

// Restart starts the server again on the same port with the same arguments
// (killing it first if it still runs) and waits until it answers PING. The
// data is gone: the server runs without persistence.
func (s *RedisServer) Restart() {
	s.tb.Helper()
	s.Stop()
	deadline := time.Now().Add(redisStartTimeout)
	for {
		if err := s.start(); err != nil {
			s.tb.Fatalf("restart redis-server on %s: %v", s.Addr(), err)
		}
		err := s.waitPing(time.Until(deadline))
		if err == nil {
			return
		}
		// The process may have exited at once (port briefly unavailable):
		// try again until the deadline.
		if !s.exited() || time.Now().After(deadline) {
			s.tb.Fatalf("restart: %v\n%s", err, s.logTail())
		}
		s.Stop()
		time.Sleep(50 * time.Millisecond)
	}
}

// exited reports whether the current process has ended.
func (s *RedisServer) exited() bool {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done == nil {
		return true
	}
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// waitPing polls PING every 20 ms until it succeeds, the process exits or
// timeout passes.
func (s *RedisServer) waitPing(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := redisPing(s.Addr())
		if err == nil {
			return nil
		}
		if s.exited() {
			return fmt.Errorf("redis-server on %s exited before answering PING", s.Addr())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server on %s did not answer PING within %v: %v", s.Addr(), timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// logTail returns the end of the server's log, for failure messages.
func (s *RedisServer) logTail() string {
	b, err := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	if err != nil {
		return "(no redis.log: " + err.Error() + ")"
	}
	const max = 4 << 10
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return "--- redis.log (" + s.Addr() + "):\n" + string(b)
}

func redisPing(addr string) error {
	v, err := RedisDo(addr, "PING")
	if err != nil {
		return err
	}
	if v != "PONG" {
		return fmt.Errorf("unexpected reply to PING: %v", v)
	}
	return nil
}

// ---------------------------------------------------------------------------
// A tiny RESP2 client, enough for test helpers (no module dependency).

// RedisError is an error reply from Redis, e.g. "MOVED 3999 127.0.0.1:6381".
type RedisError string

func (e RedisError) Error() string { return string(e) }

// redisTimeout bounds every command sent by RedisDo and RedisConn.
const redisTimeout = 5 * time.Second

// RedisDo opens a connection to addr, sends one command and returns its
// reply: a string for simple strings and bulk strings, int64 for integers,
// []any for arrays, nil for null replies, and a RedisError as the error for
// error replies. It is safe for concurrent use.
func RedisDo(addr string, args ...string) (any, error) {
	c, err := DialRedis(addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.Do(args...)
}

// RedisConn is one connection of the tiny RESP client. It is not safe for
// concurrent use.
type RedisConn struct {
	c net.Conn
	r *bufio.Reader
}

// DialRedis connects to addr.
func DialRedis(addr string) (*RedisConn, error) {
	c, err := net.DialTimeout("tcp", addr, redisTimeout)
	if err != nil {
		return nil, err
	}
	return &RedisConn{c: c, r: bufio.NewReader(c)}, nil
}

// Close closes the connection.
func (c *RedisConn) Close() error { return c.c.Close() }

// Do sends one command and reads its reply (see RedisDo).
func (c *RedisConn) Do(args ...string) (any, error) {
	if len(args) == 0 {
		return nil, errors.New("redis: empty command")
	}
	_ = c.c.SetDeadline(time.Now().Add(redisTimeout))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(c.c, b.String()); err != nil {
		return nil, err
	}
	v, err := c.read()
	if err != nil {
		return nil, err
	}
	if e, ok := v.(RedisError); ok {
		return nil, e
	}
	return v, nil
}

// read reads one reply. Error replies nested in arrays are returned as
// RedisError values.
func (c *RedisConn) read() (any, error) {
	line, err := c.r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("redis: bad reply line %q", line)
	}
	kind, rest := line[0], line[1:len(line)-2]
	switch kind {
	case '+':
		return rest, nil
	case '-':
		return RedisError(rest), nil
	case ':':
		n, err := strconv.ParseInt(rest, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("redis: bad integer %q", rest)
		}
		return n, nil
	case '$':
		n, err := strconv.Atoi(rest)
		if err != nil {
			return nil, fmt.Errorf("redis: bad bulk length %q", rest)
		}
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(c.r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(rest)
		if err != nil {
			return nil, fmt.Errorf("redis: bad array length %q", rest)
		}
		if n < 0 {
			return nil, nil
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = c.read(); err != nil {
				return nil, err
			}
		}
		return out, nil
	default:
		return nil, fmt.Errorf("redis: unsupported reply type %q", line)
	}
}

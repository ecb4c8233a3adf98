package testutil

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
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
// are passed to redis-server (for example "--cluster-enabled", "yes").
func StartRedis(tb testing.TB, args ...string) string {
	tb.Helper()
	bin := NeedTool(tb, "redis-server")
	port := FreePort(tb)
	dir := tb.TempDir()
	all := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir}, args...)
	cmd := exec.Command(bin, all...)
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start redis-server: %v", err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		if err := redisPing(addr); err == nil {
			return addr
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("redis-server on %s did not answer PING", addr)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func redisPing(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("unexpected reply %q", line)
	}
	return nil
}

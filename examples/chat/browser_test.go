package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gosio/gosio/internal/testutil"
)

// serverEnv makes the test binary run the chat program instead of the
// tests (see TestMain), so the browser test can start real server
// processes without building a binary.
const serverEnv = "GOSIO_CHAT_TEST_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(serverEnv) == "1" {
		serveForTest()
		return
	}
	testutil.RunWithLeakCheck(m)
}

// serveForTest runs the chat program with the process's arguments.
func serveForTest() {
	ctx, stop := signalContext()
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// repoRoot returns the repository's root (the tests run in examples/chat).
func repoRoot(tb testing.TB) string {
	tb.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	testutil.NoErr(tb, err)
	return root
}

// chromiumNames are the names Debian's and other distributions' Chromium
// packages install.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome-stable", "google-chrome"}

func lookChromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, n := range chromiumNames {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

var installChromium = sync.OnceValue(func() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("not root: install it with `sudo apt-get install chromium`")
	}
	apt, err := exec.LookPath("apt-get")
	if err != nil {
		return fmt.Errorf("no apt-get: install Chromium and set CHROMIUM to its binary")
	}
	install := func() ([]byte, error) {
		cmd := exec.Command(apt, "install", "-y", "--no-install-recommends", "chromium")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		return cmd.CombinedOutput()
	}
	if _, err := install(); err == nil {
		return nil
	}
	// The package lists may be missing or old.
	if out, err := exec.Command(apt, "update").CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get update: %v\n%s", err, tail(out))
	}
	if out, err := install(); err != nil {
		return fmt.Errorf("apt-get install chromium: %v\n%s", err, tail(out))
	}
	return nil
})

// needChromium returns Debian's Chromium, installing it with apt-get when it
// is missing and the test runs as root. When it cannot be had the test is
// skipped, or fails under CI=true.
func needChromium(tb testing.TB) string {
	tb.Helper()
	if p := lookChromium(); p != "" {
		return p
	}
	tb.Log("chromium is not installed: installing Debian's package with apt-get")
	err := installChromium()
	if p := lookChromium(); p != "" {
		return p
	}
	if err == nil {
		err = fmt.Errorf("apt-get installed chromium, yet none of %v is on the PATH", chromiumNames)
	}
	if testutil.InCI() {
		tb.Fatalf("a headless Chromium is required in CI: %v", err)
	}
	tb.Skipf("SKIPPED: no Chromium (%v)", err)
	return ""
}

// needPlaywright returns the conformance directory holding playwright-core
// and socket.io-client, skipping (failing under CI=true) without them.
func needPlaywright(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join(repoRoot(tb), "conformance")
	for _, pkg := range []string{"playwright-core", "socket.io-client"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
			if testutil.InCI() {
				tb.Fatalf("conformance/node_modules has no %s (run make npm): %v", pkg, err)
			}
			tb.Skipf("SKIPPED: conformance/node_modules has no %s; run `make npm` to run this test", pkg)
		}
	}
	return dir
}

// syncBuffer is a bytes.Buffer safe for a process's writes and the test's
// reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var urlLine = regexp.MustCompile(`^chat: open (http://\S+/) in a browser`)

// startServer starts a chat server process with args and returns its URL.
// Its log is printed when the test fails.
func startServer(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-addr", "127.0.0.1:0", "-name", name}, args...)...)
	cmd.Env = append(os.Environ(), serverEnv+"=1")
	logs := &syncBuffer{}
	cmd.Stderr = logs
	stdout, err := cmd.StdoutPipe()
	testutil.NoErr(t, err)
	testutil.NoErr(t, cmd.Start())
	done := make(chan struct{})
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("server %s log:\n%s", name, logs.String())
		}
	})
	urls := make(chan string, 1)
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := urlLine.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
		_ = cmd.Wait()
	}()
	select {
	case u := <-urls:
		return u
	case <-done:
		t.Fatalf("server %s exited before serving:\n%s", name, logs.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("server %s printed no URL in 20 s:\n%s", name, logs.String())
	}
	return ""
}

// TestBrowserChatCluster runs the page in two headless Chromium browsers
// (playwright-core), each on its own chat server process, the two servers
// on one Redis: login, presence, typing, messages through Redis, a denied
// room, joining and leaving a channel, a reload that recovers, a logout
// (testdata/browser.mjs has the checks). Then it checks the history in Redis.
func TestBrowserChatCluster(t *testing.T) {
	node := testutil.NeedTool(t, "node")
	conformance := needPlaywright(t)
	chromium := needChromium(t)
	redisAddr := testutil.StartRedis(t)
	redisURL := "redis://" + redisAddr

	urlA := startServer(t, "A", "-redis", redisURL)
	urlB := startServer(t, "B", "-redis", redisURL)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("testdata", "browser.mjs"), urlA, urlB)
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromium, "CONFORMANCE_DIR="+conformance)
	if dir := os.Getenv("GOSIO_CHAT_SCREENSHOTS"); dir != "" {
		cmd.Env = append(cmd.Env, "SCREENSHOTS="+dir)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	planned, passed := -1, 0
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "plan "):
			planned, _ = strconv.Atoi(strings.TrimPrefix(line, "plan "))
		case strings.HasPrefix(line, "ok "):
			passed++
			t.Log(line)
		case strings.HasPrefix(line, "not ok"):
			t.Error(line)
		case strings.HasPrefix(line, "# "):
			t.Log(line)
		}
	}
	if err != nil {
		t.Errorf("browser.mjs: %v\nstderr:\n%s", err, tail([]byte(stderr.String())))
	}
	if planned <= 0 || passed != planned {
		t.Fatalf("%d of %d planned browser checks passed", passed, planned)
	}
	t.Logf("%d of %d browser checks passed (Chromium %s)", passed, planned, chromium)

	// The history the reloaded page showed is the one in Redis, taken once
	// per message by the server the message was typed on.
	items, err := testutil.RedisDo(redisAddr, "LRANGE", "gosio-chat:history:general", "0", "-1")
	testutil.NoErr(t, err)
	var got []string
	list, _ := items.([]any)
	for _, it := range list {
		var m Message
		s, _ := it.(string)
		testutil.NoErr(t, json.Unmarshal([]byte(s), &m))
		got = append(got, m.User+"@"+m.Server+": "+m.Text)
	}
	testutil.Equal(t, got, []string{"bob@B: hello from B", "alice@A: hi from A"})
}

// tail returns the end of a long output.
func tail(b []byte) string {
	const max = 4000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
}

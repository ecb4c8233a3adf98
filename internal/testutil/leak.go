// Package testutil holds helpers shared by gosio's tests: a goroutine leak
// check for TestMain, small assertion helpers and a redis-server launcher.
// Nothing here is part of the public API.
package testutil

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

// interesting reports whether a goroutine stack belongs to the code under test.
func interesting(stack string) bool {
	first, _, _ := strings.Cut(stack, "\n")
	if strings.Contains(first, "[running]") {
		return false // the goroutine taking the snapshot
	}
	for _, s := range []string{
		"testing.(*M).", "testing.tRunner(", "testing.runFuzzing(", "testing.(*F).Fuzz(",
		"created by os/signal.Notify", "signal.signal_recv", "runtime.ensureSigM",
		"testing.(*M).startAlarm", "testing.runTests.func",
	} {
		if strings.Contains(stack, s) {
			return false
		}
	}
	return true
}

// Goroutines returns the stacks of the goroutines that are not part of the
// runtime or the test harness, sorted.
func Goroutines() []string {
	buf := make([]byte, 2<<20)
	n := runtime.Stack(buf, true)
	var out []string
	for _, g := range strings.Split(string(buf[:n]), "\n\n") {
		if interesting(g) {
			out = append(out, g)
		}
	}
	sort.Strings(out)
	return out
}

// CheckLeaks waits up to timeout for every goroutine started by the code
// under test to end. It returns a description of the ones still running.
func CheckLeaks(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		gs := Goroutines()
		if len(gs) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d leaked goroutine(s):\n\n%s", len(gs), strings.Join(gs, "\n\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// RunWithLeakCheck runs the tests of m and then fails the run when
// goroutines are still alive. Use it from TestMain:
//
//	func TestMain(m *testing.M) { testutil.RunWithLeakCheck(m) }
//
// The cleanups run after the tests, before the check.
func RunWithLeakCheck(m *testing.M, cleanups ...func()) {
	code := m.Run()
	for _, fn := range cleanups {
		fn()
	}
	if code == 0 {
		if err := CheckLeaks(5 * time.Second); err != nil {
			fmt.Fprintln(os.Stderr, "goroutine leak check failed:", err)
			code = 1
		}
	}
	os.Exit(code)
}

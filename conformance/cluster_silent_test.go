package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gosio/gosio/internal/testutil"
)

// TestMixedSilentNode checks F3 and the SIGKILL item of the Redis adapters
// issue in mixed clusters: a node that hangs (SIGSTOP: its connections
// stay open, so Redis still counts it) makes the others' requests finish
// at their timeout with the partial responses and Node's error texts, on
// Node and Go nodes alike; once it is killed (SIGKILL), Redis drops its
// subscriptions, the server count falls and requests succeed again. Run
// with a silent Go node (Node and Go asking) and a silent Node node.
func TestMixedSilentNode(t *testing.T) {
	for _, kind := range []string{"classic", "sharded", "streams"} {
		for _, impls := range [][]string{{"node", "go", "go"}, {"go", "node", "node"}} {
			t.Run(kind+"/"+strings.Join(impls, "-"), func(t *testing.T) {
				t.Parallel()
				mxSilent(t, kind, impls)
			})
		}
	}
}

func mxSilent(t *testing.T, kind string, impls []string) {
	redisAddr := testutil.StartRedis(t)
	var nodes []*mxNode
	for i, impl := range impls {
		nodes = append(nodes, mxStart(t, impl, kind, redisAddr, fmt.Sprintf("S%d", i)))
	}
	for _, n := range nodes {
		mxConnect(t, n, 1, "/", "")
	}
	silent := nodes[2]
	if err := syscall.Kill(-silent.cmd.Process.Pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitGroupStopped(t, silent.cmd.Process.Pid)
	stopped := true
	defer func() {
		if stopped {
			_ = syscall.Kill(-silent.cmd.Process.Pid, syscall.SIGCONT)
		}
	}()

	fetchText := "timeout reached: only 1 responses received out of 2"
	if kind == "classic" {
		fetchText = "timeout reached while waiting for fetchSockets response"
	}
	type result struct {
		who, what string
		status    int
		body      map[string]any
	}
	var mu sync.Mutex
	var results []result
	var wg sync.WaitGroup
	for _, asker := range nodes[:2] {
		for _, what := range []string{"sse-ack", "fetch"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var status int
				var body map[string]any
				if what == "fetch" {
					status, body = rawCall(t, asker, "GET", "/fetch?timeoutMs=20000", nil)
				} else {
					status, body = rawCall(t, asker, "POST", "/sse-ack", map[string]any{"event": "q", "args": []any{1}, "timeoutMs": 20000})
				}
				mu.Lock()
				results = append(results, result{asker.name + " (" + asker.impl + ")", what, status, body})
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	for _, r := range results {
		other := nodes[0].name
		if strings.HasPrefix(r.who, nodes[0].name) {
			other = nodes[1].name
		}
		switch r.what {
		case "sse-ack":
			// 200 with ok:false, the text and the one response.
			if r.status != 200 || r.body["ok"] != false || r.body["error"] != "timeout reached: only 1 responses received out of 2" {
				t.Errorf("%s: sse-ack with a silent node: %d %v", r.who, r.status, r.body)
			}
			if resp, _ := r.body["responses"].([]any); len(resp) != 1 || resp[0] != other+":ack" {
				t.Errorf("%s: sse-ack partial responses %v, want [%s:ack]", r.who, r.body["responses"], other)
			}
		case "fetch":
			if r.status != 500 || r.body["error"] != fetchText {
				t.Errorf("%s: fetch with a silent node: %d %v, want 500 %q", r.who, r.status, r.body, fetchText)
			}
		}
	}

	// SIGKILL: its connections close, Redis forgets it.
	_ = syscall.Kill(-silent.cmd.Process.Pid, syscall.SIGKILL)
	_ = syscall.Kill(-silent.cmd.Process.Pid, syscall.SIGCONT)
	stopped = false
	for _, asker := range nodes[:2] {
		mxWait(t, asker.name+": serverCount 2 after the kill", func() bool {
			var sc struct{ Count int }
			asker.call(t, "GET", "/server-count", nil, &sc)
			return sc.Count == 2
		})
		var sa struct {
			OK        bool
			Responses []string
		}
		asker.call(t, "POST", "/sse-ack", map[string]any{"event": "q2", "args": []any{}}, &sa)
		if !sa.OK || len(sa.Responses) != 1 {
			t.Errorf("%s: sse-ack after the kill: %+v", asker.name, sa)
		}
		var socks []struct{ ID string }
		asker.call(t, "GET", "/fetch", nil, &socks)
		if len(socks) != 2 {
			t.Errorf("%s: fetch after the kill: %d sockets, want 2", asker.name, len(socks))
		}
	}
}

// rawCall is mxNode.call for answers that are not 200.
func rawCall(t *testing.T, n *mxNode, method, path string, body any) (int, map[string]any) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "http://127.0.0.1:"+strconv.Itoa(n.port+1000)+path, rd)
	req.Header.Set("Content-Type", "application/json")
	res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Errorf("%s %s on %s: %v", method, path, n.name, err)
		return 0, nil
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if m == nil {
		m = map[string]any{"raw": string(b)}
	}
	return res.StatusCode, m
}

// waitGroupStopped waits until every thread of every process in the
// process group pgid is stopped: kill returns once the signal is sent,
// and a thread that was waiting for a CPU stops only when it runs again.
func waitGroupStopped(t *testing.T, pgid int) {
	t.Helper()
	testutil.WaitUntil(t, 10*time.Second, "the silent node's group to stop", func() bool {
		procs, _ := filepath.Glob("/proc/[0-9]*/stat")
		found := false
		for _, stat := range procs {
			state, group, ok := procStat(stat)
			if !ok || group != pgid {
				continue
			}
			found = true
			tasks, _ := filepath.Glob(filepath.Join(filepath.Dir(stat), "task", "*", "stat"))
			for _, ts := range tasks {
				if state, _, ok = procStat(ts); ok && state != 'T' && state != 't' {
					return false
				}
			}
		}
		return found
	})
}

// procStat reads the state and the process group from a /proc stat file.
func procStat(path string) (state byte, pgrp int, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, false
	}
	i := bytes.LastIndexByte(b, ')') // the command name may hold spaces and parentheses
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+1:])) // state ppid pgrp ...
	if len(f) < 3 || len(f[0]) != 1 {
		return 0, 0, false
	}
	g, err := strconv.Atoi(f[2])
	return f[0][0], g, err == nil
}

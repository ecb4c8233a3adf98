package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gosio/gosio/bench/internal/result"
)

// The cluster profile: every run starts a fresh redis-server on a free
// loopback port and fresh nodes of one kind, all with the same adapter.
// Placement, identical for Go and Node: every node pinned to CPU 0 (the
// nodes of a cluster share it), Redis and the load generator (and the
// emitter process, its child) pinned to CPU 1.

// A clusterSUT is a cluster of one kind of node with one adapter.
type clusterSUT struct {
	name    string
	kind    string // gosio or node
	adapter string // classic, sharded or streams
}

var clusterSUTs = []clusterSUT{
	{"gosio-classic", "gosio", "classic"}, {"node-classic", "node", "classic"},
	{"gosio-sharded", "gosio", "sharded"}, {"node-sharded", "node", "sharded"},
	{"gosio-streams", "gosio", "streams"}, {"node-streams", "node", "streams"},
}

// emitterTarget is the cluster the emitters emit into, the same for both
// emitters.
const emitterTarget = "gosio-classic"

// emitters are the emitter scenario's "servers": the emitter command.
var emitters = map[string]string{
	"go-emitter":   "emit-go",
	"node-emitter": "node node/emitter.mjs",
}

// A clusterScenario is a loadgen scenario on a cluster of nodes.
type clusterScenario struct {
	name     string // result name
	loadgen  string // loadgen scenario
	nodes    int
	servers  []string // clusterSUT or emitter names
	recovery bool     // nodes with connection state recovery (-recovery)
}

var clusterProfile = []clusterScenario{
	{"cbcast", "cbcast", 2, []string{"gosio-classic", "node-classic", "gosio-sharded", "node-sharded"}, false},
	{"cfetch", "cfetch", 3, []string{"gosio-classic", "node-classic"}, false},
	{"emitter", "emitter", 2, []string{"go-emitter", "node-emitter"}, false},
	{"roommem", "roommem", 2, []string{"gosio-sharded", "node-sharded", "gosio-classic"}, false},
	{"sbcast", "cbcast", 2, []string{"gosio-streams", "node-streams"}, false},
	{"crecover", "crecover", 2, []string{"gosio-streams", "node-streams"}, true},
}

func clusterSUTByName(name string) (clusterSUT, bool) {
	for _, s := range clusterSUTs {
		if s.name == name {
			return s, true
		}
	}
	return clusterSUT{}, false
}

// nodeArgv is the command line of one node.
func nodeArgv(bin string, s clusterSUT, addr, redisURL string, recovery bool) []string {
	var argv []string
	if s.kind == "node" {
		argv = []string{"node", "--expose-gc", "node/server.mjs", "-addr=" + addr, "-redis=" + redisURL, "-adapter=" + s.adapter}
	} else {
		argv = []string{filepath.Join(bin, "gosio-server"), "-addr", addr, "-redis", redisURL, "-adapter", s.adapter}
	}
	if recovery {
		argv = append(argv, "-recovery")
	}
	return argv
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startListening starts argv and waits for its "listening" line.
func startListening(argv []string) (*exec.Cmd, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		ok := false
		for sc.Scan() {
			if !ok && strings.HasPrefix(sc.Text(), "listening") {
				ok = true
				ready <- true
			}
		}
		if !ok {
			ready <- false
		}
	}()
	select {
	case ok := <-ready:
		if ok {
			return cmd, nil
		}
		stop(cmd)
		return nil, fmt.Errorf("%s exited before listening", argv[0])
	case <-time.After(20 * time.Second):
		stop(cmd)
		return nil, fmt.Errorf("%s did not listen within 20s", argv[0])
	}
}

// startRedis starts a redis-server without persistence pinned to CPU 1 and
// waits until it answers.
func startRedis(port int) (*exec.Cmd, error) {
	cmd := exec.Command("taskset", "-c", "1", "redis-server", "--port", fmt.Sprint(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--protected-mode", "no")
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
			_, _ = c.Write([]byte("PING\r\n"))
			buf := make([]byte, 16)
			_ = c.SetReadDeadline(time.Now().Add(time.Second))
			n, _ := c.Read(buf)
			c.Close()
			if strings.HasPrefix(string(buf[:n]), "+PONG") {
				return cmd, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop(cmd)
	return nil, fmt.Errorf("redis-server on %d did not answer", port)
}

func runCluster(c *config, only string, m *meta) []*result.Result {
	scs := clusterProfile
	if only != "" {
		scs = slices.DeleteFunc(slices.Clone(scs), func(s clusterScenario) bool { return !slices.Contains(strings.Split(only, ","), s.name) })
	}
	var runs []*result.Result
	start := time.Now()
	for rep := 1; rep <= c.reps; rep++ {
		for si, sc := range scs {
			for _, name := range rotate(sc.servers, rep+si) {
				la := loadavg()
				m.LoadMax = max(m.LoadMax, la)
				r := runClusterOne(c, sc, name, rep)
				r.Notes = append(r.Notes, fmt.Sprintf("load average %.2f at start", la))
				runs = append(runs, r)
				_ = r.Write(filepath.Join(c.results, fmt.Sprintf("%s-%s-r%d.json", sc.name, name, rep)))
				time.Sleep(time.Second)
			}
		}
	}
	m.LoadEnd = loadavg()
	m.Duration = time.Since(start).Round(time.Second).String()
	return runs
}

func runClusterOne(c *config, sc clusterScenario, name string, rep int) *result.Result {
	fail := func(err error) *result.Result {
		fmt.Fprintf(os.Stderr, "benchrun: %s/%s r%d: %v\n", sc.name, name, rep, err)
		return &result.Result{Server: name, Scenario: sc.name, Rep: rep, Error: err.Error()}
	}
	sutName, emitterCmd := name, ""
	if cmd, ok := emitters[name]; ok {
		sutName, emitterCmd = emitterTarget, cmd
		if !strings.HasPrefix(cmd, "node ") {
			emitterCmd = filepath.Join(c.bin, cmd)
		}
	}
	s, ok := clusterSUTByName(sutName)
	if !ok {
		return fail(fmt.Errorf("unknown cluster %q", sutName))
	}
	rport, err := freePort()
	if err != nil {
		return fail(err)
	}
	redis, err := startRedis(rport)
	if err != nil {
		return fail(err)
	}
	defer stop(redis)
	redisURL := fmt.Sprintf("redis://127.0.0.1:%d", rport)
	var addrs, pids []string
	for range sc.nodes {
		port, err := freePort()
		if err != nil {
			return fail(err)
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		argv := append([]string{"taskset", "-c", "0"}, nodeArgv(c.bin, s, addr, redisURL, sc.recovery)...)
		node, err := startListening(argv)
		if err != nil {
			return fail(err)
		}
		defer stop(node)
		addrs = append(addrs, addr)
		pids = append(pids, fmt.Sprint(node.Process.Pid))
	}
	time.Sleep(500 * time.Millisecond)
	resFile := filepath.Join(c.results, fmt.Sprintf(".%s-%s-r%d.tmp.json", sc.name, name, rep))
	lgArgv := []string{"taskset", "-c", "1", filepath.Join(c.bin, "loadgen"), "-scenario", sc.loadgen,
		"-addrs", strings.Join(addrs, ","), "-pids", strings.Join(pids, ","),
		"-redis", fmt.Sprintf("127.0.0.1:%d", rport), "-redispid", fmt.Sprint(redis.Process.Pid),
		"-server", name, "-rep", fmt.Sprint(rep), "-out", resFile, "-samples", filepath.Join(c.results, "samples")}
	if emitterCmd != "" {
		lgArgv = append(lgArgv, "-emitter", emitterCmd)
	}
	if c.quick {
		lgArgv = append(lgArgv, "-quick")
	}
	fmt.Fprintf(os.Stderr, "benchrun: %s %s r%d (load %.2f)\n", sc.name, name, rep, loadavg())
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	lg := exec.CommandContext(ctx, lgArgv[0], lgArgv[1:]...)
	lg.Stderr = os.Stderr
	if err := lg.Run(); err != nil {
		return fail(fmt.Errorf("loadgen: %w", err))
	}
	r, err := result.Read(resFile)
	if err != nil {
		return fail(err)
	}
	os.Remove(resFile)
	r.Scenario = sc.name
	r.Notes = append(r.Notes, fmt.Sprintf("%d %s nodes (%s adapter) on CPU 0, Redis and load generator on CPU 1", sc.nodes, s.kind, s.adapter))
	return r
}

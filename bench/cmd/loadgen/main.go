// Command loadgen is the suite's load generator: one Go process that speaks
// Engine.IO 4 / Socket.IO 5 directly over WebSocket (a minimal RFC 6455
// client of its own, see wsconn.go) and HTTP long-polling (net/http), the
// same for every server under test.
//
// It runs one scenario against one server and writes a result.Result as
// JSON. Latency is measured from the intended send time (open-loop steps
// stamp the schedule, not the moment the write happened, so a server that
// falls behind is charged for the wait) and every sample is kept and
// written out; percentiles are computed from the exact samples.
//
// Given the server's pid it reads the server's CPU time and RSS from /proc
// at the edges of every point, and its own CPU time, so each point says
// whether the server or the load generator was the limit.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/gosio/gosio/bench/internal/procstat"
	"github.com/gosio/gosio/bench/internal/result"
)

type env struct {
	addr     string // host:port of the server
	pid      int    // server pid, 0 if unknown
	samples  string // directory for sample files, "" to skip
	res      *result.Result
	ctx      context.Context
	quick    bool
	size     int     // payload size of the profile-echo scenario
	burst    int     // broadcasts per round of the profile-bcast scenario
	recv     int     // receivers of the profile-bcast scenario
	rate     float64 // offered rate of the profile-echo-open scenario
	lastSrv  procstat.Sample
	lastSelf procstat.Sample
	lastT    time.Time
	lastCPUs []procstat.CPUTimes

	// cluster scenarios (cluster.go)
	addrs     []string // every node, addr is the first
	pids      []int    // their pids, pid is the first
	redisAddr string   // host:port of the cluster's Redis
	redisPid  int
	emitter   string // emitter command of the emitter scenario
	lastNodes []procstat.Sample
	lastRedis procstat.Sample
}

func (e *env) wsURL() string { return "ws://" + e.addr + "/socket.io/?EIO=4&transport=websocket" }
func (e *env) pollURL() string {
	return "http://" + e.addr + "/socket.io/?EIO=4&transport=polling"
}

// mark starts the CPU accounting of a point.
func (e *env) mark() {
	if len(e.pids) > 1 {
		e.markCluster()
	}
	if e.pid > 0 {
		e.lastSrv, _ = procstat.Read(e.pid)
	}
	e.lastSelf, _ = procstat.Read(os.Getpid())
	e.lastCPUs, _ = procstat.ReadCPUs()
	e.lastT = time.Now()
}

// disturbance adds what else ran on the machine since mark: the busy time
// of CPU 0 (the server's, pinned) that is not the server's, of CPU 1 (the
// load generator's) that is not the load generator's, and the time the
// hypervisor stole from both, each as a fraction of one core. A run with
// other work on its cores measures that work too; benchrun flags it.
func (e *env) disturbance(m map[string]float64, wall float64) {
	now, err := procstat.ReadCPUs()
	if err != nil || len(now) < 2 || len(e.lastCPUs) < 2 || wall <= 0 {
		return
	}
	d := func(i int) (busy, steal float64) {
		return (now[i].Busy - e.lastCPUs[i].Busy) / wall, (now[i].Steal - e.lastCPUs[i].Steal) / wall
	}
	b0, s0 := d(0)
	b1, s1 := d(1)
	m["cpu0_other"] = max(0, b0-m["server_cpu"])
	m["cpu1_other"] = max(0, b1-m["loadgen_cpu"])
	m["steal"] = s0 + s1
}

// cpu adds the server's and the load generator's CPU use since mark to m,
// as a fraction of one core, and returns the server's CPU seconds.
func (e *env) cpu(m map[string]float64) float64 {
	wall := time.Since(e.lastT).Seconds()
	self, _ := procstat.Read(os.Getpid())
	m["loadgen_cpu"] = (self.CPUSeconds - e.lastSelf.CPUSeconds) / wall
	if len(e.pids) > 1 {
		cs := e.cpuCluster(m, wall)
		e.disturbance(m, wall)
		return cs
	}
	defer e.disturbance(m, wall)
	if e.pid <= 0 {
		return 0
	}
	s, err := procstat.Read(e.pid)
	if err != nil {
		return 0
	}
	cs := s.CPUSeconds - e.lastSrv.CPUSeconds
	m["server_cpu"] = cs / wall
	m["rss_mib"] = float64(s.RSSBytes) / (1 << 20)
	return cs
}

// cpuNow returns the CPU seconds used so far by the load generator and
// the server (0 without -pid), and the time it read them.
func (e *env) cpuNow() (self, srv float64, at time.Time) {
	st, _ := procstat.Read(os.Getpid())
	if e.pid > 0 {
		ss, _ := procstat.Read(e.pid)
		srv = ss.CPUSeconds
	}
	return st.CPUSeconds, srv, time.Now()
}

// point records a point; samples (microseconds) feed the latency metrics
// and are written out.
func (e *env) point(name string, params, m map[string]float64, samples []uint32, pass *bool, notes ...string) {
	p := result.Point{Name: name, Params: params, M: m, Pass: pass, Notes: notes}
	// Samples are written in arrival order (a time series), then sorted.
	if e.samples != "" && len(samples) > 0 {
		f := filepath.Join(e.samples, fmt.Sprintf("%s-%s-r%d-%s.u32", e.res.Scenario, e.res.Server, e.res.Rep, sanitize(name)))
		if err := result.WriteSamples(f, samples); err == nil {
			p.Samples = filepath.Base(f)
		}
	}
	if samples != nil {
		result.LatencyMetrics(samples, m)
	}
	if lg, sc := m["loadgen_cpu"], m["server_cpu"]; lg > 0.9 && sc < 0.9 && sc > 0 {
		p.Notes = append(p.Notes, "load-generator bound")
	}
	e.res.Points = append(e.res.Points, p)
	logf("%s: %s", name, fmtMetrics(m))
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == ' ' || r == '=' || r == ',' {
			return '_'
		}
		return r
	}, s)
}

func fmtMetrics(m map[string]float64) string {
	var b strings.Builder
	for _, k := range []string{"rate", "acks_per_s", "deliveries_per_s", "handshakes_per_s", "kib_per_conn", "delivered", "p50_ms", "p99_ms", "max_ms", "server_cpu", "loadgen_cpu", "rss_mib"} {
		if v, ok := m[k]; ok {
			fmt.Fprintf(&b, "%s=%.4g ", k, v)
		}
	}
	return b.String()
}

// stats reads the server's /stats.
func (e *env) stats() map[string]any {
	resp, err := http.Get("http://" + e.addr + "/stats")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return m
}

func (e *env) statNum(key string) float64 {
	v, _ := e.stats()[key].(float64)
	return v
}

// gc asks the server to collect garbage and return memory to the OS, twice
// (V8 needs a second pass to release what the first freed), then settles.
func (e *env) gc() {
	for range 2 {
		if resp, err := http.Get("http://" + e.addr + "/gc"); err == nil {
			resp.Body.Close()
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "loadgen: "+format+"\n", args...)
}

func boolp(b bool) *bool { return &b }

func main() {
	var e env
	var scenario, server, out string
	var rep int
	flag.StringVar(&e.addr, "addr", "127.0.0.1:3000", "server address")
	flag.IntVar(&e.pid, "pid", 0, "server pid, for CPU and RSS from /proc")
	flag.StringVar(&e.samples, "samples", "", "directory for exact latency samples")
	flag.StringVar(&scenario, "scenario", "echo", "scenario: "+strings.Join(scenarioNames(), ", "))
	flag.StringVar(&server, "server", "unknown", "server name, recorded in the result")
	flag.StringVar(&out, "out", "", "result file (default stdout)")
	flag.IntVar(&rep, "rep", 1, "repetition number, recorded in the result")
	flag.BoolVar(&e.quick, "quick", false, "smaller sizes and shorter steps (smoke profile)")
	flag.IntVar(&e.size, "size", 32, "payload size in bytes of the profile-echo scenario")
	flag.IntVar(&e.recv, "receivers", 10000, "clients of the profile-bcast scenario (bcast1k has 1000, with bursts of 600)")
	flag.IntVar(&e.burst, "burst", 20, "broadcasts sent back to back per round of the profile-bcast scenario (the saturated point of bcast10k sends 60)")
	flag.Float64Var(&e.rate, "rate", 40000, "offered echoes per second of the profile-echo-open scenario")
	flag.DurationVar(&minSleep, "minsleep", minSleep, "shortest wait of the open-loop sender")
	cpuProfile := flag.String("cpuprofile", "", "write the load generator's own CPU profile to this file")
	addrs := flag.String("addrs", "", "cluster scenarios: comma-separated node addresses (overrides -addr)")
	pids := flag.String("pids", "", "cluster scenarios: comma-separated node pids, in -addrs order (overrides -pid)")
	flag.StringVar(&e.redisAddr, "redis", "", "cluster scenarios: host:port of the cluster's Redis")
	flag.IntVar(&e.redisPid, "redispid", 0, "cluster scenarios: Redis pid, for its CPU from /proc")
	flag.StringVar(&e.emitter, "emitter", "", "emitter scenario: the emitter command (space-separated)")
	flag.Parse()
	if err := e.parseCluster(*addrs, *pids); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}

	run, ok := scenarios[scenario]
	if !ok {
		fmt.Fprintf(os.Stderr, "unknown scenario %q\n", scenario)
		os.Exit(2)
	}
	e.res = &result.Result{Server: server, Scenario: scenario, Rep: rep}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	e.ctx = ctx
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			logf("cpuprofile: %v", err)
			os.Exit(1)
		}
	}
	err := run(&e)
	if *cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		e.res.Error = err.Error()
		logf("%s against %s: %v", scenario, server, err)
	}
	if out == "" {
		b, _ := json.MarshalIndent(e.res, "", "  ")
		fmt.Println(string(b))
	} else if err := e.res.Write(out); err != nil {
		logf("%v", err)
		os.Exit(1)
	}
	os.Exit(0) // do not wait for thousands of connections to close
}

// Command benchrun is the orchestrator of the cross-server comparison: it
// starts each server under test as a fresh process per scenario, pinned to
// CPU 0, runs the load generator pinned to CPU 1 against it, repeats, and
// writes docs/benchmarks.md with per-scenario tables, the ratios against
// Node, zishang520 and the raw floor, and SVG plots.
//
//	benchrun -profile compare   # make bench-compare (about 40 minutes)
//	benchrun -profile smoke     # make bench-smoke (about 3 minutes), prints ratios vs raw
//	benchrun -report bench/results/<run>   # rewrite the report from stored results
//	benchrun -reproduce results/<a>,results/<b> -servers gosio,node   # do the ratios of two runs agree?
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gosio/gosio/bench/internal/result"
)

// A sut is a server under test.
type sut struct {
	name string
	argv func(bin, addr string) []string
}

var suts = []sut{
	{"gosio", func(bin, addr string) []string { return []string{filepath.Join(bin, "gosio-server"), "-addr", addr} }},
	{"node", func(_, addr string) []string {
		return []string{"node", "--expose-gc", "node/server.mjs", "-addr=" + addr}
	}},
	{"zishang520", func(bin, addr string) []string { return []string{filepath.Join(bin, "zishang-server"), "-addr", addr} }},
	{"raw", func(bin, addr string) []string { return []string{filepath.Join(bin, "raw-server"), "-addr", addr} }},
	{"floor", func(bin, addr string) []string { return []string{filepath.Join(bin, "floor-server"), "-addr", addr} }},
}

// A scenario is one loadgen scenario, with the servers it applies to.
type scenario struct {
	name     string
	unpinned bool     // run server and load generator on the whole machine
	skip     []string // servers it does not apply to, with the reason in the report
}

var profiles = map[string][]scenario{
	"compare": {
		{name: "idle"}, {name: "echo"}, {name: "bcast1k"}, {name: "bcast10k"}, {name: "rooms"},
		{name: "binary"}, {name: "slow", skip: []string{"raw", "floor"}}, {name: "fastread", skip: []string{"raw", "floor"}}, {name: "polling", skip: []string{"raw", "floor"}},
		{name: "bcast-machine", unpinned: true},
	},
	"smoke": {{name: "idle"}, {name: "echo"}, {name: "bcast1k"}},
	"soak":  {{name: "soak"}},
}

type config struct {
	profile string
	reps    int
	maxReps int
	servers []string
	bin     string
	results string
	doc     string
	svgDir  string
	quick   bool
	maxLoad float64
	before  string // earlier results directory, for a before/after table
}

func main() {
	var c config
	var servers, report, only string
	flag.StringVar(&c.profile, "profile", "compare", "compare, smoke, soak or cluster")
	flag.IntVar(&c.reps, "reps", 3, "repetitions of every scenario")
	flag.IntVar(&c.maxReps, "maxreps", 0, "repeat scenarios whose headline figures spread more than 15% up to this many repetitions (0: -reps)")
	flag.StringVar(&servers, "servers", "gosio,node,zishang520,raw", "servers to compare")
	flag.StringVar(&c.bin, "bin", "bin", "directory of the built Go binaries")
	flag.StringVar(&c.results, "results", "", "results directory (default results/<time>)")
	flag.StringVar(&c.doc, "doc", "", "markdown report to write (empty: print a summary only)")
	flag.StringVar(&c.svgDir, "svg", "", "directory for the SVG plots (default: beside the report)")
	flag.BoolVar(&c.quick, "quick", false, "pass -quick to the load generator (smaller sizes)")
	flag.Float64Var(&c.maxLoad, "maxload", 1.5, "wait (up to 5 min) for the 1-minute load average to fall below this before starting")
	flag.StringVar(&c.before, "before", "", "earlier results directory: add a before/after table of gosio's figures")
	flag.StringVar(&only, "only", "", "comma-separated scenarios of the profile to run (default all)")
	flag.StringVar(&report, "report", "", "only rewrite the report from this results directory")
	flag.Float64Var(&maxSteal, "maxsteal", maxSteal, "cores the hypervisor may steal during a point for it to count as calm: figures are then the medians of the calm runs when two or more are (0: every run counts)")
	var repro string
	flag.StringVar(&repro, "reproduce", "", "two results directories, comma-separated: print how far apart their ratios are")
	flag.Parse()
	c.servers = strings.Split(servers, ",")
	c.maxReps = max(c.maxReps, c.reps)
	if c.svgDir == "" && c.doc != "" {
		c.svgDir = strings.TrimSuffix(c.doc, ".md")
	}

	if repro != "" {
		if err := reproduce(strings.Split(repro, ","), c.servers); err != nil {
			fatal(err)
		}
		return
	}
	if report != "" {
		c.results = report
		runs, meta, err := load(report)
		if err != nil {
			fatal(err)
		}
		if meta.Profile == "cluster" {
			finishCluster(&c, runs, meta)
			return
		}
		finish(&c, runs, meta)
		return
	}
	if c.results == "" {
		c.results = filepath.Join("results", time.Now().Format("20060102-150405")+"-"+c.profile)
	}
	if err := os.MkdirAll(filepath.Join(c.results, "samples"), 0o755); err != nil {
		fatal(err)
	}
	meta := collectMeta(&c)
	_ = meta.write(filepath.Join(c.results, "meta.json"))
	waitQuiet(c.maxLoad)
	meta.LoadStart = loadavg()
	start := time.Now()
	var runs []*result.Result
	if c.profile == "cluster" {
		runs := runCluster(&c, only, meta)
		finishCluster(&c, runs, meta)
		return
	}
	scs := profiles[c.profile]
	if scs == nil {
		fatal(fmt.Errorf("unknown profile %q", c.profile))
	}
	if only != "" {
		scs = slices.DeleteFunc(slices.Clone(scs), func(s scenario) bool { return !slices.Contains(strings.Split(only, ","), s.name) })
	}
	port := 21000 + int(time.Now().Unix()%400)*20
	runRep := func(rep int, scs []scenario) {
		for si, sc := range scs {
			order := rotate(c.servers, rep+si)
			for _, name := range order {
				if slices.Contains(sc.skip, name) {
					continue
				}
				port++
				la := loadavg()
				meta.LoadMax = max(meta.LoadMax, la)
				r := runOne(&c, sutByName(name), sc, rep, port)
				r.Notes = append(r.Notes, fmt.Sprintf("load average %.2f at start", la))
				runs = append(runs, r)
				_ = r.Write(filepath.Join(c.results, fmt.Sprintf("%s-%s-r%d.json", sc.name, name, rep)))
				time.Sleep(time.Second)
			}
		}
	}
	for rep := 1; rep <= c.reps; rep++ {
		runRep(rep, scs)
	}
	// More repetitions, up to -maxreps, of the scenarios whose headline
	// figures are still spread wider than maxSpread.
	for rep := c.reps + 1; rep <= c.maxReps; rep++ {
		unstable := unstableScenarios(aggregate(runs), scs, c.servers)
		if len(unstable) == 0 {
			break
		}
		for _, sc := range unstable {
			if meta.ExtraReps == nil {
				meta.ExtraReps = map[string]int{}
			}
			meta.ExtraReps[sc.name]++
			fmt.Fprintf(os.Stderr, "benchrun: %s spread wider than %.0f%%: repetition %d\n", sc.name, 100*maxSpread, rep)
		}
		runRep(rep, unstable)
	}
	meta.LoadEnd = loadavg()
	meta.Duration = time.Since(start).Round(time.Second).String()
	_ = meta.write(filepath.Join(c.results, "meta.json"))
	finish(&c, runs, meta)
}

func finish(c *config, runs []*result.Result, meta *meta) {
	a := aggregate(runs)
	printRatios(a, c.profile)
	if c.doc != "" {
		if err := writeReport(c, a, meta); err != nil {
			fatal(err)
		}
		fmt.Printf("wrote %s\n", c.doc)
	}
}

func sutByName(name string) sut {
	for _, s := range suts {
		if s.name == name {
			return s
		}
	}
	fatal(fmt.Errorf("unknown server %q", name))
	return sut{}
}

// rotate changes the order of the servers between scenarios and
// repetitions, so that no server always runs first after a quiet period.
func rotate(s []string, k int) []string {
	k %= len(s)
	return append(slices.Clone(s[k:]), s[:k]...)
}

// runOne starts the server, waits for it to listen, runs the load
// generator and stops the server.
func runOne(c *config, s sut, sc scenario, rep, port int) *result.Result {
	fail := func(err error) *result.Result {
		fmt.Fprintf(os.Stderr, "benchrun: %s/%s r%d: %v\n", sc.name, s.name, rep, err)
		return &result.Result{Server: s.name, Scenario: sc.name, Rep: rep, Error: err.Error()}
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	argv := s.argv(c.bin, addr)
	lgArgv := []string{filepath.Join(c.bin, "loadgen")}
	if !sc.unpinned {
		argv = append([]string{"taskset", "-c", "0"}, argv...)
		lgArgv = append([]string{"taskset", "-c", "1"}, lgArgv...)
	}
	srv := exec.Command(argv[0], argv[1:]...)
	srv.Stderr = os.Stderr
	out, err := srv.StdoutPipe()
	if err != nil {
		return fail(err)
	}
	if err := srv.Start(); err != nil {
		return fail(err)
	}
	defer stop(srv)
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
		if !ok {
			return fail(fmt.Errorf("server exited before listening"))
		}
	case <-time.After(15 * time.Second):
		return fail(fmt.Errorf("server did not listen within 15s"))
	}
	time.Sleep(300 * time.Millisecond)
	resFile := filepath.Join(c.results, fmt.Sprintf(".%s-%s-r%d.tmp.json", sc.name, s.name, rep))
	lgArgv = append(lgArgv, "-addr", addr, "-pid", fmt.Sprint(srv.Process.Pid), "-scenario", sc.name,
		"-server", s.name, "-rep", fmt.Sprint(rep), "-out", resFile, "-samples", filepath.Join(c.results, "samples"))
	if c.quick {
		lgArgv = append(lgArgv, "-quick")
	}
	fmt.Fprintf(os.Stderr, "benchrun: %s %s r%d (load %.2f)\n", sc.name, s.name, rep, loadavg())
	limit := 6 * time.Minute
	if sc.name == "soak" {
		limit = 20 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
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
	if sc.unpinned {
		r.Notes = append(r.Notes, "unpinned: server and load generator share both cores")
	}
	return r
}

func stop(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func loadavg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	var l float64
	fmt.Sscan(string(b), &l)
	return l
}

// waitQuiet waits up to 5 minutes for the load average to drop below max.
func waitQuiet(maxLoad float64) {
	deadline := time.Now().Add(5 * time.Minute)
	for l := loadavg(); l >= maxLoad && time.Now().Before(deadline); l = loadavg() {
		fmt.Fprintf(os.Stderr, "benchrun: load average %.2f >= %.2f, waiting\n", l, maxLoad)
		time.Sleep(15 * time.Second)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "benchrun:", err)
	os.Exit(1)
}

package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// A metric row of a scenario table.
type col struct {
	metric, label string
	higher        bool // higher is better
}

// A section is the table (and plot) of one scenario.
type section struct {
	scenario, title, about string
	points                 func(name string) bool // which points get rows (nil: all)
	cols                   []col
}

var sections = []section{
	{"idle", "S1 + S2. Idle memory per connection, connect storm",
		"WebSocket-only clients connected at concurrency 200 up to each size; after `/gc` and a settle, KiB/conn = (RSS_N − RSS_0)/N from `/proc/<pid>/status`. The storm row is the ramp to 10k: handshakes/s (WS upgrade + `0` open + `40` → `40{sid}`) and per-handshake latency. `hold` is the CPU used by 19k idle connections over a few seconds.",
		nil, []col{{"kib_per_conn", "KiB/conn", false}, {"peak_rss_mib", "peak RSS MiB", false}, {"goroutines_per_conn", "goroutines/conn", false}, {"handshakes_per_s", "handshakes/s", true}, {"p99_ms", "handshake p99 ms", false}, {"server_cpu", "server CPU (cores)", false}, {"lost", "connections lost", false}}},
	{"echo", "S3. Ack echo",
		"1,000 connected clients. Closed loop: K workers, each with one request in flight (`42<id>[\"echo\",{...}]` → `43<id>[{...}]`), a 3 s warm-up at K=100 when the server has just started (thrown away: V8 compiles the hot path in its first seconds), then per point 1 s warm-up and 4 s measured (2 s before the issue-19 method). Open loop: a fixed offered rate of 32-byte echoes, latency from the intended send time, for 5 s a step or longer at low rates so that every step has at least 20,000 samples (10 s at 2,000/s). Steps last 5 s (2 s in the runs published before this one) because a 2 s step often misses a periodic pause of the server (V8's mark-compact every few seconds; Go's GC cycle is ~0.6 s here and is always caught), which made Node's p99 at 40,000/s range from 2.3 to 35.6 ms between runs; the ladder stops at the first step that loses an ack or has p99 > 250 ms.",
		nil, []col{{"acks_per_s", "acks/s", true}, {"p50_ms", "p50 ms", false}, {"p99_ms", "p99 ms", false}, {"delivered", "delivered", true}, {"server_cpu", "server CPU", false}, {"cpu_s_per_1k", "CPU-s per 1k acks", false}, {"cpu0_other", "other work on the server's core (cores)", false}, {"steal", "CPU stolen by the hypervisor (cores)", false}}},
	{"bcast1k", "S4a. Broadcast fan-out, 1,000 receivers",
		"`bcast` → `io.emit(\"b\", data)` of a ~100-byte frame. Open-loop steps of 2 s at fixed broadcasts/s; a step passes when every delivery arrives within 2 s of the step's end and p99 ≤ 250 ms; the ladder stops at the first failure. *max sustainable* is the last passing step × receivers. *saturated* sends bursts back to back (600k deliveries each; 200k before the issue-19 method, a burst that lasted 0.2 s to 1k receivers), divides each burst's deliveries by the time from its first send to its last delivery, and reports the median of 5 bursts (one burst before 2026-12-07).",
		nil, []col{{"deliveries_per_s", "deliveries/s", true}, {"p50_ms", "p50 ms", false}, {"p99_ms", "p99 ms", false}, {"delivered", "delivered", true}, {"server_cpu", "server CPU", false}, {"cpu_s_per_1M", "CPU-s per 1M deliveries", false}, {"p99_ms_at10", "p99 ms at 10/s", false}, {"cpu0_other", "other work on the server's core (cores)", false}, {"steal", "CPU stolen by the hypervisor (cores)", false}}},
	{"bcast10k", "S4b. Broadcast fan-out, 10,000 receivers", "As S4a with 10,000 receivers.",
		nil, []col{{"deliveries_per_s", "deliveries/s", true}, {"p50_ms", "p50 ms", false}, {"p99_ms", "p99 ms", false}, {"delivered", "delivered", true}, {"server_cpu", "server CPU", false}, {"cpu_s_per_1M", "CPU-s per 1M deliveries", false}, {"p99_ms_at10", "p99 ms at 10/s", false}, {"cpu0_other", "other work on the server's core (cores)", false}, {"steal", "CPU stolen by the hypervisor (cores)", false}}},
	{"bcast-machine", "S4c. Broadcast fan-out, whole machine (unpinned)",
		"The saturated burst of S4b (10,000 receivers) with nothing pinned: each server as its users run it by default (Go: GOMAXPROCS = 2; Node: one process), sharing both cores with the load generator.",
		nil, []col{{"deliveries_per_s", "deliveries/s", true}, {"p99_ms", "p99 ms", false}, {"server_cpu", "server CPU (cores)", false}, {"loadgen_cpu", "load generator CPU", false}}},
	{"rooms", "S5. Room fan-out",
		"10,000 clients in 1,000 rooms of 10; each room's first member sends `room` → `io.to(room).emit(\"b\", data)` at 1, 5, 10, 20 per room per second (10k–200k deliveries/s), same pass rule as S4.",
		nil, []col{{"offered_deliveries_per_s", "offered deliveries/s", true}, {"deliveries_per_s", "deliveries/s", true}, {"p50_ms", "p50 ms", false}, {"p99_ms", "p99 ms", false}, {"delivered", "delivered", true}, {"server_cpu", "server CPU", false}}},
	{"binary", "S6. Binary echo",
		"100 clients, K = 100 closed loop: `451-<id>[\"echo\",{t},{placeholder}]` + one binary attachment, acknowledged with the same attachment (`461-…` + binary frame).",
		nil, []col{{"acks_per_s", "acks/s", true}, {"mb_per_s", "MB/s (one way)", true}, {"p50_ms", "p50 ms", false}, {"p99_ms", "p99 ms", false}, {"errors", "errors", false}, {"server_cpu", "server CPU", false}}},
	{"slow", "S7. Slow consumer isolation",
		"200 receivers, 100 broadcasts/s of 4 KiB (400 KiB/s per client). Baseline 4 s with everyone reading; then 10 receivers stop reading for 20 s (their TCP windows fill). Healthy receivers' p99 is compared with the baseline; the server's RSS is sampled every second. Deviations from the design (1,000 receivers, 1 KiB, 60 s), so that the effect shows within the time budget: the slow clients dial with a 16 KiB SO_RCVBUF (no receive-window autotuning; loopback sockets otherwise absorb tens of MiB before the server sees back-pressure), payloads are 4 KiB, and 200 receivers keep the baseline well below one core's saturation for every server. *all slow dropped after* is when the server's connection count fell by the 10 slow clients (−1: not within the phase). The server's kernel send buffers are not in RSS. The raw floor has no slow-client policy (a blocked write blocks its fan-out) and is not run.",
		nil, []col{{"p99_ms", "healthy p99 ms", false}, {"p99_vs_baseline", "p99 / baseline", false}, {"delivered", "healthy delivered", true}, {"rss_slope_mib_per_min", "RSS slope MiB/min", false}, {"rss_max_mib", "max RSS MiB", false}, {"slow_disconnect_all_s", "all slow dropped after s", false}}},
	{"fastread", "S7, the other half: readers that keep up",
		"10 receivers that read as fast as they can; one of them sends a burst of 10 KB broadcasts back to back, unpaced (`bcast` → `io.emit(\"b\", data)`), 200 and then 2,000 of them (2 MB and 20 MB per receiver). A slow-consumer policy must cut the clients of S7 that stop reading and none of these (issue 17 item 2: before its fix gosio delivered 15 of 200 and 36 of 2,000 to such a client, then closed it). *delivered* is the fraction of the burst × receivers that arrived, *time to deliver* runs from the first send to the last delivery, *send time* is how long the sender's writes took (TCP back-pressure from the server), *disconnected* counts the receivers the server dropped. A point passes when everything arrived and nobody was dropped.",
		nil, []col{{"delivered", "delivered", true}, {"deliver_s", "time to deliver s", false}, {"mb_per_s", "MB/s delivered", true}, {"send_s", "send time s", false}, {"disconnected", "disconnected", false}, {"p99_ms", "delivery p99 ms", false}, {"server_cpu", "server CPU", false}}},
	{"polling", "S8. Polling clients",
		"1,000 clients on HTTP long-polling only. Ack echo K = 100 closed loop for 4 s, then one broadcast per second for 5 s to all of them. The raw floor has no polling.",
		nil, []col{{"acks_per_s", "acks/s", true}, {"p50_ms", "p50 ms", false}, {"p99_ms", "p99 ms", false}, {"http_req_per_s", "HTTP requests/s", true}, {"delivered", "delivered", true}, {"errors", "errors", false}, {"server_cpu", "server CPU", false}}},
	{"soak", "S10. Soak", "gosio only, run separately (`./bin/benchrun -profile soak -reps 1 -servers gosio`, 10 minutes) and merged into this report: 5,000 clients, 10 broadcasts/s + 100 acks/s, one point per minute after `/gc`. Pass: RSS and goroutines flat (design: RSS slope < 1 MiB/min after 5 min).",
		nil, []col{{"rss_mib", "RSS MiB", false}, {"goroutines", "goroutines", false}, {"p99_ms", "p99 ms", false}, {"conns", "conns", true}}},
}

// subSections are the scenarios whose section is a part of the one before
// it: a ### heading inside it.
var subSections = map[string]bool{"fastread": true}

// A target of issue 6, checked from the aggregated figures.
type target struct {
	label, scenario, point, metric, other string
	op                                    string // ">=" or "<="
	want                                  float64
}

var targets = []target{
	{"Broadcast deliveries/s, one core, 10k receivers (saturated)", "bcast10k", "saturated", "deliveries_per_s", "node", ">=", 1.0},
	{"Broadcast deliveries/s, one core, 10k receivers (saturated)", "bcast10k", "saturated", "deliveries_per_s", "zishang520", ">=", 3.0},
	{"Broadcast deliveries/s, one core, 10k receivers (saturated)", "bcast10k", "saturated", "deliveries_per_s", "raw", ">=", 0.9},
	{"Broadcast deliveries/s, one core, 1k receivers (saturated)", "bcast1k", "saturated", "deliveries_per_s", "node", ">=", 1.0},
	{"Broadcast deliveries/s, one core, 1k receivers (saturated)", "bcast1k", "saturated", "deliveries_per_s", "zishang520", ">=", 3.0},
	{"Broadcast deliveries/s, one core, 1k receivers (saturated)", "bcast1k", "saturated", "deliveries_per_s", "raw", ">=", 0.9},
	{"Broadcast max sustainable deliveries/s, 10k receivers (stepped)", "bcast10k", "max sustainable", "deliveries_per_s", "node", ">=", 1.0},
	{"Broadcast deliveries/s, whole machine, 10k receivers", "bcast-machine", "saturated", "deliveries_per_s", "node", ">=", 1.8},
	{"Ack echo acks/s, one core, K=100", "echo", "closed K=100 size=32", "acks_per_s", "node", ">=", 1.5},
	{"Ack echo acks/s, one core, K=1000", "echo", "closed K=1000 size=32", "acks_per_s", "node", ">=", 1.5},
	{"Idle memory KiB/conn at 10k", "idle", "N=10000", "kib_per_conn", "raw", "<=", 1.15},
	{"Idle memory KiB/conn at 19k", "idle", "N=19000", "kib_per_conn", "raw", "<=", 1.15},
}

func check(op string, v, want float64) bool {
	if op == ">=" {
		return v >= want
	}
	return v <= want
}

// targetRows returns the targets as table rows.
func targetRows(a *agg) [][]string {
	var rows [][]string
	for _, t := range targets {
		x, y := a.get(t.scenario, "gosio", t.point, t.metric), a.get(t.scenario, t.other, t.point, t.metric)
		r, overlap, ok := ratio(x, y)
		verdict := "not measured"
		if !ok && x.ok() && y.ok() && y.med == 0 && x.med > 0 && t.op == ">=" {
			verdict = "**met** (" + t.other + " failed the first step)"
		}
		if !ok && x.ok() && y.ok() && y.med == 0 && x.med == 0 {
			verdict = "not judged: both failed the first step in most runs"
		}
		if ok {
			verdict = map[bool]string{true: "**met**", false: "**missed**"}[check(t.op, r, t.want)]
			if overlap {
				verdict += " (ranges overlap)"
			}
		}
		rows = append(rows, []string{t.label, "gosio/" + t.other, fmtStat(x), fmtStat(y), fmtRatio(x, y), t.op + " " + fmt.Sprint(t.want), verdict})
	}
	// Ack p99 at the same offered load: the worst gosio/node ratio over the
	// open-loop steps that both passed. A step where the load generator's
	// core was saturated measures the load generator's queueing, not the
	// server's: it is shown in S3 but not judged here.
	worst, step, worstOverlap := 0.0, "", false
	var unjudged []string
	for _, p := range a.points["echo"] {
		if !strings.HasPrefix(p, "open") || !passedAll(a, "echo", "node", p) || !passedAll(a, "echo", "gosio", p) {
			continue
		}
		if lgBound(a, "echo", "gosio", p) || lgBound(a, "echo", "node", p) {
			unjudged = append(unjudged, strings.TrimPrefix(p, "open "))
			continue
		}
		if r, overlap, ok := ratio(a.get("echo", "gosio", p, "p99_ms"), a.get("echo", "node", p, "p99_ms")); ok && r > worst {
			worst, step, worstOverlap = r, p, overlap
		}
	}
	if step != "" {
		verdict := map[bool]string{true: "**met**", false: "**missed**"}[worst <= 1]
		if worstOverlap {
			verdict += " (ranges overlap: no difference)"
		}
		label := "Ack echo p99 at the same offered load (worst step both pass: " + step
		if len(unjudged) > 0 {
			label += "; not judged, load-generator bound: " + strings.Join(unjudged, ", ")
		}
		label += ")"
		rows = append(rows, []string{label, "gosio/node",
			fmtStat(a.get("echo", "gosio", step, "p99_ms")) + " ms", fmtStat(a.get("echo", "node", step, "p99_ms")) + " ms", fmt.Sprintf("%.2f", worst), "<= 1", verdict})
	}
	// Slow consumers: absolute, gosio only.
	if s := a.get("slow", "gosio", "slow phase", "p99_vs_baseline"); s.ok() {
		rows = append(rows, []string{"Slow consumers: healthy p99 / baseline", "gosio", fmtStat(s), "", "", "<= 2", map[bool]string{true: "**met**", false: "**missed**"}[s.med <= 2]})
		if g := a.get("slow", "gosio", "slow phase", "rss_slope_mib_per_min"); g.ok() {
			rows = append(rows, []string{"Slow consumers: RSS slope while slow clients stall (MiB/min)", "gosio", fmtStat(g), fmtStat(a.get("slow", "node", "slow phase", "rss_slope_mib_per_min")) + " (node)", "", "bounded", "see S7"})
		}
	}
	return rows
}

// lgBound reports whether a point is load-generator bound: the load
// generator used 90% or more of its core while the server used less
// (medians), so the figure says more about the load generator than about
// the server.
func lgBound(a *agg, scenario, server, point string) bool {
	sc, lg := a.get(scenario, server, point, "server_cpu"), a.get(scenario, server, point, "loadgen_cpu")
	return sc.ok() && lg.ok() && lg.med >= 0.9 && sc.med < 0.9
}

func passedAll(a *agg, scenario, server, point string) bool {
	pc, ok := a.passes[key(scenario, server, point)]
	return ok && pc[0] == pc[1] && pc[1] > 0
}

func mdTable(b *strings.Builder, head []string, rows [][]string) {
	fmt.Fprintf(b, "| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat("---|", len(head)))
	for _, r := range rows {
		fmt.Fprintf(b, "| %s |\n", strings.Join(r, " | "))
	}
	b.WriteString("\n")
}

// serversOf returns the servers with results for scenario, gosio first.
func serversOf(a *agg, scenario string, all []string) []string {
	var out []string
	for _, s := range all {
		if a.reps[key(scenario, s)] > 0 {
			out = append(out, s)
		}
	}
	return out
}

func scenarioTable(b *strings.Builder, a *agg, sec section, servers []string) {
	head := []string{"point", "metric", "better"}
	head = append(head, servers...)
	var others []string
	for _, s := range servers {
		if s != "gosio" {
			others = append(others, s)
			head = append(head, "gosio/"+s)
		}
	}
	var rows [][]string
	for _, p := range a.points[sec.scenario] {
		for _, c := range sec.cols {
			any := false
			row := []string{p, c.label, map[bool]string{true: "↑", false: "↓"}[c.higher]}
			for _, s := range servers {
				st := a.get(sec.scenario, s, p, c.metric)
				any = any || st.ok()
				cell := fmtStat(st)
				if pc, ok := a.passes[key(sec.scenario, s, p)]; ok && c == sec.cols[0] || ok && c.metric == "p99_ms" {
					if pc[0] < pc[1] {
						cell += fmt.Sprintf(" ✗%d/%d", pc[1]-pc[0], pc[1])
					}
				}
				if c == sec.cols[0] && st.ok() && lgBound(a, sec.scenario, s, p) {
					cell += " (LG-bound)"
				}
				if c == sec.cols[0] && st.ok() {
					cell += a.calmNote(sec.scenario, s, p, c.metric)
				}
				row = append(row, cell)
			}
			if !any {
				continue
			}
			for _, o := range others {
				if c.metric == "server_cpu" || c.metric == "loadgen_cpu" || c.metric == "errors" || c.metric == "lost" || c.metric == "disconnected" || c.metric == "cpu0_other" || c.metric == "steal" {
					row = append(row, "")
					continue
				}
				row = append(row, fmtRatio(a.get(sec.scenario, "gosio", p, c.metric), a.get(sec.scenario, o, p, c.metric)))
			}
			rows = append(rows, row)
		}
	}
	mdTable(b, head, rows)
}

func writeReport(c *config, a *agg, m *meta) error {
	if err := os.MkdirAll(c.svgDir, 0o755); err != nil {
		return err
	}
	plots := writePlots(c, a, m.Servers)
	var b strings.Builder
	b.WriteString("# Benchmarks: gosio against Node socket.io, zishang520/socket.io and the raw WebSocket floor\n\n")
	b.WriteString("<!-- Generated by bench/cmd/benchrun; do not edit by hand. -->\n\n")
	fmt.Fprintf(&b, "Run of %s, profile `%s`, %d repetition(s) of every scenario, %s wall-clock. Command:\n\n", m.Date, m.Profile, m.Reps, m.Duration)
	cmd := m.Command
	if cmd == "" {
		cmd = "./bin/benchrun -profile compare -doc ../docs/benchmarks.md"
	}
	fmt.Fprintf(&b, "```sh\ncd bench && go build -o bin/ ./cmd/... && %s\n```\n\n", cmd)
	b.WriteString("(`make bench-compare` runs the full comparison with these settings.)\n\n")
	fmt.Fprintf(&b, "Every figure is the **median of %d runs with the min–max range** in parentheses; a ratio marked ≈ has ranges that straddle 1.0 (no difference); a ratio marked ⚠N%% rests on a figure whose min–max range is N%% of its median, more than 15%%: an unstable pair, not yet a result. Ratios are gosio ÷ other, computed only from this run. Raw results (JSON per run, exact latency samples as little-endian uint32 microseconds) are in `bench/%s` on the machine that ran it.\n\n", m.Reps, c.results)

	b.WriteString("## Machine and versions\n\n")
	rows := [][]string{
		{"CPU", fmt.Sprintf("%s, %d cores", m.CPU, m.Cores)}, {"memory", m.Memory}, {"kernel", m.Kernel},
		{"open files per process", m.NoFile + " (hard limit; one server holds at most ~19.9k sockets)"},
		{"load average", fmt.Sprintf("%.2f at start, %.2f highest before a run, %.2f at end (other jobs shared the machine)", m.LoadStart, m.LoadMax, m.LoadEnd)},
		{"gosio", m.GitSHA},
	}
	for _, k := range sortedKeys(m.Versions) {
		rows = append(rows, []string{k, m.Versions[k]})
	}
	mdTable(&b, []string{"", ""}, rows)

	b.WriteString(methodText)

	b.WriteString("## Targets of issue 6\n\n")
	mdTable(&b, []string{"target", "pair", "gosio", "other", "ratio", "want", "verdict"}, targetRows(a))

	if c.before != "" {
		if runs, bm, err := load(c.before); err == nil {
			writeBeforeAfter(&b, aggregate(runs), a, bm, m)
		}
	}

	for _, sec := range sections {
		servers := serversOf(a, sec.scenario, m.Servers)
		if len(servers) == 0 {
			continue
		}
		level := "##"
		if subSections[sec.scenario] {
			level = "###"
		}
		fmt.Fprintf(&b, "%s %s\n\n%s\n\n", level, sec.title, sec.about)
		scenarioTable(&b, a, sec, servers)
		for _, p := range plots[sec.scenario] {
			fmt.Fprintf(&b, "![%s](%s)\n\n", p, svgRel(c, p))
		}
		var lim []string
		for _, s := range servers {
			k := key(sec.scenario, s)
			for _, e := range a.errs[k] {
				lim = append(lim, fmt.Sprintf("- %s: error: %s", s, e))
			}
			for _, n := range a.notes[k] {
				lim = append(lim, fmt.Sprintf("- %s: %s", s, n))
			}
		}
		if len(lim) > 0 {
			b.WriteString("Notes from the runs:\n\n" + strings.Join(lim, "\n") + "\n\n")
		}
	}
	if p := plots["throughput"]; len(p) > 0 {
		b.WriteString("## Throughput overview\n\n")
		for _, f := range p {
			fmt.Fprintf(&b, "![%s](%s)\n\n", f, svgRel(c, f))
		}
	}
	b.WriteString(limitsText)
	limitsTable(&b, a, m.Servers)
	return writeKeepingCluster(c.doc, b.String())
}

func sortedKeys(m map[string]string) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	slices.Sort(k)
	return k
}

// writePlots writes the SVGs and returns their file names per scenario.
func writePlots(c *config, a *agg, servers []string) map[string][]string {
	out := map[string][]string{}
	add := func(sc, name string, err error) {
		if err == nil {
			if _, e := os.Stat(filepath.Join(c.svgDir, name)); e == nil {
				out[sc] = append(out[sc], name)
			}
		}
	}
	ladder := func(sc, prefix, xmetric, title, xlabel string) {
		lc := &lineChart{title: title, xlabel: xlabel, ylabel: "p99 latency (ms, log)", logX: true, logY: true}
		for _, s := range servers {
			var se series
			se.name = s
			for _, p := range a.points[sc] {
				if !strings.HasPrefix(p, prefix) {
					continue
				}
				x, y := a.get(sc, s, p, xmetric), a.get(sc, s, p, "p99_ms")
				if !x.ok() || !y.ok() {
					continue
				}
				se.x, se.y = append(se.x, x.med), append(se.y, y.med)
				se.fail = append(se.fail, !passedAll(a, sc, s, p))
			}
			if len(se.x) > 0 {
				lc.series = append(lc.series, se)
			}
		}
		name := sc + "-p99.svg"
		add(sc, name, lc.write(filepath.Join(c.svgDir, name)))
	}
	ladder("echo", "open", "rate", "Ack echo: p99 against offered load (open loop, 1 core)", "offered acks/s (log)")
	ladder("bcast1k", "rate=", "offered_deliveries_per_s", "Broadcast to 1k: p99 against offered load (1 core)", "offered deliveries/s (log)")
	ladder("bcast10k", "rate=", "offered_deliveries_per_s", "Broadcast to 10k: p99 against offered load (1 core)", "offered deliveries/s (log)")
	ladder("rooms", "rate=", "offered_deliveries_per_s", "Rooms of 10: p99 against offered load (1 core)", "offered deliveries/s (log)")

	// Idle RSS against connections.
	lc := &lineChart{title: "Idle memory: RSS against connections (after GC)", xlabel: "connections", ylabel: "RSS (MiB)"}
	for _, s := range servers {
		se := series{name: s}
		for _, p := range a.points["idle"] {
			x, y := a.get("idle", s, p, "conns"), a.get("idle", s, p, "rss_mib")
			if strings.HasPrefix(p, "N=") && x.ok() && y.ok() {
				se.x, se.y = append(se.x, x.med), append(se.y, y.med)
			}
		}
		if len(se.x) > 0 {
			lc.series = append(lc.series, se)
		}
	}
	add("idle", "idle-rss.svg", lc.write(filepath.Join(c.svgDir, "idle-rss.svg")))

	// Closed-loop echo throughput by concurrency and size.
	var groups []string
	for _, p := range a.points["echo"] {
		if strings.HasPrefix(p, "closed") {
			groups = append(groups, p)
		}
	}
	bc := &barChart{title: "Ack echo throughput (closed loop, 1 core)", ylabel: "acks/s", groups: shortNames(groups), servers: serversOf(a, "echo", servers),
		val: func(g, s string) *stat { return a.get("echo", s, longName(groups, g), "acks_per_s") }}
	add("echo", "echo-acks.svg", bc.write(filepath.Join(c.svgDir, "echo-acks.svg")))

	// Saturated broadcast throughput.
	bt := &barChart{title: "Broadcast throughput, saturated (deliveries/s)", ylabel: "deliveries/s",
		groups: []string{"1k recv, 1 core", "10k recv, 1 core", "10k recv, machine"}, servers: servers,
		val: func(g, s string) *stat {
			sc := map[string]string{"1k recv, 1 core": "bcast1k", "10k recv, 1 core": "bcast10k", "10k recv, machine": "bcast-machine"}[g]
			return a.get(sc, s, "saturated", "deliveries_per_s")
		}}
	add("throughput", "bcast-throughput.svg", bt.write(filepath.Join(c.svgDir, "bcast-throughput.svg")))
	return out
}

func shortNames(ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = strings.TrimPrefix(strings.ReplaceAll(p, " size=", " "), "closed ") + " B"
	}
	return out
}

func longName(ps []string, short string) string {
	for i, s := range shortNames(ps) {
		if s == short {
			return ps[i]
		}
	}
	return ""
}

// printRatios prints the headline ratios: against the raw floor for the
// smoke profile, the targets otherwise.
func printRatios(a *agg, profile string) {
	if profile == "smoke" {
		fmt.Println("\nbench-smoke: gosio against the raw coder/websocket floor (median of runs; ≈ = ranges overlap)")
		rows := [][]string{}
		for _, r := range []struct{ sc, p, m, label string }{
			{"idle", "N=5000", "kib_per_conn", "idle KiB/conn at 5k (lower is better)"},
			{"idle", "storm N=5000", "handshakes_per_s", "handshakes/s"},
			{"echo", "closed K=100 size=1024", "acks_per_s", "ack echo acks/s, K=100, 1 KiB"},
			{"echo", "closed K=100 size=1024", "p99_ms", "ack echo p99 ms (lower is better)"},
			{"bcast1k", "saturated", "deliveries_per_s", "broadcast to 1k, saturated deliveries/s"},
			{"bcast1k", "max sustainable", "deliveries_per_s", "broadcast to 1k, max sustainable deliveries/s"},
		} {
			g, w := a.get(r.sc, "gosio", r.p, r.m), a.get(r.sc, "raw", r.p, r.m)
			rows = append(rows, []string{r.label, fmtStat(g), fmtStat(w), fmtRatio(g, w)})
		}
		printTable([]string{"metric", "gosio", "raw", "gosio/raw"}, rows)
		return
	}
	fmt.Println("\nTargets of issue 6:")
	printTable([]string{"target", "pair", "gosio", "other", "ratio", "want", "verdict"}, targetRows(a))
}

func printTable(head []string, rows [][]string) {
	w := make([]int, len(head))
	for i, h := range head {
		w[i] = len([]rune(h))
	}
	for _, r := range rows {
		for i, c := range r {
			w[i] = max(w[i], len([]rune(c)))
		}
	}
	line := func(r []string) {
		for i, c := range r {
			fmt.Printf("%-*s  ", w[i], c)
		}
		fmt.Println()
	}
	line(head)
	for _, r := range rows {
		line(r)
	}
	_ = math.Abs
}

const methodText = `## Method

**Topology.** One machine, loopback only. Each server under test runs as a fresh process per scenario
pinned to CPU 0 (` + "`taskset -c 0`" + `; Go reads the affinity mask, so GOMAXPROCS = 1); the load generator
runs pinned to CPU 1. Only the whole-machine broadcast (S4c) is unpinned. Scenarios and servers are
interleaved (the server order rotates), so slow drift of the machine's load hits every server alike.

**Ratios that reproduce** (issue 19). A rerun of the echo and broadcast scenarios once moved the echo
ratio gosio/Node from 3.56x to 2.17x. Three causes were found and each has a counter-measure:
(1) *other work on the machine*: the cores are shared with other jobs and with the hypervisor's other
guests, and the 1-minute load average lags a burst of them. Every point now records, from ` + "`/proc/stat`" + `,
the busy time of the server's core that is not the server's (*other work on the server's core*) and the
time stolen by the hypervisor (*CPU stolen*), in cores; a figure measured beside 0.2 cores of other work
measured that work too. (2) *Windows too short for a server's periodic pauses*: closed-loop echo points
measured 2 s and broadcast bursts lasted 0.2 s (1k receivers) to 1 s, so one V8 mark-compact or one slice
of another process moved a figure by a third. Points now measure 4 s after 1 s of warm-up, bursts carry
600,000 deliveries, and a freshly started server first gets 3 s of echo load that is thrown away (V8
compiles the hot path in its first seconds). (3) *Too few repetitions where the spread is wide*: after
the planned repetitions, a scenario whose headline figures (echo acks/s, saturated deliveries/s, idle
KiB/conn) still spread more than 15% of their median gets more, up to ` + "`-maxreps`" + `, interleaved as
before, and any ratio whose figures spread more than 15% is marked ⚠ with the spread. The largest
cause is the hypervisor: this machine is a virtual one on a shared host, and the CPU stolen from it
ranged from 0 to 0.96 cores (of 2) between points of one run, at any load average. Leaving out the runs
with more than 0.1 cores stolen (` + "`-maxsteal 0.1`" + `) was tried and made two runs agree less (7 of 14 ratios
within 15% against 12 of 14 with every run): the medians of two calm runs moved more than the medians of
all four. So every run counts, and the stolen CPU is shown beside each figure. ` + "`benchrun -reproduce a,b`" + `
compares two runs' ratios figure by figure.

**Servers** (all in ` + "`bench/`" + `, same app contract, defaults everywhere):

| server | what |
|---|---|
| gosio | ` + "`bench/cmd/gosio-server`" + `: socketio.NewServer(nil) |
| node | ` + "`bench/node/server.mjs`" + `: socket.io 4.8 from npm, ws with bufferutil and utf-8-validate (as the socket.io performance docs advise), ` + "`rawSocket.request = null`" + ` after the handshake (the docs' memory tip), run with ` + "`--expose-gc`" + ` for ` + "`/gc`" + ` |
| zishang520 | ` + "`bench/cmd/zishang-server`" + `: github.com/zishang520/socket.io/servers/socket/v3 with its default options |
| raw | ` + "`bench/cmd/raw-server`" + `: the floor. A bare coder/websocket server that frames just enough Engine.IO/Socket.IO for the contract (open packet, ` + "`40`" + `, echo/ack and binary echo by slicing bytes, no JSON decoding), one read goroutine per connection, no heartbeat, no send queue, serial fan-out from the publisher's goroutine with ` + "`context.Background()`" + `. It has no polling and no slow-client policy |

**App contract.** Namespace ` + "`/`" + `. ` + "`echo`" + ` acknowledges its arguments unchanged (text or binary);
` + "`bcast`" + ` does ` + "`io.emit(\"b\", data)`" + `; ` + "`join`" + ` joins a room and acknowledges; ` + "`room`" + ` does
` + "`io.to(room).emit(\"b\", data)`" + `. ` + "`GET /stats`" + ` returns the connection count and RSS (and, for Go, HeapInuse,
StackInuse, goroutines); ` + "`GET /gc`" + ` forces a collection (Go: debug.FreeOSMemory; Node: global.gc()).
Defaults: pingInterval 25 s, pingTimeout 20 s, perMessageDeflate off, maxHttpBufferSize 1e6 in every server.
The figures that matter (RSS, CPU time) are read by the load generator from ` + "`/proc/<pid>`" + ` of the server,
the same way for every language.

**Load generator.** ` + "`bench/cmd/loadgen`" + `, one Go process speaking Engine.IO 4 / Socket.IO 5 directly over
WebSocket and polling, identical for every server. Polling requests are written as bytes on keep-alive
connections and their answers read with the least parsing Engine.IO needs (` + "`bench/cmd/loadgen/rawhttp.go`" + `):
through net/http the load generator spent about as much CPU per request as gosio (73 against 70 µs) and
was the limit of the polling scenario; with these connections it spends about 37 µs. Its WebSocket client is a minimal RFC 6455
client of its own (one frame built in place and one write per message, a buffered reader): with
coder/websocket the load generator used ~0.96 of its core at 40,000 acks/s, which made that step
load-generator bound for every server. Payloads carry
` + "`{\"t\":<µs>,\"s\":<step>,...}`" + `; both stamps come from the load generator's monotonic clock. Open-loop steps
stamp the *intended* send time of the schedule (no coordinated omission); if the sender itself falls more
than 50 ms behind its schedule the point says so. The sender waits for each send time on a timerfd read
through Go's poller, not with time.Sleep, which on an idle Go process wakes up to 1 ms late (the runtime
waits in epoll with a millisecond timeout) and would put a ~1.2 ms floor under every server's p99 at low
rates. It sleeps at least 50 µs at a time (arming the timer costs ~8 µs on a virtual machine): above
20,000 sends/s it sends what fell due since its last wakeup, each stamped with its own intended time, so
a send can be up to ~50 µs late, which counts in its latency for every server alike. Every latency sample is kept and written out;
percentiles are nearest-rank over the exact samples. A point where the load generator used more than
90% of its core while the server used less (medians) is marked *load-generator bound* ("LG-bound" in the
tables): its latency includes the load generator's own queueing, so such an open-loop step is shown but not
used for the p99 target. Client sockets use rotating
127.0.x.y source addresses so that TIME_WAIT of earlier runs never exhausts ephemeral ports.

`

const limitsText = `## What limits each scenario

- **Idle memory (S1)**: the per-process open-file limit (20,000, hard): 19,000 clients is the largest size one
  server (and one load-generator process) can hold. RAM is far from a limit.
- **Connect storm (S2)**: server CPU (handshakes serialise on one core); see *server CPU* in S1.
- **Ack echo, broadcast, rooms, binary (S3–S6)**: server CPU on its one core, unless a point is marked
  *load-generator bound* (the load generator's single core also has to receive every delivery: at 100-byte
  frames it tops out somewhere above 100k messages/s; compare the raw floor's figures).
- **Stepped broadcast to 10k receivers (S4b ladder)**: at 1-2 broadcasts/s each broadcast reaches the load
  generator as a burst of 10,000 messages arriving one every few µs, each waking its core from idle; on a
  virtual machine that costs the load generator ~20-30 µs per message (its step CPU stays near 0.25 because
  it idles between bursts), so the p99 of a burst is about the time the load generator needs to take it in,
  for every server, and sits near the 250 ms pass line. The saturated figure is not affected (the load
  generator keeps up at 0.6-0.7 of its core when messages queue).
- **Slow consumers (S7)**: the servers' send-queue policy; healthy-client latency is bounded by CPU.
- **Polling (S8)**: HTTP request handling on the server's core.
- A saturated burst that completes in well under a second (gosio's 1k-receiver burst, ~0.15 s) is too short
  for the 10 ms CPU-time ticks of /proc: its CPU figure below is not meaningful, its deliveries/s is.
`

// writeBeforeAfter compares gosio's figures (and its ratios) in an earlier
// run with this one: the library changed in between, the peers did not.
func writeBeforeAfter(b *strings.Builder, before, after *agg, bm, am *meta) {
	fmt.Fprintf(b, "### Before and after the library changes\n\n")
	fmt.Fprintf(b, "The same suite on the same machine with the library before the changes (gosio %s, run of %s) and in this run (gosio %s). Medians of the runs; the ratio columns are gosio ÷ the other server *within* each run, so machine drift cancels out.\n\n", bm.GitSHA, bm.Date, am.GitSHA)
	var rows [][]string
	seen := map[string]bool{}
	for _, t := range targets {
		k := t.scenario + t.point + t.metric
		g0, g1 := before.get(t.scenario, "gosio", t.point, t.metric), after.get(t.scenario, "gosio", t.point, t.metric)
		if !seen[k] {
			seen[k] = true
			rows = append(rows, []string{t.scenario + " " + t.point + " " + t.metric, "gosio", fmtStat(g0), fmtStat(g1)})
		}
		rows = append(rows, []string{"", "gosio/" + t.other,
			fmtRatio(g0, before.get(t.scenario, t.other, t.point, t.metric)),
			fmtRatio(g1, after.get(t.scenario, t.other, t.point, t.metric))})
	}
	for _, x := range []struct{ sc, p, m string }{
		{"echo", "closed K=100 size=16384", "acks_per_s"}, {"binary", "K=100 size=65536", "acks_per_s"},
		{"slow", "slow phase", "p99_vs_baseline"}, {"idle", "storm N=10000", "handshakes_per_s"},
	} {
		g0, g1 := before.get(x.sc, "gosio", x.p, x.m), after.get(x.sc, "gosio", x.p, x.m)
		rows = append(rows, []string{x.sc + " " + x.p + " " + x.m, "gosio", fmtStat(g0), fmtStat(g1)})
		if x.sc != "slow" {
			rows = append(rows, []string{"", "gosio/node", fmtRatio(g0, before.get(x.sc, "node", x.p, x.m)), fmtRatio(g1, after.get(x.sc, "node", x.p, x.m))})
		}
	}
	mdTable(b, []string{"figure", "", "before", "after"}, rows)
}

// limitsTable shows, at each scenario's heaviest point, how busy the
// server's core and the load generator's core were (medians), and names
// the limit: a core at 90% or more, else neither.
func limitsTable(b *strings.Builder, a *agg, servers []string) {
	points := []struct{ sc, p string }{
		{"idle", "N=19000"}, {"echo", "closed K=100 size=32"}, {"echo", "closed K=100 size=16384"},
		{"bcast1k", "saturated"}, {"bcast10k", "saturated"}, {"bcast-machine", "saturated"},
		{"rooms", "rate=10/room"}, {"binary", "K=100 size=65536"}, {"slow", "slow phase"}, {"polling", "echo K=100"},
	}
	b.WriteString("\nMeasured at each scenario's heaviest common point (median CPU of the server's core / the load generator's core; `hold` and S1 ramps are connect-bound):\n\n")
	head := append([]string{"scenario", "point"}, servers...)
	var rows [][]string
	for _, pt := range points {
		row := []string{pt.sc, pt.p}
		for _, s := range servers {
			sc, lg := a.get(pt.sc, s, pt.p, "server_cpu"), a.get(pt.sc, s, pt.p, "loadgen_cpu")
			if !sc.ok() || !lg.ok() {
				row = append(row, "—")
				continue
			}
			lim := "neither"
			switch {
			case pt.sc == "bcast-machine" && sc.med+lg.med >= 1.8:
				lim = "both cores (shared)"
			case sc.med >= 0.9:
				lim = "server CPU"
			case lg.med >= 0.9:
				lim = "load generator"
			}
			row = append(row, fmt.Sprintf("%.2f / %.2f: %s", sc.med, lg.med, lim))
		}
		rows = append(rows, row)
	}
	mdTable(b, head, rows)
}

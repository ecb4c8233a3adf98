package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gosio/gosio/bench/internal/result"
)

// The cluster profile writes its own section of docs/benchmarks.md,
// between these markers; the compare report keeps it when it rewrites the
// rest of the file, and the cluster report replaces only it.
const (
	clusterBegin = "<!-- cluster:begin (bench/cmd/benchrun -profile cluster) -->"
	clusterEnd   = "<!-- cluster:end -->"
)

// spliceCluster returns doc with its cluster block replaced by block, or
// block appended when doc has none.
func spliceCluster(doc, block string) string {
	i := strings.Index(doc, clusterBegin)
	j := strings.Index(doc, clusterEnd)
	if i >= 0 && j > i {
		rest := doc[j+len(clusterEnd):]
		if strings.HasSuffix(block, "\n") {
			rest = strings.TrimPrefix(rest, "\n") // the block brings its own
		}
		return doc[:i] + block + rest
	}
	if doc != "" && !strings.HasSuffix(doc, "\n") {
		doc += "\n"
	}
	if doc != "" {
		doc += "\n"
	}
	return doc + block
}

// clusterBlock returns the cluster block of doc, or "".
func clusterBlock(doc string) string {
	i := strings.Index(doc, clusterBegin)
	j := strings.Index(doc, clusterEnd)
	if i < 0 || j < i {
		return ""
	}
	return doc[i : j+len(clusterEnd)]
}

// writeKeepingCluster writes body to path, keeping what the file it
// replaces holds from the cluster block on: the block itself and the
// sections written after it by other programs or by hand (the cluster
// rerun note, the helper benchmark's section), which the compare report
// does not generate.
func writeKeepingCluster(path, body string) error {
	if old, err := os.ReadFile(path); err == nil {
		if i := strings.Index(string(old), clusterBegin); i >= 0 && clusterBlock(string(old)) != "" {
			body = spliceCluster(body, string(old[i:]))
		}
	}
	return os.WriteFile(path, []byte(body), 0o644)
}

// A crow is one row of a cluster table: a point (a trailing "*" matches
// by prefix), a metric and whether higher is better.
type crow struct {
	point, metric, label string
	higher               bool
}

type csection struct {
	scenario, title, about string
	servers                []string
	pairs                  [][2]string
	rows                   []crow
}

var bcastRows = []crow{
	{"publishes, 1 receiver per node", "publishes_per_bcast", "Redis publishes per broadcast (PUBLISH+SPUBLISH+XADD)", false},
	{"publishes, all receivers", "publishes_per_bcast", "Redis publishes per broadcast (PUBLISH+SPUBLISH+XADD)", false},
	{"rate=10", "p50_ms", "p50 ms at 10 broadcasts/s", false},
	{"rate=10", "p99_ms", "p99 ms at 10 broadcasts/s", false},
	{"max sustainable", "deliveries_per_s", "max sustainable deliveries/s (stepped, p99 ≤ 250 ms, all delivered)", true},
	{"saturated", "deliveries_per_s", "deliveries/s", true},
	{"saturated", "p99_ms", "p99 ms (queueing under the burst)", false},
	{"saturated", "delivered", "delivered fraction", true},
	{"saturated", "cpu_s_per_1M", "nodes' CPU s per 1M deliveries", false},
	{"saturated", "node0_cpu", "CPU of node 0 (publisher's node), cores", false},
	{"saturated", "node1_cpu", "CPU of node 1, cores", false},
	{"saturated", "redis_cpu", "Redis CPU, cores", false},
	{"saturated", "publishes_per_bcast", "Redis publishes per broadcast", false},
	{"saturated", "adapter_dropped", "messages dropped by the Go adapter (full inbound queue)", false},
}

var csections = []csection{
	{"cbcast", "Cluster broadcast: 2 nodes, one Redis",
		"Receivers split evenly between the 2 nodes; one client of node 0 sends `bcast`, which node 0 turns into `io.emit`, so every broadcast is published once by node 0 and reaches node 1 through Redis. Redis command counts come from `INFO commandstats` before and after. Then the single-server S4 procedure: warm-up, a ladder of broadcast rates (2 s each, stop at the first step with p99 > 250 ms or a loss), and a saturating burst (throughput = deliveries ÷ time from the first send to the last delivery).",
		[]string{"gosio-classic", "node-classic", "gosio-sharded", "node-sharded"},
		[][2]string{{"gosio-classic", "node-classic"}, {"gosio-sharded", "node-sharded"}}, bcastRows},
	{"sbcast", "Streams adapter broadcast: 2 nodes, one Redis",
		"The same scenario with the streams adapters (gosio adapter/redis NewStreams vs @socket.io/redis-streams-adapter 0.3.1), default options: a broadcast is one XADD, read by each node's blocking XREAD.",
		[]string{"gosio-streams", "node-streams"}, [][2]string{{"gosio-streams", "node-streams"}}, bcastRows},
	{"cfetch", "fetchSockets across 3 nodes",
		"100 sockets on each of 3 nodes (classic adapter). K closed-loop workers, on clients of the 3 nodes in turn, send `fetch`; the handler answers with the length of `io.fetchSockets()` (a request on Redis and a response from each other node). Latency is the round trip of the ack; an answer that is not 300 counts as an error.",
		[]string{"gosio-classic", "node-classic"}, [][2]string{{"gosio-classic", "node-classic"}},
		[]crow{
			{"K=1", "p50_ms", "p50 ms, K=1", false}, {"K=1", "p99_ms", "p99 ms, K=1", false}, {"K=1", "fetches_per_s", "fetches/s, K=1", true},
			{"K=10", "p50_ms", "p50 ms, K=10", false}, {"K=10", "p99_ms", "p99 ms, K=10", false}, {"K=10", "fetches_per_s", "fetches/s, K=10", true},
			{"K=10", "server_cpu", "nodes' CPU, cores, K=10", false}, {"K=10", "errors", "errors", false},
		}},
	{"emitter", "Emitter: one process emitting into a 2-node cluster",
		"The same target for both emitters: 2 gosio nodes with the classic adapter, one receiver on each. The emitter process (`bench/cmd/emit-go`: a loop of emits from one goroutine, emitter.New through an emitter.Pipeline of window 128 on one rueidis client; `bench/node/emitter.mjs`: a loop of emits, @socket.io/redis-emitter 5.1.0 on node-redis 5.10, a PING every 64 emits, waiting for the previous PING, to bound the queue to 128) is started by the load generator and inherits its CPU 1; it emits 200,000 events `b` of ~100 bytes as fast as it can after a 20,000-event warm-up. emits/s is the emitter's own count over its own first-emit-to-last-reply time; end-to-end emits/s counts until the last delivery; the emitter's CPU is the process's own CPU time over its emitting loop (getrusage / process.cpuUsage), start-up excluded.",
		[]string{"go-emitter", "node-emitter"}, [][2]string{{"go-emitter", "node-emitter"}},
		[]crow{
			{"saturated", "emits_per_s", "emits/s (emitter's clock)", true},
			{"saturated", "e2e_emits_per_s", "emits/s, end to end (until the last delivery)", true},
			{"saturated", "emitter_cpu_us_per_emit", "emitter CPU µs per emit", false},
			{"saturated", "emitter_cpu", "emitter CPU, cores", false},
			{"saturated", "redis_cpu", "Redis CPU, cores", false},
			{"saturated", "server_cpu", "nodes' CPU, cores", false},
			{"saturated", "delivered", "delivered fraction", true},
			{"saturated", "adapter_dropped", "messages dropped by the Go nodes' adapters (full inbound queue)", false},
			{"saturated", "adapter_blocked", "messages that waited for room in a Go node's full inbound queue", false},
			{"saturated", "publishes_per_bcast", "Redis publishes per emit", false},
		}},
	{"crecover", "Connection state recovery on another node: 1,000 clients",
		"2 nodes with the streams adapter and connection state recovery on (gosio-server -recovery, server.mjs -recovery: default options, 2 min). 1,000 clients connect to node 0 and receive 20 broadcasts (each client keeps its pid and the offset of the last packet); they drop their transports at once (TCP close), a client of node 1 sends 100 more broadcasts (`bcast` → `io.emit`, ~1 ms apart), then the 1,000 reconnect to node 1, 100 at a time, with `{pid, offset}`. Recovery time is from the first reconnect until every client has its CONNECT and all 100 missed broadcasts; recovered = same sid back; complete = every missed broadcast received, in order, nothing else lost; per-client latency is its reconnect to its last missed packet.",
		[]string{"gosio-streams", "node-streams"}, [][2]string{{"gosio-streams", "node-streams"}},
		[]crow{
			{"clients=*", "recovery_s", "time until all recovered with their missed packets, s", false},
			{"clients=*", "recoveries_per_s", "recoveries/s", true},
			{"clients=*", "p50_ms", "per-client p50 ms (reconnect to last missed packet)", false},
			{"clients=*", "p99_ms", "per-client p99 ms", false},
			{"clients=*", "recovered", "recovered fraction (session back)", true},
			{"clients=*", "complete", "complete fraction (every missed packet)", true},
			{"clients=*", "server_cpu", "nodes' CPU, cores", false},
		}},
	{"roommem", "Memory per room subscription",
		"5,000 sockets on node 0 (of 2); after a forced GC on the node (Go: debug.FreeOSMemory; Node: global.gc()), each socket joins a room of its own (`room-<i>`), then GC again. The figures are the differences divided by 5,000: the node's RSS and heap (Go HeapInuse, V8 heapUsed), Redis `used_memory`, and the channels Redis then holds (`PUBSUB CHANNELS` / `PUBSUB SHARDCHANNELS`). The sharded adapter's dynamic mode subscribes one shard channel per room; the classic adapter (pattern subscription) adds none, so gosio-classic is the cost of the rooms alone.",
		[]string{"gosio-sharded", "node-sharded", "gosio-classic"}, [][2]string{{"gosio-sharded", "node-sharded"}},
		[]crow{
			{"rooms=*", "node_rss_b_per_room", "node RSS bytes per room", false},
			{"rooms=*", "node_heap_b_per_room", "node heap bytes per room", false},
			{"rooms=*", "redis_b_per_room", "Redis used_memory bytes per room", false},
			{"rooms=*", "redis_b_per_channel", "Redis used_memory bytes per subscribed channel", false},
			{"rooms=*", "shard_channels_added", "shard channels added", false},
			{"rooms=*", "channels_added", "channels added", false},
		}},
}

// resolvePoint finds the point of scenario named p (a trailing "*"
// matches by prefix).
func resolvePoint(a *agg, scenario, p string) string {
	pre, prefix := strings.CutSuffix(p, "*")
	for _, n := range a.points[scenario] {
		if n == p || prefix && strings.HasPrefix(n, pre) {
			return n
		}
	}
	return p
}

type ctarget struct {
	label, scenario, point, metric string
	x, y                           string
	op                             string
	want                           float64
}

var ctargets = []ctarget{
	{"Cluster broadcast deliveries/s (saturated), classic", "cbcast", "saturated", "deliveries_per_s", "gosio-classic", "node-classic", ">=", 2},
	{"Cluster broadcast deliveries/s (saturated), sharded", "cbcast", "saturated", "deliveries_per_s", "gosio-sharded", "node-sharded", ">=", 2},
	{"Cluster broadcast max sustainable deliveries/s, classic", "cbcast", "max sustainable", "deliveries_per_s", "gosio-classic", "node-classic", ">=", 2},
	{"Cluster broadcast max sustainable deliveries/s, sharded", "cbcast", "max sustainable", "deliveries_per_s", "gosio-sharded", "node-sharded", ">=", 2},
	{"Cluster broadcast p99 at 10 broadcasts/s, classic", "cbcast", "rate=10", "p99_ms", "gosio-classic", "node-classic", "<=", 1},
	{"Cluster broadcast p99 at 10 broadcasts/s, sharded", "cbcast", "rate=10", "p99_ms", "gosio-sharded", "node-sharded", "<=", 1},
	{"Streams broadcast deliveries/s (saturated)", "sbcast", "saturated", "deliveries_per_s", "gosio-streams", "node-streams", ">=", 2},
	{"Recovery of 1,000 clients on another node, time", "crecover", "clients=1000", "recovery_s", "gosio-streams", "node-streams", "<=", 0.5},
	{"Emitter emits/s", "emitter", "saturated", "emits_per_s", "go-emitter", "node-emitter", ">=", 2},
	{"Emitter CPU per emit", "emitter", "saturated", "emitter_cpu_us_per_emit", "go-emitter", "node-emitter", "<=", 0.5},
	{"fetchSockets p99, 3 nodes, K=1", "cfetch", "K=1", "p99_ms", "gosio-classic", "node-classic", "<=", 1},
}

func clusterTargetRows(a *agg) [][]string {
	var rows [][]string
	for _, t := range ctargets {
		x, y := a.get(t.scenario, t.x, t.point, t.metric), a.get(t.scenario, t.y, t.point, t.metric)
		r, overlap, ok := ratio(x, y)
		verdict := "not measured"
		if ok {
			verdict = map[bool]string{true: "**met**", false: "**missed**"}[check(t.op, r, t.want)]
			if overlap {
				verdict += " (ranges overlap: no difference)"
			}
		}
		rows = append(rows, []string{t.label, t.x + "/" + t.y, fmtStat(x), fmtStat(y), fmtRatio(x, y), fmt.Sprintf("%s %g", t.op, t.want), verdict})
	}
	// One publish per broadcast, whatever the number of receivers.
	for _, s := range []string{"gosio-classic", "gosio-sharded", "gosio-streams"} {
		sc := "cbcast"
		if s == "gosio-streams" {
			sc = "sbcast"
		}
		few := a.get(sc, s, "publishes, 1 receiver per node", "publishes_per_bcast")
		all := a.get(sc, s, "publishes, all receivers", "publishes_per_bcast")
		sat := a.get(sc, s, "saturated", "publishes_per_bcast")
		if !few.ok() && !all.ok() {
			continue
		}
		verdict := "**met**"
		for _, v := range []*stat{few, all, sat} {
			if v.ok() && (v.max > 1.05 || v.min < 0.95) {
				verdict = "**missed**"
			}
		}
		rows = append(rows, []string{"Redis publishes per broadcast: 2 receivers / all receivers / saturated burst", s,
			fmtStat(few) + " / " + fmtStat(all) + " / " + fmtStat(sat), "", "", "= 1 (± heartbeats)", verdict})
	}
	return rows
}

func clusterTable(b *strings.Builder, a *agg, sec csection) {
	var servers []string
	for _, s := range sec.servers {
		if a.reps[key(sec.scenario, s)] > 0 {
			servers = append(servers, s)
		}
	}
	if len(servers) == 0 {
		return
	}
	head := append([]string{"point", "metric", "better"}, servers...)
	for _, p := range sec.pairs {
		head = append(head, p[0]+"/"+p[1])
	}
	var rows [][]string
	for _, r := range sec.rows {
		p := resolvePoint(a, sec.scenario, r.point)
		row := []string{p, r.label, map[bool]string{true: "↑", false: "↓"}[r.higher]}
		any := false
		for _, s := range servers {
			st := a.get(sec.scenario, s, p, r.metric)
			any = any || st.ok()
			cell := fmtStat(st)
			if pc, ok := a.passes[key(sec.scenario, s, p)]; ok && pc[0] < pc[1] && (r.metric == "p99_ms" || r.metric == "emits_per_s") {
				cell += fmt.Sprintf(" ✗%d/%d", pc[1]-pc[0], pc[1])
			}
			row = append(row, cell)
		}
		if !any {
			continue
		}
		for _, pr := range sec.pairs {
			if strings.HasSuffix(r.metric, "_cpu") || r.metric == "errors" || r.metric == "adapter_dropped" || strings.HasSuffix(r.metric, "_added") || r.metric == "delivered" || r.metric == "recovered" || r.metric == "complete" {
				row = append(row, "")
				continue
			}
			row = append(row, fmtRatio(a.get(sec.scenario, pr[0], p, r.metric), a.get(sec.scenario, pr[1], p, r.metric)))
		}
		rows = append(rows, row)
	}
	mdTable(b, head, rows)
}

const clusterMethod = `**Placement** (the same for Go and Node): each run starts a fresh ` + "`redis-server`" + ` (7.0, no
persistence) on a free loopback port and fresh nodes, every node pinned to CPU 0 with ` + "`taskset -c 0`" + ` (the
nodes of one cluster share that core, so "cluster throughput" is what one core does for the whole
cluster, and a Go node sees GOMAXPROCS = 1), Redis and the load generator pinned to CPU 1 (the emitter
process too, as the load generator's child). The Go nodes are ` + "`bench/cmd/gosio-server -redis URL -adapter classic|sharded|streams`" + `
(adapter/redis New, NewSharded in dynamic mode, NewStreams, default options); the Node nodes are
` + "`bench/node/server.mjs -redis=URL -adapter=…`" + ` (socket.io 4.8.4 with @socket.io/redis-adapter 8.3.0 createAdapter or
createShardedAdapter, or @socket.io/redis-streams-adapter 0.3.1, on node-redis 5.10 clients, default
options). The app contract is the single-server one (` + "`bcast`" + ` → ` + "`io.emit`" + `, ` + "`join`" + `) plus ` + "`fetch`" + `, which
acknowledges ` + "`(await io.fetchSockets()).length`" + `. server_cpu is the nodes' CPU summed; Redis's CPU is read from
/proc like the nodes'. Ratios are gosio ÷ Node (Go emitter ÷ Node emitter), median over median; ≈ marks
min–max ranges that straddle 1, ⚠N% a figure whose min–max range is N% of its median (over 15%: unstable).

`

// svgRel is the path of plot name relative to the report.
func svgRel(c *config, name string) string {
	rel, err := filepath.Rel(filepath.Dir(c.doc), filepath.Join(c.svgDir, name))
	if err != nil {
		return name
	}
	return rel
}

// scaled returns s with its figures multiplied by f.
func scaled(s *stat, f float64) *stat {
	if !s.ok() {
		return s
	}
	return &stat{med: s.med * f, min: s.min * f, max: s.max * f, n: s.n}
}

// clusterPlots writes the cluster section's bar charts (median bars with
// min–max whiskers) into c.svgDir and returns the files written, per
// scenario.
func clusterPlots(c *config, a *agg) map[string][]string {
	out := map[string][]string{}
	if c.svgDir == "" || os.MkdirAll(c.svgDir, 0o755) != nil {
		return out
	}
	add := func(sc, name string, ch *barChart) {
		path := filepath.Join(c.svgDir, name)
		if ch.write(path) == nil {
			if _, err := os.Stat(path); err == nil {
				out[sc] = append(out[sc], name)
			}
		}
	}
	pair := []string{"gosio", "node"}
	add("cbcast", "cluster-bcast.svg", &barChart{title: "Cluster broadcast, 2 nodes on one core, saturated", ylabel: "deliveries/s",
		groups: []string{"classic", "sharded", "streams"}, servers: pair,
		val: func(g, s string) *stat {
			sc := "cbcast"
			if g == "streams" {
				sc = "sbcast"
			}
			return a.get(sc, s+"-"+g, "saturated", "deliveries_per_s")
		}})
	add("cfetch", "cluster-fetch.svg", &barChart{title: "fetchSockets across 3 nodes (300 sockets)", ylabel: "fetches/s",
		groups: []string{"K=1", "K=10"}, servers: pair,
		val: func(g, s string) *stat { return a.get("cfetch", s+"-classic", g, "fetches_per_s") }})
	add("emitter", "cluster-emitter.svg", &barChart{title: "Emitter into a 2-node cluster", ylabel: "emits/s",
		groups: []string{"emitter's clock", "end to end"}, servers: pair,
		val: func(g, s string) *stat {
			m := map[string]string{"emitter's clock": "emits_per_s", "end to end": "e2e_emits_per_s"}[g]
			return a.get("emitter", s+"-emitter", "saturated", m)
		}})
	rp := resolvePoint(a, "crecover", "clients=*")
	add("crecover", "cluster-recovery.svg", &barChart{title: "Recovery of 1,000 clients on another node (lower is better)", ylabel: "ms",
		groups: []string{"until all recovered", "per client p50", "per client p99"}, servers: pair,
		val: func(g, s string) *stat {
			switch g {
			case "until all recovered":
				return scaled(a.get("crecover", s+"-streams", rp, "recovery_s"), 1000)
			case "per client p50":
				return a.get("crecover", s+"-streams", rp, "p50_ms")
			}
			return a.get("crecover", s+"-streams", rp, "p99_ms")
		}})
	mp := resolvePoint(a, "roommem", "rooms=*")
	add("roommem", "cluster-roommem.svg", &barChart{title: "Memory per room subscription (lower is better)", ylabel: "bytes per room",
		groups: []string{"node RSS", "node heap", "Redis"}, servers: []string{"gosio-sharded", "node-sharded", "gosio-classic"},
		val: func(g, s string) *stat {
			m := map[string]string{"node RSS": "node_rss_b_per_room", "node heap": "node_heap_b_per_room", "Redis": "redis_b_per_room"}[g]
			return a.get("roommem", s, mp, m)
		}})
	return out
}

func writeClusterSection(c *config, a *agg, m *meta) string {
	var b strings.Builder
	b.WriteString(clusterBegin + "\n")
	b.WriteString("## Cluster\n\n")
	smoke := m.Quick || m.Reps < 3 || m.LoadStart >= 1.0
	if smoke {
		fmt.Fprintf(&b, "> **Smoke run on a loaded machine, not a result**: %d repetition(s)%s, 1-minute load average %.2f at start, %.2f highest before a run. The figures below show that the harness works; they are not a measurement.\n\n",
			m.Reps, map[bool]string{true: ", reduced sizes (-quick)", false: ""}[m.Quick], m.LoadStart, m.LoadMax)
	}
	fmt.Fprintf(&b, "Run of %s, %d repetition(s), %s wall-clock, gosio %s; load average %.2f at start, %.2f highest before a run, %.2f at end. Command:\n\n",
		m.Date, m.Reps, m.Duration, m.GitSHA, m.LoadStart, m.LoadMax, m.LoadEnd)
	fmt.Fprintf(&b, "```sh\ncd bench && go build -o bin/ ./cmd/... && npm ci && ./bin/benchrun -profile cluster -reps 3 -maxload 1.0 -doc ../docs/benchmarks.md\n```\n\n")
	fmt.Fprintf(&b, "Raw results: `bench/%s` on the machine that ran it. Every figure is the median of the runs with the min–max range.\n\n", c.results)
	b.WriteString(clusterMethod)
	b.WriteString("### Targets of issues 14 and 15\n\n")
	mdTable(&b, []string{"target", "pair", "first", "second", "ratio", "want", "verdict"}, clusterTargetRows(a))
	plots := clusterPlots(c, a)
	for _, sec := range csections {
		fmt.Fprintf(&b, "### %s\n\n%s\n\n", sec.title, sec.about)
		clusterTable(&b, a, sec)
		scs := []string{sec.scenario}
		if sec.scenario == "sbcast" {
			scs = nil // drawn with the classic and sharded bars
		}
		for _, sc := range scs {
			for _, name := range plots[sc] {
				fmt.Fprintf(&b, "![%s](%s)\n\n", name, svgRel(c, name))
			}
		}
		var lim []string
		for _, s := range sec.servers {
			k := key(sec.scenario, s)
			for _, e := range a.errs[k] {
				lim = append(lim, fmt.Sprintf("- %s: error: %s", s, e))
			}
			for _, n := range a.notes[k] {
				if !strings.Contains(n, "nodes (") {
					lim = append(lim, fmt.Sprintf("- %s: %s", s, n))
				}
			}
		}
		if len(lim) > 0 {
			b.WriteString("Notes from the runs:\n\n" + strings.Join(lim, "\n") + "\n\n")
		}
	}
	b.WriteString(clusterEnd + "\n")
	return b.String()
}

func finishCluster(c *config, runs []*result.Result, m *meta) {
	if m.Duration == "" {
		m.Duration = "?"
	}
	_ = m.write(c.results + "/meta.json")
	a := aggregate(runs)
	fmt.Println("\nCluster targets (issues 14 and 15):")
	printTable([]string{"target", "pair", "first", "second", "ratio", "want", "verdict"}, clusterTargetRows(a))
	if c.doc == "" {
		return
	}
	old, _ := os.ReadFile(c.doc)
	if err := os.WriteFile(c.doc, []byte(spliceCluster(string(old), writeClusterSection(c, a, m))), 0o644); err != nil {
		fatal(err)
	}
	fmt.Printf("wrote the Cluster section of %s\n", c.doc)
}

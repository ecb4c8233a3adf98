package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosio/gosio/bench/internal/procstat"
	"github.com/gosio/gosio/bench/internal/result"
)

// The cluster scenarios run against several nodes of one Socket.IO
// cluster over one Redis (-addrs, -pids, -redis, -redispid). server_cpu
// is the nodes' CPU summed (they share CPU 0), rss_mib their RSS summed;
// node<i>_cpu and redis_cpu are reported beside.
func init() {
	scenarios["cbcast"] = runClusterBcast
	scenarios["cfetch"] = runClusterFetch
	scenarios["roommem"] = runRoomMem
	scenarios["emitter"] = runEmitter
	scenarios["crecover"] = runRecover
}

// parseCluster fills addrs and pids from the comma-separated flags.
func (e *env) parseCluster(addrs, pids string) error {
	if addrs != "" {
		e.addrs = strings.Split(addrs, ",")
		e.addr = e.addrs[0]
	} else {
		e.addrs = []string{e.addr}
	}
	if pids == "" {
		if e.pid > 0 {
			e.pids = []int{e.pid}
		}
		return nil
	}
	e.pids = nil
	for p := range strings.SplitSeq(pids, ",") {
		n, err := strconv.Atoi(p)
		if err != nil {
			return fmt.Errorf("-pids: %q is not a pid", p)
		}
		e.pids = append(e.pids, n)
	}
	if len(e.pids) != len(e.addrs) {
		return fmt.Errorf("-pids: %d pids for %d addresses", len(e.pids), len(e.addrs))
	}
	e.pid = e.pids[0]
	return nil
}

func (e *env) nodeURL(i int) string {
	return "ws://" + e.addrs[i] + "/socket.io/?EIO=4&transport=websocket"
}

func (e *env) markCluster() {
	e.lastNodes = e.lastNodes[:0]
	for _, p := range e.pids {
		s, _ := procstat.Read(p)
		e.lastNodes = append(e.lastNodes, s)
	}
	if e.redisPid > 0 {
		e.lastRedis, _ = procstat.Read(e.redisPid)
	}
}

// cpuCluster adds the nodes' and Redis's CPU use since mark to m and
// returns the nodes' CPU seconds.
func (e *env) cpuCluster(m map[string]float64, wall float64) float64 {
	var cs float64
	var rss int64
	for i, p := range e.pids {
		s, err := procstat.Read(p)
		if err != nil || i >= len(e.lastNodes) {
			continue
		}
		d := s.CPUSeconds - e.lastNodes[i].CPUSeconds
		m[fmt.Sprintf("node%d_cpu", i)] = d / wall
		cs += d
		rss += s.RSSBytes
	}
	m["server_cpu"] = cs / wall
	m["rss_mib"] = float64(rss) / (1 << 20)
	if e.redisPid > 0 {
		if s, err := procstat.Read(e.redisPid); err == nil {
			m["redis_cpu"] = (s.CPUSeconds - e.lastRedis.CPUSeconds) / wall
		}
	}
	return cs
}

// statsOf reads /stats of node i.
func (e *env) statsOf(i int) map[string]any {
	saved := e.addr
	e.addr = e.addrs[i]
	defer func() { e.addr = saved }()
	return e.stats()
}

func (e *env) gcNode(i int) {
	saved := e.addr
	e.addr = e.addrs[i]
	defer func() { e.addr = saved }()
	e.gc()
}

// connectSplit connects n clients, client i to node i%len(addrs) (per
// node in one batch), so that receivers are split evenly.
func (e *env) connectSplit(first, n int, h *handlers) ([]*client, error) {
	k := len(e.addrs)
	per := make([][]*client, k)
	for i := range k {
		want := n / k
		if i < n%k {
			want++
		}
		cs, fails := connectMany(e.ctx, e.nodeURL(i), first+i*n, want, 200, h, nil)
		if len(cs) < want {
			return nil, fmt.Errorf("node %d: connected %d of %d (%d failed)", i, len(cs), want, fails)
		}
		per[i] = cs
	}
	out := make([]*client, 0, n)
	for j := 0; len(out) < n; j++ {
		for i := range k {
			if j < len(per[i]) {
				out = append(out, per[i][j])
			}
		}
	}
	return out, nil
}

// droppedAll sums the Dropped counters of the Go nodes' adapters
// (/stats "cluster"; Node nodes have none, and their inbound side has no
// bound to drop at).
func (e *env) droppedAll() float64 { return e.clusterStat("Dropped") }

// blockedAll sums the Blocked counters of the Go nodes' adapters: messages
// that found a namespace's queue full and waited for room.
func (e *env) blockedAll() float64 { return e.clusterStat("Blocked") }

func (e *env) clusterStat(name string) float64 {
	var d float64
	for i := range e.addrs {
		if c, ok := e.statsOf(i)["cluster"].(map[string]any); ok {
			v, _ := c[name].(float64)
			d += v
		}
	}
	return d
}

// redisCommands returns Redis's command counters, or nil without -redis.
func (e *env) redisCommands() map[string]int64 {
	if e.redisAddr == "" {
		return nil
	}
	c, err := dialRedis(e.redisAddr)
	if err != nil {
		logf("redis: %v", err)
		return nil
	}
	defer c.close()
	m, err := c.commandStats()
	if err != nil {
		logf("redis: %v", err)
	}
	return m
}

// publishesPer adds, for the commands a broadcast can cost (PUBLISH,
// SPUBLISH, XADD), their calls per broadcast between before and after.
func publishesPer(m map[string]float64, before, after map[string]int64, bcasts int) {
	if before == nil || after == nil || bcasts == 0 {
		return
	}
	d := callsDelta(before, after)
	var all int64
	for _, k := range []string{"publish", "spublish", "xadd"} {
		m[k+"_per_bcast"] = float64(d[k]) / float64(bcasts)
		all += d[k]
	}
	m["publishes_per_bcast"] = float64(all) / float64(bcasts)
}

// --- cluster broadcast --------------------------------------------------

// runClusterBcast: receivers split between the nodes; a client of node 0
// sends "bcast", which its node turns into io.emit, so every broadcast
// comes from node 0 and reaches the other nodes through Redis. First the
// Redis commands per broadcast at 2 receivers and at all of them, then the
// rate ladder and the saturation burst of the single-server S4.
func runClusterBcast(e *env) error {
	n, size := 10000, 100
	rates := []float64{1, 2, 5, 10, 20, 50, 100}
	stepDur := 2 * time.Second
	countN := 10
	if e.quick {
		n, stepDur = 2000, time.Second
		rates = []float64{5, 10, 20, 50}
	}
	var rec recorder
	h := &handlers{event: func(_ *client, body []byte) {
		if bytes.HasPrefix(body, []byte(`["b",`)) {
			rec.stamped(body)
		}
	}}
	var buf []byte
	frame := func(t, s int64) []byte {
		buf = append(buf[:0], `42["bcast",`...)
		buf = payload(buf, t, s, size-8)
		return append(buf, ']')
	}
	// countStep counts Redis's commands over countN broadcasts at 2/s
	// (light enough for every server at every size) and subtracts what
	// the same window costs without broadcasts (sharded heartbeats).
	countStep := func(name string, step int64, cs []*client) {
		pub := cs[0]
		window := time.Duration(float64(countN)/2*1e9) * time.Nanosecond
		idle0 := e.redisCommands()
		time.Sleep(window)
		idle1 := e.redisCommands()
		e.mark()
		schedule(2, countN, func(_ int, due int64) { _ = pub.send(frame(due, step)) })
		want := countN * len(cs)
		got := rec.waitCount(int(step), want, time.Now().Add(10*time.Second))
		m := map[string]float64{"broadcasts": float64(countN), "delivered": float64(got) / float64(want)}
		e.cpu(m)
		after := e.redisCommands()
		publishesPer(m, idle1, after, countN)
		idle := map[string]float64{}
		publishesPer(idle, idle0, idle1, countN)
		for k, v := range idle {
			m[k] -= v
			m["idle_"+k] = v
		}
		result.LatencyMetrics(rec.take(int(step)), m)
		e.point(name, map[string]float64{"receivers": float64(len(cs))}, m, nil, nil)
		rec.quiet(500*time.Millisecond, 10*time.Second)
	}
	// Redis commands per broadcast with 2 receivers (one per node)...
	few, err := e.connectSplit(0, len(e.addrs), h)
	if err != nil {
		return err
	}
	time.Sleep(500 * time.Millisecond)
	countStep("publishes, 1 receiver per node", int64(len(rec.sinks)-4), few)
	// ... and with all of them.
	rest, err := e.connectSplit(len(few), n-len(few), h)
	if err != nil {
		return err
	}
	cs := append(few, rest...)
	time.Sleep(time.Second)
	pub := cs[0]
	countStep("publishes, all receivers", int64(len(rec.sinks)-3), cs)

	// Warm-up, excluded: 2 s at the first rate.
	warmUp(&rec, pub, frame, rates[0])
	bcastLadder(e, &rec, pub, frame, rates, stepDur, cs, size)

	// Saturation: a burst sent back to back; deliveries over the time
	// from the first send to the last delivery.
	const satStep = 63
	burst := max(20, 200_000/len(cs))
	if e.quick {
		burst = max(20, 50_000/len(cs))
	}
	want := burst * len(cs)
	before, dropped := e.redisCommands(), e.droppedAll()
	e.mark()
	t0 := now()
	for range burst {
		_ = pub.send(frame(now(), satStep))
	}
	got := rec.waitCount(satStep, want, time.Now().Add(30*time.Second))
	span := float64(rec.last.Load()-t0) / 1e6
	m := map[string]float64{"burst": float64(burst), "delivered": float64(got) / float64(want), "deliveries_per_s": float64(got) / span}
	if cpu := e.cpu(m); cpu > 0 && got > 0 {
		m["cpu_s_per_1M"] = cpu / (float64(got) / 1e6)
	}
	publishesPer(m, before, e.redisCommands(), burst)
	m["adapter_dropped"] = e.droppedAll() - dropped
	var notes []string
	if got < want {
		notes = append(notes, fmt.Sprintf("only %d of %d delivered within 30 s", got, want))
	}
	e.point("saturated", map[string]float64{"receivers": float64(len(cs)), "size": float64(size)}, m, rec.take(satStep), nil, notes...)
	return nil
}

// --- fetchSockets across the nodes ----------------------------------------

// runClusterFetch: perNode sockets on every node; K closed-loop workers,
// on clients of every node in turn, send "fetch", whose handler answers
// with len(await io.fetchSockets()). Latency is the round trip of that
// ack; an answer that is not the cluster's socket count is an error.
func runClusterFetch(e *env) error {
	perNode, dur := 100, 5*time.Second
	ks := []int{1, 10}
	if e.quick {
		dur = 2 * time.Second
	}
	total := perNode * len(e.addrs)
	var wrong atomic.Int64
	h := &handlers{ack: func(_ *client, body []byte) {
		if string(body) != "["+strconv.Itoa(total)+"]" {
			if wrong.Add(1) <= 3 {
				logf("fetch answered %s, want [%d]", body, total)
			}
		}
	}}
	cs, err := e.connectSplit(0, total, h)
	if err != nil {
		return err
	}
	time.Sleep(time.Second)
	for _, k := range ks {
		wrong.Store(0)
		bufs := make([][]byte, k)
		m := map[string]float64{}
		samples, errs := closedLoop(e, k, time.Second, dur, m, func(w int, _ int64) bool {
			c := cs[w%len(cs)]
			bufs[w] = append(append(bufs[w][:0], "42"...), strconv.FormatUint(c.nextID.Add(1), 10)...)
			bufs[w] = append(bufs[w], `["fetch"]`...)
			if c.send(bufs[w]) != nil {
				time.Sleep(10 * time.Millisecond)
				return false
			}
			return c.waitAck(15 * time.Second)
		})
		m["fetches_per_s"] = float64(len(samples)) / dur.Seconds()
		m["errors"] = float64(errs) + float64(wrong.Load())
		e.point(fmt.Sprintf("K=%d", k), map[string]float64{"k": float64(k), "nodes": float64(len(e.addrs)), "sockets": float64(total)}, m, samples, boolp(m["errors"] == 0))
	}
	return nil
}

// --- memory per room subscription ---------------------------------------

// runRoomMem: n clients on node 0, each then joins a room of its own.
// The point reports the node's RSS (and Go heap or V8 heapUsed) and
// Redis's used_memory per room, after a forced GC on both sides of the
// joins, and the pub/sub channels Redis then holds.
func runRoomMem(e *env) error {
	n := 5000
	if e.quick {
		n = 1000
	}
	cs, fails := connectMany(e.ctx, e.nodeURL(0), 0, n, 200, &handlers{}, nil)
	if len(cs) < n {
		return fmt.Errorf("connected %d of %d (%d failed)", len(cs), n, fails)
	}
	rc, err := dialRedis(e.redisAddr)
	if err != nil {
		return err
	}
	defer rc.close()
	type reading struct {
		rss, heap, redis float64
		channels, shard  int
	}
	read := func() reading {
		time.Sleep(time.Second)
		e.gcNode(0)
		var r reading
		if v, err := procstat.RSS(e.pids[0]); err == nil {
			r.rss = float64(v)
		}
		st := e.statsOf(0)
		for _, k := range []string{"heapInuse", "heapUsed"} {
			if v, ok := st[k].(float64); ok && v > 0 {
				r.heap = v
			}
		}
		if v, err := rc.usedMemory(); err == nil {
			r.redis = float64(v)
		}
		r.channels, _ = rc.count("PUBSUB", "CHANNELS")
		r.shard, _ = rc.count("PUBSUB", "SHARDCHANNELS")
		return r
	}
	r0 := read()
	var jerr atomic.Int64
	parallel(200, n, func(i int) {
		c := cs[i]
		msg := fmt.Sprintf(`42%d["join","room-%d"]`, c.nextID.Add(1), i)
		if c.send([]byte(msg)) != nil || !c.waitAck(10*time.Second) {
			jerr.Add(1)
		}
	})
	if jerr.Load() > 0 {
		return fmt.Errorf("%d joins failed", jerr.Load())
	}
	r1 := read()
	m := map[string]float64{
		"rooms":                 float64(n),
		"node_rss_b_per_room":   (r1.rss - r0.rss) / float64(n),
		"node_heap_b_per_room":  (r1.heap - r0.heap) / float64(n),
		"redis_b_per_room":      (r1.redis - r0.redis) / float64(n),
		"channels_added":        float64(r1.channels - r0.channels),
		"shard_channels_added":  float64(r1.shard - r0.shard),
		"node_rss_mib_before":   r0.rss / (1 << 20),
		"node_rss_mib_after":    r1.rss / (1 << 20),
		"redis_used_mib_before": r0.redis / (1 << 20),
		"redis_used_mib_after":  r1.redis / (1 << 20),
	}
	if added := r1.channels + r1.shard - r0.channels - r0.shard; added > 0 {
		m["redis_b_per_channel"] = (r1.redis - r0.redis) / float64(added)
	}
	e.point(fmt.Sprintf("rooms=%d", n), map[string]float64{"rooms": float64(n)}, m, nil, nil)
	return nil
}

// --- emitter ---------------------------------------------------------------

// runEmitter: one receiver per node; the emitter command (-emitter) is run
// with -redis, -n, -conc, -epoch and -step and emits n events "b" as fast
// as its -conc window allows. emits_per_s is what the emitter reports
// (its own clock, first emit to last reply); e2e_emits_per_s counts from
// the start to the last delivery; the emitter's CPU is what it reports
// for its emitting loop.
func runEmitter(e *env) error {
	if e.emitter == "" || e.redisAddr == "" {
		return fmt.Errorf("emitter: -emitter and -redis are required")
	}
	nWarm, nMain, conc := 20000, 200000, 64
	if e.quick {
		nWarm, nMain = 5000, 30000
	}
	var rec recorder
	h := &handlers{event: func(_ *client, body []byte) {
		if bytes.HasPrefix(body, []byte(`["b",`)) {
			rec.stamped(body)
		}
	}}
	cs, err := e.connectSplit(0, len(e.addrs), h)
	if err != nil {
		return err
	}
	time.Sleep(time.Second)
	run := func(name string, n int, step int64) error {
		argv := strings.Fields(e.emitter)
		argv = append(argv, "-redis=redis://"+e.redisAddr, fmt.Sprintf("-n=%d", n), fmt.Sprintf("-conc=%d", conc),
			fmt.Sprintf("-epoch=%d", epoch.UnixMicro()), fmt.Sprintf("-step=%d", step), "-size=100")
		before, dropped, blocked := e.redisCommands(), e.droppedAll(), e.blockedAll()
		e.mark()
		t0 := now()
		cmd := exec.CommandContext(e.ctx, argv[0], argv[1:]...)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("emitter %v: %w", argv, err)
		}
		var rep struct {
			Emits   int     `json:"emits"`
			Errors  int     `json:"errors"`
			Seconds float64 `json:"seconds"`
			CPU     float64 `json:"cpuSeconds"`
		}
		if err := json.Unmarshal(lastLine(out), &rep); err != nil {
			return fmt.Errorf("emitter output %q: %w", out, err)
		}
		want := n * len(cs)
		got := rec.waitCount(int(step), want, time.Now().Add(20*time.Second))
		span := float64(rec.last.Load()-t0) / 1e6
		m := map[string]float64{"emits": float64(n), "delivered": float64(got) / float64(want), "errors": float64(rep.Errors)}
		if rep.Seconds > 0 {
			m["emits_per_s"] = float64(rep.Emits) / rep.Seconds
		}
		if span > 0 {
			m["e2e_emits_per_s"] = float64(got) / float64(len(cs)) / span
		}
		e.cpu(m)
		// The emitter's CPU while emitting, as it reports it (start-up
		// excluded); the whole process's from its rusage beside.
		if ps := cmd.ProcessState; ps != nil {
			m["emitter_process_cpu_s"] = (ps.UserTime() + ps.SystemTime()).Seconds()
		}
		if rep.CPU > 0 {
			m["emitter_cpu_s"] = rep.CPU
			m["emitter_cpu_us_per_emit"] = rep.CPU / float64(n) * 1e6
			if rep.Seconds > 0 {
				m["emitter_cpu"] = rep.CPU / rep.Seconds
			}
		}
		publishesPer(m, before, e.redisCommands(), n)
		m["adapter_dropped"] = e.droppedAll() - dropped
		m["adapter_blocked"] = e.blockedAll() - blocked
		var notes []string
		if got < want {
			notes = append(notes, fmt.Sprintf("only %d of %d delivered within 20 s", got, want))
		}
		samples := rec.take(int(step))
		e.point(name, map[string]float64{"emits": float64(n), "conc": float64(conc), "receivers": float64(len(cs))}, m, samples, boolp(got == want && rep.Errors == 0), notes...)
		rec.quiet(300*time.Millisecond, 5*time.Second)
		return nil
	}
	if err := run("warm-up", nWarm, 1); err != nil {
		return err
	}
	return run("saturated", nMain, 2)
}

// lastLine returns the last non-empty line of b.
func lastLine(b []byte) []byte {
	b = bytes.TrimRight(b, "\r\n ")
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return b
}

// --- connection state recovery across nodes ---------------------------------

// runRecover: N clients connect to node 0 with connection state recovery
// (the nodes run with -recovery, streams adapter), each keeping its pid
// and the offset of the last packet it got. A client of node 1 keeps
// sending "bcast" (each broadcast numbered in "s"). The N clients drop
// their transports at once (TCP close), missed broadcasts are sent, and
// the N clients reconnect to node 1 with {pid, offset}. recovery_s is the
// time from the first reconnect until every client has its CONNECT and
// all the broadcasts it missed; recovered is the fraction whose session
// came back (same sid), complete the fraction that got every missed
// packet, in order.
func runRecover(e *env) error {
	if len(e.addrs) < 2 {
		return fmt.Errorf("crecover: 2 nodes needed")
	}
	n, before, missed := 1000, 20, 100
	if e.quick {
		n = 200
	}
	type state struct {
		mu       sync.Mutex
		sid, pid string
		offset   string
		last     int64 // seq of the last broadcast received
		gaps     int   // broadcasts received out of order
		doneAt   int64 // µs: got the last missed broadcast
		target   int64
		reconnAt int64
	}
	st := make([]*state, n)
	for i := range st {
		st[i] = &state{}
	}
	var phaseDone atomic.Int64
	h := &handlers{event: func(c *client, body []byte) {
		if !bytes.HasPrefix(body, []byte(`["b",`)) || c.idx >= n {
			return
		}
		seq, ok := field(body, "s")
		if !ok {
			return
		}
		s := st[c.idx]
		s.mu.Lock()
		if seq != s.last+1 {
			s.gaps++
		}
		s.last = seq
		if off, ok := lastString(body); ok {
			s.offset = off
		}
		if s.target > 0 && seq == s.target && s.doneAt == 0 {
			s.doneAt = now()
			phaseDone.Add(1)
		}
		s.mu.Unlock()
	}}
	// The clients, on node 0.
	cs := make([]*client, n)
	var fails atomic.Int64
	parallel(100, n, func(i int) {
		c, reply, err := dialCSR(e.ctx, e.nodeURL(0), i, h, nil)
		if err != nil {
			if fails.Add(1) <= 3 {
				logf("dial %d: %v", i, err)
			}
			return
		}
		var r struct{ SID, PID string }
		if json.Unmarshal(reply, &r) != nil || r.PID == "" {
			logf("client %d: no pid in %q (is recovery on?)", i, reply)
		}
		st[i].sid, st[i].pid = r.SID, r.PID
		cs[i] = c
	})
	if f := fails.Load(); f > 0 {
		return fmt.Errorf("crecover: %d of %d clients failed to connect", f, n)
	}
	sender, _, err := dialWS(e.ctx, e.nodeURL(1), n, &handlers{})
	if err != nil {
		return err
	}
	defer sender.close()
	seq := int64(0)
	send := func(k int) error {
		var buf []byte
		for range k {
			seq++
			buf = append(append(buf[:0], `42["bcast",`...), payload(nil, now(), seq, 100)...)
			buf = append(buf, ']')
			if err := sender.send(buf); err != nil {
				return err
			}
			time.Sleep(time.Millisecond)
		}
		return nil
	}
	// Broadcasts everyone gets, so that every client has an offset.
	for _, s := range st {
		s.target = int64(before)
	}
	if err := send(before); err != nil {
		return err
	}
	waitUntil(func() bool { return phaseDone.Load() == int64(n) }, 20*time.Second)
	if got := phaseDone.Load(); got < int64(n) {
		return fmt.Errorf("crecover: only %d of %d clients got the first broadcasts", got, n)
	}
	// Every transport dropped, then broadcasts they miss.
	for _, c := range cs {
		c.close()
	}
	time.Sleep(500 * time.Millisecond)
	phaseDone.Store(0)
	for _, s := range st {
		s.mu.Lock()
		s.target, s.doneAt, s.gaps = int64(before+missed), 0, 0
		s.mu.Unlock()
	}
	if err := send(missed); err != nil {
		return err
	}
	time.Sleep(500 * time.Millisecond) // the stream holds them; node 1 delivered them to the sender
	// Reconnect to node 1 with {pid, offset}.
	e.mark()
	t0 := now()
	var recovered, failed atomic.Int64
	cs2 := make([]*client, n)
	parallel(100, n, func(i int) {
		s := st[i]
		s.mu.Lock()
		auth, _ := json.Marshal(map[string]string{"pid": s.pid, "offset": s.offset})
		s.reconnAt = now()
		s.mu.Unlock()
		c, reply, err := dialCSR(e.ctx, e.nodeURL(1), i, h, auth)
		if err != nil {
			failed.Add(1)
			return
		}
		cs2[i] = c
		var r struct{ SID string }
		if json.Unmarshal(reply, &r) == nil && r.SID == s.sid && s.sid != "" {
			recovered.Add(1)
		}
	})
	defer func() {
		for _, c := range cs2 {
			if c != nil {
				c.close()
			}
		}
	}()
	waitUntil(func() bool { return phaseDone.Load() >= recovered.Load() && recovered.Load() > 0 }, 20*time.Second)
	time.Sleep(200 * time.Millisecond) // late or duplicate packets
	complete, lastDone := 0, int64(0)
	var lat []uint32
	var incomplete string
	for i, s := range st {
		s.mu.Lock()
		if s.doneAt > 0 && s.gaps == 0 && s.last == int64(before+missed) {
			complete++
			lastDone = max(lastDone, s.doneAt)
			lat = append(lat, uint32(s.doneAt-s.reconnAt))
		} else if incomplete == "" {
			incomplete = fmt.Sprintf("client %d incomplete: last broadcast %d, %d out of order, done %v", i, s.last, s.gaps, s.doneAt > 0)
		}
		s.mu.Unlock()
	}
	m := map[string]float64{
		"recovered": float64(recovered.Load()) / float64(n),
		"complete":  float64(complete) / float64(n),
		"failed":    float64(failed.Load()),
	}
	if lastDone > 0 {
		m["recovery_s"] = float64(lastDone-t0) / 1e6
		m["recoveries_per_s"] = float64(complete) / m["recovery_s"]
	}
	e.cpu(m)
	pass := complete == n
	var notes []string
	if !pass {
		notes = append(notes, fmt.Sprintf("%d of %d recovered, %d complete, %d reconnects failed; %s", recovered.Load(), n, complete, failed.Load(), incomplete))
	}
	e.point(fmt.Sprintf("clients=%d", n), map[string]float64{"clients": float64(n), "missed": float64(missed)}, m, lat, boolp(pass), notes...)
	return nil
}

// waitUntil polls cond every 10 ms until it holds or d passes.
func waitUntil(cond func() bool, d time.Duration) {
	for deadline := time.Now().Add(d); !cond() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
}

// lastString returns the last element of a JSON array of which it is a
// string without escapes (the offset a server with recovery appends).
func lastString(b []byte) (string, bool) {
	b = bytes.TrimRight(b, " ]")
	if len(b) < 2 || b[len(b)-1] != '"' {
		return "", false
	}
	i := bytes.LastIndexByte(b[:len(b)-1], '"')
	if i < 0 {
		return "", false
	}
	return string(b[i+1 : len(b)-1]), true
}

// dialCSR is dialWS with an auth payload in the CONNECT packet (nil for
// none); it returns the JSON of the server's CONNECT reply.
func dialCSR(ctx context.Context, url string, idx int, h *handlers, auth []byte) (*client, []byte, error) {
	ws, err := dialRaw(ctx, dialContext, url)
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (*client, []byte, error) {
		ws.close()
		return nil, nil, err
	}
	_ = ws.nc.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, open, err := ws.readMessage(nil, readLimit)
	if err != nil {
		return fail(err)
	}
	if len(open) == 0 || open[0] != '0' {
		return fail(fmt.Errorf("unexpected open packet %q", open))
	}
	if err := ws.write(opText, append([]byte("40"), auth...)); err != nil {
		return fail(err)
	}
	// Events before the CONNECT reply (a recovered session's missed
	// packets come first, from Node and gosio alike) are handed to h after
	// it, as socket.io-client buffers them until it is connected.
	var early [][]byte
	for {
		_, m, err := ws.readMessage(nil, readLimit)
		if err != nil {
			return fail(err)
		}
		if bytes.HasPrefix(m, []byte("42")) {
			early = append(early, m[2:])
			continue
		}
		if bytes.HasPrefix(m, []byte("40")) {
			_ = ws.nc.SetReadDeadline(time.Time{})
			c := &client{idx: idx, ws: ws, h: h, ackCh: make(chan struct{}, 1)}
			if h.event != nil {
				for _, b := range early {
					h.event(c, b)
				}
			}
			go c.read()
			return c, m[2:], nil
		}
		if bytes.HasPrefix(m, []byte("44")) {
			return fail(fmt.Errorf("connect refused: %q", m))
		}
		if string(m) == "2" {
			_ = ws.write(opText, []byte("3"))
		}
	}
}

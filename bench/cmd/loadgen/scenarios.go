package main

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosio/gosio/bench/internal/procstat"
	"github.com/gosio/gosio/bench/internal/result"
)

var scenarios = map[string]func(*env) error{
	"idle":              runIdle,
	"echo":              runEcho,
	"bcast1k":           func(e *env) error { return runBcast(e, 1000, true) },
	"bcast10k":          func(e *env) error { return runBcast(e, 10000, true) },
	"bcast-machine":     func(e *env) error { return runBcast(e, 10000, false) },
	"rooms":             runRooms,
	"binary":            runBinary,
	"slow":              runSlow,
	"fastread":          runFastRead,
	"polling":           runPolling,
	"soak":              runSoak,
	"profile-echo":      runProfileEcho,
	"profile-bcast":     runProfileBcast,
	"profile-idle":      runProfileIdle,
	"profile-echo-open": runProfileEchoOpen,
}

func scenarioNames() []string { return slices.Sorted(maps.Keys(scenarios)) }

// A recorder collects exact latency samples per step; the step id travels
// in the payload's "s" field, so late arrivals land in their own step.
type recorder struct {
	sinks [64]sink
	last  atomic.Int64 // receive time of the latest sample
}

type sink struct {
	mu sync.Mutex
	v  []uint32
}

func (r *recorder) add(step, lat int64) {
	if step < 0 || step >= int64(len(r.sinks)) {
		return
	}
	s := &r.sinks[step]
	s.mu.Lock()
	s.v = append(s.v, uint32(max(lat, 0)))
	s.mu.Unlock()
	r.last.Store(now())
}

func (r *recorder) count(step int) int {
	s := &r.sinks[step]
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.v)
}

func (r *recorder) take(step int) []uint32 {
	s := &r.sinks[step]
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.v)
}

// stamped records a message carrying "t" and "s" into rec.
func (r *recorder) stamped(body []byte) {
	t, ok1 := field(body, "t")
	s, ok2 := field(body, "s")
	if ok1 && ok2 {
		r.add(s, now()-t)
	}
}

// waitCount waits until step has want samples or the deadline passes.
func (r *recorder) waitCount(step, want int, deadline time.Time) int {
	for {
		n := r.count(step)
		if n >= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// quiet waits until no sample arrived for d (at most max).
func (r *recorder) quiet(d, maxWait time.Duration) {
	end := time.Now().Add(maxWait)
	for time.Now().Before(end) {
		if now()-r.last.Load() > d.Microseconds() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// minSleep is the shortest wait of the open-loop sender. Arming a timer
// costs a system call that is slow on a virtual machine (~8 µs here, a
// third of the load generator's core at 40,000 sends/s when it slept once
// per send), so above 1/minSleep sends per second the sender wakes once
// per minSleep and sends what fell due meanwhile, each stamped with its
// own intended time: a send is then up to minSleep late, which counts in
// its latency as for every server.
var minSleep = 50 * time.Microsecond

// satBursts is how many bursts a broadcast scenario's saturated point
// sends; it reports their median.
const satBursts = 5

// schedule calls send(i, due) for i in [0, total) at the fixed rate, each
// at its intended time due (µs on the load generator's clock); it returns
// how far behind its schedule the sender fell at worst.
func schedule(rate float64, total int, send func(i int, due int64)) time.Duration {
	sl := newSleeper()
	defer sl.close()
	start := now()
	var worst int64
	for i := 0; i < total; {
		due := start + int64(float64(i)*1e6/rate)
		n := now()
		if n < due {
			sl.sleep(time.Duration(min(max(due-n, minSleep.Microseconds()), 1000)) * time.Microsecond)
			continue
		}
		worst = max(worst, n-due)
		send(i, due)
		i++
	}
	return time.Duration(worst) * time.Microsecond
}

// --- S1 + S2: idle memory per connection, and the connect storm --------

func runIdle(e *env) error {
	sizes := []int{1000, 5000, 10000, 19000}
	hold := 3 * time.Second
	if e.quick {
		sizes, hold = []int{1000, 5000}, 2*time.Second
	}
	var lost atomic.Int64
	h := &handlers{closed: func(*client, error) { lost.Add(1) }}
	e.gc()
	rss0, err := procstat.RSS(e.pid)
	if err != nil {
		return err
	}
	// Peak RSS while connecting.
	var peak atomic.Int64
	stop := make(chan struct{})
	go func() {
		for {
			if r, err := procstat.RSS(e.pid); err == nil && r > peak.Load() {
				peak.Store(r)
			}
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	defer close(stop)

	var all []*client
	var storm []uint32
	var stormDur time.Duration
	stormN := min(10000, sizes[len(sizes)-1])
	for _, n := range sizes {
		need := n - len(all)
		var hs []uint32
		e.mark()
		t0 := time.Now()
		cs, fails := connectMany(e.ctx, e.wsURL(), len(all), need, 200, h, func(d time.Duration) {
			hs = append(hs, uint32(d.Microseconds()))
		})
		dur := time.Since(t0)
		if len(all) < stormN {
			storm = append(storm, hs...)
			stormDur += dur
		}
		all = append(all, cs...)
		m := map[string]float64{"handshakes_per_s": float64(len(cs)) / dur.Seconds(), "failures": float64(fails)}
		e.cpu(m)
		time.Sleep(2 * time.Second)
		e.gc()
		st := e.stats()
		rss, _ := procstat.RSS(e.pid)
		m["rss_mib"] = float64(rss) / (1 << 20)
		m["rss0_mib"] = float64(rss0) / (1 << 20)
		m["peak_rss_mib"] = float64(peak.Load()) / (1 << 20)
		m["kib_per_conn"] = float64(rss-rss0) / float64(len(all)) / 1024
		if v, ok := st["conns"].(float64); ok {
			m["conns"] = v
		}
		for _, k := range []string{"heapInuse", "stackInuse", "heapUsed"} {
			if v, ok := st[k].(float64); ok && v > 0 {
				m[k+"_kib_per_conn"] = v / float64(len(all)) / 1024
			}
		}
		if v, ok := st["goroutines"].(float64); ok && v > 0 {
			m["goroutines_per_conn"] = v / float64(len(all))
		}
		var notes []string
		if fails > 0 {
			notes = append(notes, fmt.Sprintf("%d handshakes failed", fails))
		}
		e.point(fmt.Sprintf("N=%d", n), map[string]float64{"conns": float64(n)}, m, nil, nil, notes...)
		if len(cs) == 0 {
			return fmt.Errorf("no connection succeeded at N=%d", n)
		}
	}
	m := map[string]float64{"handshakes_per_s": float64(len(storm)) / stormDur.Seconds()}
	e.point(fmt.Sprintf("storm N=%d", stormN), map[string]float64{"conns": float64(stormN), "concurrency": 200}, m, storm, nil)

	// Hold: idle CPU (heartbeat cost) and connections lost.
	e.mark()
	time.Sleep(hold)
	m = map[string]float64{"lost": float64(lost.Load())}
	e.cpu(m)
	m["conns"] = e.statNum("conns")
	e.point("hold", map[string]float64{"conns": float64(len(all)), "seconds": hold.Seconds()}, m, nil, nil)
	return nil
}

// --- S3: ack echo -------------------------------------------------------

func echoFrame(buf []byte, c *client, t, s int64, size int) []byte {
	buf = append(buf[:0], "42"...)
	buf = strconv.AppendUint(buf, c.nextID.Add(1), 10)
	buf = append(buf, `["echo",`...)
	buf = payload(buf, t, s, size)
	return append(buf, ']')
}

// closedLoop runs k workers, worker i on cs[i%len(cs)], each sending one
// request and waiting for its answer; it returns the samples of requests
// sent in [warm, warm+dur) and the error count.
func closedLoop(e *env, k int, warm, dur time.Duration, m map[string]float64, do func(w int, t int64) bool) ([]uint32, int) {
	var mu sync.Mutex
	var samples []uint32
	var errs atomic.Int64
	var stop atomic.Bool
	start := now() + warm.Microseconds()
	end := start + dur.Microseconds()
	var wg sync.WaitGroup
	for w := range k {
		wg.Go(func() {
			var local []uint32
			for !stop.Load() {
				t := now()
				if !do(w, t) {
					errs.Add(1)
					continue
				}
				if t >= start && t < end {
					local = append(local, uint32(now()-t))
				}
			}
			mu.Lock()
			samples = append(samples, local...)
			mu.Unlock()
		})
	}
	time.Sleep(warm)
	e.mark()
	time.Sleep(dur)
	e.cpu(m)
	stop.Store(true)
	wg.Wait()
	return samples, int(errs.Load())
}

func runEcho(e *env) error {
	conns, dur, stepDur := 1000, 4*time.Second, 5*time.Second
	points := []struct{ k, size int }{{1, 32}, {100, 32}, {1000, 32}, {100, 1024}, {100, 16384}}
	rates := []float64{2000, 5000, 10000, 20000, 40000, 80000}
	if e.quick {
		conns, dur, stepDur = 200, 2*time.Second, 2*time.Second
		points = points[1:2]
		points[0].size = 1024
		rates = []float64{2000, 5000, 10000, 20000}
	}
	var rec recorder
	h := &handlers{ack: func(_ *client, body []byte) {
		if s, ok := field(body, "s"); ok && s > 0 {
			rec.stamped(body)
		}
	}}
	cs, fails := connectMany(e.ctx, e.wsURL(), 0, conns, 200, h, nil)
	if len(cs) < conns {
		return fmt.Errorf("connected %d of %d (%d failed)", len(cs), conns, fails)
	}
	// A warm-up before the first point, thrown away: V8 compiles the
	// server's hot path in its first seconds, and a 1 s warm-up per point
	// left Node's first closed-loop points below its steady rate.
	if !e.quick {
		bufs := make([][]byte, 100)
		closedLoop(e, 100, 0, 3*time.Second, map[string]float64{}, func(w int, t int64) bool {
			c := cs[w%len(cs)]
			bufs[w] = echoFrame(bufs[w], c, t, 0, 32)
			if c.send(bufs[w]) != nil {
				time.Sleep(10 * time.Millisecond)
				return false
			}
			return c.waitAck(5 * time.Second)
		})
	}
	for _, pt := range points {
		bufs := make([][]byte, pt.k)
		m := map[string]float64{}
		samples, errs := closedLoop(e, pt.k, time.Second, dur, m, func(w int, t int64) bool {
			c := cs[w%len(cs)]
			bufs[w] = echoFrame(bufs[w], c, t, 0, pt.size)
			if c.send(bufs[w]) != nil {
				time.Sleep(10 * time.Millisecond)
				return false
			}
			return c.waitAck(5 * time.Second)
		})
		m["acks_per_s"] = float64(len(samples)) / dur.Seconds()
		m["errors"] = float64(errs)
		if m["server_cpu"] > 0 {
			m["cpu_s_per_1k"] = m["server_cpu"] * dur.Seconds() / (float64(len(samples)) / 1000)
		}
		e.point(fmt.Sprintf("closed K=%d size=%d", pt.k, pt.size), map[string]float64{"k": float64(pt.k), "size": float64(pt.size)}, m, samples, nil)
	}
	// Open loop: fixed offered rates, latency from the intended send time.
	var buf []byte
	for i, rate := range rates {
		step := i + 1
		// At least 20,000 samples and 5 s a step, so that p99 is not
		// decided by a handful of samples and a step spans the servers'
		// periodic pauses (V8's mark-compact comes every few seconds).
		secs := max(stepDur.Seconds(), 20000/rate)
		total := int(rate * secs)
		e.mark()
		lag := schedule(rate, total, func(j int, due int64) {
			c := cs[j%len(cs)]
			buf = echoFrame(buf, c, due, int64(step), 32)
			_ = c.send(buf)
		})
		got := rec.waitCount(step, total, time.Now().Add(2*time.Second))
		m := map[string]float64{"rate": rate, "delivered": float64(got) / float64(total), "acks_per_s": float64(got) / secs, "sender_lag_ms": float64(lag.Microseconds()) / 1000}
		e.cpu(m)
		samples := rec.take(step)
		result.LatencyMetrics(slices.Clone(samples), m)
		pass := got == total && m["p99_ms"] <= 250
		var notes []string
		if lag > 50*time.Millisecond {
			notes = append(notes, fmt.Sprintf("sender fell %v behind schedule", lag.Round(time.Millisecond)))
		}
		e.point(fmt.Sprintf("open rate=%.0f", rate), map[string]float64{"rate": rate, "size": 32}, m, samples, boolp(pass), notes...)
		if !pass {
			break
		}
		rec.quiet(300*time.Millisecond, 3*time.Second)
	}
	return nil
}

// --- S4: broadcast fan-out ---------------------------------------------

// warmUp sends 2 s of broadcasts at rate from pub, excluded from the
// results (JIT, pools, TCP windows), and waits for them to drain.
func warmUp(rec *recorder, pub *client, frame func(t, s int64) []byte, rate float64) {
	warmStep := int64(len(rec.sinks) - 2)
	schedule(rate, int(rate*2), func(_ int, due int64) { _ = pub.send(frame(due, warmStep)) })
	rec.quiet(300*time.Millisecond, 3*time.Second)
}

// bcastLadder offers broadcasts from pub at each rate in turn, for
// stepDur each, until a step loses a delivery or its p99 passes 250 ms;
// it records each step and the max sustainable deliveries/s (with the
// latencies at 10 broadcasts/s).
func bcastLadder(e *env, rec *recorder, pub *client, frame func(t, s int64) []byte, rates []float64, stepDur time.Duration, cs []*client, size int) {
	best := 0.0
	var at10 *result.Point
	for i, rate := range rates {
		step := i + 1
		total := int(math.Max(1, rate*stepDur.Seconds()))
		e.mark()
		lag := schedule(rate, total, func(_ int, due int64) { _ = pub.send(frame(due, int64(step))) })
		want := total * len(cs)
		got := rec.waitCount(step, want, time.Now().Add(2*time.Second))
		m := map[string]float64{"rate": rate, "offered_deliveries_per_s": rate * float64(len(cs)), "delivered": float64(got) / float64(want), "sender_lag_ms": float64(lag.Microseconds()) / 1000}
		if cpu := e.cpu(m); cpu > 0 && got > 0 {
			m["cpu_s_per_1M"] = cpu / (float64(got) / 1e6)
		}
		samples := rec.take(step)
		result.LatencyMetrics(slices.Clone(samples), m)
		pass := got == want && m["p99_ms"] <= 250
		if pass {
			best = rate * float64(len(cs))
		}
		e.point(fmt.Sprintf("rate=%g", rate), map[string]float64{"rate": rate, "receivers": float64(len(cs)), "size": float64(size)}, m, samples, boolp(pass))
		if rate == 10 {
			at10 = &e.res.Points[len(e.res.Points)-1]
		}
		if !pass {
			break
		}
		rec.quiet(300*time.Millisecond, 3*time.Second)
	}
	m := map[string]float64{"deliveries_per_s": best}
	if at10 != nil {
		for _, k := range []string{"p50_ms", "p99_ms", "max_ms"} {
			m[k+"_at10"] = at10.M[k]
		}
	}
	e.point("max sustainable", map[string]float64{"receivers": float64(len(cs))}, m, nil, nil)
	rec.quiet(500*time.Millisecond, 10*time.Second)
}

func runBcast(e *env, n int, ladder bool) error {
	size := 100
	rates := []float64{10, 20, 50, 100, 200, 500, 1000}
	if n >= 10000 {
		rates = []float64{1, 2, 5, 10, 20, 50, 100}
	}
	stepDur := 2 * time.Second
	if e.quick {
		n, stepDur = min(n, 1000), time.Second
		rates = []float64{10, 20, 50, 100, 200}
	}
	var rec recorder
	h := &handlers{event: func(_ *client, body []byte) {
		if bytes.HasPrefix(body, []byte(`["b",`)) {
			rec.stamped(body)
		}
	}}
	cs, fails := connectMany(e.ctx, e.wsURL(), 0, n, 200, h, nil)
	if len(cs) < n {
		return fmt.Errorf("connected %d of %d (%d failed)", len(cs), n, fails)
	}
	time.Sleep(time.Second)
	pub := cs[0]
	var buf []byte
	frame := func(t, s int64) []byte {
		buf = append(buf[:0], `42["bcast",`...)
		buf = payload(buf, t, s, size-8)
		return append(buf, ']')
	}
	// Warm-up (JIT, pools, TCP windows), excluded: 2 s at the first rate.
	warmUp(&rec, pub, frame, rates[0])
	if ladder {
		bcastLadder(e, &rec, pub, frame, rates, stepDur, cs, size)
	}
	// Saturation: bursts sent back to back; a burst's throughput is its
	// deliveries over the time from its first send to its last delivery,
	// and the point's is the median of satBursts bursts.
	const satStep = 63
	// 600,000 deliveries: a burst of 200,000 lasted 0.2 s to 1k receivers
	// and about 1 s to 10k, short enough for one GC cycle or one slice of
	// another process to move the figure by a third. Even at 600,000 one
	// burst to 1k receivers (about 0.2 s) spread 40-55 % between
	// repetitions, hence the median of several.
	burst := max(20, 600_000/len(cs))
	bursts := satBursts
	if e.quick {
		burst, bursts = max(20, 50_000/len(cs)), 1
	}
	want := burst * len(cs)
	e.mark()
	burstRates := make([]float64, 0, bursts)
	got := 0
	var selfBusy, srvBusy, busyWall float64 // CPU seconds during the bursts
	for i := range bursts {
		if i > 0 {
			rec.quiet(100*time.Millisecond, 2*time.Second)
		}
		before := rec.count(satStep)
		self0, srv0, w0 := e.cpuNow()
		t0 := now()
		for range burst {
			_ = pub.send(frame(now(), satStep))
		}
		n := rec.waitCount(satStep, before+want, time.Now().Add(40*time.Second)) - before
		self1, srv1, w1 := e.cpuNow()
		selfBusy, srvBusy, busyWall = selfBusy+self1-self0, srvBusy+srv1-srv0, busyWall+w1.Sub(w0).Seconds()
		got += n
		burstRates = append(burstRates, float64(n)/(float64(rec.last.Load()-t0)/1e6))
		if n < want {
			break
		}
	}
	slices.Sort(burstRates)
	m := map[string]float64{
		"burst": float64(burst), "bursts": float64(len(burstRates)),
		"delivered":        float64(got) / float64(want*len(burstRates)),
		"deliveries_per_s": burstRates[len(burstRates)/2],
		"burst_min_per_s":  burstRates[0], "burst_max_per_s": burstRates[len(burstRates)-1],
	}
	if cpu := e.cpu(m); cpu > 0 && got > 0 {
		m["cpu_s_per_1M"] = cpu / (float64(got) / 1e6)
	}
	if busyWall > 0 {
		// While the bursts ran, not over the pauses between them (what
		// tells a load-generator bound point).
		m["loadgen_cpu"] = selfBusy / busyWall
		if e.pid > 0 {
			m["server_cpu"] = srvBusy / busyWall
		}
	}
	var notes []string
	if got < want*len(burstRates) {
		notes = append(notes, fmt.Sprintf("only %d of %d delivered within 40 s", got, want*len(burstRates)))
	}
	e.point("saturated", map[string]float64{"receivers": float64(len(cs)), "size": float64(size)}, m, rec.take(satStep), nil, notes...)
	return nil
}

// --- S5: room fan-out ---------------------------------------------------

func runRooms(e *env) error {
	n, roomSize := 10000, 10
	rates := []float64{1, 5, 10, 20}
	stepDur := 2 * time.Second
	if e.quick {
		n, rates = 2000, []float64{1, 5, 10}
	}
	var rec recorder
	h := &handlers{event: func(_ *client, body []byte) {
		if bytes.HasPrefix(body, []byte(`["b",`)) {
			rec.stamped(body)
		}
	}}
	cs, fails := connectMany(e.ctx, e.wsURL(), 0, n, 200, h, nil)
	if len(cs) < n {
		return fmt.Errorf("connected %d of %d (%d failed)", len(cs), n, fails)
	}
	rooms := n / roomSize
	// Join: client i joins room i/roomSize, acknowledged.
	var jerr atomic.Int64
	parallel(200, n, func(i int) {
		c := cs[i]
		msg := fmt.Sprintf(`42%d["join","r%d"]`, c.nextID.Add(1), i/roomSize)
		if c.send([]byte(msg)) != nil || !c.waitAck(10*time.Second) {
			jerr.Add(1)
		}
	})
	if jerr.Load() > 0 {
		return fmt.Errorf("%d joins failed", jerr.Load())
	}
	var buf []byte
	roomFrame := func(room int, due, step int64) []byte {
		buf = append(buf[:0], `42["room","r`...)
		buf = strconv.AppendInt(buf, int64(room), 10)
		buf = append(buf, `",`...)
		buf = payload(buf, due, step, 80)
		return append(buf, ']')
	}
	// Warm-up, excluded: 2 s at the first rate.
	warmStep := int64(len(rec.sinks) - 2)
	schedule(rates[0]*float64(rooms), int(rates[0]*float64(rooms)*2), func(j int, due int64) {
		_ = cs[(j%rooms)*roomSize].send(roomFrame(j%rooms, due, warmStep))
	})
	rec.quiet(300*time.Millisecond, 3*time.Second)
	best := 0.0
	for i, rate := range rates {
		step := i + 1
		total := int(rate * float64(rooms) * stepDur.Seconds())
		e.mark()
		lag := schedule(rate*float64(rooms), total, func(j int, due int64) {
			room := j % rooms
			_ = cs[room*roomSize].send(roomFrame(room, due, int64(step)))
		})
		want := total * roomSize
		got := rec.waitCount(step, want, time.Now().Add(2*time.Second))
		m := map[string]float64{"rate": rate, "offered_deliveries_per_s": rate * float64(rooms*roomSize), "delivered": float64(got) / float64(want), "sender_lag_ms": float64(lag.Microseconds()) / 1000}
		if cpu := e.cpu(m); cpu > 0 && got > 0 {
			m["cpu_s_per_1M"] = cpu / (float64(got) / 1e6)
		}
		samples := rec.take(step)
		result.LatencyMetrics(slices.Clone(samples), m)
		pass := got == want && m["p99_ms"] <= 250
		if pass {
			best = m["offered_deliveries_per_s"]
		}
		var notes []string
		if lag > 50*time.Millisecond {
			notes = append(notes, fmt.Sprintf("sender fell %v behind schedule", lag.Round(time.Millisecond)))
		}
		e.point(fmt.Sprintf("rate=%g/room", rate), map[string]float64{"rate": rate, "rooms": float64(rooms), "room_size": float64(roomSize)}, m, samples, boolp(pass), notes...)
		if !pass {
			break
		}
		rec.quiet(300*time.Millisecond, 3*time.Second)
	}
	e.point("max sustainable", map[string]float64{"rooms": float64(rooms)}, map[string]float64{"deliveries_per_s": best}, nil, nil)
	return nil
}

// --- S6: binary echo ----------------------------------------------------

func runBinary(e *env) error {
	conns, dur := 100, 3*time.Second
	sizes := []int{1024, 65536}
	if e.quick {
		dur = 2 * time.Second
	}
	var bad atomic.Int64
	var want atomic.Int64
	h := &handlers{binAck: func(_ *client, header, attach []byte) {
		if len(attach) != int(want.Load()) || !bytes.Contains(header, []byte(`"_placeholder":true`)) {
			bad.Add(1)
		}
	}}
	cs, fails := connectMany(e.ctx, e.wsURL(), 0, conns, 100, h, nil)
	if len(cs) < conns {
		return fmt.Errorf("connected %d of %d (%d failed)", len(cs), conns, fails)
	}
	for _, size := range sizes {
		want.Store(int64(size))
		bad.Store(0)
		blob := bytes.Repeat([]byte{0xA5}, size)
		bufs := make([][]byte, conns)
		m := map[string]float64{}
		samples, errs := closedLoop(e, conns, time.Second, dur, m, func(w int, t int64) bool {
			c := cs[w]
			b := append(bufs[w][:0], "451-"...)
			b = strconv.AppendUint(b, c.nextID.Add(1), 10)
			b = append(b, `["echo",{"t":`...)
			b = strconv.AppendInt(b, t, 10)
			b = append(b, `},{"_placeholder":true,"num":0}]`...)
			bufs[w] = b
			if c.send(b) != nil || c.sendBinary(blob) != nil {
				time.Sleep(10 * time.Millisecond)
				return false
			}
			return c.waitAck(5 * time.Second)
		})
		acks := float64(len(samples)) / dur.Seconds()
		m["acks_per_s"] = acks
		m["mb_per_s"] = acks * float64(size) / 1e6
		m["errors"] = float64(errs) + float64(bad.Load())
		e.point(fmt.Sprintf("K=%d size=%d", conns, size), map[string]float64{"k": float64(conns), "size": float64(size)}, m, samples, boolp(m["errors"] == 0))
	}
	return nil
}

// --- S7: slow consumers -------------------------------------------------

func runSlow(e *env) error {
	n, slow, rate, size := 200, 10, 100.0, 4096
	base, phase := 4*time.Second, 20*time.Second
	if e.quick {
		base, phase = 3*time.Second, 10*time.Second
	}
	var rec recorder
	h := &handlers{event: func(c *client, body []byte) {
		if c.idx < n-slow && bytes.HasPrefix(body, []byte(`["b",`)) {
			rec.stamped(body)
		}
	}}
	healthy := n - slow
	cs, fails := connectMany(e.ctx, e.wsURL(), 0, healthy, 100, h, nil)
	for i := range slow {
		c, _, err := dialWSWith(e.ctx, smallBufDial, e.wsURL(), healthy+i, h)
		if err != nil {
			return err
		}
		cs = append(cs, c)
	}
	if len(cs) < n {
		return fmt.Errorf("connected %d of %d (%d failed)", len(cs), n, fails)
	}
	pub := cs[0]
	var buf []byte
	send := func(step int64) func(int, int64) {
		return func(_ int, due int64) {
			buf = append(buf[:0], `42["bcast",`...)
			buf = payload(buf, due, step, size)
			_ = pub.send(append(buf, ']'))
		}
	}
	// Baseline: everyone reads.
	total := int(rate * base.Seconds())
	schedule(rate, total, send(1))
	got := rec.waitCount(1, total*healthy, time.Now().Add(2*time.Second))
	mb := map[string]float64{"delivered": float64(got) / float64(total*healthy)}
	baseline := rec.take(1)
	result.LatencyMetrics(slices.Clone(baseline), mb)
	e.point("baseline", map[string]float64{"receivers": float64(n), "rate": rate, "size": float64(size)}, mb, baseline, nil)

	// Slow phase: the slow clients stop reading.
	for _, c := range cs[healthy:] {
		c.pause()
	}
	type rssAt struct{ t, mib float64 }
	var rss []rssAt
	firstDrop, allDropped := -1.0, -1.0
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	c0 := e.statNum("conns")
	t0 := time.Now()
	sampler.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
			}
			el := time.Since(t0).Seconds()
			if r, err := procstat.RSS(e.pid); err == nil {
				rss = append(rss, rssAt{el, float64(r) / (1 << 20)})
			}
			c := e.statNum("conns")
			if c < c0 && firstDrop < 0 {
				firstDrop = el
			}
			if c <= c0-float64(slow) && allDropped < 0 {
				allDropped = el
			}
		}
	})
	e.mark()
	total = int(rate * phase.Seconds())
	schedule(rate, total, send(2))
	got = rec.waitCount(2, total*healthy, time.Now().Add(2*time.Second))
	close(stop)
	sampler.Wait()
	m := map[string]float64{"delivered": float64(got) / float64(total*healthy)}
	e.cpu(m)
	samples := rec.take(2)
	result.LatencyMetrics(slices.Clone(samples), m)
	m["p99_vs_baseline"] = m["p99_ms"] / mb["p99_ms"]
	m["slow_disconnect_first_s"] = firstDrop
	m["slow_disconnect_all_s"] = allDropped
	if len(rss) >= 2 {
		// Least-squares slope of RSS over the phase, MiB per minute.
		var st, sm, stt, stm float64
		for _, r := range rss {
			st, sm, stt, stm = st+r.t, sm+r.mib, stt+r.t*r.t, stm+r.t*r.mib
		}
		k := float64(len(rss))
		m["rss_slope_mib_per_min"] = 60 * (k*stm - st*sm) / (k*stt - st*st)
		m["rss_start_mib"], m["rss_end_mib"] = rss[0].mib, rss[len(rss)-1].mib
		for _, r := range rss {
			m["rss_max_mib"] = math.Max(m["rss_max_mib"], r.mib)
		}
	}
	pass := m["p99_vs_baseline"] <= 2 && m["delivered"] >= 0.999
	var notes []string
	if allDropped < 0 {
		notes = append(notes, "slow clients were not disconnected during the phase")
	}
	e.point("slow phase", map[string]float64{"receivers": float64(n), "slow": float64(slow), "rate": rate, "size": float64(size), "seconds": phase.Seconds()}, m, samples, boolp(pass), notes...)
	return nil
}

// --- S7, fast readers: unpaced large broadcasts --------------------------

// runFastRead is the other half of S7 (issue 17 item 2): a slow-consumer
// policy must cut clients that do not read and never clients that read.
// Each burst is sent back to back, unpaced, by one of the receivers, and
// every receiver reads as fast as it can. Per burst: the fraction
// delivered, the time from the first send to the last delivery, and how
// many receivers the server disconnected.
func runFastRead(e *env) error {
	n, size := 10, 10_000
	bursts := []int{200, 2000}
	var rec recorder
	h := &handlers{event: func(_ *client, body []byte) {
		if bytes.HasPrefix(body, []byte(`["b",`)) {
			rec.stamped(body)
		}
	}}
	cs, fails := connectMany(e.ctx, e.wsURL(), 0, n, n, h, nil)
	if len(cs) < n {
		return fmt.Errorf("connected %d of %d (%d failed)", len(cs), n, fails)
	}
	time.Sleep(500 * time.Millisecond)
	pub := cs[0]
	var buf []byte
	for i, burst := range bursts {
		step := i + 1
		want := burst * n
		deadBefore := countDead(cs)
		e.mark()
		t0 := now()
		var sendErr error
		for range burst {
			buf = append(buf[:0], `42["bcast",`...)
			buf = payload(buf, now(), int64(step), size)
			if sendErr = pub.send(append(buf, ']')); sendErr != nil {
				break
			}
		}
		sent := now()
		got := waitDelivered(&rec, step, want, 2*time.Second, time.Now().Add(30*time.Second))
		m := map[string]float64{
			"burst":        float64(burst),
			"delivered":    float64(got) / float64(want),
			"send_s":       float64(sent-t0) / 1e6,
			"deliver_s":    -1,
			"disconnected": float64(countDead(cs) - deadBefore),
		}
		if got > 0 {
			span := float64(rec.last.Load()-t0) / 1e6
			m["deliver_s"] = span
			m["mb_per_s"] = float64(got) * float64(size) / span / 1e6
		}
		e.cpu(m)
		var notes []string
		if got < want {
			notes = append(notes, fmt.Sprintf("burst of %d: %d of %d delivered", burst, got, want))
		}
		if d := m["disconnected"]; d > 0 {
			notes = append(notes, fmt.Sprintf("burst of %d: the server disconnected %g of %d readers", burst, d, n))
		}
		if sendErr != nil {
			notes = append(notes, fmt.Sprintf("burst of %d: sending failed: %v", burst, sendErr))
		}
		e.point(fmt.Sprintf("fast readers %d x %d B", burst, size), map[string]float64{"receivers": float64(n), "burst": float64(burst), "size": float64(size)},
			m, rec.take(step), boolp(got == want && m["disconnected"] == 0), notes...)
		rec.quiet(300*time.Millisecond, 3*time.Second)
	}
	return nil
}

// countDead returns how many of cs have lost their connection.
func countDead(cs []*client) int {
	k := 0
	for _, c := range cs {
		if c.dead.Load() {
			k++
		}
	}
	return k
}

// waitDelivered waits until step has want samples, no sample arrived for
// stall, or the deadline passes, and returns the count.
func waitDelivered(rec *recorder, step, want int, stall time.Duration, deadline time.Time) int {
	start := now()
	for {
		k := rec.count(step)
		idle := now() - max(rec.last.Load(), start)
		if k >= want || idle > stall.Microseconds() || time.Now().After(deadline) {
			return k
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// --- S8: polling clients ------------------------------------------------

func runPolling(e *env) error {
	n, k, dur, bcasts := 1000, 100, 4*time.Second, 5
	if e.quick {
		n, dur, bcasts = 200, 2*time.Second, 3
	}
	var rec recorder
	var lost atomic.Int64
	h := &handlers{
		event: func(_ *client, body []byte) {
			if bytes.HasPrefix(body, []byte(`["b",`)) {
				rec.stamped(body)
			}
		},
		closed: func(*client, error) { lost.Add(1) },
	}
	ps := make([]*pclient, n)
	var ferr atomic.Int64
	parallel(100, n, func(i int) {
		p, _, err := dialPolling(e.ctx, e.pollURL(), i, h)
		if err != nil {
			if ferr.Add(1) <= 3 {
				logf("polling dial: %v", err)
			}
			return
		}
		ps[i] = p
	})
	ps = slices.DeleteFunc(ps, func(p *pclient) bool { return p == nil })
	if len(ps) < n {
		return fmt.Errorf("connected %d of %d polling clients", len(ps), n)
	}
	bufs := make([][]byte, k)
	r0 := httpRequests.Load()
	m := map[string]float64{}
	samples, errs := closedLoop(e, k, time.Second, dur, m, func(w int, t int64) bool {
		p := ps[w%len(ps)]
		b := append(bufs[w][:0], "42"...)
		b = strconv.AppendInt(b, int64(w+1), 10)
		b = append(b, `["echo",`...)
		b = payload(b, t, 0, 32)
		bufs[w] = append(b, ']')
		if p.send(bufs[w]) != nil {
			time.Sleep(10 * time.Millisecond)
			return false
		}
		select {
		case <-p.ackCh:
			return true
		case <-time.After(5 * time.Second):
			return false
		}
	})
	reqs := httpRequests.Load() - r0
	m["acks_per_s"] = float64(len(samples)) / dur.Seconds()
	m["http_req_per_s"] = float64(reqs) / (dur + time.Second).Seconds()
	m["errors"] = float64(errs) + float64(lost.Load())
	e.point(fmt.Sprintf("echo K=%d", k), map[string]float64{"clients": float64(len(ps)), "k": float64(k)}, m, samples, boolp(m["errors"] == 0))

	// Broadcast at 1/s to every polling client.
	var buf []byte
	e.mark()
	schedule(1, bcasts, func(_ int, due int64) {
		buf = append(buf[:0], `42["bcast",`...)
		buf = payload(buf, due, 1, 92)
		_ = ps[0].send(append(buf, ']'))
	})
	want := bcasts * len(ps)
	got := rec.waitCount(1, want, time.Now().Add(3*time.Second))
	mb := map[string]float64{"delivered": float64(got) / float64(want)}
	e.cpu(mb)
	e.point("broadcast 1/s", map[string]float64{"clients": float64(len(ps))}, mb, rec.take(1), boolp(got == want))
	return nil
}

// --- S10: soak (manual) -------------------------------------------------

func runSoak(e *env) error {
	n, dur := 5000, 10*time.Minute
	if e.quick {
		n, dur = 1000, time.Minute
	}
	var rec recorder
	h := &handlers{
		event: func(c *client, body []byte) {
			if c.idx == 1 && bytes.HasPrefix(body, []byte(`["b",`)) {
				rec.stamped(body) // one receiver's view is enough for drift
			}
		},
		ack: func(_ *client, body []byte) { rec.stamped(body) },
	}
	cs, fails := connectMany(e.ctx, e.wsURL(), 0, n, 200, h, nil)
	if len(cs) < n {
		return fmt.Errorf("connected %d of %d (%d failed)", len(cs), n, fails)
	}
	minutes := int(dur / time.Minute)
	var buf, ebuf []byte
	for minute := 1; minute <= minutes; minute++ {
		e.mark()
		// 10 broadcasts/s and 100 acks/s for one minute, interleaved.
		schedule(110, 110*60, func(j int, due int64) {
			if j%11 == 0 {
				buf = append(buf[:0], `42["bcast",`...)
				buf = payload(buf, due, int64(minute), 92)
				_ = cs[0].send(append(buf, ']'))
				return
			}
			c := cs[2+j%(n-2)]
			ebuf = echoFrame(ebuf, c, due, int64(minute), 32)
			_ = c.send(ebuf)
		})
		e.gc()
		m := map[string]float64{"minute": float64(minute)}
		e.cpu(m)
		rss, _ := procstat.RSS(e.pid)
		m["rss_mib"] = float64(rss) / (1 << 20)
		if g := e.statNum("goroutines"); g > 0 {
			m["goroutines"] = g
		}
		m["conns"] = e.statNum("conns")
		e.point(fmt.Sprintf("minute %d", minute), map[string]float64{"minute": float64(minute)}, m, rec.take(minute), nil)
	}
	return nil
}

// --- profiling helpers (not part of the comparison) -----------------------

// runProfileEcho holds the S3 closed loop (K=100, 32 B, 1,000 clients) for
// 15 s, long enough to take a CPU profile of the server.
func runProfileEcho(e *env) error {
	cs, _ := connectMany(e.ctx, e.wsURL(), 0, 1000, 200, &handlers{}, nil)
	bufs := make([][]byte, 100)
	m := map[string]float64{}
	samples, errs := closedLoop(e, 100, time.Second, 15*time.Second, m, func(w int, t int64) bool {
		c := cs[w]
		bufs[w] = echoFrame(bufs[w], c, t, 0, e.size)
		if c.send(bufs[w]) != nil {
			return false
		}
		return c.waitAck(5 * time.Second)
	})
	m["acks_per_s"] = float64(len(samples)) / 15
	m["errors"] = float64(errs)
	e.point(fmt.Sprintf("closed K=100 size=%d", e.size), nil, m, samples, nil)
	return nil
}

// runProfileBcast sends saturating bursts to 10,000 receivers (-receivers)
// for about 15 s.
func runProfileBcast(e *env) error {
	var rec recorder
	h := &handlers{event: func(_ *client, body []byte) {
		if bytes.HasPrefix(body, []byte(`["b",`)) {
			rec.stamped(body)
		}
	}}
	cs, _ := connectMany(e.ctx, e.wsURL(), 0, max(1, e.recv), 200, h, nil)
	var buf []byte
	e.mark()
	t0 := now()
	sent := 0
	for time.Since(epoch) < time.Duration(t0)*time.Microsecond+15*time.Second {
		for range max(1, e.burst) {
			buf = append(buf[:0], `42["bcast",`...)
			buf = payload(buf, now(), 1, 92)
			_ = cs[0].send(append(buf, ']'))
			sent++
		}
		rec.waitCount(1, sent*len(cs), time.Now().Add(10*time.Second))
	}
	m := map[string]float64{"deliveries_per_s": float64(rec.count(1)) / (float64(now()-t0) / 1e6)}
	e.cpu(m)
	e.point("saturated", nil, m, nil, nil)
	return nil
}

// runProfileIdle holds 10,000 idle WebSocket clients for 20 s, for a heap
// profile of the server.
func runProfileIdle(e *env) error {
	cs, fails := connectMany(e.ctx, e.wsURL(), 0, 10000, 200, &handlers{}, nil)
	e.gc()
	m := map[string]float64{"conns": float64(len(cs)), "failures": float64(fails)}
	st := e.stats()
	for k, v := range st {
		if f, ok := v.(float64); ok {
			m[k] = f
		}
	}
	e.point("idle N=10000", nil, m, nil, nil)
	time.Sleep(20 * time.Second)
	return nil
}

// runProfileEchoOpen offers 40,000 acks/s open loop to 1,000 clients for
// 15 s (the S3 step where gosio's p99 exceeded Node's).
func runProfileEchoOpen(e *env) error {
	var rec recorder
	h := &handlers{ack: func(_ *client, body []byte) { rec.stamped(body) }}
	cs, _ := connectMany(e.ctx, e.wsURL(), 0, 1000, 200, h, nil)
	var buf []byte
	total := int(e.rate * 15)
	e.mark()
	lag := schedule(e.rate, total, func(j int, due int64) {
		c := cs[j%len(cs)]
		buf = echoFrame(buf, c, due, 1, 32)
		_ = c.send(buf)
	})
	got := rec.waitCount(1, total, time.Now().Add(2*time.Second))
	m := map[string]float64{"delivered": float64(got) / float64(total), "sender_lag_ms": float64(lag.Microseconds()) / 1000}
	e.cpu(m)
	e.point(fmt.Sprintf("open rate=%.0f", e.rate), nil, m, rec.take(1), nil)
	return nil
}

package main

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/gosio/gosio/bench/internal/result"
)

// stat is a metric over the repetitions: median, min and max.
type stat struct {
	med, min, max float64
	n             int
}

func (s *stat) ok() bool { return s != nil && s.n > 0 && !math.IsNaN(s.med) }

func newStat(v []float64) *stat {
	v = slices.DeleteFunc(slices.Clone(v), math.IsNaN)
	if len(v) == 0 {
		return nil
	}
	slices.Sort(v)
	med := v[len(v)/2]
	if len(v)%2 == 0 {
		med = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return &stat{med: med, min: v[0], max: v[len(v)-1], n: len(v)}
}

// agg holds every metric of every point of every scenario and server.
type agg struct {
	vals   map[string][]float64 // key(scenario, server, point, metric) -> one value per rep
	calm   map[string][]float64 // the same, only from runs of the point with little CPU stolen
	passes map[string][2]int    // key(scenario, server, point) -> passed, measured
	points map[string][]string  // scenario -> point names in order of first appearance
	notes  map[string][]string  // key(scenario, server) -> distinct notes
	errs   map[string][]string  // key(scenario, server) -> errors
	reps   map[string]int       // key(scenario, server) -> runs
}

func key(parts ...string) string { return strings.Join(parts, "\x00") }

func aggregate(runs []*result.Result) *agg {
	a := &agg{vals: map[string][]float64{}, calm: map[string][]float64{}, passes: map[string][2]int{}, points: map[string][]string{},
		notes: map[string][]string{}, errs: map[string][]string{}, reps: map[string]int{}}
	for _, r := range runs {
		ks := key(r.Scenario, r.Server)
		a.reps[ks]++
		if r.Error != "" && !slices.Contains(a.errs[ks], r.Error) {
			a.errs[ks] = append(a.errs[ks], r.Error)
		}
		for _, n := range r.Notes {
			if !strings.HasPrefix(n, "load average") && !slices.Contains(a.notes[ks], n) {
				a.notes[ks] = append(a.notes[ks], n)
			}
		}
		for _, p := range r.Points {
			if !slices.Contains(a.points[r.Scenario], p.Name) {
				a.points[r.Scenario] = append(a.points[r.Scenario], p.Name)
			}
			st, measured := p.M["steal"]
			stolen := maxSteal > 0 && measured && st > maxSteal
			for m, v := range p.M {
				k := key(r.Scenario, r.Server, p.Name, m)
				a.vals[k] = append(a.vals[k], v)
				if !stolen {
					a.calm[k] = append(a.calm[k], v)
				}
			}
			if p.Pass != nil {
				k := key(r.Scenario, r.Server, p.Name)
				pc := a.passes[k]
				pc[1]++
				if *p.Pass {
					pc[0]++
				}
				a.passes[k] = pc
			}
			for _, n := range p.Notes {
				note := p.Name + ": " + n
				if !slices.Contains(a.notes[ks], note) {
					a.notes[ks] = append(a.notes[ks], note)
				}
			}
		}
	}
	return a
}

// maxSteal is the CPU time the hypervisor may steal during a point, in
// cores summed over the two CPUs, for the point to count as measured on a
// calm machine (-maxsteal); 0, the default, counts every run. Leaving out
// the runs with more than 0.1 cores stolen made two runs' ratios agree
// less (7 of 14 within 15%, against 12 of 14 with every run): the medians
// of the two or three calm runs moved more than the medians of all four.
var maxSteal = 0.0

// get returns the figure over the runs of a point: over its calm runs (at
// most maxSteal stolen) when at least two of them are calm, else over all.
func (a *agg) get(scenario, server, point, metric string) *stat {
	k := key(scenario, server, point, metric)
	if calm := a.calm[k]; len(calm) >= 2 {
		return newStat(calm)
	}
	return newStat(a.vals[k])
}

// ratio is the median of the first server over the median of the second;
// it reports whether the ratio of the ranges straddles 1 ("no difference").
func ratio(x, y *stat) (r float64, overlap, ok bool) {
	if !x.ok() || !y.ok() || y.med <= 0 || x.med < 0 {
		return 0, false, false
	}
	r = x.med / y.med
	lo, hi := x.min/math.Max(y.max, 1e-12), x.max/math.Max(y.min, 1e-12)
	return r, lo <= 1 && hi >= 1 && x.n > 1 && y.n > 1, true
}

func fmtNum(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v):
		return "—"
	case a >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case a >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}

func fmtStat(s *stat) string {
	if !s.ok() {
		return "—"
	}
	if s.n == 1 || s.min == s.max {
		return fmtNum(s.med)
	}
	return fmt.Sprintf("%s (%s–%s)", fmtNum(s.med), fmtNum(s.min), fmtNum(s.max))
}

// maxSpread is the widest min–max range, relative to the median, that a
// figure may have for its ratio to count as stable.
const maxSpread = 0.15

// spread is the min–max range of s relative to its median (0 for one run).
func (s *stat) spread() float64 {
	if !s.ok() || s.n < 2 || s.med == 0 {
		return 0
	}
	return (s.max - s.min) / math.Abs(s.med)
}

func fmtRatio(x, y *stat) string {
	r, overlap, ok := ratio(x, y)
	if !ok {
		return "—"
	}
	s := fmt.Sprintf("%.2f", r)
	if overlap {
		s += " ≈"
	}
	if sp := max(x.spread(), y.spread()); sp > maxSpread {
		s += fmt.Sprintf(" ⚠%.0f%%", 100*sp)
	}
	return s
}

// headline lists, per scenario, the figures whose spread decides whether
// it needs more repetitions: the throughputs and memory the targets and
// ratios rest on (stepped figures are left out: they move by whole steps).
var headline = map[string][][2]string{
	"echo": {{"closed K=100 size=32", "acks_per_s"}, {"closed K=1000 size=32", "acks_per_s"},
		{"closed K=100 size=1024", "acks_per_s"}, {"closed K=100 size=16384", "acks_per_s"}},
	"bcast1k":  {{"saturated", "deliveries_per_s"}},
	"bcast10k": {{"saturated", "deliveries_per_s"}},
	"idle":     {{"N=10000", "kib_per_conn"}, {"N=19000", "kib_per_conn"}},
	"binary":   {{"K=100 size=65536", "acks_per_s"}},
}

// unstableScenarios returns the scenarios of scs with a headline figure of
// one of servers spread wider than maxSpread, or measured calm fewer than
// twice.
func unstableScenarios(a *agg, scs []scenario, servers []string) []scenario {
	var out []scenario
	for _, sc := range scs {
		unstable := false
		for _, h := range headline[sc.name] {
			for _, s := range servers {
				all := len(a.vals[key(sc.name, s, h[0], h[1])])
				calm := len(a.calm[key(sc.name, s, h[0], h[1])])
				if a.get(sc.name, s, h[0], h[1]).spread() > maxSpread || all > 0 && calm < 2 {
					unstable = true
				}
			}
		}
		if unstable {
			out = append(out, sc)
		}
	}
	return out
}

// calmNote says how many of a point's runs were left out for the CPU the
// hypervisor stole, or "".
func (a *agg) calmNote(scenario, server, point, metric string) string {
	k := key(scenario, server, point, metric)
	all, calm := len(a.vals[k]), len(a.calm[k])
	if calm == all || calm < 2 {
		return ""
	}
	return fmt.Sprintf(" [%d of %d calm]", calm, all)
}

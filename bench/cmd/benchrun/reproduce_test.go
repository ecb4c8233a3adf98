package main

import (
	"strings"
	"testing"

	"github.com/gosio/gosio/bench/internal/result"
)

func echoRuns(gosio, node []float64) []*result.Result {
	var runs []*result.Result
	for i := range gosio {
		for _, sv := range []struct {
			name string
			v    float64
		}{{"gosio", gosio[i]}, {"node", node[i]}} {
			runs = append(runs, &result.Result{Server: sv.name, Scenario: "echo", Rep: i + 1,
				Points: []result.Point{{Name: "closed K=100 size=32", M: map[string]float64{"acks_per_s": sv.v}}}})
		}
	}
	return runs
}

// TestSpreadFlagsUnstablePairs: a ratio is flagged when either side's
// min–max range passes 15% of its median, and such a scenario gets more
// repetitions.
func TestSpreadFlagsUnstablePairs(t *testing.T) {
	steady := aggregate(echoRuns([]float64{90e3, 92e3, 91e3}, []float64{40e3, 41e3, 42e3}))
	if r := fmtRatio(steady.get("echo", "gosio", "closed K=100 size=32", "acks_per_s"), steady.get("echo", "node", "closed K=100 size=32", "acks_per_s")); strings.Contains(r, "⚠") {
		t.Errorf("steady pair flagged: %s", r)
	}
	if u := unstableScenarios(steady, []scenario{{name: "echo"}}, []string{"gosio", "node"}); len(u) != 0 {
		t.Errorf("steady scenario repeated: %v", u)
	}
	wide := aggregate(echoRuns([]float64{90e3, 92e3, 91e3}, []float64{14e3, 41e3, 42e3}))
	r := fmtRatio(wide.get("echo", "gosio", "closed K=100 size=32", "acks_per_s"), wide.get("echo", "node", "closed K=100 size=32", "acks_per_s"))
	if !strings.Contains(r, "⚠68%") {
		t.Errorf("unstable pair not flagged: %s", r)
	}
	if u := unstableScenarios(wide, []scenario{{name: "echo"}, {name: "bcast1k"}}, []string{"gosio", "node"}); len(u) != 1 || u[0].name != "echo" {
		t.Errorf("unstable scenarios %v, want echo", u)
	}
}

// TestReproduceRows: two runs' ratios are compared figure by figure.
func TestReproduceRows(t *testing.T) {
	a := aggregate(echoRuns([]float64{90e3}, []float64{40e3}))   // 2.25
	b := aggregate(echoRuns([]float64{92e3}, []float64{42e3}))   // 2.19: 3% apart
	c := aggregate(echoRuns([]float64{92e3}, []float64{28.6e3})) // 3.22: 43% apart
	rows, within, total := reproduceRows(a, b, []string{"gosio", "node"})
	if total != 1 || within != 1 || rows[0][6] != "3%" {
		t.Fatalf("rows %v, %d of %d", rows, within, total)
	}
	rows, within, total = reproduceRows(a, c, []string{"gosio", "node"})
	if total != 1 || within != 0 || rows[0][7] != "no" {
		t.Fatalf("rows %v, %d of %d", rows, within, total)
	}
}

// TestCalmRuns: runs of a point with more than maxSteal stolen by the
// hypervisor are left out of its figure when two or more are calm; with
// fewer, all count and the scenario is repeated.
func TestCalmRuns(t *testing.T) {
	defer func(old float64) { maxSteal = old }(maxSteal)
	maxSteal = 0.1
	mk := func(vals, steals []float64) *agg {
		var runs []*result.Result
		for i, v := range vals {
			runs = append(runs, &result.Result{Server: "gosio", Scenario: "echo", Rep: i + 1,
				Points: []result.Point{{Name: "closed K=100 size=32", M: map[string]float64{"acks_per_s": v, "steal": steals[i]}}}})
		}
		return aggregate(runs)
	}
	a := mk([]float64{100, 50, 102}, []float64{0.01, 0.5, 0.02})
	if st := a.get("echo", "gosio", "closed K=100 size=32", "acks_per_s"); st.med != 101 || st.n != 2 {
		t.Errorf("figure %+v, want the median of the 2 calm runs", st)
	}
	if n := a.calmNote("echo", "gosio", "closed K=100 size=32", "acks_per_s"); n != " [2 of 3 calm]" {
		t.Errorf("note %q", n)
	}
	if u := unstableScenarios(a, []scenario{{name: "echo"}}, []string{"gosio"}); len(u) != 0 {
		t.Errorf("repeated with 2 calm runs: %v", u)
	}
	b := mk([]float64{100, 50, 60}, []float64{0.01, 0.5, 0.3})
	if st := b.get("echo", "gosio", "closed K=100 size=32", "acks_per_s"); st.n != 3 {
		t.Errorf("figure %+v, want all 3 runs with one calm", st)
	}
	if u := unstableScenarios(b, []scenario{{name: "echo"}}, []string{"gosio"}); len(u) != 1 {
		t.Errorf("not repeated with one calm run")
	}
}

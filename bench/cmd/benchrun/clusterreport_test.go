package main

import (
	"os"
	"strings"
	"testing"

	"github.com/gosio/gosio/bench/internal/result"
)

func TestSpliceCluster(t *testing.T) {
	block := clusterBegin + "\n## Cluster\nnew\n" + clusterEnd + "\n"
	// Appended when absent, after a blank line.
	got := spliceCluster("# Bench\n\ntext", block)
	if got != "# Bench\n\ntext\n\n"+block {
		t.Fatalf("append: %q", got)
	}
	// Replaced in place, the rest untouched.
	doc := "# Bench\n\n" + clusterBegin + "\nold\n" + clusterEnd + "\n\n## After\n"
	got = spliceCluster(doc, block)
	if got != "# Bench\n\n"+block+"\n## After\n" {
		t.Fatalf("replace: %q", got)
	}
	if again := spliceCluster(got, block); again != got {
		t.Fatalf("a second splice changed the document: %q", again)
	}
	if spliceCluster("", block) != block {
		t.Fatal("empty doc")
	}
	if b := clusterBlock(doc); b != clusterBegin+"\nold\n"+clusterEnd {
		t.Fatalf("block: %q", b)
	}
	if clusterBlock("no block") != "" || clusterBlock(clusterEnd+clusterBegin) != "" {
		t.Fatal("block without markers")
	}
}

func TestWriteKeepingCluster(t *testing.T) {
	path := t.TempDir() + "/b.md"
	if err := writeKeepingCluster(path, "# v1\n"); err != nil {
		t.Fatal(err)
	}
	old := "# v1\n\n" + clusterBegin + "\nkeep me\n" + clusterEnd + "\n\n## Helper layer\n\nkept too\n"
	if err := writeKeepingCluster(path, old); err != nil {
		t.Fatal(err)
	}
	if err := writeKeepingCluster(path, "# v2\n"); err != nil {
		t.Fatal(err)
	}
	b, _ := readFile(path)
	if !strings.HasPrefix(b, "# v2\n") || !strings.Contains(b, "keep me") || !strings.HasSuffix(b, "## Helper layer\n\nkept too\n") || strings.Count(b, clusterBegin) != 1 {
		t.Fatalf("got %q", b)
	}
}

func TestResolvePoint(t *testing.T) {
	a := &agg{points: map[string][]string{"roommem": {"rooms=5000"}}}
	if p := resolvePoint(a, "roommem", "rooms=*"); p != "rooms=5000" {
		t.Fatalf("prefix: %q", p)
	}
	if p := resolvePoint(a, "roommem", "saturated"); p != "saturated" {
		t.Fatalf("missing: %q", p)
	}
}

func readFile(p string) (string, error) {
	b, err := os.ReadFile(p)
	return string(b), err
}

// TestClusterPlots: the section links a bar chart for each scenario that
// has results, and the chart holds a bar per measured server.
func TestClusterPlots(t *testing.T) {
	dir := t.TempDir()
	c := &config{doc: dir + "/benchmarks.md", svgDir: dir + "/benchmarks", results: "results/x"}
	runs := []*result.Result{
		{Server: "gosio-classic", Scenario: "cbcast", Rep: 1, Points: []result.Point{{Name: "saturated", M: map[string]float64{"deliveries_per_s": 200000}}}},
		{Server: "node-classic", Scenario: "cbcast", Rep: 1, Points: []result.Point{{Name: "saturated", M: map[string]float64{"deliveries_per_s": 50000}}}},
		{Server: "gosio-streams", Scenario: "crecover", Rep: 1, Points: []result.Point{{Name: "clients=1000", M: map[string]float64{"recovery_s": 0.5, "p50_ms": 40, "p99_ms": 70}}}},
	}
	sec := writeClusterSection(c, aggregate(runs), &meta{Date: "d", Reps: 1, GitSHA: "x"})
	for _, want := range []string{"![cluster-bcast.svg](benchmarks/cluster-bcast.svg)", "![cluster-recovery.svg](benchmarks/cluster-recovery.svg)"} {
		if !strings.Contains(sec, want) {
			t.Errorf("section lacks %s", want)
		}
	}
	if strings.Contains(sec, "cluster-fetch.svg") {
		t.Errorf("a plot for a scenario that did not run")
	}
	svg, err := readFile(dir + "/benchmarks/cluster-bcast.svg")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(svg, "<rect"); n < 2 {
		t.Errorf("%d bars in cluster-bcast.svg, want 2", n)
	}
}

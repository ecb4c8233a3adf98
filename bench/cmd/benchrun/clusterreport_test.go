package main

import (
	"os"
	"strings"
	"testing"
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
	if got != "# Bench\n\n"+block+"\n\n## After\n" {
		t.Fatalf("replace: %q", got)
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

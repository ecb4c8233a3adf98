package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// reproduceRows compares the ratios of two runs of the same scenarios:
// for every headline figure (and the CPU per operation beside it) and
// every server compared with gosio, the ratio in each run and how far
// apart they are. A ratio reproduces when the two are within maxSpread of
// each other.
func reproduceRows(a, b *agg, servers []string) (rows [][]string, within, total int) {
	scs := make([]string, 0, len(headline))
	for sc := range headline {
		scs = append(scs, sc)
	}
	slices.Sort(scs)
	for _, sc := range scs {
		for _, h := range headline[sc] {
			metrics := []string{h[1]}
			switch h[1] {
			case "acks_per_s":
				metrics = append(metrics, "cpu_s_per_1k")
			case "deliveries_per_s":
				metrics = append(metrics, "cpu_s_per_1M")
			}
			for _, m := range metrics {
				for _, o := range servers {
					if o == "gosio" {
						continue
					}
					ra, _, okA := ratio(a.get(sc, "gosio", h[0], m), a.get(sc, o, h[0], m))
					rb, _, okB := ratio(b.get(sc, "gosio", h[0], m), b.get(sc, o, h[0], m))
					if !okA || !okB {
						continue
					}
					d := math.Abs(rb/ra - 1)
					verdict := "**yes**"
					if d > maxSpread {
						verdict = "no"
					} else {
						within++
					}
					total++
					rows = append(rows, []string{sc, h[0], m, "gosio/" + o,
						fmtRatio(a.get(sc, "gosio", h[0], m), a.get(sc, o, h[0], m)),
						fmtRatio(b.get(sc, "gosio", h[0], m), b.get(sc, o, h[0], m)),
						fmt.Sprintf("%.0f%%", 100*d), verdict})
				}
			}
		}
	}
	return rows, within, total
}

// reproduce prints, as a markdown table, how the ratios of the run in
// dirs[1] compare with those of dirs[0].
func reproduce(dirs []string, servers []string) error {
	if len(dirs) != 2 {
		return fmt.Errorf("-reproduce wants two results directories, comma-separated")
	}
	var aggs [2]*agg
	for i, d := range dirs {
		runs, _, err := load(d)
		if err != nil {
			return err
		}
		aggs[i] = aggregate(runs)
	}
	rows, within, total := reproduceRows(aggs[0], aggs[1], servers)
	var b strings.Builder
	mdTable(&b, []string{"scenario", "point", "metric", "pair", "run 1", "run 2", "apart", "within 15%"}, rows)
	fmt.Fprintf(&b, "%d of %d ratios within 15%%.\n", within, total)
	fmt.Print(b.String())
	return nil
}

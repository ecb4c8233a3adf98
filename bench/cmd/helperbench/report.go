package main

import (
	"fmt"
	"io"
	"strings"
)

// report prints a Markdown table of every run: one column per run of each
// server, and the Go/TS ratio of each repetition.
func report(w io.Writer, c *config, all []*result) {
	byRep := map[string]map[int]*result{}
	for _, r := range all {
		if byRep[r.Server] == nil {
			byRep[r.Server] = map[int]*result{}
		}
		byRep[r.Server][r.Rep] = r
	}
	rows := []struct {
		name  string
		ratio bool
		get   func(*result) float64
		f     string
	}{
		{"authenticated clients/s", true, func(r *result) float64 { return r.AuthPerSec }, "%.0f"},
		{"connect → authenticated p50, ms", true, func(r *result) float64 { return r.AuthP50ms }, "%.1f"},
		{"connect → authenticated p99, ms", true, func(r *result) float64 { return r.AuthP99ms }, "%.1f"},
		{"server CPU, cores (auth phase)", false, func(r *result) float64 { return r.AuthServerCPU }, "%.2f"},
		{"server CPU ms per authenticated client", true, func(r *result) float64 { return perUnit(r.AuthServerCPU, r.AuthPerSec, 1e3) }, "%.3f"},
		{"load generator CPU, cores (auth phase)", false, func(r *result) float64 { return r.AuthLGCPU }, "%.2f"},
		{"Redis CPU, cores (auth phase)", false, func(r *result) float64 { return r.AuthRedisCPU }, "%.2f"},
		{"Send to the room: deliveries/s", true, func(r *result) float64 { return r.DeliveriesPerSec }, "%.0f"},
		{"Send burst, first Send to last delivery, s", true, func(r *result) float64 { return r.SendSeconds }, "%.2f"},
		{"server CPU, cores (Send phase)", false, func(r *result) float64 { return r.SendServerCPU }, "%.2f"},
		{"server CPU s per 1M deliveries", true, func(r *result) float64 { return perUnit(r.SendServerCPU, r.DeliveriesPerSec, 1e6) }, "%.2f"},
		{"load generator CPU, cores (Send phase)", false, func(r *result) float64 { return r.SendLGCPU }, "%.2f"},
		{"Redis CPU, cores (Send phase)", false, func(r *result) float64 { return r.SendRedisCPU }, "%.2f"},
		{"server RSS with the clients, MiB", true, func(r *result) float64 { return r.ServerRSSMiB }, "%.0f"},
	}
	var head, sep []string
	head = append(head, "metric")
	for _, s := range c.servers {
		for rep := 1; rep <= c.reps; rep++ {
			head = append(head, fmt.Sprintf("%s run %d", s, rep))
		}
	}
	for rep := 1; rep <= c.reps; rep++ {
		head = append(head, fmt.Sprintf("go/ts run %d", rep))
	}
	for range head {
		sep = append(sep, "---")
	}
	fmt.Fprintf(w, "| %s |\n| %s |\n", strings.Join(head, " | "), strings.Join(sep, " | "))
	for _, row := range rows {
		cells := []string{row.name}
		for _, s := range c.servers {
			for rep := 1; rep <= c.reps; rep++ {
				r := byRep[s][rep]
				switch {
				case r == nil:
					cells = append(cells, "—")
				case r.Error != "" && row.get(r) == 0:
					cells = append(cells, "failed")
				default:
					cells = append(cells, fmt.Sprintf(row.f, row.get(r)))
				}
			}
		}
		for rep := 1; rep <= c.reps; rep++ {
			g, t := byRep["go"][rep], byRep["ts"][rep]
			if !row.ratio || g == nil || t == nil || row.get(t) == 0 || row.get(g) == 0 {
				cells = append(cells, "")
				continue
			}
			cells = append(cells, fmt.Sprintf("%.2f", row.get(g)/row.get(t)))
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	for _, r := range all {
		if r.Error != "" {
			fmt.Fprintf(w, "\n- %s run %d: %s", r.Server, r.Rep, r.Error)
		}
	}
	fmt.Fprintln(w)
}

// perUnit is the CPU time per unit of work: cores ÷ units/s, scaled.
func perUnit(cores, perSec, scale float64) float64 {
	if perSec == 0 {
		return 0
	}
	return cores / perSec * scale
}

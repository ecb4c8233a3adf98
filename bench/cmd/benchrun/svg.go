package main

import (
	"fmt"
	"html"
	"math"
	"os"
	"strings"
)

// Plots are written as plain SVG, with no plotting dependency.

var palette = map[string]string{"gosio": "#1f77b4", "node": "#2ca02c", "zishang520": "#d62728", "raw": "#7f7f7f", "floor": "#000000",
	"gosio-sharded": "#1f77b4", "node-sharded": "#2ca02c", "gosio-classic": "#aec7e8"}

func colorOf(name string) string {
	if c, ok := palette[name]; ok {
		return c
	}
	return "#9467bd"
}

type series struct {
	name string
	x, y []float64
	fail []bool // points that failed their pass condition (hollow markers)
}

type lineChart struct {
	title, xlabel, ylabel string
	logX, logY            bool
	series                []series
}

const (
	svgW, svgH             = 720, 420
	padL, padR, padT, padB = 80, 150, 40, 60
	plotW, plotH           = svgW - padL - padR, svgH - padT - padB
	fontAttr               = `font-family="sans-serif" font-size="12"`
)

func niceTicks(lo, hi float64, log bool) []float64 {
	var t []float64
	if log {
		for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
			for _, m := range []float64{1, 2, 5} {
				v := m * math.Pow(10, e)
				if v >= lo*0.999 && v <= hi*1.001 {
					t = append(t, v)
				}
			}
		}
		return t
	}
	step := math.Pow(10, math.Floor(math.Log10((hi-lo)/5)))
	for _, m := range []float64{1, 2, 5, 10} {
		if (hi-lo)/(step*m) <= 6 {
			step *= m
			break
		}
	}
	for v := math.Ceil(lo/step) * step; v <= hi*1.0001; v += step {
		t = append(t, v)
	}
	return t
}

func (c *lineChart) write(path string) error {
	xlo, xhi, ylo, yhi := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range c.series {
		for i := range s.x {
			if math.IsNaN(s.y[i]) || (c.logY && s.y[i] <= 0) {
				continue
			}
			xlo, xhi = math.Min(xlo, s.x[i]), math.Max(xhi, s.x[i])
			ylo, yhi = math.Min(ylo, s.y[i]), math.Max(yhi, s.y[i])
		}
	}
	if math.IsInf(xlo, 0) {
		return nil
	}
	if !c.logY {
		ylo = 0
	}
	if c.logX {
		xlo, xhi = math.Pow(10, math.Floor(math.Log10(xlo))), math.Pow(10, math.Ceil(math.Log10(xhi)))
	}
	if c.logY {
		ylo, yhi = math.Pow(10, math.Floor(math.Log10(ylo))), math.Pow(10, math.Ceil(math.Log10(yhi)))
	} else {
		yhi *= 1.1
	}
	if xhi == xlo {
		xhi = xlo + 1
	}
	if yhi == ylo {
		yhi = ylo + 1
	}
	sx := func(v float64) float64 {
		if c.logX {
			return padL + plotW*(math.Log10(v)-math.Log10(xlo))/(math.Log10(xhi)-math.Log10(xlo))
		}
		return padL + plotW*(v-xlo)/(xhi-xlo)
	}
	sy := func(v float64) float64 {
		if c.logY {
			return padT + plotH*(1-(math.Log10(v)-math.Log10(ylo))/(math.Log10(yhi)-math.Log10(ylo)))
		}
		return padT + plotH*(1-(v-ylo)/(yhi-ylo))
	}
	var b strings.Builder
	c.frame(&b)
	for _, t := range niceTicks(xlo, xhi, c.logX) {
		x := sx(t)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eee"/>`+"\n", x, padT, x, padT+plotH)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" %s>%s</text>`+"\n", x, padT+plotH+16, fontAttr, fmtNum(t))
	}
	for _, t := range niceTicks(ylo, yhi, c.logY) {
		y := sy(t)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/>`+"\n", padL, y, padL+plotW, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" %s>%s</text>`+"\n", padL-6, y+4, fontAttr, fmtNum(t))
	}
	c.axes(&b)
	for i, s := range c.series {
		col := colorOf(s.name)
		var pts []string
		for j := range s.x {
			if math.IsNaN(s.y[j]) || (c.logY && s.y[j] <= 0) {
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", sx(s.x[j]), sy(s.y[j])))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", col, strings.Join(pts, " "))
		for j := range s.x {
			if math.IsNaN(s.y[j]) || (c.logY && s.y[j] <= 0) {
				continue
			}
			fill := col
			if j < len(s.fail) && s.fail[j] {
				fill = "white"
			}
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="4" fill="%s" stroke="%s" stroke-width="1.5"/>`+"\n", sx(s.x[j]), sy(s.y[j]), fill, col)
		}
		c.legend(&b, i, s.name, col)
	}
	if hasFail(c.series) {
		fmt.Fprintf(&b, `<text x="%d" y="%d" %s fill="#555">hollow: step failed</text>`+"\n", padL+plotW+14, padT+20*len(c.series)+20, fontAttr)
	}
	b.WriteString("</svg>\n")
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func hasFail(ss []series) bool {
	for _, s := range ss {
		for _, f := range s.fail {
			if f {
				return true
			}
		}
	}
	return false
}

func (c *lineChart) frame(b *strings.Builder) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">`+"\n", svgW, svgH, svgW, svgH)
	fmt.Fprintf(b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(b, `<text x="%d" y="22" font-family="sans-serif" font-size="15" font-weight="bold">%s</text>`+"\n", padL, html.EscapeString(c.title))
}

func (c *lineChart) axes(b *strings.Builder) {
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#333"/>`+"\n", padL, padT, plotW, plotH)
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle" %s>%s</text>`+"\n", padL+plotW/2, svgH-18, fontAttr, html.EscapeString(c.xlabel))
	fmt.Fprintf(b, `<text x="18" y="%d" text-anchor="middle" transform="rotate(-90 18 %d)" %s>%s</text>`+"\n", padT+plotH/2, padT+plotH/2, fontAttr, html.EscapeString(c.ylabel))
}

func (c *lineChart) legend(b *strings.Builder, i int, name, col string) {
	y := padT + 10 + 20*i
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="14" height="10" fill="%s"/>`+"\n", padL+plotW+14, y-8, col)
	fmt.Fprintf(b, `<text x="%d" y="%d" %s>%s</text>`+"\n", padL+plotW+34, y+1, fontAttr, html.EscapeString(name))
}

// barChart draws groups (x categories) of bars, one per server, with
// min–max whiskers.
type barChart struct {
	title, ylabel string
	groups        []string
	servers       []string
	val           func(group, server string) *stat
}

func (c *barChart) write(path string) error {
	yhi := 0.0
	for _, g := range c.groups {
		for _, s := range c.servers {
			if st := c.val(g, s); st.ok() {
				yhi = math.Max(yhi, st.max)
			}
		}
	}
	if yhi == 0 {
		return nil
	}
	yhi *= 1.1
	lc := &lineChart{title: c.title, ylabel: c.ylabel}
	var b strings.Builder
	lc.frame(&b)
	sy := func(v float64) float64 { return padT + plotH*(1-v/yhi) }
	for _, t := range niceTicks(0, yhi, false) {
		y := sy(t)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/>`+"\n", padL, y, padL+plotW, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" %s>%s</text>`+"\n", padL-6, y+4, fontAttr, fmtNum(t))
	}
	lc.axes(&b)
	gw := float64(plotW) / float64(len(c.groups))
	bw := gw * 0.8 / float64(len(c.servers))
	for gi, g := range c.groups {
		x0 := padL + gw*float64(gi) + gw*0.1
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" %s>%s</text>`+"\n", padL+gw*(float64(gi)+0.5), padT+plotH+16, fontAttr, html.EscapeString(g))
		for si, s := range c.servers {
			st := c.val(g, s)
			if !st.ok() {
				continue
			}
			x := x0 + bw*float64(si)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`+"\n", x, sy(st.med), bw*0.9, sy(0)-sy(st.med), colorOf(s))
			cx := x + bw*0.45
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#000"/>`+"\n", cx, sy(st.min), cx, sy(st.max))
		}
	}
	for i, s := range c.servers {
		lc.legend(&b, i, s, colorOf(s))
	}
	b.WriteString("</svg>\n")
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

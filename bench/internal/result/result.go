// Package result is the exchange format between the load generator and the
// orchestrator: one Result per scenario run, holding Points with metrics
// computed from exact latency samples.
package result

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"slices"
)

// A Point is one measured size or step of a scenario.
type Point struct {
	Name    string             `json:"name"`
	Params  map[string]float64 `json:"params,omitempty"`
	M       map[string]float64 `json:"m"`                 // metrics
	Pass    *bool              `json:"pass,omitempty"`    // for stepped scenarios
	Notes   []string           `json:"notes,omitempty"`   // what limited the point, failures
	Samples string             `json:"samples,omitempty"` // file of exact latencies
}

// Result is one scenario run against one server.
type Result struct {
	Server   string   `json:"server"`
	Scenario string   `json:"scenario"`
	Rep      int      `json:"rep"`
	Points   []Point  `json:"points"`
	Notes    []string `json:"notes,omitempty"`
	Error    string   `json:"error,omitempty"`
}

// Point returns the point named name, or nil.
func (r *Result) Point(name string) *Point {
	for i := range r.Points {
		if r.Points[i].Name == name {
			return &r.Points[i]
		}
	}
	return nil
}

// Write stores r as JSON in path.
func (r *Result) Write(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// Read loads a Result from path.
func Read(path string) (*Result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Result
	return &r, json.Unmarshal(b, &r)
}

// Percentile returns the nearest-rank q-quantile (0 < q <= 1) of sorted.
func Percentile(sorted []uint32, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	i = max(0, min(i, len(sorted)-1))
	return float64(sorted[i])
}

// LatencyMetrics sorts samples (microseconds) in place and adds p50, p99,
// p999 and max in milliseconds to m.
func LatencyMetrics(samples []uint32, m map[string]float64) {
	slices.Sort(samples)
	if len(samples) == 0 {
		return
	}
	m["p50_ms"] = Percentile(samples, 0.50) / 1000
	m["p99_ms"] = Percentile(samples, 0.99) / 1000
	m["p999_ms"] = Percentile(samples, 0.999) / 1000
	m["max_ms"] = float64(samples[len(samples)-1]) / 1000
	m["samples"] = float64(len(samples))
}

// WriteSamples stores samples as little-endian uint32 microseconds.
func WriteSamples(path string, samples []uint32) error {
	b := make([]byte, 4*len(samples))
	for i, v := range samples {
		binary.LittleEndian.PutUint32(b[4*i:], v)
	}
	return os.WriteFile(path, b, 0o644)
}

// ReadSamples loads a file written by WriteSamples.
func ReadSamples(path string) ([]uint32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := make([]uint32, len(b)/4)
	for i := range out {
		out[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return out, nil
}

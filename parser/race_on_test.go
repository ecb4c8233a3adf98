//go:build race

package parser_test

// raceEnabled reports whether the race detector is on. It makes sync.Pool
// drop items at random, so pooled code (json.Valid) allocates now and then.
const raceEnabled = true

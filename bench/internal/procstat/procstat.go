// Package procstat reads a process's CPU time and resident memory from
// /proc, the one method the suite trusts for every server, whatever its
// language.
package procstat

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, 100 on every Linux the suite runs on.
const clockTicks = 100

// Sample is one reading of a process.
type Sample struct {
	CPUSeconds float64 // user + system time since the process started
	RSSBytes   int64   // VmRSS
}

// Read returns the CPU time and RSS of pid.
func Read(pid int) (Sample, error) {
	var s Sample
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// Fields after the parenthesised command name; utime and stime are
	// fields 14 and 15 of the whole line.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return s, fmt.Errorf("procstat: bad stat line for %d", pid)
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return s, fmt.Errorf("procstat: short stat line for %d", pid)
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	s.CPUSeconds = float64(ut+st) / clockTicks
	s.RSSBytes, err = RSS(pid)
	return s, err
}

// RSS returns the VmRSS of pid in bytes (0 means "self").
func RSS(pid int) (int64, error) {
	p := "/proc/self/status"
	if pid > 0 {
		p = fmt.Sprintf("/proc/%d/status", pid)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				break
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("procstat: no VmRSS for %d", pid)
}

// CPUTimes is the time one CPU spent since boot: busy (user, nice,
// system, irq, softirq) and stolen by the hypervisor for other guests.
type CPUTimes struct {
	Busy, Steal float64 // seconds
}

// ReadCPUs returns the times of each CPU (index = CPU number) from
// /proc/stat: with the CPU time of the processes a run knows about, it
// tells how much of a core something else used during the run.
func ReadCPUs() ([]CPUTimes, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return nil, err
	}
	var out []CPUTimes
	for line := range strings.SplitSeq(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 9 || !strings.HasPrefix(f[0], "cpu") || f[0] == "cpu" {
			continue
		}
		n, err := strconv.Atoi(f[0][3:])
		if err != nil || n < 0 || n > 4096 {
			continue
		}
		var v [8]float64
		for i := range v {
			x, _ := strconv.ParseInt(f[i+1], 10, 64)
			v[i] = float64(x) / clockTicks
		}
		for len(out) <= n {
			out = append(out, CPUTimes{})
		}
		// user nice system idle iowait irq softirq steal
		out[n] = CPUTimes{Busy: v[0] + v[1] + v[2] + v[5] + v[6], Steal: v[7]}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("procstat: no cpu lines in /proc/stat")
	}
	return out, nil
}

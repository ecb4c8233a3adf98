package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/gosio/gosio/bench/internal/result"
)

// meta describes the machine, the versions and the run.
type meta struct {
	Profile   string            `json:"profile"`
	Reps      int               `json:"reps"`
	Servers   []string          `json:"servers"`
	Date      string            `json:"date"`
	Command   string            `json:"command"`
	CPU       string            `json:"cpu"`
	Cores     int               `json:"cores"`
	Memory    string            `json:"memory"`
	Kernel    string            `json:"kernel"`
	NoFile    string            `json:"nofile"`
	Versions  map[string]string `json:"versions"`
	GitSHA    string            `json:"gitSHA"`
	LoadStart float64           `json:"loadStart"`
	LoadMax   float64           `json:"loadMax"`
	LoadEnd   float64           `json:"loadEnd"`
	Duration  string            `json:"duration"`
	Quick     bool              `json:"quick"`
	ExtraReps map[string]int    `json:"extraReps,omitempty"` // repetitions added per scenario for wide spreads
}

func (m *meta) write(path string) error {
	b, _ := json.MarshalIndent(m, "", "  ")
	return os.WriteFile(path, b, 0o644)
}

func sh(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}

func collectMeta(c *config) *meta {
	m := &meta{
		Profile: c.profile, Reps: c.reps, Servers: c.servers, Quick: c.quick,
		Date:    time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		Command: strings.Join(os.Args, " "),
		Cores:   runtime.NumCPU(),
		Kernel:  sh("uname", "-sr"),
		NoFile:  sh("sh", "-c", "ulimit -Hn"),
		GitSHA:  sh("git", "-C", "..", "rev-parse", "--short", "HEAD"),
		Versions: map[string]string{
			"go":   runtime.Version(),
			"node": sh("node", "--version"),
		},
	}
	if st := sh("git", "-C", "..", "status", "--porcelain", "--", "engineio", "socketio", "parser", "adapter"); st != "" && st != "?" {
		m.GitSHA += " (library with uncommitted changes)"
	}
	for line := range strings.SplitSeq(sh("lscpu"), "\n") {
		if v, ok := strings.CutPrefix(line, "Model name:"); ok {
			m.CPU = strings.TrimSpace(v)
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		fmt.Sscanf(strings.SplitN(string(b), "\n", 2)[0], "MemTotal: %d kB", &kb)
		m.Memory = fmt.Sprintf("%.0f GiB", float64(kb)/(1<<20))
	}
	// Go peers from go.mod, npm peers from the lock file.
	if b, err := os.ReadFile("go.mod"); err == nil {
		re := regexp.MustCompile(`(?m)^\s*(github.com/(?:coder/websocket|zishang520/socket.io/servers/socket/v3|gorilla/websocket)) (v\S+)`)
		for _, s := range re.FindAllStringSubmatch(string(b), -1) {
			m.Versions[s[1]] = s[2]
		}
	}
	for _, p := range []string{"socket.io", "engine.io", "ws", "bufferutil", "utf-8-validate"} {
		var pj struct{ Version string }
		if b, err := os.ReadFile(filepath.Join("node_modules", p, "package.json")); err == nil && json.Unmarshal(b, &pj) == nil {
			m.Versions["npm "+p] = pj.Version
		}
	}
	return m
}

// load reads a results directory written by an earlier run.
func load(dir string) ([]*result.Result, *meta, error) {
	var m meta
	b, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	if err != nil {
		return nil, nil, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, nil, err
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*-r*.json"))
	sort.Strings(files)
	var runs []*result.Result
	for _, f := range files {
		r, err := result.Read(f)
		if err != nil {
			return nil, nil, err
		}
		runs = append(runs, r)
	}
	return runs, &m, nil
}

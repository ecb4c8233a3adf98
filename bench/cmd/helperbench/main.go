// Command helperbench measures the helper layer (package helper, issue 16)
// against the TypeScript original, @venizia/ignis-helpers 0.0.7, on the
// same cores:
//
//   - authenticated clients/s: WebSocket clients that connect, send the
//     CONNECT with {"token":"good"}, send "authenticate" and get
//     "authenticated" (the helper's challenge-response flow), at a fixed
//     number in flight;
//   - Send throughput to a room of N clients over Redis: the N clients
//     join one room through the helper's "join" (ValidateRooms allows it),
//     then the server calls Send to that room a number of times in a row;
//     deliveries/s counts from before the first Send to the last delivery.
//
// Run from bench/ after `npm ci` (bench/package.json pins the package):
//
//	go build -o bin/ ./cmd/helperbench && ./bin/helperbench -reps 2
//
// Placement: every run starts a fresh redis-server and a fresh server, the
// Go one (`helperbench serve-go`: helper.NewServer with Redis) or the TS
// one (cmd/helperbench/ts-server.mjs: SocketIOServerHelper with its
// RedisHelper), pinned to CPU 0 with taskset; helperbench itself (the load
// generator: one goroutine per client on a minimal WebSocket client, see
// client.go) and Redis are pinned to CPU 1. The CPU of the server, of the
// load generator and of Redis is read from /proc for each phase, so that a
// phase limited by the load generator shows.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gosio/gosio/bench/internal/procstat"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve-go" {
		if err := serveGo(os.Args[2:]); err != nil {
			fmt.Fprintf(os.Stderr, "helperbench serve-go: %v\n", err)
			os.Exit(1)
		}
		return
	}
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "helperbench: %v\n", err)
		os.Exit(1)
	}
}

// config is the command line of a benchmark run.
type config struct {
	reps, clients, warm, inflight, sends, warmSends int
	servers                                         []string
	out                                             string
	lgCPU, srvCPU                                   string
}

func run() error {
	var c config
	var servers string
	flag.IntVar(&c.reps, "reps", 2, "repetitions of each server")
	flag.IntVar(&c.clients, "clients", 10000, "clients, all in the room for the Send phase")
	flag.IntVar(&c.warm, "warm", 1000, "clients connected first as a warm-up, not timed")
	flag.IntVar(&c.inflight, "inflight", 100, "clients in their helper flow at once")
	flag.IntVar(&c.sends, "sends", 50, "Sends to the room in the timed burst")
	flag.IntVar(&c.warmSends, "warm-sends", 5, "Sends to the room before the timed burst")
	flag.StringVar(&servers, "servers", "go,ts", "servers to run, in order (rotated per repetition)")
	flag.StringVar(&c.out, "out", "results/helper-"+time.Now().UTC().Format("20060102-150405"), "directory for the JSON results")
	flag.StringVar(&c.lgCPU, "lg-cpu", "1", "CPU list of the load generator and Redis")
	flag.StringVar(&c.srvCPU, "server-cpu", "0", "CPU list of the server")
	flag.Parse()
	c.servers = strings.Split(servers, ",")
	if c.warm >= c.clients {
		return errors.New("-warm must be below -clients")
	}
	if os.Getenv("HELPERBENCH_PINNED") == "" {
		// Run again pinned to the load generator's CPUs.
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		cmd := exec.Command("taskset", append([]string{"-c", c.lgCPU, exe}, os.Args[1:]...)...)
		cmd.Env = append(os.Environ(), "HELPERBENCH_PINNED=1")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		return cmd.Run()
	}
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return err
	}
	var all []*result
	for rep := 1; rep <= c.reps; rep++ {
		order := slices.Clone(c.servers)
		if rep%2 == 0 {
			slices.Reverse(order)
		}
		for _, srv := range order {
			fmt.Fprintf(os.Stderr, "helperbench: %s r%d (load %s)\n", srv, rep, loadavg())
			r, err := runOne(&c, srv, rep)
			if err != nil {
				r = &result{Server: srv, Rep: rep, Error: err.Error()}
				fmt.Fprintf(os.Stderr, "helperbench: %s r%d: %v\n", srv, rep, err)
			}
			all = append(all, r)
			b, _ := json.MarshalIndent(r, "", "  ")
			_ = os.WriteFile(filepath.Join(c.out, fmt.Sprintf("%s-r%d.json", srv, rep)), b, 0o644)
			fmt.Fprintf(os.Stderr, "%s\n", b)
			time.Sleep(2 * time.Second)
		}
	}
	report(os.Stdout, &c, all)
	return nil
}

// result is one run of one server.
type result struct {
	Server string `json:"server"`
	Rep    int    `json:"rep"`
	Error  string `json:"error,omitempty"`
	Load   string `json:"loadavg"`

	AuthClients   int     `json:"auth_clients"`    // timed clients
	AuthPerSec    float64 `json:"auth_per_sec"`    // authenticated clients/s
	AuthP50ms     float64 `json:"auth_p50_ms"`     // connect to authenticated
	AuthP99ms     float64 `json:"auth_p99_ms"`     //
	AuthServerCPU float64 `json:"auth_server_cpu"` // cores
	AuthLGCPU     float64 `json:"auth_lg_cpu"`     // cores
	AuthRedisCPU  float64 `json:"auth_redis_cpu"`  // cores

	RoomSize         int     `json:"room_size"`
	Sends            int     `json:"sends"`
	Deliveries       int64   `json:"deliveries"`
	DeliveriesPerSec float64 `json:"deliveries_per_sec"`
	SendSeconds      float64 `json:"send_seconds"`
	SendServerCPU    float64 `json:"send_server_cpu"`
	SendLGCPU        float64 `json:"send_lg_cpu"`
	SendRedisCPU     float64 `json:"send_redis_cpu"`
	ServerRSSMiB     float64 `json:"server_rss_mib"` // with every client connected, after the Sends
}

// proc is a started child process.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func (p *proc) stop() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// start runs argv in its own process group; ready, if not empty, is a
// substring of the stdout line to wait for.
func start(argv []string, env []string, ready string) (*proc, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	seen := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		var once sync.Once
		for sc.Scan() {
			if ready != "" && strings.Contains(sc.Text(), ready) {
				once.Do(func() { close(seen) })
			}
		}
		_ = cmd.Wait()
		close(p.done)
	}()
	if ready == "" {
		return p, nil
	}
	select {
	case <-seen:
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("%s exited before it was ready", argv[0])
	case <-time.After(30 * time.Second):
		p.stop()
		return nil, fmt.Errorf("%s not ready within 30 s", argv[0])
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startRedis starts a redis-server without persistence on the load
// generator's CPUs and waits until it answers PING.
func startRedis(c *config, port int) (*proc, error) {
	p, err := start([]string{"taskset", "-c", c.lgCPU, "redis-server", "--port", fmt.Sprint(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--protected-mode", "no"}, nil, "")
	if err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		nc, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err != nil {
			continue
		}
		_, _ = nc.Write([]byte("PING\r\n"))
		b := make([]byte, 7)
		_ = nc.SetReadDeadline(time.Now().Add(time.Second))
		n, _ := nc.Read(b)
		nc.Close()
		if bytes.HasPrefix(b[:n], []byte("+PONG")) {
			return p, nil
		}
	}
	p.stop()
	return nil, errors.New("redis-server did not answer")
}

// cpuMeter reads the CPU time of a set of processes.
type cpuMeter struct {
	pids []int
	cpu  []float64
	at   time.Time
}

func meter(pids ...int) *cpuMeter {
	m := &cpuMeter{pids: pids, cpu: make([]float64, len(pids)), at: time.Now()}
	for i, p := range pids {
		if s, err := procstat.Read(p); err == nil {
			m.cpu[i] = s.CPUSeconds
		}
	}
	return m
}

// cores returns the cores each process used since m was taken, until end.
func (m *cpuMeter) cores(end time.Time) []float64 {
	out := make([]float64, len(m.pids))
	wall := end.Sub(m.at).Seconds()
	for i, p := range m.pids {
		if s, err := procstat.Read(p); err == nil && wall > 0 {
			out[i] = (s.CPUSeconds - m.cpu[i]) / wall
		}
	}
	return out
}

func runOne(c *config, srv string, rep int) (*result, error) {
	r := &result{Server: srv, Rep: rep, Load: loadavg()}
	rport, err := freePort()
	if err != nil {
		return r, err
	}
	redis, err := startRedis(c, rport)
	if err != nil {
		return r, err
	}
	defer redis.stop()
	port, err := freePort()
	if err != nil {
		return r, err
	}
	ctl, err := freePort()
	if err != nil {
		return r, err
	}
	tmp, err := os.MkdirTemp("", "helperbench-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(tmp)
	redisURL := fmt.Sprintf("redis://127.0.0.1:%d", rport)
	var argv, env []string
	switch srv {
	case "go":
		exe, err := os.Executable()
		if err != nil {
			return r, err
		}
		argv = []string{exe, "serve-go", "-port", fmt.Sprint(port), "-control-port", fmt.Sprint(ctl),
			"-redis", redisURL, "-log", filepath.Join(tmp, "go-helper.log")}
	case "ts":
		argv = []string{"node", "cmd/helperbench/ts-server.mjs", "--port", fmt.Sprint(port), "--control-port", fmt.Sprint(ctl), "--redis", redisURL}
		env = []string{"APP_ENV_LOGGER_FOLDER_PATH=" + tmp}
	default:
		return r, fmt.Errorf("unknown server %q (go or ts)", srv)
	}
	server, err := start(append([]string{"taskset", "-c", c.srvCPU}, argv...), env, `"event":"ready"`)
	if err != nil {
		return r, err
	}
	defer server.stop()
	spid := server.cmd.Process.Pid // taskset execs the server: same process
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	ctlURL := fmt.Sprintf("http://127.0.0.1:%d", ctl)

	// Clients.
	k := &counter{}
	var readers sync.WaitGroup
	var mu sync.Mutex
	var conns []*conn
	defer func() {
		mu.Lock()
		for _, cn := range conns {
			cn.nc.Close()
		}
		mu.Unlock()
		readers.Wait()
	}()
	connect := func(from, to int) ([]time.Duration, error) {
		lat := make([]time.Duration, to-from)
		next := make(chan int)
		errc := make(chan error, c.inflight)
		var wg sync.WaitGroup
		for range c.inflight {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					ip := net.IPv4(127, byte(1+rep), byte(i/250), byte(1+i%250))
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					t := time.Now()
					cn, err := dialHelper(ctx, addr, ip)
					cancel()
					if err != nil {
						select {
						case errc <- fmt.Errorf("client %d: %w", i, err):
						default:
						}
						continue
					}
					lat[i-from] = time.Since(t)
					mu.Lock()
					conns = append(conns, cn)
					mu.Unlock()
					readers.Add(1)
					go cn.loop(k, readers.Done)
				}
			}()
		}
		for i := from; i < to; i++ {
			next <- i
		}
		close(next)
		wg.Wait()
		select {
		case err := <-errc:
			return nil, err
		default:
		}
		return lat, nil
	}

	// Phase 1: authenticated clients/s.
	if _, err := connect(0, c.warm); err != nil {
		return r, fmt.Errorf("warm-up: %w", err)
	}
	m := meter(spid, os.Getpid(), redis.cmd.Process.Pid)
	t0 := time.Now()
	lat, err := connect(c.warm, c.clients)
	if err != nil {
		return r, err
	}
	end := time.Now()
	cpu := m.cores(end)
	r.AuthClients = c.clients - c.warm
	r.AuthPerSec = float64(r.AuthClients) / end.Sub(t0).Seconds()
	slices.Sort(lat)
	r.AuthP50ms = ms(lat[len(lat)/2])
	r.AuthP99ms = ms(lat[(len(lat)*99)/100])
	r.AuthServerCPU, r.AuthLGCPU, r.AuthRedisCPU = cpu[0], cpu[1], cpu[2]
	var st statsBody
	if err := getJSON(ctlURL+"/stats", &st); err != nil {
		return r, err
	}
	if st.Authenticated != c.clients {
		return r, fmt.Errorf("the server counts %d authenticated clients, want %d", st.Authenticated, c.clients)
	}

	// Phase 2: every client joins the room.
	const room = "bench-room"
	mu.Lock()
	for _, cn := range conns {
		if err := cn.write(`42["join",{"rooms":["` + room + `"]}]`); err != nil {
			mu.Unlock()
			return r, err
		}
	}
	mu.Unlock()
	if err := waitFor(60*time.Second, 100*time.Millisecond, func() (bool, error) {
		err := getJSON(ctlURL+"/stats?room="+room, &st)
		return st.Room == c.clients, err
	}); err != nil {
		return r, fmt.Errorf("room has %d of %d clients: %w", st.Room, c.clients, err)
	}
	r.RoomSize = st.Room

	burst := func(topic string, n int) error {
		b, _ := json.Marshal(burstBody{Destination: room, Topic: topic, Count: n, Data: struct {
			Text string `json:"text"`
		}{"hello, room: a message of about a hundred bytes on the wire, as a chat line would be"}})
		res, err := http.Post(ctlURL+"/send-burst", "application/json", bytes.NewReader(b))
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			return fmt.Errorf("send-burst: %s", res.Status)
		}
		return nil
	}
	// Phase 3: Send to the room.
	k.watch("warm")
	if err := burst("warm", c.warmSends); err != nil {
		return r, err
	}
	want := int64(c.warmSends * c.clients)
	if err := waitFor(60*time.Second, 2*time.Millisecond, func() (bool, error) { return k.n.Load() >= want, nil }); err != nil {
		return r, fmt.Errorf("warm-up Sends: %d of %d delivered", k.n.Load(), want)
	}
	time.Sleep(time.Second)
	k.watch("room")
	m = meter(spid, os.Getpid(), redis.cmd.Process.Pid)
	t0 = time.Now()
	if err := burst("room", c.sends); err != nil {
		return r, err
	}
	want = int64(c.sends * c.clients)
	werr := waitFor(120*time.Second, 2*time.Millisecond, func() (bool, error) { return k.n.Load() >= want, nil })
	lastNano := k.last.Load()
	cpu = m.cores(time.Unix(0, lastNano))
	r.Sends = c.sends
	r.Deliveries = k.n.Load()
	r.SendSeconds = time.Unix(0, lastNano).Sub(t0).Seconds()
	r.DeliveriesPerSec = float64(r.Deliveries) / r.SendSeconds
	r.SendServerCPU, r.SendLGCPU, r.SendRedisCPU = cpu[0], cpu[1], cpu[2]
	if rss, err := procstat.RSS(spid); err == nil {
		r.ServerRSSMiB = float64(rss) / (1 << 20)
	}
	if werr != nil {
		return r, fmt.Errorf("the Sends: %d of %d delivered within 120 s", r.Deliveries, want)
	}
	return r, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func getJSON(url string, v any) error {
	res, err := http.Get(url)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		return fmt.Errorf("GET %s: %s", url, res.Status)
	}
	return json.NewDecoder(res.Body).Decode(v)
}

// waitFor polls cond every interval until it holds or timeout passes.
func waitFor(timeout, interval time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = errors.New("timed out")
			}
			return err
		}
		time.Sleep(interval)
	}
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:3], " ")
}

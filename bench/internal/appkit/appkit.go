// Package appkit holds what the three Go servers of the suite share: the
// command line, and the /stats and /gc admin endpoints of the app contract.
package appkit

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"syscall"

	"github.com/gosio/gosio/bench/internal/procstat"

	_ "net/http/pprof" // served on -pprof only
)

// Stats is the body of GET /stats, the same fields in every server (Node
// leaves the Go-only ones at zero).
type Stats struct {
	Server      string `json:"server"`
	Conns       int64  `json:"conns"`
	RSS         int64  `json:"rss"`
	HeapInuse   uint64 `json:"heapInuse,omitempty"`
	StackInuse  uint64 `json:"stackInuse,omitempty"`
	Goroutines  int    `json:"goroutines,omitempty"`
	GoMaxProcs  int    `json:"gomaxprocs,omitempty"`
	HeapObjects uint64 `json:"heapObjects,omitempty"`
	Cluster     any    `json:"cluster,omitempty"`
}

// ClusterStats, if set, adds a cluster adapter's counters to /stats.
var ClusterStats func() any

// Flags are the command line every server takes.
type Flags struct {
	Addr  string
	PProf string
}

// ParseFlags parses the shared command line.
func ParseFlags() Flags {
	var f Flags
	flag.StringVar(&f.Addr, "addr", "127.0.0.1:3000", "listen address")
	flag.StringVar(&f.PProf, "pprof", "", "serve net/http/pprof on this address (profiling runs only)")
	flag.IntVar(&runtime.MemProfileRate, "memprofilerate", runtime.MemProfileRate, "runtime.MemProfileRate (1 records every allocation; profiling runs only)")
	flag.Parse()
	return f
}

// Admin adds /stats and /gc to mux; conns counts the connected sockets.
func Admin(mux *http.ServeMux, name string, conns *atomic.Int64) {
	mux.HandleFunc("/stats", func(w http.ResponseWriter, _ *http.Request) {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		rss, _ := procstat.RSS(0)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(Stats{
			Server: name, Conns: conns.Load(), RSS: rss,
			HeapInuse: ms.HeapInuse, StackInuse: ms.StackInuse, HeapObjects: ms.HeapObjects,
			Goroutines: runtime.NumGoroutine(), GoMaxProcs: runtime.GOMAXPROCS(0),
			Cluster: clusterStats(),
		})
	})
	mux.HandleFunc("/gc", func(w http.ResponseWriter, _ *http.Request) {
		debug.FreeOSMemory()
		fmt.Fprintln(w, "ok")
	})
}

func clusterStats() any {
	if ClusterStats == nil {
		return nil
	}
	return ClusterStats()
}

// Serve listens on f.Addr and serves h until SIGTERM or SIGINT. It prints
// "listening <addr>" once the socket is bound, which the orchestrator
// waits for.
func Serve(f Flags, h http.Handler) {
	ln, err := net.Listen("tcp", f.Addr)
	if err != nil {
		log.Fatal(err)
	}
	if f.PProf != "" {
		go func() { log.Println(http.ListenAndServe(f.PProf, http.DefaultServeMux)) }()
	}
	fmt.Printf("listening %s\n", ln.Addr())
	srv := &http.Server{Handler: h}
	go func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
		<-ch
		os.Exit(0)
	}()
	log.Fatal(srv.Serve(ln))
}

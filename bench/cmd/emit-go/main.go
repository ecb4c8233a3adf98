// Command emit-go is the Go side of the emitter benchmark: one process
// that emits -n events "b" into a cluster of classic Redis adapters with
// github.com/gosio/gosio/emitter (emitter.New, default options), from
// -conc goroutines sharing one rueidis client (which pipelines their
// PUBLISHes), and prints one JSON line with its count, duration and the CPU time
// it used while emitting (start-up excluded).
//
// The payload is {"t":<µs>,"s":<step>,"p":"xx…"} where t is microseconds
// since -epoch (Unix µs, the load generator's clock origin), so that the
// load generator can compute the emit-to-delivery latency. node/emitter.mjs
// is its Node twin, with the same flags and output.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/rueidis"

	"github.com/gosio/gosio/emitter"
)

type msg struct {
	T int64  `json:"t"`
	S int64  `json:"s"`
	P string `json:"p"`
}

func main() {
	url := flag.String("redis", "redis://127.0.0.1:6379", "Redis URL")
	n := flag.Int("n", 100000, "events to emit")
	conc := flag.Int("conc", 64, "emitting goroutines")
	size := flag.Int("size", 100, "payload size in bytes (about)")
	epochUS := flag.Int64("epoch", 0, "clock origin, Unix microseconds")
	step := flag.Int64("step", 1, "step id written in the payload")
	flushDelay := flag.Duration("flush-delay", 20*time.Microsecond, "rueidis MaxFlushDelay")
	flag.Parse()

	opt, err := rueidis.ParseURL(*url)
	if err != nil {
		log.Fatal(err)
	}
	opt.DisableCache = true
	// More commands per write syscall, as docs/emitter.md advises for high
	// emit rates (Node's emitter writes without waiting for replies).
	opt.MaxFlushDelay = *flushDelay
	client, err := rueidis.NewClient(opt)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	em := emitter.New(client, nil)
	pad := strings.Repeat("x", max(0, *size-40))
	epoch := time.UnixMicro(*epochUS)
	ctx := context.Background()

	var next, errs atomic.Int64
	var wg sync.WaitGroup
	cpu0 := cpuSeconds()
	start := time.Now()
	for range *conc {
		wg.Go(func() {
			for next.Add(1) <= int64(*n) {
				m := msg{T: time.Since(epoch).Microseconds(), S: *step, P: pad}
				if em.Emit(ctx, "b", m) != nil {
					errs.Add(1)
				}
			}
		})
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	out, _ := json.Marshal(map[string]any{"emitter": "go", "emits": *n, "errors": errs.Load(), "seconds": secs, "cpuSeconds": cpuSeconds() - cpu0})
	fmt.Fprintln(os.Stdout, string(out))
}

// cpuSeconds is the process's user + system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// Command emit-go is the Go side of the emitter benchmark: one process
// that emits -n events "b" into a cluster of classic Redis adapters with
// github.com/gosio/gosio/emitter (emitter.New, default options), and
// prints one JSON line with its count, duration and the CPU time it used
// while emitting (start-up excluded).
//
// -mode loop (the default) is what a Node user writes: one goroutine
// calling emit in a loop, here through an emitter.Pipeline whose window
// is 2×-conc emits waiting for their replies (node/emitter.mjs lets up to
// 2×-conc wait too), then Wait for the last replies. -mode conc is
// -conc goroutines each calling Operator.Emit, which waits for its reply,
// on one rueidis client (which pipelines their PUBLISHes).
//
// The payload is {"t":<µs>,"s":<step>,"p":"xx…"} where t is microseconds
// since -epoch (Unix µs, the load generator's clock origin), so that the
// load generator can compute the emit-to-delivery latency. node/emitter.mjs
// is its Node twin, with the same flags and output.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"runtime/pprof"
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
	mode := flag.String("mode", "loop", "loop (one goroutine, emitter.Pipeline) or conc (-conc goroutines, Emit)")
	flushDelay := flag.Duration("flush-delay", 0, "rueidis MaxFlushDelay")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the emitting loop to this file")
	memProfile := flag.String("memprofile", "", "write an allocation profile to this file at the end")
	flag.Parse()

	opt, err := rueidis.ParseURL(*url)
	if err != nil {
		log.Fatal(err)
	}
	opt.DisableCache = true
	// More commands per write syscall for Emit from many goroutines
	// (docs/emitter.md); a Pipeline writes its batches whole without it.
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
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
	}
	if *memProfile != "" {
		runtime.MemProfileRate = 4096
	}
	cpu0 := cpuSeconds()
	start := time.Now()
	switch *mode {
	case "loop":
		p := emitter.NewPipeline(2 * *conc)
		for range *n {
			m := msg{T: time.Since(epoch).Microseconds(), S: *step, P: pad}
			if p.Emit(ctx, em, "b", m) != nil {
				errs.Add(1)
			}
		}
		var pe *emitter.PipelineError
		if err := p.Wait(ctx); errors.As(err, &pe) {
			errs.Add(int64(pe.Failed))
		} else if err != nil {
			log.Fatal(err)
		}
	case "conc":
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
	default:
		log.Fatalf("unknown -mode %q", *mode)
	}
	secs := time.Since(start).Seconds()
	cpu := cpuSeconds() - cpu0
	if *cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	if *memProfile != "" {
		if f, err := os.Create(*memProfile); err == nil {
			_ = pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
	}
	out, _ := json.Marshal(map[string]any{"emitter": "go", "emits": *n, "errors": errs.Load(), "seconds": secs, "cpuSeconds": cpu})
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

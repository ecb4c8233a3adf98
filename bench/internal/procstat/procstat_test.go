package procstat

import (
	"os"
	"runtime"
	"testing"
	"time"
)

// TestReadCPUs: one entry per CPU, and busy time grows on the CPU this
// test keeps busy.
func TestReadCPUs(t *testing.T) {
	before, err := ReadCPUs()
	if err != nil {
		t.Fatal(err)
	}
	if len(before) < 1 || len(before) > runtime.NumCPU()+64 {
		t.Fatalf("%d CPUs", len(before))
	}
	for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); {
	}
	after, _ := ReadCPUs()
	var grew float64
	for i := range before {
		grew += after[i].Busy - before[i].Busy
	}
	if grew < 0.1 {
		t.Errorf("busy time grew by %.2f s over 0.3 s of spinning", grew)
	}
}

func TestRead(t *testing.T) {
	s, err := Read(os.Getpid())
	if err != nil || s.RSSBytes <= 0 {
		t.Fatalf("%+v, %v", s, err)
	}
}

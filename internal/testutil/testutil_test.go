package testutil

import (
	"net"
	"testing"
	"time"
)

func TestMain(m *testing.M) { RunWithLeakCheck(m) }

func TestStartRedis(t *testing.T) {
	addr := StartRedis(t)
	if err := redisPing(addr); err != nil {
		t.Fatalf("PING %s: %v", addr, err)
	}
}

func TestCheckLeaksSeesAGoroutine(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, _ := l.Accept()
		if c != nil {
			c.Close()
		}
	}()
	if err := CheckLeaks(100 * time.Millisecond); err == nil {
		t.Fatal("a goroutine blocked in Accept was not reported")
	}
	l.Close()
	<-done
	if err := CheckLeaks(2 * time.Second); err != nil {
		t.Fatal(err)
	}
}

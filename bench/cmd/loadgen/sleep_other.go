//go:build !linux

package main

import "time"

// A sleeper sleeps with time.Sleep (see sleep_linux.go).
type sleeper struct{}

func newSleeper() *sleeper             { return &sleeper{} }
func (*sleeper) sleep(d time.Duration) { time.Sleep(d) }
func (*sleeper) close()                {}

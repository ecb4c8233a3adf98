package main

import (
	"net"
	"testing"
)

func TestBrowserURL(t *testing.T) {
	for _, c := range []struct {
		addr *net.TCPAddr
		want string
	}{
		{&net.TCPAddr{Port: 3000}, "http://localhost:3000/"},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 3000}, "http://localhost:3000/"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 3000}, "http://localhost:3000/"},
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 3009}, "http://127.0.0.1:3009/"},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 3009}, "http://[::1]:3009/"},
	} {
		if got := browserURL(c.addr); got != c.want {
			t.Errorf("browserURL(%v) = %q, want %q", c.addr, got, c.want)
		}
	}
}

package testutil

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

func TestKeySlotKnownValues(t *testing.T) {
	t.Parallel()
	if got := crc16("123456789"); got != 0x31C3 {
		t.Fatalf("crc16(123456789) = %#x, want 0x31c3", got)
	}
	for key, want := range map[string]int{
		"":                      0,
		"foo":                   12182,
		"{user1000}.following":  KeySlot("user1000"),
		"{user1000}.followers":  KeySlot("user1000"),
		"foo{}{bar}":            KeySlot("foo{}{bar}"), // empty tag: whole key
		"foo{{bar}}zap":         KeySlot("{bar"),
		"foo{bar}{zap}":         KeySlot("bar"),
		"socket.io#/#room1#":    KeySlot("socket.io#/#room1#"),
		"no closing {brace":     KeySlot("no closing {brace"),
		"{}":                    KeySlot("{}"),
		"socket.io#/#{tag}x#y#": KeySlot("tag"),
	} {
		if got := KeySlot(key); got != want {
			t.Errorf("KeySlot(%q) = %d, want %d", key, got, want)
		}
	}
}

func TestRedisDoReplies(t *testing.T) {
	t.Parallel()
	addr := StartRedis(t)
	check := func(want any, args ...string) {
		t.Helper()
		got, err := RedisDo(addr, args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		Equal(t, got, want)
	}
	check("OK", "SET", "k", "v\r\nwith crlf")
	check("v\r\nwith crlf", "GET", "k")
	check(nil, "GET", "missing")
	check(int64(3), "RPUSH", "l", "a", "", "c")
	check([]any{"a", "", "c"}, "LRANGE", "l", "0", "-1")
	_, err := RedisDo(addr, "NOSUCHCOMMAND")
	var re RedisError
	if !errors.As(err, &re) || !strings.HasPrefix(string(re), "ERR") {
		t.Fatalf("unknown command: err = %v, want a RedisError", err)
	}
}

func TestRedisServerRestart(t *testing.T) {
	t.Parallel()
	s := StartRedisServer(t)
	addr := s.Addr()
	if _, err := RedisDo(addr, "SET", "k", "v"); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	if err := redisPing(addr); err == nil {
		t.Fatal("PING succeeded after Stop")
	}
	s.Stop() // idempotent
	s.Restart()
	if s.Addr() != addr {
		t.Fatalf("restarted on %s, want %s", s.Addr(), addr)
	}
	v, err := RedisDo(addr, "GET", "k")
	if err != nil || v != nil {
		t.Fatalf("GET k after restart = %v, %v; want nil (no persistence)", v, err)
	}
	s.Restart() // while running: kill and start again
	if err := redisPing(addr); err != nil {
		t.Fatal(err)
	}
}

func TestStartRedisClusterMigrateSlot(t *testing.T) {
	t.Parallel()
	c := StartRedisCluster(t, 3, 1)
	if len(c.Addrs()) != 6 || len(c.Masters()) != 3 {
		t.Fatalf("addrs %v, masters %v", c.Addrs(), c.Masters())
	}
	for _, addr := range c.Addrs() {
		v, err := RedisDo(addr, "CLUSTER", "INFO")
		if err != nil || parseInfo(v.(string))["cluster_state"] != "ok" {
			t.Fatalf("%s: CLUSTER INFO = %v, %v", addr, v, err)
		}
	}

	// KeySlot agrees with the server.
	for i := 0; i < 200; i++ {
		key := fmt.Sprintf("key:%d", i*7919)
		if i%3 == 0 {
			key = fmt.Sprintf("x{tag%d}y", i)
		}
		v, err := RedisDo(c.Masters()[0], "CLUSTER", "KEYSLOT", key)
		if err != nil {
			t.Fatal(err)
		}
		if got := KeySlot(key); int64(got) != v.(int64) {
			t.Fatalf("KeySlot(%q) = %d, CLUSTER KEYSLOT = %d", key, got, v)
		}
	}

	// Keys of one slot move with it.
	const tag = "{migrate-me}"
	slot := KeySlot(tag)
	from := c.SlotOwner(slot)
	var to string
	for _, m := range c.Masters() {
		if m != from {
			to = m
			break
		}
	}
	for i := 0; i < 150; i++ { // more than one MIGRATE batch
		if _, err := RedisDo(from, "SET", tag+strconv.Itoa(i), strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	before, err := readTopology(from)
	if err != nil {
		t.Fatal(err)
	}
	c.MigrateSlot(t, slot, to)
	c.MigrateSlot(t, slot, to) // already there: no-op
	if got := c.SlotOwner(slot); got != to {
		t.Fatalf("slot %d owned by %s after migration, want %s", slot, got, to)
	}
	v, err := RedisDo(to, "GET", tag+"149")
	if err != nil || v != "149" {
		t.Fatalf("GET on the new owner = %v, %v", v, err)
	}
	n, err := RedisDo(to, "CLUSTER", "COUNTKEYSINSLOT", strconv.Itoa(slot))
	if err != nil || n != int64(150) {
		t.Fatalf("COUNTKEYSINSLOT on the new owner = %v, %v", n, err)
	}
	_, err = RedisDo(from, "GET", tag+"1")
	var re RedisError
	if !errors.As(err, &re) || !strings.HasPrefix(string(re), "MOVED "+strconv.Itoa(slot)+" "+to) {
		t.Fatalf("GET on the old owner: err = %v, want MOVED to %s", err, to)
	}
	// Every other slot stayed where it was.
	after, err := readTopology(c.Addrs()[5])
	if err != nil {
		t.Fatal(err)
	}
	for s := 0; s < ClusterSlots; s++ {
		if s != slot && after.owner(s) != before.owner(s) {
			t.Fatalf("slot %d moved from %s to %s too", s, before.owner(s), after.owner(s))
		}
	}
}

func TestStartRedisClusterSmall(t *testing.T) {
	t.Parallel()
	c := StartRedisCluster(t, 1, 1)
	if len(c.Addrs()) != 2 || len(c.Masters()) != 1 {
		t.Fatalf("addrs %v, masters %v", c.Addrs(), c.Masters())
	}
	if _, err := RedisDo(c.Masters()[0], "SET", "a", "1"); err != nil {
		t.Fatal(err)
	}
}

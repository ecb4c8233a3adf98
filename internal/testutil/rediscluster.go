package testutil

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ClusterSlots is the number of hash slots of a Redis Cluster.
const ClusterSlots = 16384

// clusterReadyTimeout bounds the wait for a (re)configured cluster to settle.
const clusterReadyTimeout = 30 * time.Second

// RedisCluster is a private Redis Cluster started by StartRedisCluster.
type RedisCluster struct {
	tb       testing.TB
	servers  []*RedisServer
	replicas int
	masters  []string // ordered by the first slot each serves
}

// StartRedisCluster starts masters*(1+replicasPerMaster) redis-server
// processes in cluster mode on free ports of 127.0.0.1, each in its own temp
// dir, creates the cluster (redis-cli --cluster create for 3 masters or more;
// by hand with CLUSTER ADDSLOTS/MEET/REPLICATE for 1 or 2) and waits until
// every node reports cluster_state:ok and all nodes agree on the slot map,
// including every replica. The processes are killed at the end of the test.
func StartRedisCluster(tb testing.TB, masters, replicasPerMaster int) *RedisCluster {
	tb.Helper()
	if masters < 1 || replicasPerMaster < 0 {
		tb.Fatalf("StartRedisCluster(%d, %d): need at least one master", masters, replicasPerMaster)
	}
	bin := NeedTool(tb, "redis-server")
	cli := ""
	if masters >= 3 {
		cli = NeedTool(tb, "redis-cli")
	}
	n := masters * (1 + replicasPerMaster)
	c := &RedisCluster{tb: tb, replicas: replicasPerMaster}
	used := map[int]bool{}
	for i := 0; i < n; i++ {
		port := clusterPort(tb, used)
		dir := tb.TempDir()
		c.servers = append(c.servers, launchRedisServer(tb, bin, port, dir,
			"--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(dir, "nodes.conf"),
			"--cluster-node-timeout", "2000",
			// Replicas sync at once instead of after the default 5 s delay,
			// and report their offset within a second (CLUSTER SLOTS lists a
			// replica only once it has), not after the default 10 s.
			"--repl-diskless-sync-delay", "0",
			"--repl-ping-replica-period", "1"))
	}
	for _, s := range c.servers {
		if err := s.waitPing(redisStartTimeout); err != nil {
			tb.Fatalf("%v\n%s", err, s.logTail())
		}
	}
	if cli != "" {
		c.createWithCLI(cli, replicasPerMaster)
	} else {
		c.createByHand(masters)
	}
	top := c.waitSettled(func(t clusterTopology) error { return nil })
	c.masters = top.masters()
	if len(c.masters) != masters {
		tb.Fatalf("cluster has %d masters, want %d\n%s", len(c.masters), masters, top)
	}
	return c
}

// clusterPort picks a free port P whose cluster bus port P+10000 is valid
// and free too (every Redis version derives the bus port that way).
func clusterPort(tb testing.TB, used map[int]bool) int {
	tb.Helper()
	for i := 0; i < 100; i++ {
		p := FreePort(tb)
		if p+10000 > 65535 || used[p] || used[p+10000] || !portFree(p+10000) {
			continue
		}
		used[p], used[p+10000] = true, true
		return p
	}
	tb.Fatalf("no free port pair P, P+10000 for a cluster node")
	return 0
}

func portFree(p int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

func (c *RedisCluster) createWithCLI(cli string, replicas int) {
	c.tb.Helper()
	args := []string{"--cluster", "create"}
	args = append(args, c.Addrs()...)
	args = append(args, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput()
	if err != nil {
		c.tb.Fatalf("redis-cli %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// createByHand builds a cluster with fewer than 3 masters, which redis-cli
// refuses to create: the first `masters` servers share the slots, the others
// replicate them in turn.
func (c *RedisCluster) createByHand(masters int) {
	c.tb.Helper()
	do := func(addr string, args ...string) any {
		c.tb.Helper()
		v, err := RedisDo(addr, args...)
		if err != nil {
			c.tb.Fatalf("%s %s: %v", addr, strings.Join(args, " "), err)
		}
		return v
	}
	for i := 0; i < masters; i++ {
		lo, hi := i*ClusterSlots/masters, (i+1)*ClusterSlots/masters
		args := []string{"CLUSTER", "ADDSLOTS"}
		for s := lo; s < hi; s++ {
			args = append(args, strconv.Itoa(s))
		}
		do(c.servers[i].Addr(), args...)
		// distinct epochs, as redis-cli does, so no collision round is needed
		do(c.servers[i].Addr(), "CLUSTER", "SET-CONFIG-EPOCH", strconv.Itoa(i+1))
	}
	first := c.servers[0]
	for _, s := range c.servers[1:] {
		do(s.Addr(), "CLUSTER", "MEET", "127.0.0.1", strconv.Itoa(first.Port()))
	}
	ids := make([]string, masters)
	for i := range ids {
		ids[i] = c.NodeID(c.servers[i].Addr())
	}
	for j, s := range c.servers[masters:] {
		master := ids[j%masters]
		// a node can only replicate a master it already knows about
		WaitUntil(c.tb, clusterReadyTimeout, "replica "+s.Addr()+" to learn its master", func() bool {
			_, err := RedisDo(s.Addr(), "CLUSTER", "REPLICATE", master)
			return err == nil
		})
	}
}

// Addrs returns the addresses of all nodes, masters and replicas.
func (c *RedisCluster) Addrs() []string {
	out := make([]string, len(c.servers))
	for i, s := range c.servers {
		out[i] = s.Addr()
	}
	return out
}

// Masters returns the addresses of the masters as of the cluster's creation,
// ordered by the first slot each one serves.
func (c *RedisCluster) Masters() []string { return append([]string(nil), c.masters...) }

// Server returns the process of the node at addr, for tests that kill or
// restart one node; nil when addr is not a node of the cluster.
func (c *RedisCluster) Server(addr string) *RedisServer {
	for _, s := range c.servers {
		if s.Addr() == addr {
			return s
		}
	}
	return nil
}

// NodeID returns the cluster node id of the node at addr (CLUSTER MYID).
func (c *RedisCluster) NodeID(addr string) string {
	c.tb.Helper()
	v, err := RedisDo(addr, "CLUSTER", "MYID")
	if err != nil {
		c.tb.Fatalf("CLUSTER MYID on %s: %v", addr, err)
	}
	id, _ := v.(string)
	return id
}

// SlotOwner returns the address of the master that serves slot, as the node
// at Masters()[0] sees it now.
func (c *RedisCluster) SlotOwner(slot int) string {
	c.tb.Helper()
	top, err := readTopology(c.masters[0])
	if err != nil {
		c.tb.Fatalf("CLUSTER SLOTS: %v", err)
	}
	return top.owner(slot)
}

// MigrateSlot moves hash slot `slot`, with its keys, from its current owner
// to the master at `to`: CLUSTER SETSLOT IMPORTING on the target, MIGRATING
// on the source, MIGRATE of the keys in batches, then SETSLOT NODE on the
// target, the source and every other master. It returns once every node,
// replicas included, reports the new owner and cluster_state:ok.
func (c *RedisCluster) MigrateSlot(tb testing.TB, slot int, to string) {
	tb.Helper()
	if slot < 0 || slot >= ClusterSlots {
		tb.Fatalf("MigrateSlot: slot %d out of range", slot)
	}
	top, err := readTopology(to)
	if err != nil {
		tb.Fatalf("MigrateSlot: CLUSTER SLOTS on %s: %v", to, err)
	}
	from := top.owner(slot)
	if from == to {
		return
	}
	if from == "" {
		tb.Fatalf("MigrateSlot: slot %d has no owner\n%s", slot, top)
	}
	masters := top.masters()
	if !contains(masters, to) {
		tb.Fatalf("MigrateSlot: %s is not a master (masters: %v)", to, masters)
	}
	do := func(addr string, args ...string) any {
		tb.Helper()
		v, err := RedisDo(addr, args...)
		if err != nil {
			tb.Fatalf("MigrateSlot: %s %s: %v", addr, strings.Join(args, " "), err)
		}
		return v
	}
	s := strconv.Itoa(slot)
	fromID, toID := c.NodeID(from), c.NodeID(to)
	do(to, "CLUSTER", "SETSLOT", s, "IMPORTING", fromID)
	do(from, "CLUSTER", "SETSLOT", s, "MIGRATING", toID)
	toHost, toPort, _ := net.SplitHostPort(to)
	for {
		keys, _ := do(from, "CLUSTER", "GETKEYSINSLOT", s, "100").([]any)
		if len(keys) == 0 {
			break
		}
		args := []string{"MIGRATE", toHost, toPort, "", "0", "5000", "REPLACE", "KEYS"}
		for _, k := range keys {
			args = append(args, k.(string))
		}
		do(from, args...)
	}
	do(to, "CLUSTER", "SETSLOT", s, "NODE", toID)
	do(from, "CLUSTER", "SETSLOT", s, "NODE", toID)
	for _, m := range masters {
		if m != to && m != from {
			do(m, "CLUSTER", "SETSLOT", s, "NODE", toID)
		}
	}
	c.waitSettled(func(t clusterTopology) error {
		if o := t.owner(slot); o != to {
			return fmt.Errorf("slot %d is served by %s, want %s", slot, o, to)
		}
		return nil
	})
}

// waitSettled waits until every node reports cluster_state:ok, knows every
// other node, and all nodes report the same slot map, which covers every
// slot, gives each master its replicas and passes check. It returns that map.
func (c *RedisCluster) waitSettled(check func(clusterTopology) error) clusterTopology {
	c.tb.Helper()
	deadline := time.Now().Add(clusterReadyTimeout)
	for {
		top, err := c.settled(check)
		if err == nil {
			return top
		}
		if time.Now().After(deadline) {
			c.tb.Fatalf("redis cluster did not settle within %v: %v", clusterReadyTimeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *RedisCluster) settled(check func(clusterTopology) error) (clusterTopology, error) {
	var first clusterTopology
	for i, s := range c.servers {
		info, err := RedisDo(s.Addr(), "CLUSTER", "INFO")
		if err != nil {
			return nil, fmt.Errorf("CLUSTER INFO on %s: %v", s.Addr(), err)
		}
		fields := parseInfo(fmt.Sprint(info))
		if fields["cluster_state"] != "ok" {
			return nil, fmt.Errorf("%s: cluster_state:%s", s.Addr(), fields["cluster_state"])
		}
		if fields["cluster_known_nodes"] != strconv.Itoa(len(c.servers)) {
			return nil, fmt.Errorf("%s: cluster_known_nodes:%s, want %d", s.Addr(), fields["cluster_known_nodes"], len(c.servers))
		}
		top, err := readTopology(s.Addr())
		if err != nil {
			return nil, fmt.Errorf("CLUSTER SLOTS on %s: %v", s.Addr(), err)
		}
		if i == 0 {
			first = top
			if err := first.complete(c.replicas); err != nil {
				return nil, fmt.Errorf("%s: %v", s.Addr(), err)
			}
			if err := check(first); err != nil {
				return nil, fmt.Errorf("%s: %v", s.Addr(), err)
			}
		} else if top.String() != first.String() {
			return nil, fmt.Errorf("%s and %s disagree on the slots:\n%s\nversus\n%s", c.servers[0].Addr(), s.Addr(), first, top)
		}
	}
	return first, nil
}

func parseInfo(s string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			out[k] = v
		}
	}
	return out
}

// slotRange is one entry of CLUSTER SLOTS.
type slotRange struct {
	start, end int
	master     string
	replicas   []string // sorted
}

// clusterTopology is one node's CLUSTER SLOTS, sorted by start slot.
type clusterTopology []slotRange

func readTopology(addr string) (clusterTopology, error) {
	v, err := RedisDo(addr, "CLUSTER", "SLOTS")
	if err != nil {
		return nil, err
	}
	entries, _ := v.([]any)
	var top clusterTopology
	for _, e := range entries {
		f, _ := e.([]any)
		if len(f) < 3 {
			return nil, fmt.Errorf("bad CLUSTER SLOTS entry %v", e)
		}
		r := slotRange{start: int(asInt(f[0])), end: int(asInt(f[1])), master: nodeAddr(f[2])}
		for _, n := range f[3:] {
			r.replicas = append(r.replicas, nodeAddr(n))
		}
		sort.Strings(r.replicas)
		top = append(top, r)
	}
	sort.Slice(top, func(i, j int) bool { return top[i].start < top[j].start })
	return top, nil
}

func asInt(v any) int64 {
	n, _ := v.(int64)
	return n
}

// nodeAddr turns a CLUSTER SLOTS node entry [ip, port, id, ...] into ip:port.
func nodeAddr(v any) string {
	f, _ := v.([]any)
	if len(f) < 2 {
		return "?"
	}
	return net.JoinHostPort(fmt.Sprint(f[0]), strconv.FormatInt(asInt(f[1]), 10))
}

func (t clusterTopology) String() string {
	var b strings.Builder
	for _, r := range t {
		fmt.Fprintf(&b, "%d-%d %s replicas=%v\n", r.start, r.end, r.master, r.replicas)
	}
	return b.String()
}

// owner returns the master serving slot, or "".
func (t clusterTopology) owner(slot int) string {
	for _, r := range t {
		if r.start <= slot && slot <= r.end {
			return r.master
		}
	}
	return ""
}

// masters returns the masters ordered by the first slot each one serves.
func (t clusterTopology) masters() []string {
	var out []string
	for _, r := range t {
		if !contains(out, r.master) {
			out = append(out, r.master)
		}
	}
	return out
}

// complete checks that t covers every slot and that each range has the
// given number of replicas.
func (t clusterTopology) complete(replicas int) error {
	next := 0
	for _, r := range t {
		if r.start != next {
			return fmt.Errorf("slots %d-%d are not served", next, r.start-1)
		}
		if len(r.replicas) != replicas {
			return fmt.Errorf("slots %d-%d have %d replicas, want %d", r.start, r.end, len(r.replicas), replicas)
		}
		next = r.end + 1
	}
	if next != ClusterSlots {
		return fmt.Errorf("slots %d-%d are not served", next, ClusterSlots-1)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// KeySlot returns the Redis Cluster hash slot of key: CRC16 (XMODEM) of the
// key, or of its hash tag, modulo 16384. The hash tag is the text between
// the first "{" and the first "}" after it, when that text is not empty.
func KeySlot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	return int(crc16(key)) % ClusterSlots
}

// crc16 is CRC-16/XMODEM (polynomial 0x1021, initial value 0), the variant
// Redis Cluster uses.
func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for b := 0; b < 8; b++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// WaitUntil polls cond every 20 ms until it returns true, failing the test
// when timeout passes first.
func WaitUntil(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ReplicasOf returns the replicas of the master at addr, as the node at
// Masters()[0] sees them now.
func (c *RedisCluster) ReplicasOf(addr string) []string {
	c.tb.Helper()
	top, err := readTopology(c.masters[0])
	if err != nil {
		c.tb.Fatalf("CLUSTER SLOTS: %v", err)
	}
	for _, r := range top {
		if r.master == addr {
			return append([]string(nil), r.replicas...)
		}
	}
	return nil
}

// Failover runs CLUSTER FAILOVER on the replica at addr (a manual
// failover: its master stops taking writes, the replica catches up and
// takes the master's slots) and returns once every node agrees that addr
// is a master serving them.
func (c *RedisCluster) Failover(tb testing.TB, addr string) {
	tb.Helper()
	top, err := readTopology(addr)
	if err != nil {
		tb.Fatalf("Failover: CLUSTER SLOTS on %s: %v", addr, err)
	}
	var slots []int
	for _, r := range top {
		if contains(r.replicas, addr) {
			slots = append(slots, r.start)
		}
	}
	if len(slots) == 0 {
		tb.Fatalf("Failover: %s is not a replica\n%s", addr, top)
	}
	if _, err := RedisDo(addr, "CLUSTER", "FAILOVER"); err != nil {
		tb.Fatalf("Failover: CLUSTER FAILOVER on %s: %v", addr, err)
	}
	c.waitSettled(func(t clusterTopology) error {
		for _, s := range slots {
			if o := t.owner(s); o != addr {
				return fmt.Errorf("slot %d is served by %s, want %s", s, o, addr)
			}
		}
		return nil
	})
}

// WaitSlotOwner waits until every node that answers reports a master other
// than not for slot, and cluster_state:ok (after a master was stopped, its
// replica takes over once cluster-node-timeout passed), and returns the new
// owner. Stopped nodes are skipped.
func (c *RedisCluster) WaitSlotOwner(tb testing.TB, slot int, not string) string {
	tb.Helper()
	deadline := time.Now().Add(clusterReadyTimeout)
	for {
		owner, err := c.liveOwner(slot)
		if err == nil && owner != not {
			return owner
		}
		if time.Now().After(deadline) {
			tb.Fatalf("slot %d still served by %s after %v (%v)", slot, not, clusterReadyTimeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *RedisCluster) liveOwner(slot int) (string, error) {
	owner := ""
	for _, s := range c.servers {
		if s.exited() {
			continue
		}
		info, err := RedisDo(s.Addr(), "CLUSTER", "INFO")
		if err != nil {
			return "", err
		}
		if st := parseInfo(fmt.Sprint(info))["cluster_state"]; st != "ok" {
			return "", fmt.Errorf("%s: cluster_state:%s", s.Addr(), st)
		}
		top, err := readTopology(s.Addr())
		if err != nil {
			return "", err
		}
		o := top.owner(slot)
		if owner != "" && o != owner {
			return "", fmt.Errorf("%s says %s, another node %s", s.Addr(), o, owner)
		}
		owner = o
	}
	return owner, nil
}

package redis

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/redis/rueidis"
)

// The sharded adapter on a Redis Cluster.
//
// Every SSUBSCRIBE must reach the master serving its channel's slot, so
// the subscriber keeps one dedicated connection per master that serves a
// subscribed channel (taken from client.Nodes(), so no channel of a
// foreign slot ever meets rueidis's single-slot dedicated cluster client)
// and sends one SSUBSCRIBE per channel on it. A channel is placed only
// once its SSUBSCRIBE is confirmed, and it is SUNSUBSCRIBEd only while
// placed: subscribe and unsubscribe are serialized under subscriber.mu, so
// an unsubscribe never overtakes its subscribe.
//
// A placed channel is lost when its connection fails, or when the server
// pushes an unsolicited sunsubscribe (its slot moved: migration or
// failover). A lost channel opens a gap; the run loop places it again on
// the slot's new owner (following MOVED) with a jittered backoff, and the
// gap is reported once no channel is lost any more.

// clusterMaxBackoff bounds the wait between two placement rounds.
const clusterMaxBackoff = 500 * time.Millisecond

// errSlotMoved is the Gap error of a subscription the server ended.
var errSlotMoved = errors.New("redis: the server ended a shard subscription (its slot moved)")

// A shardConn is a dedicated pub/sub connection to one cluster node.
type shardConn struct {
	addr   string
	dc     rueidis.DedicatedClient
	cancel func()
	done   chan struct{} // closed when the connection is dropped
	// chans are the channels placed on the connection; under subscriber.mu.
	chans   map[string]struct{}
	dropped bool // under subscriber.mu

	// ours counts the SUNSUBSCRIBEs the subscriber sent and whose
	// sunsubscribe reply the hook has not seen yet, by channel: those are
	// not losses.
	hmu  sync.Mutex
	ours map[string]int
}

// A shardEvent is reported by a connection's hook or watcher: channel was
// ended by the server, or ("" channel) the connection failed.
type shardEvent struct {
	conn    *shardConn
	channel string
	err     error
	at      time.Time
}

// slotRange is one entry of CLUSTER SLOTS: the master serving start..end.
type slotRange struct {
	start, end uint16
	master     string
}

// clusterSubs is the state of the subscriber in cluster mode; all of it
// but the events is under subscriber.mu.
type clusterSubs struct {
	ctx    context.Context // cancelled on close
	cancel func()

	conns  map[string]*shardConn // by node address
	where  map[string]*shardConn // placed channel → its connection
	lost   map[string]struct{}   // channels lost and not placed again yet
	ranges []slotRange
	moved  map[uint16]string // owners learned from MOVED since the last CLUSTER SLOTS
	stale  bool              // CLUSTER SLOTS must be read again
	gap    *Gap              // the open gap

	emu    sync.Mutex
	events []shardEvent
	kick   chan struct{}

	// placed copies where's addresses for shardNumSub, which must not wait
	// for mu (held across subscription round trips).
	pmu    sync.Mutex
	placed map[string]string
}

func (s *subscriber) clusterStart(ctx context.Context) error {
	cctx, cancel := context.WithCancel(context.Background())
	s.cs = &clusterSubs{
		ctx: cctx, cancel: cancel,
		conns: make(map[string]*shardConn), where: make(map[string]*shardConn),
		lost: make(map[string]struct{}), moved: make(map[uint16]string),
		kick: make(chan struct{}, 1), placed: make(map[string]string),
	}
	s.mu.Lock()
	err := s.refreshSlots(ctx)
	s.mu.Unlock()
	if err != nil {
		cancel()
		return err
	}
	s.connected.Store(true)
	s.c.wg.Add(1)
	go s.clusterRun()
	return nil
}

// ioContext bounds one round of subscription commands: subscribeTimeout,
// and the subscriber's close. The caller's ctx is not used, so that a
// caller giving up never leaves a half-confirmed subscription behind.
func (s *subscriber) ioContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(s.cs.ctx, subscribeTimeout)
}

func (s *subscriber) kickCluster() {
	select {
	case s.cs.kick <- struct{}{}:
	default:
	}
}

func (s *subscriber) pushEvent(e shardEvent) {
	s.cs.emu.Lock()
	s.cs.events = append(s.cs.events, e)
	s.cs.emu.Unlock()
	s.kickCluster()
}

// clusterRun applies the events and places what is not placed, retrying
// with a jittered backoff while that fails. The backoff stops at 500 ms,
// not 2 s as on a single Redis: each try is a CLUSTER SLOTS on a live
// node, and after a failover the sooner the subscriptions are on the new
// master, the fewer messages are lost.
func (s *subscriber) clusterRun() {
	defer s.c.wg.Done()
	backoff := time.Duration(0)
	var retry <-chan time.Time
	for {
		select {
		case <-s.stop:
			s.clusterTeardown()
			return
		case <-s.cs.kick:
		case <-retry:
		}
		ctx, cancel := s.ioContext()
		s.mu.Lock()
		s.applyEvents()
		err := s.place(ctx, nil)
		s.updateConnected()
		s.mu.Unlock()
		cancel()
		if err == nil {
			backoff, retry = 0, nil
			continue
		}
		if backoff == 0 {
			backoff = 50 * time.Millisecond
			s.c.log.Warn("redis adapter: shard subscriptions not placed; retrying", "uid", s.c.uid, "err", err)
		} else {
			backoff = min(2*backoff, clusterMaxBackoff)
		}
		retry = time.After(backoff/2 + rand.N(backoff/2+1))
	}
}

func (s *subscriber) clusterTeardown() {
	s.cs.cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sc := range s.cs.conns {
		s.dropConn(sc, ErrClosed, time.Now())
	}
	s.cs.gap = nil
	s.connected.Store(false)
}

func (s *subscriber) updateConnected() {
	s.connected.Store(len(s.cs.where) == len(s.subs))
}

// applyEvents takes the losses the hooks and watchers reported.
func (s *subscriber) applyEvents() {
	s.cs.emu.Lock()
	evs := s.cs.events
	s.cs.events = nil
	s.cs.emu.Unlock()
	for _, e := range evs {
		if e.channel == "" {
			s.dropConn(e.conn, e.err, e.at)
			continue
		}
		if s.cs.where[e.channel] != e.conn {
			continue // not placed there (any more)
		}
		s.c.log.Info("redis adapter: shard subscription ended by the server; moving it", "uid", s.c.uid, "channel", e.channel, "node", e.conn.addr)
		s.unplace(e.channel)
		delete(e.conn.chans, e.channel)
		s.markLost(e.channel, e.err, e.at)
		s.cs.stale = true
	}
}

// unplace forgets where ch is placed.
func (s *subscriber) unplace(ch string) {
	delete(s.cs.where, ch)
	s.cs.pmu.Lock()
	delete(s.cs.placed, ch)
	s.cs.pmu.Unlock()
}

// shardNumSub returns PUBSUB SHARDNUMSUB ch from the master ch is placed
// on, which this subscriber checked (ROLE) when it placed it. Routed by
// the client instead, the command can reach the slot's former owner after
// a move (rueidis refreshes its slot map lazily), which answers 0 rather
// than MOVED.
func (s *subscriber) shardNumSub(ctx context.Context, ch string) (int, error) {
	s.cs.pmu.Lock()
	addr := s.cs.placed[ch]
	s.cs.pmu.Unlock()
	var c rueidis.Client = s.c.client
	if n, ok := s.c.client.Nodes()[addr]; ok {
		c = n
	}
	r, err := c.Do(ctx, c.B().PubsubShardnumsub().Channel(ch).Build().Pin()).ToArray()
	if err != nil {
		return 0, err
	}
	return numsub(r), nil
}

func (s *subscriber) markLost(ch string, err error, at time.Time) {
	s.cs.lost[ch] = struct{}{}
	if s.cs.gap == nil {
		s.cs.gap = &Gap{Start: at, Err: err}
	} else if at.Before(s.cs.gap.Start) {
		s.cs.gap.Start = at
	}
}

// closeGap reports the open gap once no channel is lost.
func (s *subscriber) closeGap() {
	if s.cs.gap == nil || len(s.cs.lost) > 0 {
		return
	}
	g := *s.cs.gap
	g.End = time.Now()
	s.cs.gap = nil
	s.c.stats.gaps.Add(1)
	s.c.reportGap(g)
}

// dropConn closes sc; its channels are lost.
func (s *subscriber) dropConn(sc *shardConn, err error, at time.Time) {
	if sc.dropped {
		return
	}
	sc.dropped = true
	if err == nil {
		err = errors.New("redis: subscriber connection closed")
	}
	if s.cs.conns[sc.addr] == sc {
		delete(s.cs.conns, sc.addr)
	}
	close(sc.done)
	// Releasing a healthy dedicated connection waits for its UNSUBSCRIBE
	// round trip (rueidis cleans it for reuse): not under mu.
	s.c.wg.Add(1)
	go func() {
		defer s.c.wg.Done()
		sc.cancel()
	}()
	if len(sc.chans) > 0 && !errors.Is(err, ErrClosed) {
		s.c.log.Warn("redis adapter: shard subscriber connection lost; resubscribing", "uid", s.c.uid, "node", sc.addr, "channels", len(sc.chans), "err", err)
	}
	for ch := range sc.chans {
		if s.cs.where[ch] == sc {
			s.unplace(ch)
			s.markLost(ch, err, at)
		}
	}
	clear(sc.chans)
	s.cs.stale = true
}

// shardSlot returns the hash slot of a shard channel.
func (s *subscriber) shardSlot(ch string) uint16 {
	cmd := s.c.client.B().Ssubscribe().Channel(ch).Build().Pin()
	return cmd.Slot()
}

// refreshSlots reads CLUSTER SLOTS from one of the nodes the client
// knows, trying them in random order: through the cluster client the
// command could go to a node that is down, and wait for rueidis's retries.
func (s *subscriber) refreshSlots(ctx context.Context) error {
	nodes := s.c.client.Nodes()
	addrs := make([]string, 0, len(nodes))
	for addr := range nodes {
		addrs = append(addrs, addr)
	}
	rand.Shuffle(len(addrs), func(i, j int) { addrs[i], addrs[j] = addrs[j], addrs[i] })
	err := errors.New("redis: the client knows no cluster node")
	for _, addr := range addrs {
		n := nodes[addr]
		nctx, cancel := context.WithTimeout(ctx, time.Second)
		var entries []rueidis.RedisMessage
		entries, err = n.Do(nctx, n.B().ClusterSlots().Build().Pin()).ToArray()
		cancel()
		if err == nil {
			s.setSlots(entries)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return err
}

func (s *subscriber) setSlots(entries []rueidis.RedisMessage) {
	ranges := make([]slotRange, 0, len(entries))
	for _, e := range entries {
		f, err := e.ToArray()
		if err != nil || len(f) < 3 {
			continue
		}
		start, err1 := f[0].AsInt64()
		end, err2 := f[1].AsInt64()
		node, err3 := f[2].ToArray()
		if err1 != nil || err2 != nil || err3 != nil || len(node) < 2 {
			continue
		}
		host, err1 := node[0].ToString()
		port, err2 := node[1].AsInt64()
		if err1 != nil || err2 != nil || host == "" || host == "?" {
			continue // an unknown endpoint: MOVED will tell
		}
		ranges = append(ranges, slotRange{start: uint16(start), end: uint16(end), master: fmt.Sprintf("%s:%d", bracketIPv6(host), port)})
	}
	s.cs.ranges = ranges
	clear(s.cs.moved)
	s.cs.stale = false
}

func bracketIPv6(host string) string {
	for i := 0; i < len(host); i++ {
		if host[i] == ':' {
			return "[" + host + "]"
		}
	}
	return host
}

// owner returns the address of the master serving slot, as last learned.
func (s *subscriber) owner(slot uint16) string {
	if a, ok := s.cs.moved[slot]; ok {
		return a
	}
	for _, r := range s.cs.ranges {
		if r.start <= slot && slot <= r.end {
			return r.master
		}
	}
	return ""
}

// place subscribes the channels of the set that are placed nowhere (only
// those of names, unless names is nil), each on the master serving its
// slot, following MOVED replies a few times. It returns nil once all of
// them are placed. Callers hold s.mu.
func (s *subscriber) place(ctx context.Context, names []string) error {
	defer s.closeGap()
	var err error
	for pass := 0; pass < 4; pass++ {
		var todo []string
		if names == nil {
			for ch := range s.subs {
				if s.cs.where[ch] == nil {
					todo = append(todo, ch)
				}
			}
		} else {
			for _, ch := range names {
				if _, ok := s.subs[ch]; ok && s.cs.where[ch] == nil {
					todo = append(todo, ch)
				}
			}
		}
		if len(todo) == 0 {
			return nil
		}
		if s.cs.stale || len(s.cs.ranges) == 0 {
			if err = s.refreshSlots(ctx); err != nil {
				return err
			}
		}
		err = nil
		groups := make(map[string][]string)
		for _, ch := range todo {
			addr := s.owner(s.shardSlot(ch))
			if addr == "" {
				s.cs.stale = true
				err = fmt.Errorf("redis: no node serves the slot of %q", ch)
				continue
			}
			groups[addr] = append(groups[addr], ch)
		}
		moved := false
		for addr, chans := range groups {
			m, e := s.placeOn(ctx, addr, chans)
			moved = moved || m
			if e != nil {
				err = e
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !moved && err != nil {
			return err
		}
	}
	if err == nil {
		err = errors.New("redis: shard subscriptions still redirected after 4 rounds")
	}
	return err
}

// placeOn sends one SSUBSCRIBE per channel to the node at addr and places
// those confirmed. moved reports MOVED replies (their owners are noted).
func (s *subscriber) placeOn(ctx context.Context, addr string, chans []string) (moved bool, err error) {
	sc, err := s.shardConn(ctx, addr, chans[0])
	if err != nil {
		s.cs.stale = true
		return false, err
	}
	cmds := make(rueidis.Commands, 0, 1+len(chans))
	// ROLE first, in the same round trip: a replica accepts the
	// SSUBSCRIBEs of its master's slots (and gets their messages by
	// replication), but SHARDNUMSUB on the master, which serverCount
	// reads, does not count them; after a failover a stale slot map can
	// point at the demoted master.
	cmds = append(cmds, sc.dc.B().Role().Build().Pin())
	for _, ch := range chans {
		// One channel per command: channels of different slots in one
		// SSUBSCRIBE fail with CROSSSLOT.
		cmds = append(cmds, sc.dc.B().Ssubscribe().Channel(ch).Build().Pin())
	}
	res := sc.dc.DoMulti(ctx, cmds...)
	var placed []string
	for i, r := range res {
		e := r.Error()
		var re *rueidis.RedisError
		if e != nil && !errors.As(e, &re) {
			// The connection is unusable, or the reply may still come:
			// drop it so that no subscription is left behind unknown.
			s.dropConn(sc, e, time.Now())
			return moved, e
		}
		if i == 0 {
			continue
		}
		ch := chans[i-1]
		if e == nil {
			placed = append(placed, ch)
			continue
		}
		if to, ok := re.IsMoved(); ok {
			s.cs.moved[s.shardSlot(ch)] = to
			moved = true
			continue
		}
		// CLUSTERDOWN, TRYAGAIN, LOADING...: try again later.
		s.cs.stale = true
		err = e
	}
	if !isMaster(res[0]) {
		s.cs.stale = true
		if len(placed) > 0 {
			s.sunsubscribeOn(ctx, sc, placed)
		}
		return moved, fmt.Errorf("redis: node %s is not a master", addr)
	}
	for _, ch := range placed {
		s.cs.where[ch] = sc
		s.cs.pmu.Lock()
		s.cs.placed[ch] = sc.addr
		s.cs.pmu.Unlock()
		sc.chans[ch] = struct{}{}
		delete(s.cs.lost, ch)
	}
	return moved, err
}

// isMaster reads a ROLE reply.
func isMaster(r rueidis.RedisResult) bool {
	f, err := r.ToArray()
	if err != nil || len(f) == 0 {
		return false
	}
	role, err := f[0].ToString()
	return err == nil && role == "master"
}

// shardConn returns the connection to the node at addr, opening it.
// probe is a channel of a slot that node serves: when rueidis does not
// know the node yet, a command routed by that slot teaches it.
func (s *subscriber) shardConn(ctx context.Context, addr, probe string) (*shardConn, error) {
	if sc := s.cs.conns[addr]; sc != nil {
		return sc, nil
	}
	node, ok := s.c.client.Nodes()[addr]
	if !ok {
		_ = s.c.client.Do(ctx, s.c.client.B().PubsubShardnumsub().Channel(probe).Build().Pin()).Error()
		if node, ok = s.c.client.Nodes()[addr]; !ok {
			return nil, fmt.Errorf("redis: the client does not know node %s yet", addr)
		}
	}
	dc, cancel := node.Dedicate()
	sc := &shardConn{addr: addr, dc: dc, cancel: cancel, done: make(chan struct{}), chans: make(map[string]struct{}), ours: make(map[string]int)}
	wait := dc.SetPubSubHooks(rueidis.PubSubHooks{OnMessage: s.onMessage, OnSubscription: func(p rueidis.PubSubSubscription) {
		if p.Kind != "sunsubscribe" {
			return
		}
		sc.hmu.Lock()
		if n := sc.ours[p.Channel]; n > 0 {
			sc.ours[p.Channel] = n - 1
			sc.hmu.Unlock()
			return
		}
		sc.hmu.Unlock()
		s.pushEvent(shardEvent{conn: sc, channel: p.Channel, err: errSlotMoved, at: time.Now()})
	}})
	// A PING proves the connection works before anything is placed on it.
	if err := dc.Do(ctx, dc.B().Ping().Build().Pin()).Error(); err != nil {
		cancel()
		return nil, err
	}
	s.cs.conns[addr] = sc
	s.c.wg.Add(1)
	go func() {
		defer s.c.wg.Done()
		select {
		case err, ok := <-wait:
			if !ok || err == nil {
				err = errors.New("redis: subscriber connection closed")
			}
			s.pushEvent(shardEvent{conn: sc, err: err, at: time.Now()})
		case <-sc.done:
		}
	}()
	return sc, nil
}

// clusterSubscribe adds shard channels and places them now.
func (s *subscriber) clusterSubscribe(a *nsAdapter, names []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	fresh := s.addLocked(a, subShard, names)
	if len(fresh) == 0 {
		return nil
	}
	ctx, cancel := s.ioContext()
	defer cancel()
	s.applyEvents()
	err := s.place(ctx, fresh)
	s.updateConnected()
	if err != nil {
		s.kickCluster() // the run loop keeps trying
	}
	return err
}

// clusterUnsubscribe removes shard channels, SUNSUBSCRIBEing those placed.
func (s *subscriber) clusterUnsubscribe(names []string) {
	s.rmu.Lock()
	for _, n := range names {
		delete(s.routes, n)
	}
	s.rmu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	byConn := make(map[*shardConn][]string)
	for _, n := range names {
		if _, ok := s.subs[n]; !ok {
			continue
		}
		delete(s.subs, n)
		delete(s.cs.lost, n)
		if sc := s.cs.where[n]; sc != nil {
			s.unplace(n)
			delete(sc.chans, n)
			byConn[sc] = append(byConn[sc], n)
		}
	}
	defer s.updateConnected()
	defer s.closeGap() // a lost channel no longer wanted may end the gap
	if len(byConn) == 0 {
		return
	}
	ctx, cancel := s.ioContext()
	defer cancel()
	for sc, chans := range byConn {
		s.sunsubscribeOn(ctx, sc, chans)
	}
}

// sunsubscribeOn sends one SUNSUBSCRIBE per channel on sc.
func (s *subscriber) sunsubscribeOn(ctx context.Context, sc *shardConn, chans []string) {
	sc.hmu.Lock()
	for _, ch := range chans {
		sc.ours[ch]++
	}
	sc.hmu.Unlock()
	cmds := make(rueidis.Commands, 0, len(chans))
	for _, ch := range chans {
		cmds = append(cmds, sc.dc.B().Sunsubscribe().Channel(ch).Build().Pin())
	}
	for _, r := range sc.dc.DoMulti(ctx, cmds...) {
		if err := r.Error(); err != nil {
			var re *rueidis.RedisError
			if !errors.As(err, &re) {
				s.dropConn(sc, err, time.Now())
			} else {
				s.c.log.Debug("redis adapter: sunsubscribe", "err", err)
			}
			break
		}
	}
	// Each reply was seen by the hook before DoMulti returned (rueidis
	// follows every unsubscribe with a PING); forget what is left.
	sc.hmu.Lock()
	for _, ch := range chans {
		delete(sc.ours, ch)
	}
	sc.hmu.Unlock()
}

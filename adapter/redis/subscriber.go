package redis

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
)

// subscribeTimeout bounds one (re)subscription round trip.
const subscribeTimeout = 10 * time.Second

// Kinds of subscription.
type subKind int

const (
	subChannel subKind = iota // SUBSCRIBE
	subPattern                // PSUBSCRIBE
	subShard                  // SSUBSCRIBE
)

// A subscriber holds a Cluster's subscriptions on one dedicated
// connection (Node's subClient), resubscribing everything after the
// connection drops. Its hooks run on rueidis's reader: they only look the
// channel up and hand the message to its namespace's queue. Shard
// channels on a Redis Cluster take one dedicated connection per master
// instead (subscriber_cluster.go).
type subscriber struct {
	c *Cluster

	// routes maps a subscribed channel or pattern to its namespace; the
	// hooks read it, so it has its own lock, never held across I/O.
	rmu    sync.RWMutex
	routes map[string]*nsAdapter

	// mu serializes subscription changes and guards the sets and dc; it is
	// held across the subscribe round trips (never by the hooks).
	mu     sync.Mutex
	subs   map[string]subKind
	dc     rueidis.DedicatedClient
	cancel func()

	// confirmations pending, by kind and channel
	cmu     sync.Mutex
	pending map[string]chan struct{}

	// cs is the state of the sharded adapter on a Redis Cluster
	// (subscriber_cluster.go); nil otherwise.
	cs *clusterSubs

	connected atomic.Bool
	stop      chan struct{}
	stopOnce  sync.Once
}

func newSubscriber(c *Cluster) *subscriber {
	return &subscriber{
		c:       c,
		routes:  make(map[string]*nsAdapter),
		subs:    make(map[string]subKind),
		pending: make(map[string]chan struct{}),
		stop:    make(chan struct{}),
	}
}

func (s *subscriber) isConnected() bool { return s.connected.Load() }

// start makes the first connection, then keeps it up in the background.
func (s *subscriber) start(ctx context.Context) error {
	if s.c.client.Mode() == rueidis.ClientModeCluster &&
		(s.c.mode == shardedMode || (s.c.mode == streamsMode && s.c.streams.UseShardedPubSub)) {
		return s.clusterStart(ctx)
	}
	wait, err := s.connect(ctx)
	if err != nil {
		return err
	}
	s.c.wg.Add(1)
	go s.run(wait)
	return nil
}

func (s *subscriber) close() {
	s.stopOnce.Do(func() { close(s.stop) })
}

// run watches the connection and reconnects with a jittered backoff.
func (s *subscriber) run(wait <-chan error) {
	defer s.c.wg.Done()
	for {
		var err error
		select {
		case err = <-wait:
		case <-s.stop:
			s.disconnect()
			return
		}
		s.disconnect()
		if err == nil {
			err = errors.New("redis: subscriber connection closed")
		}
		gap := Gap{Start: time.Now(), Err: err}
		s.c.log.Warn("redis adapter: subscriber connection lost; reconnecting", "uid", s.c.uid, "err", err)
		backoff := 50 * time.Millisecond
		for {
			select {
			case <-s.stop:
				return
			case <-time.After(backoff/2 + rand.N(backoff/2+1)):
			}
			ctx, cancel := context.WithTimeout(context.Background(), subscribeTimeout)
			wait, err = s.connect(ctx)
			cancel()
			if err == nil {
				break
			}
			backoff = min(2*backoff, 2*time.Second)
		}
		gap.End = time.Now()
		s.c.stats.gaps.Add(1)
		s.c.reportGap(gap)
	}
}

// connect takes a dedicated connection, sets the hooks and subscribes
// every channel of the set.
func (s *subscriber) connect(ctx context.Context) (<-chan error, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	dc, cancel := s.c.client.Dedicate()
	wait := dc.SetPubSubHooks(rueidis.PubSubHooks{OnMessage: s.onMessage, OnSubscription: s.onSubscription})
	var chans, pats, shards []string
	for name, k := range s.subs {
		switch k {
		case subChannel:
			chans = append(chans, name)
		case subPattern:
			pats = append(pats, name)
		case subShard:
			shards = append(shards, name)
		}
	}
	// A PING proves the connection works even with nothing to subscribe.
	if err := dc.Do(ctx, dc.B().Ping().Build().Pin()).Error(); err != nil {
		cancel()
		return nil, err
	}
	if err := s.doSubscribe(ctx, dc, chans, pats, shards); err != nil {
		cancel()
		return nil, err
	}
	s.dc, s.cancel = dc, cancel
	s.connected.Store(true)
	return wait, nil
}

func (s *subscriber) disconnect() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.connected.Store(false)
	if s.cancel != nil {
		s.cancel()
	}
	s.dc, s.cancel = nil, nil
}

func pendingKey(kind string, channel string) string { return kind + "\x00" + channel }

// doSubscribe sends the subscriptions and waits for every confirmation.
func (s *subscriber) doSubscribe(ctx context.Context, dc rueidis.DedicatedClient, chans, pats, shards []string) error {
	var waits []chan struct{}
	expect := func(kind string, names []string) {
		s.cmu.Lock()
		for _, n := range names {
			ch := make(chan struct{})
			s.pending[pendingKey(kind, n)] = ch
			waits = append(waits, ch)
		}
		s.cmu.Unlock()
	}
	expect("subscribe", chans)
	expect("psubscribe", pats)
	expect("ssubscribe", shards)
	var cmds rueidis.Commands
	for i := 0; i < len(chans); i += 100 {
		cmds = append(cmds, dc.B().Subscribe().Channel(chans[i:min(i+100, len(chans))]...).Build().Pin())
	}
	for i := 0; i < len(pats); i += 100 {
		cmds = append(cmds, dc.B().Psubscribe().Pattern(pats[i:min(i+100, len(pats))]...).Build().Pin())
	}
	for _, n := range shards {
		// One channel per command: channels of different slots in one
		// SSUBSCRIBE fail with CROSSSLOT.
		cmds = append(cmds, dc.B().Ssubscribe().Channel(n).Build().Pin())
	}
	if len(cmds) == 0 {
		return nil
	}
	for _, r := range dc.DoMulti(ctx, cmds...) {
		if err := r.Error(); err != nil {
			return err
		}
	}
	for _, ch := range waits {
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (s *subscriber) onSubscription(sub rueidis.PubSubSubscription) {
	s.cmu.Lock()
	k := pendingKey(sub.Kind, sub.Channel)
	if ch, ok := s.pending[k]; ok {
		close(ch)
		delete(s.pending, k)
	}
	s.cmu.Unlock()
}

func (s *subscriber) onMessage(m rueidis.PubSubMessage) {
	key := m.Channel
	if m.Pattern != "" {
		key = m.Pattern
	}
	s.rmu.RLock()
	a := s.routes[key]
	s.rmu.RUnlock()
	if a == nil {
		return // a channel of no namespace (or one being closed)
	}
	a.enqueue(inbound{channel: m.Channel, msg: m.Message})
}

// addLocked routes names to a and adds those not yet subscribed to the
// set, which it returns; s.mu is held.
func (s *subscriber) addLocked(a *nsAdapter, kind subKind, names []string) (fresh []string) {
	s.rmu.Lock()
	for _, n := range names {
		s.routes[n] = a
	}
	s.rmu.Unlock()
	for _, n := range names {
		if _, ok := s.subs[n]; !ok {
			s.subs[n] = kind
			fresh = append(fresh, n)
		}
	}
	return fresh
}

// subscribe adds subscriptions for a, and sends them now when connected
// (else the next connection does).
func (s *subscriber) subscribe(ctx context.Context, a *nsAdapter, kind subKind, names ...string) error {
	if s.cs != nil {
		return s.clusterSubscribe(a, names)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fresh := s.addLocked(a, kind, names)
	if len(fresh) == 0 {
		return nil
	}
	if s.dc == nil {
		return errors.New("redis: subscriber not connected; it subscribes once it reconnects")
	}
	ctx, cancel := context.WithTimeout(ctx, subscribeTimeout)
	defer cancel()
	switch kind {
	case subChannel:
		return s.doSubscribe(ctx, s.dc, fresh, nil, nil)
	case subPattern:
		return s.doSubscribe(ctx, s.dc, nil, fresh, nil)
	default:
		return s.doSubscribe(ctx, s.dc, nil, nil, fresh)
	}
}

// unsubscribe removes subscriptions.
func (s *subscriber) unsubscribe(ctx context.Context, names ...string) {
	if s.cs != nil {
		s.clusterUnsubscribe(names)
		return
	}
	s.rmu.Lock()
	for _, n := range names {
		delete(s.routes, n)
	}
	s.rmu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	var chans, pats, shards []string
	for _, n := range names {
		k, ok := s.subs[n]
		if !ok {
			continue
		}
		delete(s.subs, n)
		switch k {
		case subChannel:
			chans = append(chans, n)
		case subPattern:
			pats = append(pats, n)
		default:
			shards = append(shards, n)
		}
	}
	if s.dc == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, subscribeTimeout)
	defer cancel()
	var cmds rueidis.Commands
	if len(chans) > 0 {
		cmds = append(cmds, s.dc.B().Unsubscribe().Channel(chans...).Build().Pin())
	}
	if len(pats) > 0 {
		cmds = append(cmds, s.dc.B().Punsubscribe().Pattern(pats...).Build().Pin())
	}
	for _, n := range shards {
		cmds = append(cmds, s.dc.B().Sunsubscribe().Channel(n).Build().Pin())
	}
	if len(cmds) > 0 {
		for _, r := range s.dc.DoMulti(ctx, cmds...) {
			if err := r.Error(); err != nil {
				s.c.log.Debug("redis adapter: unsubscribe", "err", err)
				return
			}
		}
	}
}

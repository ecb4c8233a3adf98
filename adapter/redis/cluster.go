package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/gosio/gosio/adapter"
)

// ErrClosed is returned by the adapters of a Cluster after Close.
var ErrClosed = errors.New("redis: adapter closed")

type mode int

const (
	classicMode mode = iota
	shardedMode
	streamsMode
)

// clusterModel reports whether the Cluster speaks the ClusterAdapter
// message model (types 1-13) of the sharded and streams adapters.
func (c *Cluster) clusterModel() bool { return c.mode != classicMode }

// A Cluster connects the namespaces of one gosio server to a Socket.IO
// cluster over Redis. Its Adapter method is the adapter.Factory to give
// socketio.Options. It is safe for concurrent use.
type Cluster struct {
	client rueidis.Client
	mode   mode
	uid    string
	log    *slog.Logger
	onGap  func(Gap)
	queue  int

	// classic
	key             string
	requestsTimeout time.Duration
	specific        bool
	parser          Parser

	// sharded and streams
	prefix  string
	subMode SubscriptionMode

	// streams
	streams *StreamsOptions
	readers map[string]*streamReader // by stream key, under mu

	sub *subscriber
	pub *publisher

	mu     sync.Mutex
	nsps   map[string]*nsAdapter
	closed bool

	stats struct {
		published, received, blocked, dropped, malformed, publishErrors, republished, gaps atomic.Uint64
	}
	lastPublishLog time.Time // under mu
	wg             sync.WaitGroup
}

// New starts the classic adapter (Node's createAdapter) on client: it
// takes a dedicated connection for its subscriptions and returns once it
// is connected, or with ctx's error. opts may be nil.
//
// The client should be made with DisableCache (the adapter needs no
// client-side caching, which costs a CLIENT TRACKING per connection).
// On a Redis Cluster, the classic adapter publishes through one node and
// counts servers over every node, as Node's does; prefer NewSharded there.
func New(ctx context.Context, client rueidis.Client, opts *Options) (*Cluster, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Key == "" {
		o.Key = DefaultKey
	}
	if o.RequestsTimeout <= 0 {
		o.RequestsTimeout = DefaultRequestsTimeout
	}
	if o.Parser != MessagePack && o.Parser != JSON {
		return nil, fmt.Errorf("redis: unknown parser %d", o.Parser)
	}
	c := newCluster(client, classicMode, newUID(3), o.InboundQueue, o.OnGap, o.Logger)
	c.key, c.requestsTimeout, c.specific, c.parser = o.Key, o.RequestsTimeout, o.PublishOnSpecificResponseChannel, o.Parser
	if err := c.start(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// NewSharded starts the sharded adapter (Node's createShardedAdapter) on
// client, which must reach Redis 7 or later, standalone or a cluster. It
// returns once its subscriber is connected, or with ctx's error. opts may
// be nil.
func NewSharded(ctx context.Context, client rueidis.Client, opts *ShardedOptions) (*Cluster, error) {
	var o ShardedOptions
	if opts != nil {
		o = *opts
	}
	if o.ChannelPrefix == "" {
		o.ChannelPrefix = DefaultKey
	}
	switch o.SubscriptionMode {
	case Dynamic, Static, DynamicPrivate:
	default:
		return nil, fmt.Errorf("redis: unknown subscription mode %d", o.SubscriptionMode)
	}
	c := newCluster(client, shardedMode, newUID(8), o.InboundQueue, o.OnGap, o.Logger)
	c.prefix, c.subMode = o.ChannelPrefix, o.SubscriptionMode
	if err := c.start(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

func newCluster(client rueidis.Client, m mode, uid string, queue int, onGap func(Gap), log *slog.Logger) *Cluster {
	if queue <= 0 {
		queue = DefaultInboundQueue
	}
	if log == nil {
		log = slog.Default()
	}
	return &Cluster{client: client, mode: m, uid: uid, queue: queue, onGap: onGap, log: log, nsps: make(map[string]*nsAdapter)}
}

// newUID returns a server or request id: the classic adapter's uid2(6)
// for n = 3, else n random bytes in hex (the sharded adapter's 16 hex
// characters for n = 8).
func newUID(n int) string {
	if n == 3 {
		return uid2(6)
	}
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// uid2 returns n random characters of A-Za-z0-9-_, as Node's uid2.
func uid2(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[b[i]&63]
	}
	return string(b)
}

// UID returns the server's id in the cluster, as it appears on the wire.
func (c *Cluster) UID() string { return c.uid }

// Stats returns the Cluster's counters.
func (c *Cluster) Stats() Stats {
	return Stats{
		Published:     c.stats.published.Load(),
		Received:      c.stats.received.Load(),
		Blocked:       c.stats.blocked.Load(),
		Dropped:       c.stats.dropped.Load(),
		Malformed:     c.stats.malformed.Load(),
		PublishErrors: c.stats.publishErrors.Load(),
		Republished:   c.stats.republished.Load(),
		Gaps:          c.stats.gaps.Load(),
		Connected:     c.sub.isConnected(),
	}
}

// Adapter returns the adapter of namespace nsp: it is an adapter.Factory.
// A namespace's adapter subscribes its channels in Init and releases them
// in Close.
func (c *Cluster) Adapter(nsp adapter.Namespace) adapter.Adapter {
	return newNsAdapter(c, nsp)
}

var _ adapter.Factory = (*Cluster)(nil).Adapter

// Close unsubscribes, closes every namespace adapter of the Cluster and
// releases its dedicated connection. It does not close the client. It is
// idempotent.
func (c *Cluster) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	nsps := make([]*nsAdapter, 0, len(c.nsps))
	for _, a := range c.nsps {
		nsps = append(nsps, a)
	}
	c.mu.Unlock()
	for _, a := range nsps {
		_ = a.Close()
	}
	c.sub.close()
	c.pub.close()
	c.wg.Wait()
	return nil
}

// start connects the subscriber and starts the publisher.
func (c *Cluster) start(ctx context.Context) error {
	c.pub = newPublisher(c)
	c.sub = newSubscriber(c)
	if err := c.sub.start(ctx); err != nil {
		c.pub.close()
		c.wg.Wait()
		return err
	}
	return nil
}

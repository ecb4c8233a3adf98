package redis

import (
	"log/slog"
	"time"
)

// Defaults of the options, Node's.
const (
	DefaultKey             = "socket.io"
	DefaultRequestsTimeout = 5 * time.Second
	DefaultInboundQueue    = 4096
	// DefaultShardedRequestsTimeout is the fixed timeout of the sharded
	// adapter's requests (Node's ClusterAdapter DEFAULT_TIMEOUT); a
	// FetchSockets with an operator Timeout uses that instead.
	DefaultShardedRequestsTimeout = 5 * time.Second
)

// Parser selects how the classic adapter encodes broadcasts and
// broadcast-with-ack requests (Node's parser option). Requests and
// responses of the other types are JSON whatever the parser, as in Node.
type Parser int

const (
	// MessagePack writes what notepack.io writes, Node's default.
	MessagePack Parser = iota
	// JSON writes JSON text, as a cluster configured with
	// parser: {encode: JSON.stringify, decode: JSON.parse} does.
	JSON
)

// Options configure the classic adapter. The zero value of each field is
// Node's default.
type Options struct {
	// Key prefixes every channel (Node: key). Zero means "socket.io".
	Key string
	// RequestsTimeout bounds FetchSockets, AllRooms and
	// ServerSideEmitWithAck (Node: requestsTimeout). Zero means 5 s.
	RequestsTimeout time.Duration
	// PublishOnSpecificResponseChannel answers each request on the
	// requester's own response channel instead of the shared one (Node:
	// publishOnSpecificResponseChannel). Every node listens on both.
	PublishOnSpecificResponseChannel bool
	// Parser is the encoding of broadcasts (Node: parser). Zero means
	// MessagePack. All nodes of a cluster must use the same.
	Parser Parser

	// InboundQueue bounds the messages waiting to be handled, per
	// namespace. Zero means 4096. A message that finds the queue full
	// waits for room: the subscriber connection is not read meanwhile
	// and Redis buffers for it (back-pressure, counted in Stats.Blocked).
	InboundQueue int
	// OnGap, if set, is called after the subscriber connection was lost
	// and restored: messages published in between were not received. It
	// runs on its own goroutine. Nil logs the gap at warn level.
	OnGap func(Gap)
	// Logger receives dropped and malformed messages and gaps. Nil means
	// slog.Default().
	Logger *slog.Logger
}

// SubscriptionMode selects the channels the sharded adapter subscribes
// (Node: subscriptionMode). Every node of a cluster must use the same.
type SubscriptionMode int

const (
	// Dynamic subscribes the main channel, the node's own response channel
	// and one channel per room that is not a socket id; a broadcast to one
	// such room goes to its channel. Node's default.
	Dynamic SubscriptionMode = iota
	// Static subscribes the main and the response channel only.
	Static
	// DynamicPrivate is Dynamic with a channel for socket-id rooms too.
	DynamicPrivate
)

// String returns Node's name of the mode.
func (m SubscriptionMode) String() string {
	switch m {
	case Static:
		return "static"
	case DynamicPrivate:
		return "dynamic-private"
	}
	return "dynamic"
}

// ShardedOptions configure the sharded adapter. The zero value of each
// field is Node's default.
type ShardedOptions struct {
	// ChannelPrefix prefixes every channel (Node: channelPrefix). Zero
	// means "socket.io".
	ChannelPrefix string
	// SubscriptionMode selects the channels (Node: subscriptionMode).
	SubscriptionMode SubscriptionMode

	// InboundQueue, OnGap and Logger are as in Options.
	InboundQueue int
	OnGap        func(Gap)
	Logger       *slog.Logger
}

// A Gap is a window in which the subscriber was not connected: messages
// published to the cluster between Start and End were not received.
type Gap struct {
	Start, End time.Time
	// Err is why the connection was lost.
	Err error
	// Stream, for the streams adapter, is the stream whose entries after
	// the id After were trimmed (or lost with the stream) before this
	// node could read them; empty for a pub/sub gap.
	Stream, After string
}

// Stats are counters of a Cluster since it started.
type Stats struct {
	Published uint64 // messages published
	Received  uint64 // messages received for a known namespace
	// Blocked counts messages that found their namespace's queue full
	// and waited for room, the reading of their connection paused.
	Blocked uint64
	// Dropped counts messages that waited for room in a namespace's
	// queue and were dropped because the namespace closed meanwhile.
	Dropped       uint64
	Malformed     uint64 // messages that did not decode
	PublishErrors uint64 // publishes that failed
	// Republished counts messages sent a second time after their first
	// attempt failed on a broken connection. Such a message may have
	// reached Redis the first time, so each one may arrive twice:
	// delivery over a broken connection is at least once.
	Republished uint64
	Gaps        uint64 // subscriber connections lost and restored
	// Connected reports whether the subscriber is connected now.
	Connected bool
}

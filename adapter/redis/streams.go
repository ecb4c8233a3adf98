package redis

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/redis/rueidis"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/internal/clusterwire"
	"github.com/gosio/gosio/internal/msgpack"
	"github.com/gosio/gosio/parser"
)

// Defaults of the streams adapter, Node's.
const (
	DefaultStreamName       = clusterwire.DefaultStreamName
	DefaultStreamMaxLen     = clusterwire.DefaultStreamMaxLen
	DefaultStreamReadCount  = 100
	DefaultStreamBlockTime  = 5 * time.Second
	DefaultSessionKeyPrefix = clusterwire.DefaultSessionKeyPrefix
)

// StreamsOptions configure the streams adapter (Node's
// @socket.io/redis-streams-adapter 0.3). The zero value of each field is
// Node's default.
type StreamsOptions struct {
	// StreamName is the stream, or the prefix of the streams when
	// StreamCount > 1 (Node: streamName). Zero means "socket.io".
	StreamName string
	// StreamCount spreads the namespaces over that many streams (Node:
	// streamCount), by Node's hash of the namespace name: a namespace
	// goes to StreamName-i. Zero means 1: one stream, named StreamName.
	StreamCount int
	// ChannelPrefix prefixes the pub/sub channels of requests and
	// responses (Node: channelPrefix). Zero means "socket.io".
	ChannelPrefix string
	// UseShardedPubSub sends requests and responses with SPUBLISH and
	// SSUBSCRIBE, Redis 7 (Node: useShardedPubSub).
	UseShardedPubSub bool
	// MaxLen trims the stream to about that many entries (MAXLEN ~) on
	// every XADD (Node: maxLen). Zero means 10,000.
	MaxLen int64
	// ReadCount is the COUNT of each XREAD (Node: readCount). Zero means
	// 100.
	ReadCount int64
	// BlockTime is the BLOCK of each XREAD (Node: blockTimeInMs). Zero
	// means 5 s. Close does not wait for it.
	BlockTime time.Duration
	// SessionKeyPrefix prefixes the keys of the sessions kept for
	// connection state recovery (Node: sessionKeyPrefix). Zero means
	// "sio:session:".
	SessionKeyPrefix string
	// OnlyPlaintext writes every stream entry as JSON, binary included as
	// Node's {"type":"Buffer"} form (Node: onlyPlaintext).
	OnlyPlaintext bool

	// InboundQueue and Logger are as in Options. OnGap is called after a
	// stream read failed and resumed when entries were trimmed before
	// they could be read (Gap.Stream is set), and after the pub/sub
	// connection was lost and restored.
	InboundQueue int
	OnGap        func(Gap)
	Logger       *slog.Logger
}

// NewStreams starts the streams adapter (Node's createAdapter of
// @socket.io/redis-streams-adapter 0.3.1) on client, standalone Redis or
// a cluster (Redis 6.2 or later; 7 for UseShardedPubSub). Broadcasts,
// socketsJoin/Leave and disconnectSockets are XADDed to the namespace's
// stream, read by every node with blocking XREADs; fetchSockets,
// serverSideEmit and broadcasts with acknowledgements travel over pub/sub.
// With connection state recovery on, sessions are kept in Redis, so a
// client can recover its session on any node of the cluster.
//
// It returns once its pub/sub connection is connected, or with ctx's
// error. opts may be nil.
func NewStreams(ctx context.Context, client rueidis.Client, opts *StreamsOptions) (*Cluster, error) {
	var o StreamsOptions
	if opts != nil {
		o = *opts
	}
	if o.StreamName == "" {
		o.StreamName = DefaultStreamName
	}
	if o.StreamCount <= 0 {
		o.StreamCount = 1
	}
	if o.ChannelPrefix == "" {
		o.ChannelPrefix = DefaultKey
	}
	if o.MaxLen <= 0 {
		o.MaxLen = DefaultStreamMaxLen
	}
	if o.ReadCount <= 0 {
		o.ReadCount = DefaultStreamReadCount
	}
	if o.BlockTime <= 0 {
		o.BlockTime = DefaultStreamBlockTime
	}
	if o.SessionKeyPrefix == "" {
		o.SessionKeyPrefix = DefaultSessionKeyPrefix
	}
	c := newCluster(client, streamsMode, newUID(8), o.InboundQueue, o.OnGap, o.Logger)
	c.prefix = o.ChannelPrefix
	c.streams = &o
	c.readers = make(map[string]*streamReader)
	if err := c.start(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// streamsSubKind returns the kind of the streams adapter's subscriptions.
func (c *Cluster) streamsSubKind() subKind {
	if c.streams.UseShardedPubSub {
		return subShard
	}
	return subChannel
}

// A streamEntry is a stream entry as read.
type streamEntry struct {
	id, uid, nsp, typ, data string
}

// xadd writes a message of the ClusterAdapter model to the namespace's
// stream, with Node's field order (uid, nsp, type, data) and encoding:
// data is JSON text, or base64 msgpack when it holds binary. It returns
// the entry id, the offset.
func (a *nsAdapter) xadd(ctx context.Context, typ int, data parser.Value) (string, error) {
	c := a.c
	d, err := clusterwire.StreamData(typ, data, c.streams.OnlyPlaintext)
	if err != nil {
		return "", err
	}
	cmd := c.client.B().Xadd().Key(a.stream).Maxlen().Almost().Threshold(strconv.FormatInt(c.streams.MaxLen, 10)).
		Id("*").FieldValue().FieldValue("uid", c.uid).FieldValue("nsp", a.name).
		FieldValue("type", strconv.Itoa(typ)).FieldValue("data", d).Build().Pin()
	id, err := c.client.Do(ctx, cmd).ToString()
	if err != nil {
		c.stats.publishErrors.Add(1)
		c.logPublishError(a.stream, err)
		return "", err
	}
	c.stats.published.Add(1)
	return id, nil
}

// onStreamEntry handles an entry of the namespace's stream.
func (a *nsAdapter) onStreamEntry(e *streamEntry) error {
	if e.uid == a.c.uid {
		return nil
	}
	typ, err := strconv.Atoi(e.typ)
	if err != nil {
		return fmt.Errorf("stream entry %s: type %q is not a number", e.id, e.typ)
	}
	switch typ {
	case clusterwire.MsgInitialHeartbeat, clusterwire.MsgHeartbeat, clusterwire.MsgAdapterClose:
		return nil // 0.2.x nodes; 0.3 has no heartbeats
	}
	data, err := decodeStreamData(e.data)
	if err != nil {
		return fmt.Errorf("stream entry %s: %w", e.id, err)
	}
	return a.onClusterMessage(typ, e.uid, data, e.id)
}

// decodeStreamData decodes an entry's data field: JSON text when it
// starts with "{", else base64 msgpack, as Node's decode sniffs it.
func decodeStreamData(s string) (parser.Value, error) {
	if s == "" {
		return parser.Value{}, nil
	}
	if s[0] == '{' {
		if !json.Valid([]byte(s)) {
			return parser.Value{}, fmt.Errorf("data is not valid JSON")
		}
		return parser.Value{JSON: json.RawMessage(s)}, nil
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return parser.Value{}, fmt.Errorf("data is neither JSON nor base64: %w", err)
	}
	v, err := msgpack.ToJSONMode(raw, msgpack.MsgpackJS)
	if err != nil {
		return parser.Value{}, fmt.Errorf("data does not decode: %w", err)
	}
	return v, nil
}

// offsetEligible reports whether a broadcast event gets its offset as
// its last argument: recovery is on, it is an event without an ack id,
// and its flags have no volatile key (Node's test, which also passes over
// volatile:false).
func (a *nsAdapter) offsetEligible(p *parser.Packet, volatilePresent bool) bool {
	if on, _ := a.nsp.Recovery(); !on {
		return false
	}
	return (p.Type == parser.Event || p.Type == parser.BinaryEvent) && !p.HasID && !volatilePresent
}

// streamsBroadcast is Node's ClusterAdapter.broadcast on the stream: the
// XADD first, whose id becomes the offset, then local delivery, which
// happens even when the XADD failed.
func (a *nsAdapter) streamsBroadcast(ctx context.Context, p *parser.Packet, opts *adapter.BroadcastOptions) error {
	var err error
	if !opts.Flags.Local {
		var id string
		id, err = a.xadd(ctx, clusterwire.MsgBroadcast, clusterBroadcastData(p, opts, ""))
		if err == nil && a.offsetEligible(p, opts.Flags.Volatile) {
			p = adapter.WithOffset(p, id)
		}
	}
	a.BroadcastLocal(p, opts)
	return err
}

// sessionBlob is a session as the streams adapter keeps it.
type sessionBlob struct {
	SID   string          `json:"sid"`
	PID   string          `json:"pid"`
	Rooms []string        `json:"rooms"`
	Data  json.RawMessage `json:"data"`
}

func (c *Cluster) sessionKey(pid string) string { return c.streams.SessionKeyPrefix + pid }

// streamsPersist keeps s for its TTL, the recovery's maximum
// disconnection: base64(msgpack({sid, pid, rooms, data})), as Node.
func (a *nsAdapter) streamsPersist(ctx context.Context, s *adapter.Session) error {
	on, maxDur := a.nsp.Recovery()
	if !on {
		return nil
	}
	data := parser.Value{JSON: json.RawMessage("{}")} // Node's socket.data starts as {}
	if s.Data != nil {
		data = firstValue(s.Data)
	}
	b := &clusterwire.Builder{}
	b.Raw("{").Key("sid").Str(s.SID).Key("pid").Str(s.PID).Key("rooms").Strings(nonNilStrings(s.Rooms)).Key("data").Val(data).Raw("}")
	raw, err := msgpack.AppendJSON(nil, b.Value(), msgpack.MsgpackJS)
	if err != nil {
		return err
	}
	c := a.c
	ms := maxDur.Milliseconds()
	if ms <= 0 {
		ms = 1
	}
	cmd := c.client.B().Set().Key(c.sessionKey(s.PID)).Value(base64.StdEncoding.EncodeToString(raw)).PxMilliseconds(ms).Build().Pin()
	return c.client.Do(ctx, cmd).Error()
}

// restorePageSize is the COUNT of each XRANGE that reads missed packets;
// restoreMaxPages bounds the pages (Node makes up to 100 unbounded calls).
const (
	restorePageSize = 1000
	restoreMaxPages = 1000
)

// isStreamID reports whether s is a stream id, Node's /^[0-9]+-[0-9]+$/.
func isStreamID(s string) bool {
	dash := -1
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '-' && dash < 0 && i > 0:
			dash = i
		case c < '0' || c > '9':
			return false
		}
	}
	return dash > 0 && dash < len(s)-1
}

// streamsRestore restores session pid with the packets missed since
// offset. Unlike Node, it checks the offset before it consumes the
// session, so that a trimmed offset does not destroy a session that a
// later attempt could not get anyway but that Node would lose too; and it
// never replays volatile packets or packets that had an ack id.
func (a *nsAdapter) streamsRestore(ctx context.Context, pid, offset string) (*adapter.Session, error) {
	if !isStreamID(offset) {
		return nil, adapter.ErrSessionNotFound
	}
	c := a.c
	entries, err := c.client.Do(ctx, c.client.B().Xrange().Key(a.stream).Start(offset).End(offset).Build().Pin()).AsXRange()
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, adapter.ErrSessionNotFound
	}
	raw, err := c.client.Do(ctx, c.client.B().Getdel().Key(c.sessionKey(pid)).Build().Pin()).ToString()
	if rueidis.IsRedisNil(err) {
		return nil, adapter.ErrSessionNotFound
	}
	if err != nil {
		return nil, err
	}
	sess, err := decodeSession(raw)
	if err != nil {
		a.malformed(c.sessionKey(pid), err)
		return nil, adapter.ErrSessionNotFound
	}
	a.restores.touch()
	last := offset
	for page := 0; page < restoreMaxPages; page++ {
		start := "(" + last
		entries, err := a.ranges.read(ctx, start, func(ctx context.Context) ([]rueidis.XRangeEntry, error) {
			return c.client.Do(ctx, c.client.B().Xrange().Key(a.stream).Start(start).End("+").Count(restorePageSize).Build().Pin()).AsXRange()
		})
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			last = e.ID
			if e.FieldValues["nsp"] != a.name || e.FieldValues["type"] != "3" {
				continue
			}
			if m := a.missed(e.ID, e.FieldValues["data"]); m.packet != nil && includes(sess.Rooms, m.rooms, m.except) {
				sess.MissedPackets = append(sess.MissedPackets, m.packet)
			}
		}
		if len(entries) < restorePageSize {
			break
		}
	}
	return sess, nil
}

func decodeSession(raw string) (*adapter.Session, error) {
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return nil, fmt.Errorf("session is not base64: %w", err)
	}
	v, err := msgpack.ToJSONMode(b, msgpack.MsgpackJS)
	if err != nil {
		return nil, fmt.Errorf("session does not decode: %w", err)
	}
	var s sessionBlob
	if err := json.Unmarshal(v.JSON, &s); err != nil {
		return nil, fmt.Errorf("session has the wrong shape: %w", err)
	}
	if s.SID == "" {
		return nil, fmt.Errorf("session has no sid")
	}
	data := parser.Value{JSON: orNull(s.Data)}
	if len(v.Attachments) > 0 {
		// Only data can hold binary; re-emit it with its own attachments.
		if data, err = subValue(v, "data"); err != nil {
			return nil, err
		}
	}
	return &adapter.Session{SID: s.SID, PID: s.PID, Rooms: s.Rooms, Data: data}, nil
}

// subValue returns the value of key in the object v, with the
// attachments it references renumbered from 0.
func subValue(v parser.Value, key string) (parser.Value, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v.JSON, &m); err != nil {
		return parser.Value{}, err
	}
	j, atts, err := parser.MarshalArgs(nil, parser.Value{JSON: m[key], Attachments: v.Attachments})
	if err != nil {
		return parser.Value{}, err
	}
	return parser.Value{JSON: j[1 : len(j)-1], Attachments: atts}, nil
}

// decodeMissed decodes the stored broadcast id: its packet with the entry
// id as its offset, or nil when it is never replayed (volatile, or with an
// ack), and the rooms and except rooms a session is checked against
// (includes).
func (a *nsAdapter) decodeMissed(id, data string) (p *parser.Packet, rooms, except clusterwire.Rooms, err error) {
	v, err := decodeStreamData(data)
	if err != nil {
		return nil, nil, nil, err
	}
	var d struct {
		Packet json.RawMessage `json:"packet"`
		Opts   *struct {
			Rooms  clusterwire.Rooms `json:"rooms"`
			Except clusterwire.Rooms `json:"except"`
			Flags  struct {
				Volatile *bool `json:"volatile"`
			} `json:"flags"`
		} `json:"opts"`
		RequestID *string `json:"requestId"`
	}
	if err := json.Unmarshal(v.JSON, &d); err != nil {
		return nil, nil, nil, err
	}
	if d.Opts == nil {
		return nil, nil, nil, fmt.Errorf("broadcast without opts")
	}
	var pkt struct {
		Type int             `json:"type"`
		Data json.RawMessage `json:"data"`
		ID   json.RawMessage `json:"id"`
	}
	if err := json.Unmarshal(d.Packet, &pkt); err != nil {
		return nil, nil, nil, err
	}
	if d.RequestID != nil || pkt.ID != nil || (d.Opts.Flags.Volatile != nil && *d.Opts.Flags.Volatile) {
		return nil, nil, nil, nil
	}
	if p, err = a.packetOf(pkt.Data, v.Attachments, 0, false); err != nil {
		return nil, nil, nil, err
	}
	return adapter.WithOffset(p, id), d.Opts.Rooms, d.Opts.Except, nil
}

// includes is Node's shouldIncludePacket: the session is in one of rooms
// (or rooms is empty) and in none of except.
func includes(session, rooms, except []string) bool {
	in := len(rooms) == 0
	for _, r := range session {
		if slices.Contains(except, r) {
			return false
		}
		in = in || slices.Contains(rooms, r)
	}
	return in
}

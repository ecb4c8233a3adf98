package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/internal/clusterwire"
	"github.com/gosio/gosio/internal/jsonscan"
	"github.com/gosio/gosio/parser"
)

// An inbound message waits in a namespace's queue.
type inbound struct {
	channel string
	msg     string
	entry   *streamEntry // an entry of the namespace's stream instead of msg
}

// nsAdapter is the adapter of one namespace: the local room index (the
// embedded Memory) plus the cluster side, classic or sharded.
type nsAdapter struct {
	*adapter.Memory
	c    *Cluster
	nsp  adapter.Namespace
	name string

	in     chan inbound
	stop   chan struct{}
	done   chan struct{}
	closed atomic.Bool
	// reading is set once the namespace's stream reader is attached.
	reading atomic.Bool
	logged  sync.Map // what was logged once: "blocked", "malformed:<channel>"

	// channels
	bcast, request, response, specific string // classic
	main, own                          string // sharded and streams
	stream                             string // streams
	restores                           restoreCache
	ranges                             rangeReads[rueidis.XRangeEntry]

	rmu      sync.Mutex
	requests map[string]*request
	acks     map[string]*ackRequest

	// sharded room subscriptions, applied in order by roomLoop
	omu     sync.Mutex
	ops     []roomOp
	opsKick chan struct{}
}

type roomOp struct {
	channel string
	sub     bool
}

// A request waits for the responses of the other servers.
type request struct {
	typ       int
	expected  int // responses expected (classic fetch and allRooms count this server too)
	got       int
	sockets   []adapter.SocketInfo
	rooms     []string
	responses []parser.Value
	done      chan struct{}
	closed    bool
}

// An ackRequest routes the responses of a broadcast with acks.
type ackRequest struct {
	onClientCount func(int)
	onAck         func(parser.Value, error)
}

func newNsAdapter(c *Cluster, nsp adapter.Namespace) *nsAdapter {
	a := &nsAdapter{
		c:        c,
		nsp:      nsp,
		name:     nsp.Name(),
		in:       make(chan inbound, c.queue),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		requests: make(map[string]*request),
		acks:     make(map[string]*ackRequest),
		opsKick:  make(chan struct{}, 1),
	}
	var mo *adapter.MemoryOptions
	switch c.mode {
	case shardedMode:
		a.main = clusterwire.BroadcastChannel(c.prefix, a.name)
		a.own = clusterwire.RoomChannel(c.prefix, a.name, c.uid)
		if c.subMode != Static {
			mo = &adapter.MemoryOptions{OnRoomCreated: a.roomCreated, OnRoomDeleted: a.roomDeleted}
		}
	case streamsMode:
		a.main = clusterwire.BroadcastChannel(c.prefix, a.name)
		a.own = clusterwire.RoomChannel(c.prefix, a.name, c.uid)
		a.stream = clusterwire.StreamKey(c.streams.StreamName, c.streams.StreamCount, a.name)
	default:
		a.bcast = clusterwire.BroadcastChannel(c.key, a.name)
		a.request = clusterwire.RequestChannel(c.key, a.name)
		a.response = clusterwire.ResponseChannel(c.key, a.name)
		a.specific = clusterwire.SpecificResponseChannel(c.key, a.name, c.uid)
	}
	a.Memory = adapter.NewMemoryWith(nsp, mo)
	return a
}

var _ adapter.Adapter = (*nsAdapter)(nil)

// Init implements adapter.Adapter: it subscribes the namespace's channels
// and returns once Redis confirmed them.
func (a *nsAdapter) Init(ctx context.Context) error {
	c := a.c
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	if old := c.nsps[a.name]; old != nil && old != a {
		c.mu.Unlock()
		return fmt.Errorf("redis: namespace %q already has an adapter", a.name)
	}
	c.nsps[a.name] = a
	c.wg.Add(1)
	c.mu.Unlock()
	go a.loop()
	if c.mode == streamsMode {
		if err := c.sub.subscribe(ctx, a, c.streamsSubKind(), a.main, a.own); err != nil {
			return err
		}
		if err := c.attachReader(ctx, a.stream); err != nil {
			return err
		}
		a.reading.Store(true)
		return nil
	}
	if c.mode == shardedMode {
		c.wg.Add(1)
		go a.roomLoop()
		return c.sub.subscribe(ctx, a, subShard, a.main, a.own)
	}
	if err := c.sub.subscribe(ctx, a, subPattern, escapeGlob(a.bcast)+"*"); err != nil {
		return err
	}
	return c.sub.subscribe(ctx, a, subChannel, a.request, a.response, a.specific)
}

// Close implements adapter.Adapter: it unsubscribes and fails the
// namespace's pending requests.
func (a *nsAdapter) Close() error {
	if a.closed.Swap(true) {
		return nil
	}
	c := a.c
	c.mu.Lock()
	registered := c.nsps[a.name] == a
	if registered {
		delete(c.nsps, a.name)
	}
	c.mu.Unlock()
	if !registered {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), subscribeTimeout)
	defer cancel()
	if c.mode == streamsMode {
		c.sub.unsubscribe(ctx, a.main, a.own)
		if a.reading.Load() {
			c.detachReader(a.stream)
		}
	} else if c.mode == shardedMode {
		chans := []string{a.main, a.own}
		a.omu.Lock()
		for _, r := range a.Rooms() {
			chans = append(chans, clusterwire.RoomChannel(c.prefix, a.name, r))
		}
		a.omu.Unlock()
		c.sub.unsubscribe(ctx, chans...)
	} else {
		c.sub.unsubscribe(ctx, escapeGlob(a.bcast)+"*", a.request, a.response, a.specific)
	}
	close(a.stop)
	<-a.done
	a.restores.close()
	a.rmu.Lock()
	for id, r := range a.requests {
		r.finish()
		delete(a.requests, id)
	}
	clear(a.acks)
	a.rmu.Unlock()
	return nil
}

// escapeGlob escapes the glob characters of a PSUBSCRIBE pattern, so that
// a key or namespace holding them matches only its own channels.
func escapeGlob(s string) string {
	if !strings.ContainsAny(s, `*?[]\`) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// enqueue hands a message to the namespace's loop. When the queue is
// full it waits for room, as Node's adapters handle each message before
// reading the next: the connection's reader (or the stream reader) stops
// reading, and Redis keeps what follows for it (a subscriber's output
// buffer, up to its client-output-buffer-limit; the stream itself). The
// wait is counted in Stats.Blocked and logged once; a message for a
// namespace closed meanwhile is dropped (Stats.Dropped).
func (a *nsAdapter) enqueue(m inbound) {
	select {
	case a.in <- m:
		a.c.stats.received.Add(1)
		return
	default:
	}
	a.c.stats.blocked.Add(1)
	if _, seen := a.logged.LoadOrStore("blocked", true); !seen {
		a.c.log.Warn("redis adapter: inbound queue full, reading paused until the namespace catches up (counted in Stats.Blocked)", "nsp", a.name, "queue", cap(a.in))
	}
	select {
	case a.in <- m:
		a.c.stats.received.Add(1)
	case <-a.stop:
		a.c.stats.dropped.Add(1)
	}
}

// loop handles the namespace's messages one at a time, in arrival order.
func (a *nsAdapter) loop() {
	defer a.c.wg.Done()
	defer close(a.done)
	for {
		select {
		case m := <-a.in:
			a.handleSafely(m)
		case <-a.stop:
			return
		}
	}
}

func (a *nsAdapter) handleSafely(m inbound) {
	defer func() {
		if r := recover(); r != nil {
			a.malformed(m.channel, fmt.Errorf("panic: %v", r))
		}
	}()
	var err error
	switch {
	case m.entry != nil:
		err = a.onStreamEntry(m.entry)
	case a.c.clusterModel():
		err = a.onShardedMessage(m)
	default:
		err = a.onClassicMessage(m)
	}
	if err != nil {
		a.malformed(m.channel, err)
	}
}

// malformed counts a message that did not decode and logs the first of
// each channel.
func (a *nsAdapter) malformed(channel string, err error) {
	a.c.stats.malformed.Add(1)
	if _, seen := a.logged.LoadOrStore("malformed:"+channel, true); !seen {
		a.c.log.Warn("redis adapter: dropped a message that does not decode (further ones on this channel are counted in Stats.Malformed)", "nsp", a.name, "channel", channel, "err", err)
	}
}

// register adds a pending request.
func (a *nsAdapter) register(id string, r *request) {
	r.done = make(chan struct{})
	a.rmu.Lock()
	a.requests[id] = r
	a.rmu.Unlock()
}

func (a *nsAdapter) forget(id string) {
	a.rmu.Lock()
	delete(a.requests, id)
	a.rmu.Unlock()
}

// finish marks r complete; callers hold rmu.
func (r *request) finish() {
	if !r.closed {
		r.closed = true
		close(r.done)
	}
}

// await waits for r to complete, for timeout or for ctx; it returns
// whether r completed. The request is forgotten either way.
func (a *nsAdapter) await(ctx context.Context, id string, r *request, timeout time.Duration) bool {
	t := time.NewTimer(timeout)
	defer t.Stop()
	defer a.forget(id)
	select {
	case <-r.done:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	a.rmu.Lock()
	defer a.rmu.Unlock()
	return r.closed
}

// withRequest runs fn on the pending request id, under the lock.
func (a *nsAdapter) withRequest(id string, fn func(r *request)) {
	a.rmu.Lock()
	defer a.rmu.Unlock()
	if r := a.requests[id]; r != nil && !r.closed {
		fn(r)
	}
}

func (a *nsAdapter) isPending(id string) bool {
	a.rmu.Lock()
	defer a.rmu.Unlock()
	_, ok := a.requests[id]
	return ok
}

// pendingCount returns the requests and ack requests in flight (tests).
func (a *nsAdapter) pendingCount() int {
	a.rmu.Lock()
	defer a.rmu.Unlock()
	return len(a.requests) + len(a.acks)
}

func (a *nsAdapter) addAckRequest(id string, r *ackRequest, d time.Duration) {
	a.rmu.Lock()
	a.acks[id] = r
	a.rmu.Unlock()
	// Node drops the ack request after the broadcast's timeout; without one
	// (a caller bounded by its context only) it is kept for Node's default
	// request timeout rather than dropped at once.
	if d <= 0 {
		d = DefaultRequestsTimeout
	}
	time.AfterFunc(d, func() {
		a.rmu.Lock()
		delete(a.acks, id)
		a.rmu.Unlock()
	})
}

func (a *nsAdapter) ackRequest(id string) *ackRequest {
	a.rmu.Lock()
	defer a.rmu.Unlock()
	return a.acks[id]
}

// packetOf builds the local packet of a received broadcast.
func (a *nsAdapter) packetOf(data json.RawMessage, atts [][]byte, id uint64, hasID bool) (*parser.Packet, error) {
	if len(data) == 0 || data[0] != '[' {
		return nil, fmt.Errorf("packet data is not an array")
	}
	p := &parser.Packet{Type: parser.Event, Namespace: a.name, ID: id, HasID: hasID, Data: data}
	if len(atts) > 0 {
		// Renumber the placeholders of this part of the message.
		vals, err := parser.SplitValues(data, atts)
		if err != nil {
			return nil, err
		}
		args := make([]any, len(vals))
		for i, v := range vals {
			args[i] = v
		}
		d, pa, err := parser.MarshalArgs(nil, args...)
		if err != nil {
			return nil, err
		}
		p.Data, p.Attachments = d, pa
	}
	return p, nil
}

// options converts wire opts to local broadcast options.
func localOpts(o *clusterwire.WireOpts, flags bool) *adapter.BroadcastOptions {
	opts := &adapter.BroadcastOptions{Rooms: o.Rooms, Except: o.Except}
	if flags {
		opts.Flags.Volatile = o.Flags.Volatile != nil && *o.Flags.Volatile
		opts.Flags.Compress = o.Flags.Compress == nil || *o.Flags.Compress
	}
	return opts
}

func wireOpts(o *adapter.BroadcastOptions) *clusterwire.Opts {
	w := &clusterwire.Opts{Rooms: o.Rooms, Except: o.Except}
	w.Flags.Volatile = o.Flags.Volatile
	w.Flags.Compress = o.Flags.Compress
	w.Flags.TimeoutMS = o.Flags.Timeout.Milliseconds()
	w.Flags.ExpectSingleResponse = o.Flags.ExpectSingleResponse
	return w
}

// argsValue returns the JSON array of args with its attachments.
func argsValue(event string, args []any) (parser.Value, error) {
	all := make([]any, 0, 1+len(args))
	all = append(all, event)
	all = append(all, args...)
	j, atts, err := parser.MarshalArgs(nil, all...)
	return parser.Value{JSON: j, Attachments: atts}, err
}

// firstValue returns a Go value as a parser.Value (an ack's argument).
func firstValue(v any) parser.Value {
	if v == nil {
		return parser.Value{JSON: json.RawMessage("null")}
	}
	if pv, ok := v.(parser.Value); ok {
		return pv
	}
	j, atts, err := parser.MarshalArgs(nil, v)
	if err != nil {
		return parser.Value{JSON: json.RawMessage("null")}
	}
	return parser.Value{JSON: j[1 : len(j)-1], Attachments: atts}
}

// splitSSE splits a server-side emit's [event, ...args].
func splitSSE(v parser.Value) (string, []parser.Value, error) {
	vals, err := parser.SplitValues(v.JSON, v.Attachments)
	if err != nil || len(vals) == 0 {
		return "", nil, fmt.Errorf("server-side emit data is not a non-empty array")
	}
	var ev string
	if err := json.Unmarshal(vals[0].JSON, &ev); err != nil {
		return "", nil, fmt.Errorf("server-side emit event name is not a string")
	}
	return ev, vals[1:], nil
}

// infoJSON writes a socket as a fetchSockets response entry.
func infoJSON(b *clusterwire.Builder, s *adapter.SocketInfo) {
	b.Raw("{").Key("id").Str(s.ID).Key("handshake")
	if len(s.Handshake) > 0 {
		b.Raw(string(s.Handshake))
	} else {
		b.Raw("{}")
	}
	b.Key("rooms").Strings(nonNilStrings(s.Rooms))
	if len(s.Data.JSON) > 0 {
		b.Key("data").Val(s.Data)
	}
	b.Raw("}")
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// wireSocket is a fetchSockets response entry as received.
type wireSocket struct {
	ID        string            `json:"id"`
	Handshake json.RawMessage   `json:"handshake"`
	Rooms     clusterwire.Rooms `json:"rooms"`
	Data      json.RawMessage   `json:"data"`
}

// wireSockets is the sockets list of a fetchSockets response. It decodes
// in one pass (readWireSockets) when the entries have the shape Node and
// gosio write; otherwise each entry is decoded by encoding/json and those
// that do not decode are skipped.
type wireSockets []wireSocket

// UnmarshalJSON implements json.Unmarshaler.
func (ws *wireSockets) UnmarshalJSON(b []byte) error {
	if out, end, err := readWireSockets(b, 0); err == nil && jsonscan.WS(b, end) == len(b) {
		*ws = out
		return nil
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(b, &raws); err != nil {
		return err
	}
	out := make(wireSockets, 0, len(raws))
	for _, raw := range raws {
		var w wireSocket
		if json.Unmarshal(raw, &w) == nil {
			out = append(out, w)
		}
	}
	*ws = out
	return nil
}

var wireSocketKeys = [...]string{"id", "handshake", "rooms", "data"}

// readWireSockets reads the array of fetchSockets entries at b[i:] in one
// pass, the handshakes and data as slices of b. It fails on any entry
// encoding/json might read otherwise (a key in another case, an id that is
// not a string), leaving those inputs to it.
func readWireSockets(b []byte, i int) (wireSockets, int, error) {
	a := jsonscan.NewArray(b, i)
	var out wireSockets
	for at, ok := a.Next(); ok; at, ok = a.Next() {
		var w wireSocket
		o := jsonscan.NewObject(b, at)
		for key, vat, ok := o.Next(); ok; key, vat, ok = o.Next() {
			end, err := 0, error(nil)
			switch key {
			case "id":
				w.ID, end, err = jsonscan.String(b, vat)
			case "handshake":
				if end, err = jsonscan.Skip(b, vat); err == nil {
					w.Handshake = b[vat:end:end]
				}
			case "rooms":
				if b[vat] == 'n' {
					if end, err = jsonscan.Skip(b, vat); err == nil {
						w.Rooms = []string{}
					}
				} else {
					w.Rooms, end, err = clusterwire.ReadRooms(b, vat)
				}
			case "data":
				if end, err = jsonscan.Skip(b, vat); err == nil {
					w.Data = b[vat:end:end]
				}
			default:
				for _, k := range wireSocketKeys {
					if strings.EqualFold(key, k) {
						err = jsonscan.ErrSyntax // encoding/json would take it
					}
				}
				if err == nil {
					end, err = jsonscan.Skip(b, vat)
				}
			}
			if err != nil {
				return nil, 0, err
			}
			o.Done(end)
		}
		end, err := o.End()
		if err != nil {
			return nil, 0, err
		}
		out = append(out, w)
		a.Done(end)
	}
	end, err := a.End()
	return out, end, err
}

func (w *wireSocket) info(atts [][]byte, from string) adapter.SocketInfo {
	s := adapter.SocketInfo{ID: w.ID, Handshake: w.Handshake, Rooms: w.Rooms, ServerUID: from}
	if len(w.Data) > 0 && string(w.Data) != "null" {
		s.Data = parser.Value{JSON: w.Data, Attachments: atts}
	}
	if s.ServerUID == "" {
		s.ServerUID = "?"
	}
	return s
}

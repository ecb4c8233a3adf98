package adapter

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/parser"
)

// Memory is the in-memory adapter: the room index of one namespace on one
// server. It is the default adapter.
type Memory struct {
	nsp  Namespace
	opts MemoryOptions

	mu sync.RWMutex
	// rooms maps a room to its members, except for a socket's own room
	// (named by its id), which is only recorded in sids: every socket has
	// one, and a one-member map per socket would cost more than the rest
	// of its room index.
	rooms map[string]map[string]struct{}
	sids  map[string][]string // socket id -> rooms (few per socket: a slice is smaller than a map)
}

var _ Adapter = (*Memory)(nil)

// MemoryOptions configures a Memory made with NewMemoryWith. Cluster
// adapters embed a Memory as their local room index and use the hooks to
// follow the rooms (the sharded Redis adapter subscribes a channel per
// room).
type MemoryOptions struct {
	// OnRoomCreated, if set, is called when a room gets its first member;
	// isSocketID is set for a socket's own room, which is created when the
	// socket joins it (see AddAll). It is called with the adapter's lock
	// held, in the order the rooms change: it must not block and must not
	// call the adapter.
	OnRoomCreated func(room string, isSocketID bool)
	// OnRoomDeleted, if set, is called when a room loses its last member,
	// under the same rules as OnRoomCreated.
	OnRoomDeleted func(room string, isSocketID bool)
}

// NewMemory returns an in-memory adapter for nsp. It is a Factory.
func NewMemory(nsp Namespace) Adapter { return newMemory(nsp) }

// NewMemoryWith returns an in-memory adapter for nsp with room hooks; opts
// may be nil.
func NewMemoryWith(nsp Namespace, opts *MemoryOptions) *Memory {
	m := newMemory(nsp)
	if opts != nil {
		m.opts = *opts
	}
	return m
}

func newMemory(nsp Namespace) *Memory {
	return &Memory{
		nsp:   nsp,
		rooms: make(map[string]map[string]struct{}),
		sids:  make(map[string][]string),
	}
}

// Namespace returns the namespace the adapter serves.
func (m *Memory) Namespace() Namespace { return m.nsp }

func (m *Memory) created(room string, own bool) {
	if m.opts.OnRoomCreated != nil {
		m.opts.OnRoomCreated(room, own)
	}
}

func (m *Memory) deleted(room string, own bool) {
	if m.opts.OnRoomDeleted != nil {
		m.opts.OnRoomDeleted(room, own)
	}
}

// Init implements Adapter; there is nothing to start.
func (m *Memory) Init(context.Context) error { return nil }

// Close implements Adapter.
func (m *Memory) Close() error { return nil }

// AddAll implements Adapter.
func (m *Memory) AddAll(id string, rooms []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mine, known := m.sids[id]
	for _, r := range rooms {
		if slices.Contains(mine, r) {
			continue
		}
		mine = append(mine, r)
		if r == id {
			m.created(r, true)
			continue
		}
		members := m.rooms[r]
		if members == nil {
			members = make(map[string]struct{}, 1)
			m.rooms[r] = members
			m.created(r, false)
		}
		members[id] = struct{}{}
	}
	if len(mine) > 0 || !known {
		m.sids[id] = mine
	}
}

// Del implements Adapter.
func (m *Memory) Del(id, room string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if mine, ok := m.sids[id]; ok {
		if i := slices.Index(mine, room); i >= 0 {
			m.sids[id] = slices.Delete(mine, i, i+1)
			if room == id {
				m.deleted(room, true)
			}
		}
	}
	m.delMemberLocked(room, id)
}

func (m *Memory) delMemberLocked(room, id string) {
	if members := m.rooms[room]; members != nil {
		if _, in := members[id]; !in {
			return
		}
		delete(members, id)
		if len(members) == 0 {
			delete(m.rooms, room)
			m.deleted(room, false)
		}
	}
}

// DelAll implements Adapter.
func (m *Memory) DelAll(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.sids[id] {
		if r == id {
			m.deleted(r, true)
		}
		m.delMemberLocked(r, id)
	}
	delete(m.sids, id)
}

// SocketRooms implements Adapter.
func (m *Memory) SocketRooms(id string) []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	mine, ok := m.sids[id]
	if !ok {
		return nil
	}
	return append(make([]string, 0, len(mine)), mine...)
}

// Sockets implements Adapter.
func (m *Memory) Sockets(rooms []string) []string {
	return m.match(&BroadcastOptions{Rooms: rooms})
}

// HasRoom reports whether room has a local member (a socket's own room
// included).
func (m *Memory) HasRoom(room string) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if len(m.rooms[room]) > 0 {
		return true
	}
	return slices.Contains(m.sids[room], room)
}

// IsSocketID reports whether id is a local socket's id.
func (m *Memory) IsSocketID(id string) bool {
	m.mu.RLock()
	_, ok := m.sids[id]
	m.mu.RUnlock()
	return ok
}

// Rooms implements Adapter.
func (m *Memory) Rooms() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]string, 0, len(m.rooms)+len(m.sids))
	for r := range m.rooms {
		out = append(out, r)
	}
	for id, mine := range m.sids {
		if _, dup := m.rooms[id]; !dup && slices.Contains(mine, id) {
			out = append(out, id)
		}
	}
	return out
}

// inRoomLocked reports whether socket id is in room r.
func (m *Memory) inRoomLocked(r, id string) bool {
	if _, in := m.rooms[r][id]; in {
		return true
	}
	return r == id && slices.Contains(m.sids[id], id)
}

// eachMemberLocked calls fn with every member of room r.
func (m *Memory) eachMemberLocked(r string, fn func(id string)) {
	for id := range m.rooms[r] {
		fn(id)
	}
	if _, in := m.rooms[r][r]; !in && slices.Contains(m.sids[r], r) {
		fn(r)
	}
}

// match returns the local socket ids selected by opts, each once.
func (m *Memory) match(opts *BroadcastOptions) []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	excluded := func(id string) bool {
		for _, r := range opts.Except {
			if m.inRoomLocked(r, id) {
				return true
			}
		}
		return false
	}
	if len(opts.Rooms) == 0 {
		out := make([]string, 0, len(m.sids))
		for id := range m.sids {
			if !excluded(id) {
				out = append(out, id)
			}
		}
		return out
	}
	if len(opts.Rooms) == 1 {
		out := make([]string, 0, len(m.rooms[opts.Rooms[0]])+1)
		m.eachMemberLocked(opts.Rooms[0], func(id string) {
			if !excluded(id) {
				out = append(out, id)
			}
		})
		return out
	}
	seen := make(map[string]struct{})
	var out []string
	for _, r := range opts.Rooms {
		m.eachMemberLocked(r, func(id string) {
			if _, dup := seen[id]; dup || excluded(id) {
				return
			}
			seen[id] = struct{}{}
			out = append(out, id)
		})
	}
	return out
}

// each calls fn with every connected local socket selected by opts.
func (m *Memory) each(opts *BroadcastOptions, fn func(Socket)) {
	ids := m.match(opts)
	if sn, ok := m.nsp.(SocketsNamespace); ok {
		// A chunk at a time: the lookups of a chunk run back to back,
		// and so do its deliveries.
		var buf [64]Socket
		for len(ids) > 0 {
			n := min(len(ids), len(buf))
			for _, s := range sn.AppendSockets(buf[:0], ids[:n]) {
				fn(s)
			}
			ids = ids[n:]
		}
		return
	}
	for _, id := range ids {
		if s := m.nsp.Socket(id); s != nil {
			fn(s)
		}
	}
}

// SocketsNamespace is a Namespace that looks up many sockets at once. The
// in-memory adapter, and so every adapter built on it, finds a
// broadcast's receivers with it when the namespace has it, a few dozen at
// a time.
type SocketsNamespace interface {
	Namespace
	// AppendSockets appends to dst, in the order of ids, the connected
	// local sockets with those ids, and returns dst; an id of no such
	// socket is left out.
	AppendSockets(dst []Socket, ids []string) []Socket
}

// DeliverNamespace is a Namespace that delivers a broadcast to all its
// sockets itself, from a list it keeps for that: a broadcast without rooms
// then costs no look-up per receiver. The in-memory adapter, and so every
// adapter built on it, uses it for such broadcasts when the namespace has
// it.
type DeliverNamespace interface {
	Namespace
	// DeliverAll delivers frames, as Socket.Deliver does, to every
	// connected local socket the adapter holds (added by AddAll and not yet
	// removed by DelAll) for which skip, if not nil, reports false.
	DeliverAll(frames []*engineio.Message, volatile bool, skip func(id string) bool)
}

// Broadcast implements Adapter: it encodes p once and delivers the same
// frames to every selected local socket.
func (m *Memory) Broadcast(_ context.Context, p *parser.Packet, opts *BroadcastOptions) error {
	return m.broadcastLocal(p, opts)
}

// BroadcastLocal delivers p to the selected local sockets; cluster
// adapters use it for their own sockets and for broadcasts from other
// servers.
func (m *Memory) BroadcastLocal(p *parser.Packet, opts *BroadcastOptions) {
	_ = m.broadcastLocal(p, opts)
}

func (m *Memory) broadcastLocal(p *parser.Packet, opts *BroadcastOptions) error {
	frames, err := m.encode(p)
	if err != nil {
		return err
	}
	volatile := opts.Flags.Volatile
	if dn, ok := m.nsp.(DeliverNamespace); ok && len(opts.Rooms) == 0 {
		// To every socket: the namespace walks its own list, with no
		// look-up per receiver.
		dn.DeliverAll(frames, volatile, m.excludedBy(opts.Except))
		return nil
	}
	m.each(opts, func(s Socket) { s.Deliver(frames, volatile) })
	return nil
}

// excludedBy returns what reports whether a socket is in one of the rooms
// except, as they are now, or nil when except is empty.
func (m *Memory) excludedBy(except []string) func(id string) bool {
	if len(except) == 0 {
		return nil
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	var ids []string
	for _, r := range except {
		m.eachMemberLocked(r, func(id string) { ids = append(ids, id) })
	}
	if len(ids) <= 8 {
		return func(id string) bool { return slices.Contains(ids, id) }
	}
	set := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		set[id] = struct{}{}
	}
	return func(id string) bool { _, in := set[id]; return in }
}

// BroadcastWithAck implements Adapter.
func (m *Memory) BroadcastWithAck(_ context.Context, p *parser.Packet, opts *BroadcastOptions, onClientCount func(int), onAck func(parser.Value, error)) error {
	return m.broadcastWithAck(p, opts, opts.Flags.Timeout, onClientCount, onAck)
}

// BroadcastWithAckRemote delivers p, a broadcast with acknowledgements
// another server asked for, to the selected local sockets: it reports the
// number of clients reached, then each client's first ack argument. As in
// Node, the acknowledgements have no timeout and a client that disconnects
// before answering is not reported.
func (m *Memory) BroadcastWithAckRemote(p *parser.Packet, opts *BroadcastOptions, onClientCount func(int), onAck func(parser.Value)) {
	err := m.broadcastWithAck(p, opts, 0, onClientCount, func(arg parser.Value, err error) {
		if err == nil {
			onAck(arg)
		}
	})
	if err != nil {
		onClientCount(0) // reached no one: the requester stops waiting
	}
}

func (m *Memory) broadcastWithAck(p *parser.Packet, opts *BroadcastOptions, timeout time.Duration, onClientCount func(int), onAck func(parser.Value, error)) error {
	frames, err := m.encode(p)
	if err != nil {
		return err
	}
	var targets []Socket
	m.each(opts, func(s Socket) { targets = append(targets, s) })
	for _, s := range targets {
		s.ExpectAck(p.ID, timeout, func(args []parser.Value, err error) {
			var first parser.Value
			if len(args) > 0 {
				first = args[0]
			}
			onAck(first, err)
		})
	}
	onClientCount(len(targets))
	for _, s := range targets {
		s.Deliver(frames, opts.Flags.Volatile)
	}
	return nil
}

// FetchSockets implements Adapter with the local sockets.
func (m *Memory) FetchSockets(_ context.Context, opts *BroadcastOptions) ([]SocketInfo, error) {
	return m.FetchLocal(opts), nil
}

// FetchLocal returns what FetchSockets reports of the selected local
// sockets.
func (m *Memory) FetchLocal(opts *BroadcastOptions) []SocketInfo {
	var out []SocketInfo
	m.each(opts, func(s Socket) { out = append(out, s.Info()) })
	return out
}

// AddSockets implements Adapter.
func (m *Memory) AddSockets(_ context.Context, opts *BroadcastOptions, rooms []string) error {
	m.AddSocketsLocal(opts, rooms)
	return nil
}

// AddSocketsLocal makes the selected local sockets join rooms.
func (m *Memory) AddSocketsLocal(opts *BroadcastOptions, rooms []string) {
	for _, id := range m.match(opts) {
		m.AddAll(id, rooms)
	}
}

// DelSockets implements Adapter.
func (m *Memory) DelSockets(_ context.Context, opts *BroadcastOptions, rooms []string) error {
	m.DelSocketsLocal(opts, rooms)
	return nil
}

// DelSocketsLocal makes the selected local sockets leave rooms.
func (m *Memory) DelSocketsLocal(opts *BroadcastOptions, rooms []string) {
	for _, id := range m.match(opts) {
		for _, r := range rooms {
			m.Del(id, r)
		}
	}
}

// DisconnectSockets implements Adapter.
func (m *Memory) DisconnectSockets(_ context.Context, opts *BroadcastOptions, close bool) error {
	m.DisconnectLocal(opts, close)
	return nil
}

// DisconnectLocal disconnects the selected local sockets.
func (m *Memory) DisconnectLocal(opts *BroadcastOptions, close bool) {
	m.each(opts, func(s Socket) { s.Disconnect(close) })
}

// ServerSideEmit implements Adapter: a single server has no other server
// to reach, so it returns no responses.
func (m *Memory) ServerSideEmit(context.Context, string, []any, bool) ([]parser.Value, error) {
	return nil, nil
}

// ServerCount implements Adapter: always 1.
func (m *Memory) ServerCount(context.Context) (int, error) { return 1, nil }

// AllRooms implements Adapter with the local rooms.
func (m *Memory) AllRooms(context.Context) ([]string, error) { return m.Rooms(), nil }

// PersistSession implements Adapter; the plain in-memory adapter keeps no
// sessions (connection state recovery uses a session-aware adapter).
func (m *Memory) PersistSession(context.Context, *Session) error { return nil }

// RestoreSession implements Adapter; it always returns ErrSessionNotFound.
func (m *Memory) RestoreSession(context.Context, string, string) (*Session, error) {
	return nil, ErrSessionNotFound
}

// ParserNamespace is a Namespace whose server uses a wire format of its
// own (see parser.Parser). The in-memory adapter, and so every adapter
// built on it, encodes each broadcast once with the namespace's Parser: all
// sockets of a server share it. A Namespace without this method, or whose
// Parser returns nil, uses the default format.
type ParserNamespace interface {
	Namespace
	// Parser returns the wire format of the namespace's sockets; nil
	// means parser.Default.
	Parser() parser.Parser
}

// encode encodes p once for every local recipient, with the namespace's
// parser.
func (m *Memory) encode(p *parser.Packet) ([]*engineio.Message, error) {
	if pn, ok := m.nsp.(ParserNamespace); ok {
		return EncodeWith(pn.Parser(), p)
	}
	return Encode(p), nil
}

// EncodeWith is Encode in the wire format pp: it encodes p once into the
// Engine.IO messages every recipient gets. A nil pp, or parser.Default, is
// Encode itself. It fails as pp.AppendPacket does.
func EncodeWith(pp parser.Parser, p *parser.Packet) ([]*engineio.Message, error) {
	if pp == nil || pp == parser.Default {
		return Encode(p), nil
	}
	buf := frameBuf(len(p.Data) + 8*len(p.Attachments))
	msg, binary, more, err := pp.AppendPacket(buf, p)
	if err != nil {
		return nil, err
	}
	if !binary {
		return encodeText(msg, more), nil
	}
	frames := make([]*engineio.Message, 1+len(more))
	frames[0] = engineio.NewBinaryMessage(msg[len(buf):])
	for i, a := range more {
		frames[1+i] = engineio.NewBinaryMessage(a)
	}
	return frames, nil
}

// EncodeArgsWith is EncodeArgs in the wire format pp, as EncodeWith is
// Encode. It fails as MarshalArgs and pp.AppendPacket do.
func EncodeArgsWith(pp parser.Parser, p *parser.Packet, args ...any) ([]*engineio.Message, error) {
	if pp == nil || pp == parser.Default {
		return EncodeArgs(p, args...)
	}
	data, atts, err := parser.MarshalArgs(nil, args...)
	if err != nil {
		return nil, err
	}
	head := *p
	head.Data, head.Attachments = data, atts
	return EncodeWith(pp, &head)
}

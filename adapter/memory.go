package adapter

import (
	"context"
	"slices"
	"sync"

	"github.com/gosio/gosio/parser"
)

// Memory is the in-memory adapter: the room index of one namespace on one
// server. It is the default adapter.
type Memory struct {
	nsp Namespace

	mu sync.RWMutex
	// rooms maps a room to its members, except for a socket's own room
	// (named by its id), which is only recorded in sids: every socket has
	// one, and a one-member map per socket would cost more than the rest
	// of its room index.
	rooms map[string]map[string]struct{}
	sids  map[string][]string // socket id -> rooms (few per socket: a slice is smaller than a map)
}

var _ Adapter = (*Memory)(nil)

// NewMemory returns an in-memory adapter for nsp. It is a Factory.
func NewMemory(nsp Namespace) Adapter { return newMemory(nsp) }

func newMemory(nsp Namespace) *Memory {
	return &Memory{
		nsp:   nsp,
		rooms: make(map[string]map[string]struct{}),
		sids:  make(map[string][]string),
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
			continue
		}
		members := m.rooms[r]
		if members == nil {
			members = make(map[string]struct{}, 1)
			m.rooms[r] = members
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
		}
	}
	m.delMemberLocked(room, id)
}

func (m *Memory) delMemberLocked(room, id string) {
	if members := m.rooms[room]; members != nil {
		delete(members, id)
		if len(members) == 0 {
			delete(m.rooms, room)
		}
	}
}

// DelAll implements Adapter.
func (m *Memory) DelAll(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.sids[id] {
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
	for _, id := range m.match(opts) {
		if s := m.nsp.Socket(id); s != nil {
			fn(s)
		}
	}
}

// Broadcast implements Adapter: it encodes p once and delivers the same
// frames to every selected local socket.
func (m *Memory) Broadcast(p *parser.Packet, opts *BroadcastOptions) error {
	frames := Encode(p)
	volatile := opts.Flags.Volatile
	m.each(opts, func(s Socket) { s.Deliver(frames, volatile) })
	return nil
}

// BroadcastWithAck implements Adapter.
func (m *Memory) BroadcastWithAck(p *parser.Packet, opts *BroadcastOptions, onClientCount func(int), onAck func(parser.Value, error)) error {
	frames := Encode(p)
	var targets []Socket
	m.each(opts, func(s Socket) { targets = append(targets, s) })
	for _, s := range targets {
		s.ExpectAck(p.ID, opts.Flags.Timeout, func(args []parser.Value, err error) {
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
	var out []SocketInfo
	m.each(opts, func(s Socket) { out = append(out, s.Info()) })
	return out, nil
}

// AddSockets implements Adapter.
func (m *Memory) AddSockets(opts *BroadcastOptions, rooms []string) {
	for _, id := range m.match(opts) {
		m.AddAll(id, rooms)
	}
}

// DelSockets implements Adapter.
func (m *Memory) DelSockets(opts *BroadcastOptions, rooms []string) {
	for _, id := range m.match(opts) {
		for _, r := range rooms {
			m.Del(id, r)
		}
	}
}

// DisconnectSockets implements Adapter.
func (m *Memory) DisconnectSockets(opts *BroadcastOptions, close bool) {
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
func (m *Memory) PersistSession(*Session) {}

// RestoreSession implements Adapter; it always returns ErrSessionNotFound.
func (m *Memory) RestoreSession(string, string) (*Session, error) {
	return nil, ErrSessionNotFound
}

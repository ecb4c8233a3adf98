package adapter

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gosio/gosio/parser"
)

// Defaults of the session-aware in-memory adapter.
const (
	DefaultMaxDisconnectionDuration = 2 * time.Minute
	DefaultMaxLoggedPackets         = 10_000
	sessionSweepInterval            = 60 * time.Second
)

// SessionOptions configures NewSessionAwareMemory.
type SessionOptions struct {
	// MaxDisconnectionDuration is how long a disconnected session and the
	// packets broadcast meanwhile are kept. Zero means 2 minutes.
	MaxDisconnectionDuration time.Duration
	// MaxLoggedPackets caps the packet log. When it is full the oldest
	// packet is dropped, and a session whose offset was dropped cannot be
	// restored (its client gets a fresh session). Zero means 10,000.
	MaxLoggedPackets int
}

// SessionAwareMemory is the in-memory adapter with connection state
// recovery: it appends an offset to every broadcast event that has no ack
// id and is not volatile, logs those packets, and keeps the sessions of
// disconnected sockets, both for MaxDisconnectionDuration. Memory is
// bounded: a sweep every 60 s drops what has expired, and the packet log
// holds at most MaxLoggedPackets packets (oldest dropped first).
type SessionAwareMemory struct {
	*Memory
	maxAge time.Duration
	maxLog int

	smu      sync.Mutex
	sessions map[string]*storedSession
	log      []*loggedPacket // oldest first
	lastID   string
	seq      int
	sweeper  *time.Timer
	closed   bool
}

type storedSession struct {
	s              *Session
	disconnectedAt time.Time
}

type loggedPacket struct {
	offset    string
	rooms     []string
	except    []string
	packet    *parser.Packet
	emittedAt time.Time
}

var _ Adapter = (*SessionAwareMemory)(nil)

// NewSessionAwareMemory returns a Factory of session-aware in-memory
// adapters configured by opts (nil for the defaults).
func NewSessionAwareMemory(opts *SessionOptions) Factory {
	var o SessionOptions
	if opts != nil {
		o = *opts
	}
	if o.MaxDisconnectionDuration <= 0 {
		o.MaxDisconnectionDuration = DefaultMaxDisconnectionDuration
	}
	if o.MaxLoggedPackets <= 0 {
		o.MaxLoggedPackets = DefaultMaxLoggedPackets
	}
	return func(nsp Namespace) Adapter {
		a := &SessionAwareMemory{
			Memory:   newMemory(nsp),
			maxAge:   o.MaxDisconnectionDuration,
			maxLog:   o.MaxLoggedPackets,
			sessions: make(map[string]*storedSession),
		}
		a.sweeper = time.AfterFunc(sessionSweepInterval, a.sweep)
		return a
	}
}

// Close implements Adapter: it stops the sweep and drops what is kept.
func (a *SessionAwareMemory) Close() error {
	a.smu.Lock()
	a.closed = true
	a.sweeper.Stop()
	a.sessions = make(map[string]*storedSession)
	a.log = nil
	a.smu.Unlock()
	return a.Memory.Close()
}

// sweep drops expired sessions and packets, then re-arms itself.
func (a *SessionAwareMemory) sweep() {
	a.smu.Lock()
	defer a.smu.Unlock()
	if a.closed {
		return
	}
	a.expireLocked(time.Now())
	a.sweeper.Reset(sessionSweepInterval)
}

func (a *SessionAwareMemory) expireLocked(now time.Time) {
	limit := now.Add(-a.maxAge)
	for pid, st := range a.sessions {
		if st.disconnectedAt.Before(limit) {
			delete(a.sessions, pid)
		}
	}
	i := 0
	for i < len(a.log) && a.log[i].emittedAt.Before(limit) {
		a.log[i] = nil
		i++
	}
	a.log = a.log[i:]
}

// Broadcast implements Adapter: eligible events get an offset as their
// last argument and are logged before delivery.
func (a *SessionAwareMemory) Broadcast(ctx context.Context, p *parser.Packet, opts *BroadcastOptions) error {
	if (p.Type == parser.Event || p.Type == parser.BinaryEvent) && !p.HasID && !opts.Flags.Volatile {
		a.smu.Lock()
		offset := a.nextOffsetLocked(time.Now())
		p = WithOffset(p, offset)
		a.log = append(a.log, &loggedPacket{
			offset:    offset,
			rooms:     slices.Clone(opts.Rooms),
			except:    slices.Clone(opts.Except),
			packet:    p,
			emittedAt: time.Now(),
		})
		if len(a.log) > a.maxLog {
			a.log[0] = nil
			a.log = a.log[1:]
		}
		a.smu.Unlock()
	}
	return a.Memory.Broadcast(ctx, p, opts)
}

// WithOffset returns a copy of the EVENT p with offset appended as its
// last argument, as connection state recovery requires. An EVENT's data
// is a JSON array holding at least the event name.
func WithOffset(p *parser.Packet, offset string) *parser.Packet {
	q := *p
	end := bytes.LastIndexByte(p.Data, ']')
	if end < 0 {
		return &q
	}
	off, _ := json.Marshal(offset)
	data := make([]byte, 0, len(p.Data)+len(off)+1)
	data = append(data, p.Data[:end]...)
	data = append(data, ',')
	data = append(data, off...)
	data = append(data, p.Data[end:]...)
	q.Data = data
	return &q
}

// nextOffsetLocked returns a new offset: the time in milliseconds in a
// 64-character alphabet, with a ".N" suffix for offsets in the same
// millisecond, as the reference's yeast ids.
func (a *SessionAwareMemory) nextOffsetLocked(now time.Time) string {
	id := encode64(now.UnixMilli())
	if id != a.lastID {
		a.lastID, a.seq = id, 0
		return id
	}
	a.seq++
	return id + "." + strconv.Itoa(a.seq-1)
}

const offsetAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"

func encode64(n int64) string {
	var b [12]byte
	i := len(b)
	for {
		i--
		b[i] = offsetAlphabet[n%64]
		n /= 64
		if n == 0 {
			break
		}
	}
	return string(b[i:])
}

// PersistSession implements Adapter.
func (a *SessionAwareMemory) PersistSession(_ context.Context, s *Session) error {
	a.smu.Lock()
	if !a.closed {
		a.sessions[s.PID] = &storedSession{s: s, disconnectedAt: time.Now()}
	}
	a.smu.Unlock()
	return nil
}

// RestoreSession implements Adapter: the session must not have expired
// and offset must still be in the packet log.
func (a *SessionAwareMemory) RestoreSession(_ context.Context, pid, offset string) (*Session, error) {
	a.smu.Lock()
	defer a.smu.Unlock()
	st := a.sessions[pid]
	if st == nil {
		return nil, ErrSessionNotFound
	}
	delete(a.sessions, pid)
	if time.Since(st.disconnectedAt) > a.maxAge {
		return nil, ErrSessionNotFound
	}
	idx := -1
	for i, lp := range a.log {
		if lp.offset == offset {
			idx = i
			break
		}
	}
	if idx < 0 {
		return nil, ErrSessionNotFound
	}
	s := *st.s
	s.MissedPackets = nil
	for _, lp := range a.log[idx+1:] {
		if matchesRooms(s.Rooms, lp.rooms, lp.except) {
			s.MissedPackets = append(s.MissedPackets, lp.packet)
		}
	}
	return &s, nil
}

// matchesRooms reports whether a socket in rooms was a target of a
// broadcast to targets (all when empty) except except.
func matchesRooms(rooms, targets, except []string) bool {
	for _, r := range except {
		if slices.Contains(rooms, r) {
			return false
		}
	}
	if len(targets) == 0 {
		return true
	}
	for _, r := range targets {
		if slices.Contains(rooms, r) {
			return true
		}
	}
	return false
}

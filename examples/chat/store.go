package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/redis/rueidis"
)

// A Message is one chat line, as stored in the history and sent to the
// browsers (event "chat:message").
type Message struct {
	ID     string `json:"id"`
	Room   string `json:"room"`
	User   string `json:"user"`
	Text   string `json:"text"`
	Time   string `json:"time"`   // RFC 3339, UTC, milliseconds
	Server string `json:"server"` // the server process that took it
}

// A store keeps the chat's shared state: the last messages of every room
// and a counter per room that orders the presence lists (see
// chat.presence). The in-memory store serves one process; the Redis store
// is shared by every process of a cluster, so a browser reloading onto
// another server sees the same history.
type store interface {
	// Append records m in its room's history, keeping the newest entries.
	Append(ctx context.Context, m Message) error
	// History returns a room's history, oldest first.
	History(ctx context.Context, room string) ([]Message, error)
	// Next returns the next value of a room's presence counter.
	Next(ctx context.Context, room string) (int64, error)
}

// memStore is the store of a single process.
type memStore struct {
	size int

	mu      sync.Mutex
	history map[string][]Message
	counter map[string]int64
}

func newMemStore(size int) *memStore {
	return &memStore{size: size, history: map[string][]Message{}, counter: map[string]int64{}}
}

func (s *memStore) Append(_ context.Context, m Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := append(s.history[m.Room], m)
	if len(h) > s.size {
		// Copy instead of reslicing so the dropped messages can be freed.
		h = append([]Message(nil), h[len(h)-s.size:]...)
	}
	s.history[m.Room] = h
	return nil
}

func (s *memStore) History(_ context.Context, room string) ([]Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.history[room]...), nil
}

func (s *memStore) Next(_ context.Context, room string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counter[room]++
	return s.counter[room], nil
}

// redisStore keeps the history in one Redis list per room (RPUSH, then
// LTRIM to the last size entries) and the presence counters in INCR keys.
// Keys start with prefix.
type redisStore struct {
	rc     rueidis.Client
	size   int
	prefix string
}

func (s *redisStore) historyKey(room string) string { return s.prefix + "history:" + room }

func (s *redisStore) Append(ctx context.Context, m Message) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	key := s.historyKey(m.Room)
	for _, r := range s.rc.DoMulti(ctx,
		s.rc.B().Rpush().Key(key).Element(string(b)).Build(),
		s.rc.B().Ltrim().Key(key).Start(int64(-s.size)).Stop(-1).Build(),
	) {
		if err := r.Error(); err != nil {
			return fmt.Errorf("history of %q: %w", m.Room, err)
		}
	}
	return nil
}

func (s *redisStore) History(ctx context.Context, room string) ([]Message, error) {
	items, err := s.rc.Do(ctx, s.rc.B().Lrange().Key(s.historyKey(room)).Start(0).Stop(-1).Build()).AsStrSlice()
	if err != nil {
		return nil, fmt.Errorf("history of %q: %w", room, err)
	}
	out := make([]Message, 0, len(items))
	for _, it := range items {
		var m Message
		if err := json.Unmarshal([]byte(it), &m); err != nil {
			continue // not ours: skip rather than fail the whole history
		}
		out = append(out, m)
	}
	return out, nil
}

func (s *redisStore) Next(ctx context.Context, room string) (int64, error) {
	return s.rc.Do(ctx, s.rc.B().Incr().Key(s.prefix+"presence:"+room).Build()).AsInt64()
}

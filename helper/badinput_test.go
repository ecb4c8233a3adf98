package helper_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosio/gosio/helper"
	"github.com/gosio/gosio/internal/testutil"
	"github.com/gosio/gosio/socketio"
)

// syncBuffer is a log sink for tests.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The malformed join and leave payloads of ignis-helpers-behaviour.md §5,
// and more, from a raw Go client: none crashes the server or disconnects
// the client, none joins or leaves a room, each is refused with a log line,
// and another client is unaffected.
func TestServerMalformedJoinLeave(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	var validated []string
	var mu sync.Mutex
	h, url := startServer(t, helper.ServerOptions{
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
		ValidateRooms: func(ctx context.Context, s *socketio.Socket, rooms []string) ([]string, error) {
			mu.Lock()
			validated = append(validated, rooms...)
			mu.Unlock()
			return rooms, nil
		},
	})
	other := authed(t, url)

	raw, err := socketio.NewClient(url, &socketio.ClientOptions{SocketOptions: socketio.SocketOptions{Auth: map[string]string{"token": "good"}}})
	testutil.NoErr(t, err)
	t.Cleanup(func() { _ = raw.Close() })
	var disconnects []string
	authenticated := make(chan struct{}, 1)
	raw.On(helper.EventAuthenticated, func() { authenticated <- struct{}{} })
	raw.OnDisconnect(func(r string) { mu.Lock(); disconnects = append(disconnects, r); mu.Unlock() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	testutil.NoErr(t, raw.Connect(ctx))
	testutil.NoErr(t, raw.Emit(helper.EventAuthenticate))
	select {
	case <-authenticated:
	case <-time.After(5 * time.Second):
		t.Fatal("raw client not authenticated")
	}
	id := raw.ID()

	payloads := [][]any{
		{json.RawMessage(`null`)},
		{"public-z"},
		{json.RawMessage(`{"rooms":[]}`)},
		{json.RawMessage(`{"rooms":"public-str"}`)},
		{json.RawMessage(`{"rooms":[1,"public-b",null]}`)},
		{json.RawMessage(`{"rooms":"abc"}`)},
		{json.RawMessage(`{"rooms":{"length":1}}`)},
		{},                                  // no payload at all
		{json.RawMessage(`{}`)},             // no rooms
		{json.RawMessage(`{"rooms":[""]}`)}, // an empty room name
		{json.RawMessage(`{"rooms":[["nested"]]}`)},
		{json.RawMessage(`[{"rooms":["in-array"]}]`)},
		{42},
		{true},
		{[]byte("binary")}, // a binary attachment
		{map[string]any{"rooms": []any{[]byte("b")}}}, // a binary room
		{json.RawMessage(`{"rooms":"` + strings.Repeat("x", 100000) + `"}`)},
	}
	for _, p := range payloads {
		testutil.NoErr(t, raw.Emit(helper.EventJoin, p...))
		testutil.NoErr(t, raw.Emit(helper.EventLeave, p...))
	}
	// In order: this good join is handled after all of the above.
	testutil.NoErr(t, raw.Emit(helper.EventJoin, map[string][]string{"rooms": {"good"}}))
	want := sorted(id, helper.RoomDefault, helper.RoomNotification, "good")
	testutil.WaitUntil(t, 5*time.Second, "the good join", func() bool {
		ci, ok := h.Client(id)
		return ok && slices.Equal(sorted(ci.Rooms...), want)
	})
	mu.Lock()
	testutil.Equal(t, validated, []string{"good"})
	testutil.Equal(t, len(disconnects), 0)
	mu.Unlock()
	testutil.Equal(t, strings.Count(logs.String(), "malformed join refused"), len(payloads))
	testutil.Equal(t, strings.Count(logs.String(), "malformed leave refused"), len(payloads))
	if strings.Contains(logs.String(), "panic") {
		t.Errorf("a panic was logged:\n%s", logs)
	}
	ci, _ := h.Client(id)
	testutil.Equal(t, ci.State, helper.StateAuthenticated)
	testutil.Equal(t, raw.Connected(), true)

	// The other client is unaffected.
	testutil.NoErr(t, h.Send(context.Background(), "", "after", 1))
	other.rec.waitEvent(t, "after", 1)
	testutil.Equal(t, len(other.rec.kinds("disconnect")), 0)
}

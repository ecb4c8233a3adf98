package adapter

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/internal/testutil"
	"github.com/gosio/gosio/parser"
)

func TestMain(m *testing.M) { testutil.RunWithLeakCheck(m) }

var ctx = context.Background()

// fakeNamespace and fakeSocket record deliveries.
type fakeNamespace struct {
	mu      sync.Mutex
	sockets map[string]*fakeSocket
}

func (n *fakeNamespace) Name() string { return "/" }
func (n *fakeNamespace) Socket(id string) Socket {
	n.mu.Lock()
	defer n.mu.Unlock()
	if s, ok := n.sockets[id]; ok {
		return s
	}
	return nil
}
func (n *fakeNamespace) HandleServerSideEmit(string, []parser.Value, func(any)) {}
func (n *fakeNamespace) NextAckID() uint64                                      { return 0 }
func (n *fakeNamespace) Recovery() (bool, time.Duration)                        { return false, 0 }

type fakeSocket struct {
	id  string
	mu  sync.Mutex
	got []string
}

func (s *fakeSocket) ID() string { return s.id }
func (s *fakeSocket) Deliver(frames []*engineio.Message, volatile bool) {
	s.mu.Lock()
	s.got = append(s.got, string(frames[0].Data()))
	s.mu.Unlock()
}
func (s *fakeSocket) ExpectAck(uint64, time.Duration, func([]parser.Value, error)) {}
func (s *fakeSocket) Info() SocketInfo                                             { return SocketInfo{ID: s.id} }
func (s *fakeSocket) Disconnect(bool)                                              {}

func newFake(ids ...string) *fakeNamespace {
	n := &fakeNamespace{sockets: map[string]*fakeSocket{}}
	for _, id := range ids {
		n.sockets[id] = &fakeSocket{id: id}
	}
	return n
}

func event(t *testing.T, args ...any) *parser.Packet {
	t.Helper()
	data, atts, err := parser.MarshalArgs(nil, args...)
	if err != nil {
		t.Fatal(err)
	}
	return &parser.Packet{Type: parser.Event, Namespace: "/", Data: data, Attachments: atts}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

func TestMemoryRoomsAndTargets(t *testing.T) {
	t.Parallel()
	ns := newFake("a", "b", "c")
	m := newMemory(ns)
	for id := range ns.sockets {
		m.AddAll(id, []string{id})
	}
	m.AddAll("a", []string{"r1", "r2"})
	m.AddAll("b", []string{"r1"})
	m.AddAll("c", []string{"r3"})

	cases := []struct {
		name string
		opts BroadcastOptions
		want []string
	}{
		{"all", BroadcastOptions{}, []string{"a", "b", "c"}},
		{"one room", BroadcastOptions{Rooms: []string{"r1"}}, []string{"a", "b"}},
		{"union once", BroadcastOptions{Rooms: []string{"r1", "r2"}}, []string{"a", "b"}},
		{"except", BroadcastOptions{Rooms: []string{"r1"}, Except: []string{"r2"}}, []string{"b"}},
		{"all except", BroadcastOptions{Except: []string{"r1"}}, []string{"c"}},
		{"unknown room", BroadcastOptions{Rooms: []string{"nope"}}, []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			testutil.Equal(t, sorted(m.match(&tc.opts)), sorted(tc.want))
		})
	}

	m.Del("a", "r1")
	testutil.Equal(t, sorted(m.SocketRooms("a")), []string{"a", "r2"})
	m.DelAll("a")
	if m.SocketRooms("a") != nil {
		t.Fatal("rooms of a removed socket")
	}
	testutil.Equal(t, sorted(m.Rooms()), []string{"b", "c", "r1", "r3"})

	if err := m.Broadcast(ctx, event(t, "ev", 1), &BroadcastOptions{Rooms: []string{"r1", "r3"}}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"b", "c"} {
		testutil.Equal(t, ns.sockets[id].got, []string{`2["ev",1]`})
	}
	if len(ns.sockets["a"].got) != 0 {
		t.Fatal("a got a packet after leaving")
	}
	_ = m.AddSockets(ctx, &BroadcastOptions{Rooms: []string{"r3"}}, []string{"x"})
	testutil.Equal(t, m.Sockets([]string{"x"}), []string{"c"})
	_ = m.DelSockets(ctx, &BroadcastOptions{}, []string{"x"})
	testutil.Equal(t, len(m.Sockets([]string{"x"})), 0)
}

func TestSessionAwareOffsetsAndRestore(t *testing.T) {
	t.Parallel()
	ns := newFake("s1", "s2")
	a := NewSessionAwareMemory(&SessionOptions{MaxLoggedPackets: 3})(ns).(*SessionAwareMemory)
	defer a.Close()
	a.AddAll("s1", []string{"s1", "r"})
	a.AddAll("s2", []string{"s2"})

	_ = a.Broadcast(ctx, event(t, "ev", "first"), &BroadcastOptions{})
	first := ns.sockets["s1"].got[0]
	if !strings.HasPrefix(first, `2["ev","first","`) {
		t.Fatalf("no offset: %s", first)
	}
	offset := strings.TrimSuffix(strings.TrimPrefix(first, `2["ev","first","`), `"]`)

	_ = a.PersistSession(ctx, &Session{SID: "s1", PID: "p1", Rooms: []string{"s1", "r"}, Data: 42})
	_ = a.Broadcast(ctx, event(t, "ev", "to-r"), &BroadcastOptions{Rooms: []string{"r"}})
	_ = a.Broadcast(ctx, event(t, "ev", "not-r"), &BroadcastOptions{Rooms: []string{"s2"}})
	_ = a.Broadcast(ctx, event(t, "ev", "volatile"), &BroadcastOptions{Flags: BroadcastFlags{Volatile: true}})
	withAck := event(t, "ev", "ack")
	withAck.ID, withAck.HasID = 1, true
	_ = a.Broadcast(ctx, withAck, &BroadcastOptions{})

	s, err := a.RestoreSession(ctx, "p1", offset)
	if err != nil {
		t.Fatal(err)
	}
	if s.SID != "s1" || s.Data != 42 || len(s.MissedPackets) != 1 || !strings.HasPrefix(string(s.MissedPackets[0].Data), `["ev","to-r","`) {
		t.Fatalf("restored %+v", s)
	}
	if _, err := a.RestoreSession(ctx, "p1", offset); !errors.Is(err, ErrSessionNotFound) {
		t.Fatal("a session can be restored once")
	}

	// The log keeps 3 packets: the first offset falls out.
	_ = a.PersistSession(ctx, &Session{SID: "s1", PID: "p2", Rooms: []string{"s1"}})
	for range 3 {
		_ = a.Broadcast(ctx, event(t, "ev", "more"), &BroadcastOptions{})
	}
	if _, err := a.RestoreSession(ctx, "p2", offset); !errors.Is(err, ErrSessionNotFound) {
		t.Fatalf("restored from a dropped offset: %v", err)
	}
}

func TestSessionAwareExpiry(t *testing.T) {
	t.Parallel()
	ns := newFake("s1")
	a := NewSessionAwareMemory(&SessionOptions{MaxDisconnectionDuration: 20 * time.Millisecond})(ns).(*SessionAwareMemory)
	defer a.Close()
	a.AddAll("s1", []string{"s1"})
	_ = a.Broadcast(ctx, event(t, "ev"), &BroadcastOptions{})
	offset := strings.TrimSuffix(strings.TrimPrefix(ns.sockets["s1"].got[0], `2["ev","`), `"]`)
	_ = a.PersistSession(ctx, &Session{SID: "s1", PID: "p"})
	time.Sleep(40 * time.Millisecond)
	if _, err := a.RestoreSession(ctx, "p", offset); !errors.Is(err, ErrSessionNotFound) {
		t.Fatal("expired session restored")
	}
	_ = a.PersistSession(ctx, &Session{SID: "s1", PID: "q"})
	a.smu.Lock()
	a.expireLocked(time.Now().Add(time.Minute))
	n, logged := len(a.sessions), len(a.log)
	a.smu.Unlock()
	if n != 0 || logged != 0 {
		t.Fatalf("sweep left %d sessions, %d packets", n, logged)
	}
}

func TestWithOffset(t *testing.T) {
	t.Parallel()
	p := &parser.Packet{Type: parser.Event, Data: []byte(`["ev",{"a":[1]}]`)}
	testutil.Equal(t, string(WithOffset(p, "X.1").Data), `["ev",{"a":[1]},"X.1"]`)
	testutil.Equal(t, string(p.Data), `["ev",{"a":[1]}]`)
}

func TestMemoryOwnRooms(t *testing.T) {
	t.Parallel()
	m := newMemory(newFake("a", "b"))
	m.AddAll("a", []string{"a"})
	m.AddAll("b", []string{"b"})
	m.AddAll("a", []string{"b"}) // a joins the room named like b's id
	testutil.Equal(t, sorted(m.match(&BroadcastOptions{Rooms: []string{"b"}})), []string{"a", "b"})
	testutil.Equal(t, sorted(m.match(&BroadcastOptions{Except: []string{"a"}})), []string{"b"})
	testutil.Equal(t, sorted(m.match(&BroadcastOptions{Rooms: []string{"a", "b"}, Except: []string{"b"}})), []string(nil))
	testutil.Equal(t, sorted(m.Rooms()), []string{"a", "b"})
	m.Del("b", "b")
	testutil.Equal(t, sorted(m.match(&BroadcastOptions{Rooms: []string{"b"}})), []string{"a"})
	m.DelAll("a")
	testutil.Equal(t, sorted(m.Rooms()), []string{})
}

// TestEncodeArgs checks that EncodeArgs gives the messages Encode gives for
// the packet with MarshalArgs's data and attachments.
func TestEncodeArgs(t *testing.T) {
	big := strings.Repeat("x", 300) // a frame longer than frameBuf's slack
	for _, tc := range []struct {
		name string
		p    parser.Packet
		args []any
	}{
		{"no args", parser.Packet{Type: parser.Ack, Namespace: "/", ID: 7, HasID: true}, nil},
		{"strings", parser.Packet{Type: parser.Ack, Namespace: "/", ID: 1, HasID: true}, []any{"a", 1, true}},
		{"namespace", parser.Packet{Type: parser.Ack, Namespace: "/admin", ID: 12345678901, HasID: true}, []any{map[string]any{"k": big}}},
		{"event", parser.Packet{Type: parser.Event, Namespace: "/"}, []any{"ev", big}},
		{"binary", parser.Packet{Type: parser.Ack, Namespace: "/x", ID: 3, HasID: true}, []any{[]byte{1, 2}, "s", []byte{3}}},
		{"ignores data", parser.Packet{Type: parser.Ack, ID: 2, HasID: true, Data: []byte(`["old"]`), Attachments: [][]byte{{9}}}, []any{"new"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EncodeArgs(&tc.p, tc.args...)
			testutil.NoErr(t, err)
			want := tc.p
			want.Data, want.Attachments, err = parser.MarshalArgs(nil, tc.args...)
			testutil.NoErr(t, err)
			testutil.Equal(t, frameTexts(got), frameTexts(Encode(&want)))
		})
	}
	if _, err := EncodeArgs(&parser.Packet{Type: parser.Ack, HasID: true}, json.RawMessage(`{`)); err == nil {
		t.Fatal("EncodeArgs with invalid JSON: no error")
	}
}

// frameTexts describes messages for comparison: "t:" or "b:" and the data.
func frameTexts(ms []*engineio.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		kind := "t:"
		if m.IsBinary() {
			kind = "b:"
		}
		out[i] = kind + string(m.Data())
	}
	return out
}

// batchNamespace is a fakeNamespace that also looks sockets up in batches
// (SocketsNamespace), counting the batches.
type batchNamespace struct {
	*fakeNamespace
	batches []int
}

func (n *batchNamespace) AppendSockets(dst []Socket, ids []string) []Socket {
	n.batches = append(n.batches, len(ids))
	for _, id := range ids {
		if s := n.Socket(id); s != nil {
			dst = append(dst, s)
		}
	}
	return dst
}

// TestBroadcastThroughSocketsNamespace: with a namespace that looks sockets
// up in batches, a broadcast to more receivers than one batch reaches each
// connected member once and skips members that are not connected, as the
// one-by-one lookup does.
func TestBroadcastThroughSocketsNamespace(t *testing.T) {
	t.Parallel()
	var ids []string
	for i := range 150 {
		ids = append(ids, "s"+strconv.Itoa(i))
	}
	for _, batched := range []bool{false, true} {
		fake := newFake(ids...)
		var ns Namespace = fake
		bn := &batchNamespace{fakeNamespace: fake}
		if batched {
			ns = bn
		}
		m := newMemory(ns)
		for _, id := range ids {
			m.AddAll(id, []string{id, "room"})
		}
		m.AddAll("gone", []string{"gone", "room"}) // in the room, no socket
		testutil.NoErr(t, m.Broadcast(ctx, event(t, "x", 1), &BroadcastOptions{Rooms: []string{"room"}}))
		testutil.NoErr(t, m.Broadcast(ctx, event(t, "y"), &BroadcastOptions{}))
		for _, id := range ids {
			testutil.Equal(t, fake.sockets[id].got, []string{`2["x",1]`, `2["y"]`})
		}
		if batched {
			sort.Ints(bn.batches)
			// 151 ids (150 sockets and "gone") per broadcast, in chunks of at most 64.
			testutil.Equal(t, bn.batches, []int{23, 23, 64, 64, 64, 64})
		}
	}
}

package msgpackparser_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/parser"
	"github.com/gosio/gosio/parser/msgpackparser"
)

type fakeNsp struct {
	pp      parser.Parser
	sockets map[string]*fakeSocket
}

func (n *fakeNsp) Name() string                    { return "/" }
func (n *fakeNsp) Socket(id string) adapter.Socket { return n.sockets[id] }
func (n *fakeNsp) NextAckID() uint64               { return 0 }
func (n *fakeNsp) Recovery() (bool, time.Duration) {
	return false, 0
}
func (n *fakeNsp) HandleServerSideEmit(string, []parser.Value, func(any)) {}
func (n *fakeNsp) Parser() parser.Parser                                  { return n.pp }

type fakeSocket struct {
	id     string
	frames [][]*engineio.Message
}

func (s *fakeSocket) ID() string { return s.id }
func (s *fakeSocket) Deliver(frames []*engineio.Message, _ bool) {
	s.frames = append(s.frames, frames)
}
func (s *fakeSocket) ExpectAck(uint64, time.Duration, func([]parser.Value, error)) {}
func (s *fakeSocket) Info() adapter.SocketInfo                                     { return adapter.SocketInfo{ID: s.id} }
func (s *fakeSocket) Disconnect(bool)                                              {}

// TestBroadcastEncodedOnce checks that the in-memory adapter encodes a
// broadcast once, in the namespace's parser, and gives every socket the
// same messages.
func TestBroadcastEncodedOnce(t *testing.T) {
	for _, pp := range []parser.Parser{msgpackparser.Parser{}, nil} {
		n := &fakeNsp{pp: pp, sockets: map[string]*fakeSocket{"a": {id: "a"}, "b": {id: "b"}, "c": {id: "c"}}}
		m := adapter.NewMemory(n)
		m.AddAll("a", []string{"a", "room"})
		m.AddAll("b", []string{"b", "room"})
		m.AddAll("c", []string{"c"})
		data, atts, err := parser.MarshalArgs(nil, "news", []byte{1, 2})
		if err != nil {
			t.Fatal(err)
		}
		p := &parser.Packet{Type: parser.Event, Namespace: "/", Data: data, Attachments: atts}
		if err := m.Broadcast(context.Background(), p, &adapter.BroadcastOptions{Rooms: []string{"room"}}); err != nil {
			t.Fatal(err)
		}
		a, b, c := n.sockets["a"].frames, n.sockets["b"].frames, n.sockets["c"].frames
		if len(a) != 1 || len(b) != 1 || len(c) != 0 {
			t.Fatalf("parser %T: deliveries a=%d b=%d c=%d", pp, len(a), len(b), len(c))
		}
		if len(a[0]) == 0 || &a[0][0] != &b[0][0] {
			t.Fatalf("parser %T: the sockets got messages encoded apart", pp)
		}
		if pp == nil {
			if len(a[0]) != 2 || a[0][0].IsBinary() || !a[0][1].IsBinary() {
				t.Fatalf("default parser: want a text and an attachment, got %d messages", len(a[0]))
			}
			continue
		}
		if len(a[0]) != 1 || !a[0][0].IsBinary() {
			t.Fatalf("msgpack: want one binary message, got %d", len(a[0]))
		}
		q, err := pp.NewDecoder(0).Decode(a[0][0].Data(), true)
		if err != nil || string(q.Data) != string(data) || len(q.Attachments) != 1 || string(q.Attachments[0]) != "\x01\x02" {
			t.Fatalf("msgpack broadcast decodes to %v, %v", q, err)
		}
	}
}

// A broadcast whose data the parser cannot encode fails and reaches no one.
func TestBroadcastEncodeError(t *testing.T) {
	n := &fakeNsp{pp: msgpackparser.Parser{}, sockets: map[string]*fakeSocket{"a": {id: "a"}}}
	m := adapter.NewMemory(n)
	m.AddAll("a", []string{"a"})
	p := &parser.Packet{Type: parser.Event, Namespace: "/", Data: json.RawMessage(`["e",{"_placeholder":true,"num":1}]`), Attachments: [][]byte{{1}}}
	if err := m.Broadcast(context.Background(), p, &adapter.BroadcastOptions{}); err == nil {
		t.Fatal("no error")
	}
	if len(n.sockets["a"].frames) != 0 {
		t.Fatal("delivered")
	}
}

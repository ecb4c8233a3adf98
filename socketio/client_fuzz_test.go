package socketio

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/gosio/gosio/parser"
)

// FuzzClientPackets routes arbitrary packets from a server, one per line,
// through a Manager with a socket that is connecting, has acknowledgements
// pending and a session to recover: CONNECT replies, CONNECT_ERROR
// payloads, EVENTs with recovery offsets, ACKs and DISCONNECTs. Nothing
// panics; a connected socket has an id; every pending acknowledgement is
// resolved at most once; the recovery offset only comes from an event of
// a connected socket with a session id; and Close leaves no handler
// behind.
func FuzzClientPackets(f *testing.F) {
	for _, s := range []string{
		"0{\"sid\":\"abc\",\"pid\":\"p1\"}\n2[\"tick\",1,\"off-1\"]\n30[\"a\"]\n31[]\n1",
		"0{\"sid\":\"abc\"}\n21[\"ask\",2]\n3[\"no id\"]\n32[1]\n32[2]",
		"4{\"message\":\"nope\",\"data\":{\"code\":1}}",
		"4\"plain\"\n0{\"sid\":\"x\"}",
		"0{}\n0{\"sid\":5}\n0\n4",
		"2[\"early\"]\n0{\"sid\":\"abc\",\"pid\":\"p2\"}\n2[\"tick\",{\"x\":1}]",
		"0/admin,{\"sid\":\"a\"}\n2/admin,[\"x\"]",
		"51-[\"bin\",{\"_placeholder\":true,\"num\":0}]\n0{\"sid\":\"abc\"}\n61-0[{\"_placeholder\":true,\"num\":0}]",
		"garbage\n0{\"sid\":\"abc\"}",
		"0{\"sid\":\"abc\"}\n" + "2[\"tick\",\"o\"]\n2[\"tick\",\"o2\"]\n1\n0{\"sid\":\"def\",\"pid\":\"p1\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		m := NewManager("http://127.0.0.1:1", &ManagerOptions{DisableReconnection: true, MaxQueuedEvents: 8})
		s := m.Socket("/", nil)
		s.On("tick", func(Args) {})
		s.On("ask", func(args Args, ack Ack) { _ = ack(1) })
		s.OnAny(func(string, Args) {})
		s.OnConnectError(func(error) {})
		s.OnDisconnect(func(string) {})

		resolved := make(map[uint64]int)
		m.mu.Lock()
		s.active, s.connecting = true, true
		s.pid, s.lastOffset, s.hasOffset = "p1", "start", true
		m.state = stateOpen
		for range 3 {
			op := s.newPacketLocked("q", nil, json.RawMessage(`["q"]`), nil, 0, nil, true)
			id := op.id
			s.acks[id] = &clientAck{fn: func(Args, error) { resolved[id]++ }, withError: true, packet: op}
			op.hasAck = true
		}
		m.mu.Unlock()

		dec := parser.NewDecoder(0)
		for line := range bytes.SplitSeq(input, []byte("\n")) {
			binary := len(line) > 0 && line[0] == 0xff
			if binary {
				line = line[1:]
			}
			m.mu.Lock()
			gen := m.gen // as if every line came on the current connection
			before := s.lastOffset
			wasConnected, pid := s.connected, s.pid
			m.mu.Unlock()
			m.onEngineMessage(gen, dec, bytes.Clone(line), binary)
			m.mu.Lock()
			if s.connected && s.id == "" {
				t.Fatalf("connected without an id after %q", line)
			}
			if s.lastOffset != before && (!wasConnected && !s.connected || pid == "" && s.pid == "") {
				t.Fatalf("offset %q taken from %q by a socket that could not recover", s.lastOffset, line)
			}
			m.mu.Unlock()
		}
		_ = m.Close()
		for id, n := range resolved {
			if n > 1 {
				t.Fatalf("ack %d resolved %d times", id, n)
			}
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.running || len(m.tasks) > 0 || len(s.acks) > 0 {
			t.Fatalf("after Close: running %v, %d tasks, %d acks", m.running, len(m.tasks), len(s.acks))
		}
	})
}

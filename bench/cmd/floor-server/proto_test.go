package main

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

type buf struct{ bytes.Buffer }

func (b *buf) Write(p []byte) (int, error) { return b.Buffer.Write(p) }

// clientFrame is a masked client frame, as the load generator sends it.
func clientFrame(op byte, p []byte) []byte {
	b := []byte{0x80 | op}
	switch n := len(p); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n <= 0xffff:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	key := []byte{1, 2, 3, 4}
	b = append(b, key...)
	for i, c := range p {
		b = append(b, c^key[i&3])
	}
	return b
}

// serverFrames splits the unmasked frames a peer received.
func serverFrames(t *testing.T, b []byte) (ops []byte, msgs []string) {
	t.Helper()
	for len(b) > 0 {
		op, n, h := b[0]&0x0f, int(b[1]), 2
		switch n {
		case 126:
			n, h = int(binary.BigEndian.Uint16(b[2:])), 4
		case 127:
			n, h = int(binary.BigEndian.Uint64(b[2:])), 10
		}
		if len(b) < h+n {
			t.Fatalf("short frame: %q", b)
		}
		ops, msgs = append(ops, op), append(msgs, string(b[h:h+n]))
		b = b[h+n:]
	}
	return ops, msgs
}

// feed hands in to s in pieces of size step, keeping unconsumed bytes
// as the nbio loop does.
func feed(t *testing.T, s *server, p *peer, in []byte, step int) bool {
	t.Helper()
	var pending []byte
	for len(in) > 0 {
		k := min(step, len(in))
		pending = append(pending, in[:k]...)
		in = in[k:]
		n, closeIt := s.consume(p, pending)
		pending = append(pending[:0], pending[n:]...)
		if closeIt {
			return true
		}
	}
	if len(pending) > 0 {
		t.Fatalf("%d bytes left unconsumed", len(pending))
	}
	return false
}

const upgrade = "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

func TestContractAcrossSplitReads(t *testing.T) {
	big := strings.Repeat("x", 70000) // a 64-bit length
	mid := strings.Repeat("y", 1000)  // a 16-bit length
	for _, step := range []int{1, 7, 64, 1 << 20} {
		s := newServer()
		out := &buf{}
		p := newPeer(out)
		var in []byte
		in = append(in, upgrade...)
		in = append(in, clientFrame(1, []byte("40"))...)
		in = append(in, clientFrame(1, []byte(`427["echo",{"a":"`+mid+`"}]`))...)
		in = append(in, clientFrame(1, []byte(`428["echo","`+big+`"]`))...)
		in = append(in, clientFrame(1, []byte(`451-9["echo",{"_placeholder":true,"num":0}]`))...)
		in = append(in, clientFrame(2, []byte{0, 1, 2})...)
		in = append(in, clientFrame(9, []byte("hi"))...)
		in = append(in, clientFrame(1, []byte(`4210["join","r\"1"]`))...)
		in = append(in, clientFrame(1, []byte(`42["room","r\"1",{"t":1}]`))...)
		in = append(in, clientFrame(1, []byte(`42["bcast",{"t":2}]`))...)
		if feed(t, s, p, in, step) {
			t.Fatalf("step %d: connection closed", step)
		}
		resp, frames, ok := bytes.Cut(out.Bytes(), []byte("\r\n\r\n"))
		if !ok || !bytes.Contains(resp, []byte("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")) {
			t.Fatalf("step %d: handshake answer %q", step, resp)
		}
		ops, msgs := serverFrames(t, frames)
		want := []string{"0{", `40{"sid":"`, `437[{"a":"` + mid + `"}]`, `438["` + big + `"]`,
			`461-9[{"_placeholder":true,"num":0}]`, "\x00\x01\x02", "hi", "4310[]", `42["b",{"t":1}]`, `42["b",{"t":2}]`}
		wantOps := []byte{1, 1, 1, 1, 1, 2, 10, 1, 1, 1}
		if len(msgs) != len(want) {
			t.Fatalf("step %d: got %d messages %q", step, len(msgs), msgs)
		}
		for i := range want {
			if ops[i] != wantOps[i] || !strings.HasPrefix(msgs[i], want[i]) || (i > 1 && msgs[i] != want[i]) {
				t.Errorf("step %d: message %d = op %d %.60q, want op %d %.60q", step, i, ops[i], msgs[i], wantOps[i], want[i])
			}
		}
		if len(s.all) != 1 || len(s.rooms[`r"1`]) != 1 {
			t.Errorf("step %d: hub %d peers, room %d", step, len(s.all), len(s.rooms[`r"1`]))
		}
		s.closed(p)
		if len(s.all) != 0 || len(s.rooms) != 0 {
			t.Errorf("step %d: after close: hub %d peers, %d rooms", step, len(s.all), len(s.rooms))
		}
	}
}

// TestBroadcastsOfOneReadShareAWrite checks that a read's broadcasts reach
// every peer in one write, after the replies ordered before them.
func TestBroadcastsOfOneReadShareAWrite(t *testing.T) {
	s := newServer()
	var outs []*countingSink
	var peers []*peer
	for range 3 {
		c := &countingSink{}
		p := newPeer(c)
		feed(t, s, p, append([]byte(upgrade), clientFrame(1, []byte("40"))...), 1<<20)
		c.writes = 0
		c.buf.Reset()
		outs, peers = append(outs, c), append(peers, p)
	}
	var in []byte
	in = append(in, clientFrame(1, []byte(`421["echo",1]`))...)
	for range 5 {
		in = append(in, clientFrame(1, []byte(`42["bcast",{}]`))...)
	}
	feed(t, s, peers[0], in, 1<<20)
	if outs[0].writes != 2 || outs[1].writes != 1 || outs[2].writes != 1 {
		t.Fatalf("writes %d %d %d, want 2 1 1", outs[0].writes, outs[1].writes, outs[2].writes)
	}
	_, msgs := serverFrames(t, outs[0].buf.Bytes())
	if len(msgs) != 6 || msgs[0] != "431[1]" || msgs[5] != `42["b",{}]` {
		t.Fatalf("publisher got %q", msgs)
	}
}

type countingSink struct {
	buf    bytes.Buffer
	writes int
}

func (c *countingSink) Write(p []byte) (int, error) { c.writes++; return c.buf.Write(p) }

func TestAdmin(t *testing.T) {
	for path, want := range map[string]string{"/stats": `"server":"floor"`, "/gc": "ok", "/nope": "404"} {
		s := newServer()
		out := &buf{}
		if !feed(t, s, newPeer(out), []byte("GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"), 1<<20) {
			t.Errorf("%s: connection kept open", path)
		}
		if !strings.Contains(out.String(), want) || !strings.Contains(out.String(), "Connection: close") {
			t.Errorf("%s: %q", path, out.String())
		}
	}
}

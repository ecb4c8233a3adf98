package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"runtime"
	"runtime/debug"
	"strconv"

	"github.com/gosio/gosio/bench/internal/appkit"
	"github.com/gosio/gosio/bench/internal/procstat"
)

// A sink is the event loop's connection: writes go straight to the socket
// (the loop buffers what the kernel does not take).
type sink interface {
	Write(b []byte) (int, error)
}

const (
	stHTTP = iota // before the upgrade: one request, then 101 or a reply and close
	stWS          // WebSocket frames
)

// maxFrame bounds a client frame: Engine.IO's maxPayload plus the header.
const maxFrame = 1_000_000 + 14

// A peer is one connection. Idle, it is this struct and nothing else: no
// buffer is kept between reads unless a frame is split across them.
type peer struct {
	c          sink
	state      uint8
	idx        int      // position in server.all, -1 until "40"
	in         []byte   // a partial frame carried to the next read (loops without their own buffer)
	rooms      []string // joined rooms
	pendingBin []byte   // header of a binary echo awaiting its attachment
}

// A server holds the hub and the scratch buffers of the one event loop that
// drives it: every method runs on that loop (or under the caller's lock).
type server struct {
	all   []*peer
	rooms map[string]map[*peer]struct{}

	out     []byte  // frames for the peer being read, written once at the end of its read
	bcast   []byte  // broadcast frames gathered during one read, written once to every peer
	fanning bool    // a fan-out is iterating all; closes wait in dead
	dead    []*peer // peers closed during a fan-out
}

func newServer() *server { return &server{rooms: make(map[string]map[*peer]struct{})} }

func newPeer(c sink) *peer { return &peer{c: c, idx: -1} }

// consume handles every complete request or frame at the front of b and
// returns how many bytes it used; the caller keeps the rest for the next
// read. close reports that the connection must be closed (after the
// writes already made).
func (s *server) consume(p *peer, b []byte) (n int, close bool) {
	defer s.flush(p)
	for {
		if p.state == stHTTP {
			i := bytes.Index(b, []byte("\r\n\r\n"))
			if i < 0 {
				return n, len(b) > 16<<10
			}
			n += i + 4
			if !s.request(p, b[:i+4]) {
				return n, true
			}
			b = b[i+4:]
			continue
		}
		if len(b) < 2 {
			return n, false
		}
		fin, op, masked := b[0]&0x80 != 0, b[0]&0x0f, b[1]&0x80 != 0
		size, hdr := uint64(b[1]&0x7f), 2
		switch size {
		case 126:
			if len(b) < 4 {
				return n, false
			}
			size, hdr = uint64(binary.BigEndian.Uint16(b[2:])), 4
		case 127:
			if len(b) < 10 {
				return n, false
			}
			size, hdr = binary.BigEndian.Uint64(b[2:]), 10
		}
		if size > maxFrame || !fin {
			return n, true // fragmented messages are not part of the contract
		}
		var key []byte
		if masked {
			if len(b) < hdr+4 {
				return n, false
			}
			key = b[hdr : hdr+4 : hdr+4]
			hdr += 4
		}
		end := hdr + int(size)
		if len(b) < end {
			return n, false
		}
		payload := b[hdr:end]
		if masked {
			unmask(payload, key)
		}
		n += end
		b = b[end:]
		switch op {
		case 1:
			s.text(p, payload)
		case 2:
			s.binary(p, payload)
		case 8:
			s.out = appendFrame(s.out, 8, payload[:min(len(payload), 2)])
			return n, true
		case 9:
			s.out = appendFrame(s.out, 10, payload)
		case 10:
		default:
			return n, true
		}
	}
}

// unmask removes a client frame's mask, eight bytes at a time.
func unmask(b, key []byte) {
	var k8 [8]byte
	copy(k8[:], key)
	copy(k8[4:], key)
	k := binary.LittleEndian.Uint64(k8[:])
	i := 0
	for ; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], binary.LittleEndian.Uint64(b[i:])^k)
	}
	for ; i < len(b); i++ {
		b[i] ^= key[i&3]
	}
}

// appendFrame appends one unmasked, unfragmented server frame.
func appendFrame(dst []byte, op byte, p []byte) []byte {
	dst = append(dst, 0x80|op)
	switch n := len(p); {
	case n < 126:
		dst = append(dst, byte(n))
	case n <= 0xffff:
		dst = append(dst, 126, byte(n>>8), byte(n))
	default:
		dst = append(dst, 127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	return append(dst, p...)
}

// appendFrameParts is appendFrame of the concatenation of parts, built in place.
func appendFrameParts(dst []byte, op byte, parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	dst = appendFrame(dst, op, nil)
	switch {
	case n < 126:
		dst[len(dst)-1] = byte(n)
	case n <= 0xffff:
		dst = dst[:len(dst)-1]
		dst = append(dst, 126, byte(n>>8), byte(n))
	default:
		dst = dst[:len(dst)-1]
		dst = append(dst, 127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	for _, p := range parts {
		dst = append(dst, p...)
	}
	return dst
}

var (
	openHead = []byte(`0{"sid":"`)
	openTail = []byte(`","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`)
	bPrefix  = []byte(`42["b",`)
	wsGUID   = []byte("258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
)

func newID(dst []byte) []byte {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.AppendEncode(dst, b[:])
}

// request answers one HTTP request: the WebSocket upgrade of /socket.io/
// (with the open packet in the same write), /stats or /gc. It returns false
// if the connection is to be closed after the reply.
func (s *server) request(p *peer, req []byte) bool {
	line, headers, _ := bytes.Cut(req, []byte("\r\n"))
	_, target, _ := bytes.Cut(line, []byte(" "))
	path, _, _ := bytes.Cut(target, []byte(" "))
	path, _, _ = bytes.Cut(path, []byte("?"))
	switch {
	case bytes.HasPrefix(path, []byte("/socket.io/")):
		key := header(headers, "Sec-WebSocket-Key")
		if key == nil {
			s.reply(p, "400 Bad Request", "text/plain", []byte("websocket only\n"))
			return false
		}
		h := sha1.New()
		h.Write(key)
		h.Write(wsGUID)
		var sum [sha1.Size]byte
		s.out = append(s.out, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
		s.out = base64.StdEncoding.AppendEncode(s.out, h.Sum(sum[:0]))
		s.out = append(s.out, "\r\n\r\n"...)
		var id [20]byte
		s.out = appendFrameParts(s.out, 1, openHead, newID(id[:0]), openTail)
		p.state = stWS
		return true
	case bytes.Equal(path, []byte("/stats")):
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		rss, _ := procstat.RSS(0)
		body, _ := json.Marshal(appkit.Stats{
			Server: "floor", Conns: int64(len(s.all)), RSS: rss,
			HeapInuse: ms.HeapInuse, StackInuse: ms.StackInuse, HeapObjects: ms.HeapObjects,
			Goroutines: runtime.NumGoroutine(), GoMaxProcs: runtime.GOMAXPROCS(0),
		})
		s.reply(p, "200 OK", "application/json", append(body, '\n'))
	case bytes.Equal(path, []byte("/gc")):
		debug.FreeOSMemory()
		s.reply(p, "200 OK", "text/plain", []byte("ok\n"))
	default:
		s.reply(p, "404 Not Found", "text/plain", []byte("not found\n"))
	}
	return false
}

func (s *server) reply(p *peer, status, ctype string, body []byte) {
	s.out = append(s.out, "HTTP/1.1 "+status+"\r\nContent-Type: "+ctype+"\r\nConnection: close\r\nContent-Length: "...)
	s.out = strconv.AppendInt(s.out, int64(len(body)), 10)
	s.out = append(s.out, "\r\n\r\n"...)
	s.out = append(s.out, body...)
}

// header finds a request header's value (names are case-insensitive).
func header(headers []byte, name string) []byte {
	for len(headers) > 0 {
		var line []byte
		line, headers, _ = bytes.Cut(headers, []byte("\r\n"))
		k, v, ok := bytes.Cut(line, []byte(":"))
		if ok && bytes.EqualFold(bytes.TrimSpace(k), []byte(name)) {
			return bytes.TrimSpace(v)
		}
	}
	return nil
}

// text handles one Socket.IO packet by slicing it, like raw-server.
func (s *server) text(p *peer, data []byte) {
	switch {
	case bytes.Equal(data, []byte("40")):
		if p.idx < 0 {
			p.idx = len(s.all)
			s.all = append(s.all, p)
		}
		var id [20]byte
		s.toPeer(p)
		s.out = appendFrameParts(s.out, 1, []byte(`40{"sid":"`), newID(id[:0]), []byte(`"}`))
	case bytes.HasPrefix(data, []byte("451-")):
		id, body := ackID(data[4:])
		if rest, ok := bytes.CutPrefix(body, []byte(`["echo",`)); ok {
			p.pendingBin = append(append(append(p.pendingBin[:0], "461-"...), id...), '[')
			p.pendingBin = append(p.pendingBin, rest...)
		}
	case bytes.HasPrefix(data, []byte("42")):
		s.event(p, data[2:])
	}
}

func (s *server) binary(p *peer, data []byte) {
	if p.pendingBin == nil {
		return
	}
	s.toPeer(p)
	s.out = appendFrame(s.out, 1, p.pendingBin)
	s.out = appendFrame(s.out, 2, data)
	p.pendingBin = nil
}

// ackID splits "123[...]" into "123" and "[...]".
func ackID(b []byte) ([]byte, []byte) {
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return b[:i], b[i:]
}

// quoted splits a leading JSON string off b: `"name",rest` gives name and
// `rest`. Only a string with escapes is unquoted properly.
func quoted(b []byte) (string, []byte, bool) {
	if len(b) < 2 || b[0] != '"' {
		return "", nil, false
	}
	end := bytes.IndexByte(b[1:], '"') + 1
	for end > 0 && b[end-1] == '\\' {
		next := bytes.IndexByte(b[end+1:], '"')
		if next < 0 {
			return "", nil, false
		}
		end += next + 1
	}
	if end <= 0 {
		return "", nil, false
	}
	raw := b[:end+1]
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1:end]), b[end+1:], true
	}
	str, err := strconv.Unquote(string(raw))
	return str, b[end+1:], err == nil
}

func (s *server) event(p *peer, b []byte) {
	id, body := ackID(b)
	switch {
	case bytes.HasPrefix(body, []byte(`["echo",`)):
		if len(id) > 0 {
			s.toPeer(p)
			s.out = appendFrameParts(s.out, 1, []byte("43"), id, []byte("["), body[len(`["echo",`):])
		}
	case bytes.HasPrefix(body, []byte(`["bcast",`)):
		if len(s.out) > 0 {
			s.flushOut(p)
		}
		s.bcast = appendFrameParts(s.bcast, 1, bPrefix, body[len(`["bcast",`):])
	case bytes.HasPrefix(body, []byte(`["join",`)):
		if room, _, ok := quoted(body[len(`["join",`):]); ok && p.idx >= 0 {
			m := s.rooms[room]
			if m == nil {
				m = make(map[*peer]struct{})
				s.rooms[room] = m
			}
			if _, in := m[p]; !in {
				m[p] = struct{}{}
				p.rooms = append(p.rooms, room)
			}
		}
		if len(id) > 0 {
			s.toPeer(p)
			s.out = appendFrameParts(s.out, 1, []byte("43"), id, []byte("[]"))
		}
	case bytes.HasPrefix(body, []byte(`["room",`)):
		room, rest, ok := quoted(body[len(`["room",`):])
		if !ok || len(rest) < 1 || rest[0] != ',' {
			return
		}
		s.flush(p)
		frame := appendFrameParts(s.bcast[:0], 1, bPrefix, rest[1:])
		s.fanOut(func(yield func(*peer)) {
			for q := range s.rooms[room] {
				yield(q)
			}
		}, frame)
		s.bcast = frame[:0]
	}
}

// toPeer orders a reply to p after the broadcasts gathered before it.
func (s *server) toPeer(p *peer) {
	if len(s.bcast) > 0 {
		s.flushBcast()
	}
}

func (s *server) flushOut(p *peer) {
	_, _ = p.c.Write(s.out)
	s.out = trim(s.out)
}

func (s *server) flushBcast() {
	s.fanOut(func(yield func(*peer)) {
		for _, q := range s.all {
			yield(q)
		}
	}, s.bcast)
	s.bcast = trim(s.bcast)
}

// flush writes what one read produced: p's replies, then the broadcasts.
func (s *server) flush(p *peer) {
	if len(s.out) > 0 {
		s.flushOut(p)
	}
	if len(s.bcast) > 0 {
		s.flushBcast()
	}
}

// fanOut writes frame to every peer each yields, one write per peer. A
// loop may close a peer inside Write; its removal waits until the end.
func (s *server) fanOut(each func(yield func(*peer)), frame []byte) {
	s.fanning = true
	each(func(q *peer) { _, _ = q.c.Write(frame) })
	s.fanning = false
	for _, q := range s.dead {
		s.remove(q)
	}
	clear(s.dead)
	s.dead = s.dead[:0]
}

// trim empties a scratch buffer, dropping it if a large message grew it.
func trim(b []byte) []byte {
	if cap(b) > 64<<10 {
		return nil
	}
	return b[:0]
}

// closed forgets a closed connection.
func (s *server) closed(p *peer) {
	if s.fanning {
		s.dead = append(s.dead, p)
		return
	}
	s.remove(p)
}

func (s *server) remove(p *peer) {
	if p.idx < 0 {
		return
	}
	last := s.all[len(s.all)-1]
	s.all[p.idx], last.idx = last, p.idx
	s.all[len(s.all)-1] = nil
	s.all = s.all[:len(s.all)-1]
	p.idx = -1
	for _, r := range p.rooms {
		delete(s.rooms[r], p)
		if len(s.rooms[r]) == 0 {
			delete(s.rooms, r)
		}
	}
	p.rooms = nil
}

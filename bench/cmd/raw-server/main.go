// Command raw-server is the floor of the suite: a bare coder/websocket
// server that speaks just enough Engine.IO 4 / Socket.IO 5 framing for the
// app contract, with one read goroutine per connection, no heartbeat, no
// send queue (writes go straight to the socket with context.Background())
// and serial fan-out from the publisher's goroutine. It parses nothing it
// does not have to: the echo and broadcast bodies are sliced, not decoded.
//
// It is a floor of per-message cost on this transport, not a usable
// server: a slow client blocks a broadcast, and it has no polling.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/coder/websocket"
	"github.com/gosio/gosio/bench/internal/appkit"
)

type conn struct {
	ws  *websocket.Conn
	idx int // position in hub.all
}

type hub struct {
	mu    sync.RWMutex
	all   []*conn
	rooms map[string]map[*conn]struct{}
	byC   map[*conn][]string
	n     atomic.Int64
}

func (h *hub) add(c *conn) {
	h.mu.Lock()
	c.idx = len(h.all)
	h.all = append(h.all, c)
	h.mu.Unlock()
	h.n.Add(1)
}

func (h *hub) remove(c *conn) {
	h.mu.Lock()
	last := h.all[len(h.all)-1]
	h.all[c.idx], last.idx = last, c.idx
	h.all = h.all[:len(h.all)-1]
	for _, r := range h.byC[c] {
		delete(h.rooms[r], c)
		if len(h.rooms[r]) == 0 {
			delete(h.rooms, r)
		}
	}
	delete(h.byC, c)
	h.mu.Unlock()
	h.n.Add(-1)
}

func (h *hub) join(c *conn, room string) {
	h.mu.Lock()
	m := h.rooms[room]
	if m == nil {
		m = make(map[*conn]struct{})
		h.rooms[room] = m
	}
	m[c] = struct{}{}
	h.byC[c] = append(h.byC[c], room)
	h.mu.Unlock()
}

func (h *hub) broadcast(frame []byte) {
	ctx := context.Background()
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, c := range h.all {
		_ = c.ws.Write(ctx, websocket.MessageText, frame)
	}
}

func (h *hub) toRoom(room string, frame []byte) {
	ctx := context.Background()
	h.mu.RLock()
	defer h.mu.RUnlock()
	for c := range h.rooms[room] {
		_ = c.ws.Write(ctx, websocket.MessageText, frame)
	}
}

var (
	openTail = []byte(`","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`)
	bPrefix  = []byte(`42["b",`)
)

func newID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (h *hub) serve(w http.ResponseWriter, r *http.Request) {
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true, CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return
	}
	ws.SetReadLimit(1_000_000)
	ctx := context.Background()
	open := append(append([]byte(`0{"sid":"`), newID()...), openTail...)
	if ws.Write(ctx, websocket.MessageText, open) != nil {
		ws.CloseNow()
		return
	}
	c := &conn{ws: ws}
	joined := false
	var pendingBin []byte // header of a binary echo awaiting its attachment
	defer func() {
		if joined {
			h.remove(c)
		}
		ws.CloseNow()
	}()
	for {
		typ, data, err := ws.Read(ctx)
		if err != nil {
			return
		}
		if typ == websocket.MessageBinary {
			if pendingBin != nil {
				// One writer at a time per conn is enforced by coder/websocket;
				// header and attachment must not interleave with a broadcast,
				// which the floor accepts as a (rare) race.
				_ = ws.Write(ctx, websocket.MessageText, pendingBin)
				_ = ws.Write(ctx, websocket.MessageBinary, data)
				pendingBin = nil
			}
			continue
		}
		switch {
		case bytes.Equal(data, []byte("40")):
			if !joined {
				joined = true
				h.add(c)
			}
			_ = ws.Write(ctx, websocket.MessageText, append(append([]byte(`40{"sid":"`), newID()...), '"', '}'))
		case bytes.HasPrefix(data, []byte("451-")):
			id, body := ackID(data[4:])
			if rest, ok := bytes.CutPrefix(body, []byte(`["echo",`)); ok {
				pendingBin = append([]byte("461-"+id+"["), rest...)
			}
		case bytes.HasPrefix(data, []byte("42")):
			h.event(c, data[2:])
		}
	}
}

// ackID splits "123[...]" into "123" and "[...]".
func ackID(b []byte) (string, []byte) {
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return string(b[:i]), b[i:]
}

func (h *hub) event(c *conn, b []byte) {
	ctx := context.Background()
	id, body := ackID(b)
	switch {
	case bytes.HasPrefix(body, []byte(`["echo",`)):
		if id != "" {
			out := append([]byte("43"+id+"["), body[len(`["echo",`):]...)
			_ = c.ws.Write(ctx, websocket.MessageText, out)
		}
	case bytes.HasPrefix(body, []byte(`["bcast",`)):
		h.broadcast(append(bytes.Clone(bPrefix), body[len(`["bcast",`):]...))
	case bytes.HasPrefix(body, []byte(`["join",`)):
		var room string
		rest := body[len(`["join",`):]
		if json.NewDecoder(bytes.NewReader(rest)).Decode(&room) == nil {
			h.join(c, room)
		}
		if id != "" {
			_ = c.ws.Write(ctx, websocket.MessageText, []byte("43"+id+"[]"))
		}
	case bytes.HasPrefix(body, []byte(`["room",`)):
		rest := body[len(`["room",`):]
		end := bytes.IndexByte(rest[1:], '"')
		if len(rest) == 0 || rest[0] != '"' || end < 0 {
			return
		}
		room, err := strconv.Unquote(string(rest[:end+2]))
		if err != nil || len(rest) < end+3 {
			return
		}
		h.toRoom(room, append(bytes.Clone(bPrefix), rest[end+3:]...))
	}
}

func main() {
	f := appkit.ParseFlags()
	h := &hub{rooms: make(map[string]map[*conn]struct{}), byC: make(map[*conn][]string)}
	mux := http.NewServeMux()
	mux.HandleFunc("/socket.io/", h.serve)
	appkit.Admin(mux, "raw", &h.n)
	appkit.Serve(f, mux)
}

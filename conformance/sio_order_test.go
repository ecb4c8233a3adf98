package conformance

import (
	"encoding/hex"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/gosio/gosio/socketio"
)

// TestSIOClientBroadcastOrder: the real socket.io-client, on "/" and
// "/custom" over one connection, gets a sequence that mixes broadcasts to
// every socket of "/" (which the server writes from the namespace's
// broadcast log), broadcasts to "/custom" (a second namespace of the same
// connection), to a room and with except (queued per socket), binary
// broadcasts and direct emits: it must get all of it, once each, in the
// order the server emitted it, over polling, WebSocket, and while it
// upgrades (in mode upgrade the sequence starts before the upgrade).
func TestSIOClientBroadcastOrder(t *testing.T) {
	t.Parallel()
	sioEach(t, sioModes, func(t *testing.T, mode string) {
		env := newSIOEnv(t, nil)
		srv := env.Srv
		var (
			mu   sync.Mutex
			want []string
		)
		expect := func(nsp string, args ...any) {
			b, err := json.Marshal(args)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			want = append(want, nsp+"|"+string(b))
			mu.Unlock()
		}
		done := make(chan struct{})
		var (
			connected  = map[string]int{} // sockets per engine session
			startOnce  sync.Once
			startTrans string
		)
		// The sequence starts as soon as both namespaces are connected,
		// from the server: in mode upgrade the client is still polling
		// (or probing), and the loop goes on until it has upgraded.
		start := func(s *socketio.Socket) {
			mu.Lock()
			connected[s.Conn().ID()]++
			both := connected[s.Conn().ID()] == 2
			mu.Unlock()
			if !both {
				return
			}
			main := findMain(srv, s.Conn().ID())
			startOnce.Do(func() {
				main.Join("r")
				startTrans = s.Conn().Transport()
				go emitSequence(srv, main, mode, expect, done)
			})
		}
		srv.Of("/custom").OnConnection(start)
		srv.OnConnection(start)
		res := runSIO(t, sioClientScript, env.URL, "order", "mode="+mode)
		<-done
		l := res.one(t, "order")
		var got []string
		l.decode(t, "got", &got)
		if got, want := l.str("transport"), sioFinalTransport(mode); got != want {
			t.Errorf("ended on %s, want %s", got, want)
		}
		mu.Lock()
		defer mu.Unlock()
		if mode == "upgrade" && startTrans != "polling" {
			t.Errorf("the sequence began on %q: it did not race the upgrade", startTrans)
		}
		if len(got) != len(want) {
			t.Errorf("got %d events, want %d", len(got), len(want))
		}
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Fatalf("event %d: got %s, want %s (of %d)\n%s", i, got[i], want[i], len(want), res.report())
			}
		}
	})
}

// findMain returns the "/" socket of Engine.IO session eioID.
func findMain(srv *socketio.Server, eioID string) *socketio.Socket {
	for _, s := range srv.Sockets().LocalSockets() {
		if s.Conn().ID() == eioID {
			return s
		}
	}
	return nil
}

// emitSequence emits the order scenario's sequence to main's client and
// records each event with expect; see TestSIOClientBroadcastOrder.
func emitSequence(srv *socketio.Server, main *socketio.Socket, mode string, expect func(nsp string, args ...any), done chan<- struct{}) {
	defer close(done)
	const n = 400
	for i := 0; i < n || (mode == "upgrade" && i < 20*n && main.Conn().Transport() != "websocket"); i++ {
		switch {
		case i%5 == 1:
			_ = main.Emit("o", i, "direct")
			expect("/", i, "direct")
		case i%7 == 2:
			_ = srv.Of("/custom").Emit("o", i, "custom")
			expect("/custom", i, "custom")
		case i%11 == 3:
			_ = srv.To("r").Emit("o", i, "room")
			expect("/", i, "room")
		case i%13 == 4:
			_ = srv.Emit("o", i, []byte{byte(i), 0xff})
			expect("/", i, map[string]string{"$buf": hex.EncodeToString([]byte{byte(i), 0xff})})
		case i%17 == 5:
			_ = srv.Except("nobody").Emit("o", i, "except")
			expect("/", i, "except")
		default:
			_ = srv.Emit("o", i)
			expect("/", i)
		}
		if i%10 == 9 {
			time.Sleep(time.Millisecond)
		}
	}
	_ = srv.Emit("o", "end")
	expect("/", "end")
}

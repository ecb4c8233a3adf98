package conformance

// Interop tests: the real engine.io-client from npm (js/eio_client.mjs)
// against gosio's Engine.IO server, in-process on a free port. Each test
// runs one scenario in each transport mode:
//
//   - polling:   transports ["polling"], never upgrades;
//   - websocket: transports ["websocket"];
//   - upgrade:   engine.io-client's defaults: opens with polling and
//     upgrades to WebSocket; the scenario starts after the upgrade.
//
// The script reports what the client saw; the server records what it saw;
// the tests assert both.

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/internal/testutil"
)

const clientScript = "js/eio_client.mjs"

// transportModes are the client configurations every scenario runs in.
var transportModes = []string{"polling", "websocket", "upgrade"}

// finalTransport is the transport a session ends on in mode.
func finalTransport(mode string) string {
	if mode == "polling" {
		return engineio.TransportPolling
	}
	return engineio.TransportWebSocket
}

// eioCase is one scenario run in one mode.
type eioCase struct {
	t    *testing.T
	mode string
	res  *nodeResult
	sess *recSession
}

// runEIO starts a server with opts, runs the client scenario in mode with
// extra key=value options, and checks what every scenario shares: the
// handshake, the transport the client opened with, the upgrade (in mode
// upgrade only), a single server session, and no client error.
func runEIO(t *testing.T, opts *engineio.Options, mode, scenario string, extra ...string) *eioCase {
	t.Helper()
	node := needNode(t)
	rs := startServer(t, opts)
	args := append([]string{rs.URL, scenario, "mode=" + mode}, extra...)
	res := mustRunNode(t, node, clientScript, args...)
	c := &eioCase{t: t, mode: mode, res: res, sess: rs.only(t)}

	o := rs.srv.Options()
	hs := res.one(t, "handshake")
	wantUpgrades := []string{engineio.TransportWebSocket}
	if mode == "websocket" {
		wantUpgrades = []string{}
	}
	testutil.Equal(t, hs.Upgrades, wantUpgrades)
	testutil.Equal(t, hs.PingInterval, int(o.PingInterval.Milliseconds()))
	testutil.Equal(t, hs.PingTimeout, int(o.PingTimeout.Milliseconds()))
	testutil.Equal(t, hs.MaxPayload, int(o.MaxHTTPBufferSize))

	open := res.one(t, "open")
	wantOpen := engineio.TransportPolling
	if mode == "websocket" {
		wantOpen = engineio.TransportWebSocket
	}
	if open.Transport != wantOpen {
		t.Errorf("client opened with %q, want %q", open.Transport, wantOpen)
	}
	if mode == "upgrade" {
		if up := res.one(t, "upgrade"); up.Transport != engineio.TransportWebSocket {
			t.Errorf("client upgraded to %q, want websocket", up.Transport)
		}
	} else if n := len(res.filter("upgrading")) + len(res.filter("upgrade")); n != 0 {
		t.Errorf("client in mode %s reported %d upgrade events, want 0", mode, n)
	}
	for _, e := range res.filter("upgradeError") {
		t.Errorf("client upgrade error: %s", e.Error)
	}
	for _, e := range res.filter("error") {
		t.Errorf("client error: %s (%s)", e.Error, e.Description)
	}
	if t.Failed() {
		t.Logf("%s", res.report())
	}
	return c
}

// serverClosed waits for the server side of the session to close and
// checks its reason, its error and the transport it ended on. A session
// closed by its WebSocket's close reports the close frame as the error:
// engine.io-client closes without a status code (1005).
func (c *eioCase) serverClosed(wantReason string) {
	c.t.Helper()
	reason, err := c.sess.waitClosed(c.t)
	wantErr := "nil"
	if reason == engineio.ReasonTransportClose && finalTransport(c.mode) == engineio.TransportWebSocket {
		wantErr = "close status 1005"
		if websocket.CloseStatus(err) == websocket.StatusNoStatusRcvd {
			err = nil
		}
	}
	if reason != wantReason || err != nil {
		c.t.Errorf("server OnClose(%q, %v), want (%q, %s)", reason, err, wantReason, wantErr)
	}
	c.sess.mu.Lock()
	tr := c.sess.closeTransport
	c.sess.mu.Unlock()
	if want := finalTransport(c.mode); tr != want {
		c.t.Errorf("server session ended on %q, want %q", tr, want)
	}
}

// clientClosed checks the client's single close event.
func (c *eioCase) clientClosed(wantReason string) jsEvent {
	c.t.Helper()
	ce := c.res.one(c.t, "close")
	if ce.Reason != wantReason {
		c.t.Errorf("client close reason %q (%s), want %q", ce.Reason, ce.Description, wantReason)
	}
	return ce
}

// wantMsg is a message as both sides should see it.
type wantMsg struct {
	binary bool
	data   []byte
}

// checkMessages checks that the server received want, in order, over the
// transport of the mode (scenarios start after the upgrade), and that the
// client received the same messages back, in order, as strings for text
// and Node Buffers for binary.
func (c *eioCase) checkMessages(want []wantMsg) {
	c.t.Helper()
	got := c.sess.messages()
	if len(got) != len(want) {
		c.t.Fatalf("server received %d messages, want %d\n%s", len(got), len(want), c.res.report())
	}
	for i, w := range want {
		g := got[i]
		if g.Binary != w.binary || string(g.Data) != string(w.data) {
			c.t.Errorf("server message %d: binary=%v %s, want binary=%v %s", i, g.Binary, summary(g.Data), w.binary, summary(w.data))
		}
		if tr := finalTransport(c.mode); g.Transport != tr {
			c.t.Errorf("server message %d arrived over %q, want %q", i, g.Transport, tr)
		}
	}
	recv := c.res.filter("message")
	if len(recv) != len(want) {
		c.t.Fatalf("client received %d messages, want %d\n%s", len(recv), len(want), c.res.report())
	}
	for i, w := range want {
		r := recv[i]
		wantKind := "string"
		if w.binary {
			wantKind = "Buffer" // engine.io-client's binaryType in Node: "nodebuffer"
		}
		sum := sha256.Sum256(w.data)
		if r.Kind != wantKind || r.Len != len(w.data) || r.SHA256 != hex.EncodeToString(sum[:]) {
			c.t.Errorf("client message %d: %s len=%d sha256=%.12s, want %s len=%d sha256=%.12x", i, r.Kind, r.Len, r.SHA256, wantKind, len(w.data), sum)
		}
	}
}

// sentMessages returns what the client reported sending, as wantMsgs.
func (c *eioCase) sentMessages() []wantMsg {
	c.t.Helper()
	var out []wantMsg
	for _, e := range c.res.filter("sent") {
		switch {
		case e.Kind == "string" && e.Len <= 512:
			out = append(out, wantMsg{data: []byte(e.Text)})
		case e.Kind != "string" && e.Len <= 512:
			b, err := hex.DecodeString(e.Hex)
			if err != nil {
				c.t.Fatalf("bad hex from client: %v", err)
			}
			out = append(out, wantMsg{binary: true, data: b})
		default:
			c.t.Fatalf("sent message too large to compare: %+v", e)
		}
	}
	return out
}

func summary(b []byte) string {
	if len(b) <= 64 {
		return fmt.Sprintf("%q", b)
	}
	sum := sha256.Sum256(b)
	return fmt.Sprintf("len=%d sha256=%.12x", len(b), sum)
}

// forEachMode runs fn as a parallel subtest per transport mode.
func forEachMode(t *testing.T, fn func(t *testing.T, mode string)) {
	t.Helper()
	for _, mode := range transportModes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			fn(t, mode)
		})
	}
}

// TestEIOClientConnect opens a session in each mode, checks the transport
// on both sides (in mode upgrade: the client reports the upgrade and the
// server's Session.Transport() is "websocket" afterwards) and exchanges a
// message.
func TestEIOClientConnect(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, mode string) {
		c := runEIO(t, nil, mode, "connect")
		ready := c.res.one(t, "ready")
		if ready.ID != c.sess.s.ID() {
			t.Errorf("client sid %q, server sid %q", ready.ID, c.sess.s.ID())
		}
		if ready.Transport != finalTransport(mode) {
			t.Errorf("client transport %q when ready, want %q", ready.Transport, finalTransport(mode))
		}
		c.checkMessages([]wantMsg{{data: []byte("hello")}})
		c.clientClosed("forced close")
		c.serverClosed(engineio.ReasonTransportClose)
		if tr := c.sess.s.Transport(); tr != finalTransport(mode) {
			t.Errorf("server Session.Transport() = %q, want %q", tr, finalTransport(mode))
		}
	})
}

// TestEIOClientEchoText echoes text messages, including ones that look like
// packet types and one containing the polling record separator.
func TestEIOClientEchoText(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, mode string) {
		c := runEIO(t, nil, mode, "echo-text")
		want := c.sentMessages()
		if len(want) < 5 {
			t.Fatalf("client sent %d messages", len(want))
		}
		c.checkMessages(want)
		c.serverClosed(engineio.ReasonTransportClose)
	})
}

// TestEIOClientEchoBinary sends a Buffer, an ArrayBuffer and a Uint8Array
// view with an offset; the server receives binary messages with exactly
// those bytes and echoes them as binary.
func TestEIOClientEchoBinary(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, mode string) {
		c := runEIO(t, nil, mode, "echo-binary")
		want := c.sentMessages()
		var as []string
		for _, e := range c.res.filter("sent") {
			as = append(as, e.As)
		}
		testutil.Equal(t, as, []string{"Buffer", "ArrayBuffer", "Uint8Array", "Buffer"})
		c.checkMessages(want)
		c.serverClosed(engineio.ReasonTransportClose)
	})
}

// TestEIOClientEchoEmpty sends an empty text and an empty binary message.
// The server receives both, empty, and echoes them; engine.io-client
// decodes the echoed empty text (the packet "4") as a message without data
// (undefined), as it does with the reference server, and the empty binary
// as an empty Buffer.
func TestEIOClientEchoEmpty(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, mode string) {
		c := runEIO(t, nil, mode, "echo-empty")
		got := c.sess.messages()
		want := []recMsg{{Binary: false}, {Binary: true}, {Binary: false, Data: []byte("end")}}
		if len(got) != len(want) {
			t.Fatalf("server received %d messages, want %d", len(got), len(want))
		}
		for i, w := range want {
			if got[i].Binary != w.Binary || string(got[i].Data) != string(w.Data) {
				t.Errorf("server message %d: binary=%v %q, want binary=%v %q", i, got[i].Binary, got[i].Data, w.Binary, w.Data)
			}
		}
		var kinds []string
		for _, m := range c.res.filter("message") {
			kinds = append(kinds, fmt.Sprintf("%s/%d", m.Kind, m.Len))
		}
		testutil.Equal(t, kinds, []string{"undefined/0", "Buffer/0", "string/3"})
		c.serverClosed(engineio.ReasonTransportClose)
	})
}

// largeSize is the large payload: just under maxPayload (1e6), leaving room
// for the packet type byte. Over polling a binary message travels as "b" +
// base64, 4/3 of its size, and the POST body is what maxPayload limits, so
// the largest binary message that fits is smaller; see
// TestEIOClientPollingBinaryOverLimit.
const (
	largeSize           = 999_000
	largePollingBinSize = 749_000 // "b" + base64(749000 bytes) = 998,669 bytes
)

// TestEIOClientLargeText round-trips a text message just under maxPayload.
func TestEIOClientLargeText(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, mode string) {
		c := runEIO(t, nil, mode, "large-text", "size="+strconv.Itoa(largeSize))
		sent := c.res.one(t, "sent")
		checkLarge(c, sent, false, largeSize)
		c.serverClosed(engineio.ReasonTransportClose)
	})
}

// TestEIOClientLargeBinary round-trips a binary message just under
// maxPayload (under the base64 limit over polling).
func TestEIOClientLargeBinary(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, mode string) {
		size := largeSize
		if mode == "polling" {
			size = largePollingBinSize
		}
		c := runEIO(t, nil, mode, "large-binary", "size="+strconv.Itoa(size))
		sent := c.res.one(t, "sent")
		checkLarge(c, sent, true, size)
		c.serverClosed(engineio.ReasonTransportClose)
	})
}

// checkLarge checks one large message of size bytes both ways by SHA-256.
func checkLarge(c *eioCase, sent jsEvent, binary bool, size int) {
	c.t.Helper()
	if sent.Len != size {
		c.t.Fatalf("client sent %d bytes, want %d", sent.Len, size)
	}
	got := c.sess.messages()
	if len(got) != 1 {
		c.t.Fatalf("server received %d messages, want 1", len(got))
	}
	sum := sha256.Sum256(got[0].Data)
	if got[0].Binary != binary || len(got[0].Data) != size || hex.EncodeToString(sum[:]) != sent.SHA256 {
		c.t.Errorf("server received binary=%v %s, client sent binary=%v len=%d sha256=%.12s", got[0].Binary, summary(got[0].Data), binary, sent.Len, sent.SHA256)
	}
	if got[0].Transport != finalTransport(c.mode) {
		c.t.Errorf("server message arrived over %q, want %q", got[0].Transport, finalTransport(c.mode))
	}
	recv := c.res.one(c.t, "message")
	wantKind := "string"
	if binary {
		wantKind = "Buffer"
	}
	if recv.Kind != wantKind || recv.Len != size || recv.SHA256 != sent.SHA256 {
		c.t.Errorf("client received %s len=%d sha256=%.12s, want %s len=%d sha256=%.12s", recv.Kind, recv.Len, recv.SHA256, wantKind, size, sent.SHA256)
	}
}

// TestEIOClientPollingBinaryOverLimit documents a limit that engine.io-client
// does not enforce: it batches by raw byte length, but a binary message is
// POSTed as base64, so a 999,000-byte Buffer becomes a 1,332,001-byte POST.
// The server refuses it and the client closes with "transport error"; the
// server keeps the session until the client closes it or its pending GET
// is aborted (the script exits at once).
//
// The reference server always gets its 413 to the client. gosio answers 413
// without reading the body, and net/http then closes the connection with
// the unread rest of the body in the socket, which resets it: the client
// may see the reset (XHR status 0) instead of the 413.
func TestEIOClientPollingBinaryOverLimit(t *testing.T) {
	t.Parallel()
	node := needNode(t)
	rs := startServer(t, nil)
	res := runNode(t, node, clientScript, rs.URL, "large-binary", "mode=polling", "size="+strconv.Itoa(largeSize))
	if res.Err == nil {
		t.Fatalf("client succeeded, want a failure\n%s", res.report())
	}
	ce := res.one(t, "close")
	if ce.Reason != "transport error" || (ce.Description != "413" && ce.Description != "0") {
		t.Errorf("client close (%q, %q), want (\"transport error\", \"413\" or \"0\")\n%s", ce.Reason, ce.Description, res.report())
	}
	sess := rs.only(t)
	if msgs := sess.messages(); len(msgs) != 0 {
		t.Errorf("server received %d messages, want 0", len(msgs))
	}
	reason, err := sess.waitClosed(t)
	t.Logf("client close (%q, %q); server OnClose(%q, %v)", ce.Reason, ce.Description, reason, err)
	if reason != engineio.ReasonTransportError && reason != engineio.ReasonTransportClose {
		t.Errorf("server close reason %q, want transport error or transport close", reason)
	}
}

// Heartbeat settings for TestEIOClientHeartbeat. The interval is short so
// that an idle session sees many pings. The timeout is not as short as
// the interval: it is the margin for a pong's round trip (a new HTTP
// request per pong over polling), and on a loaded 2-CPU machine a Node
// process can stall for several hundred milliseconds, which made 300ms
// fail often, with gosio's server and the reference server alike.
const (
	hbInterval = 200 * time.Millisecond
	hbTimeout  = 2 * time.Second
	hbIdle     = 1500 * time.Millisecond
	hbPings    = 3
)

// TestEIOClientHeartbeat keeps a session idle for 1.5s, over several ping
// intervals (and until the client saw at least 3 pings): the client answers
// every ping and neither side closes the session.
func TestEIOClientHeartbeat(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, mode string) {
		opts := &engineio.Options{PingInterval: hbInterval, PingTimeout: hbTimeout}
		c := runEIO(t, opts, mode, "heartbeat", "idle="+strconv.Itoa(int(hbIdle.Milliseconds())), "pings="+strconv.Itoa(hbPings))
		idle := c.res.one(t, "idle-done")
		if idle.Count < hbPings {
			t.Errorf("client saw %d pings while idle, want >= %d", idle.Count, hbPings)
		}
		t.Logf("client saw %d pings in %dms idle (pingInterval %v)", idle.Count, idle.MS, hbInterval)
		// The script closes the socket after idle-done; a ping timeout on
		// either side would show here instead.
		c.clientClosed("forced close")
		c.serverClosed(engineio.ReasonTransportClose)
	})
}

// TestEIOClientServerClose closes the session from the server after a
// message: the client receives the message, then closes with
// "transport close".
func TestEIOClientServerClose(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, mode string) {
		c := runEIO(t, nil, mode, "server-close")
		recv := c.res.filter("message")
		if len(recv) != 1 || recv[0].Text != "bye" {
			t.Errorf("client received %+v before the close, want one \"bye\"", recv)
		}
		ce := c.clientClosed("transport close")
		wantDesc := "transport closed by the server" // polling: the server's close packet
		if mode != "polling" {
			wantDesc = "websocket connection closed"
		}
		if ce.Description != wantDesc {
			t.Errorf("client close description %q, want %q", ce.Description, wantDesc)
		}
		if mode != "polling" {
			// gosio closes with 1001 (going away); the reference server
			// closes without a status (the client sees 1005). The client
			// reports "transport close" either way.
			t.Logf("client saw WebSocket close code %d", ce.Code)
		}
		c.serverClosed(engineio.ReasonForcedClose)
	})
}

// TestEIOClientClientClose closes the session from the client: the server
// reports "transport close" (a close packet over polling, the WebSocket's
// close over WebSocket).
func TestEIOClientClientClose(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, mode string) {
		c := runEIO(t, nil, mode, "client-close")
		c.clientClosed("forced close")
		c.serverClosed(engineio.ReasonTransportClose)
		if n := len(c.sess.messages()); n != 0 {
			t.Errorf("server received %d messages, want 0", n)
		}
	})
}

// TestEIOClientOrder sends 100 numbered messages at once; both sides see
// them in order.
func TestEIOClientOrder(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, mode string) {
		const n = 100
		c := runEIO(t, nil, mode, "order", "count="+strconv.Itoa(n))
		want := make([]wantMsg, n)
		for i := range want {
			want[i] = wantMsg{data: []byte(strconv.Itoa(i))}
		}
		c.checkMessages(want)
		c.serverClosed(engineio.ReasonTransportClose)
	})
}

// TestEIOClientOrderAcrossUpgrade sends 50 numbered messages on open, 50
// while the client upgrades (it buffers them while polling is paused) and
// 50 after the upgrade; both sides see all 150 in order. The client POSTs
// the first message at once and buffers the next 49 until that POST ends,
// so they go over polling or, when the upgrade started meanwhile, over
// WebSocket. The server sees some messages over polling, then the rest
// over WebSocket, never back.
func TestEIOClientOrderAcrossUpgrade(t *testing.T) {
	t.Parallel()
	const per = 50
	c := runEIO(t, nil, "upgrade", "order-upgrade", "count="+strconv.Itoa(per))
	phases := c.res.filter("sent-phase")
	var names []string
	for _, p := range phases {
		names = append(names, p.Phase)
	}
	testutil.Equal(t, names, []string{"open", "upgrading", "upgraded"})

	got := c.sess.messages()
	if len(got) != 3*per {
		t.Fatalf("server received %d messages, want %d\n%s", len(got), 3*per, c.res.report())
	}
	overPolling := 0
	for i, m := range got {
		if m.Binary || string(m.Data) != strconv.Itoa(i) {
			t.Fatalf("server message %d is %q, want %q", i, m.Data, strconv.Itoa(i))
		}
		if m.Transport == engineio.TransportPolling {
			if i != overPolling {
				t.Errorf("server message %d arrived over polling after message %d arrived over websocket", i, overPolling)
			}
			overPolling++
		}
	}
	if overPolling < 1 || overPolling > per {
		t.Errorf("server received %d messages over polling, want 1 to %d (the ones sent on open)", overPolling, per)
	}
	t.Logf("server received %d messages over polling, %d over websocket", overPolling, len(got)-overPolling)
	recv := c.res.filter("message")
	texts := make([]string, len(recv))
	for i, r := range recv {
		texts[i] = r.Text
	}
	want := make([]string, 3*per)
	for i := range want {
		want[i] = strconv.Itoa(i)
	}
	if !slices.Equal(texts, want) {
		t.Errorf("client received %d messages out of order or incomplete: %v", len(texts), texts)
	}
	c.serverClosed(engineio.ReasonTransportClose)
}

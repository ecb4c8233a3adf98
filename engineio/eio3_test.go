package engineio

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/gosio/gosio/internal/testutil"
)

func TestEIO3TextPayloadEncoding(t *testing.T) {
	msgs := []*Message{
		NewTextMessage([]byte("héllo 😀")), // 9 UTF-16 code units with its type
		NewBinaryMessage([]byte{1, 2, 3}),
		pingMessage,
	}
	got := string(appendTextPayloadV3(nil, msgs))
	testutil.Equal(t, got, "9:4héllo 😀6:b4AQID1:2")
	pkts, err := decodePayloadV3([]byte(got))
	testutil.NoErr(t, err)
	if len(pkts) != 3 || string(pkts[0].data) != "héllo 😀" || !pkts[1].binary || !bytes.Equal(pkts[1].data, []byte{1, 2, 3}) || pkts[2].typ != typePing {
		t.Errorf("decoded %+v", pkts)
	}
}

func TestEIO3BinaryPayloadEncoding(t *testing.T) {
	msgs := []*Message{NewTextMessage([]byte("é")), NewBinaryMessage(bytes.Repeat([]byte{7}, 10))}
	got := appendBinaryPayloadV3(nil, msgs)
	want := append([]byte{0, 3, 0xff, '4', 0xc3, 0xa9, 1, 1, 1, 0xff, 4}, bytes.Repeat([]byte{7}, 10)...)
	testutil.Equal(t, got, want)
	pkts, err := decodeBinaryPayloadV3(got)
	testutil.NoErr(t, err)
	if len(pkts) != 2 || string(pkts[0].data) != "é" || pkts[0].binary || !pkts[1].binary || !bytes.Equal(pkts[1].data, msgs[1].frame) {
		t.Errorf("decoded %+v", pkts)
	}
}

func TestEIO3DecodeErrors(t *testing.T) {
	for _, body := range []string{"", "4", ":4", "x:4", "2:4", "1:4a", "2:4😀", "3:b5", "3:b9x", "4:b4!!", "12345678901:4"} {
		if pkts, err := decodePayloadV3([]byte(body)); err == nil {
			t.Errorf("decodePayloadV3(%q) = %+v, want an error", body, pkts)
		}
	}
	// "0:" records are skipped, as the reference skips them.
	pkts, err := decodePayloadV3([]byte("0:1:2"))
	testutil.NoErr(t, err)
	testutil.Equal(t, len(pkts), 1)
	for _, body := range [][]byte{{}, {0}, {0, 0xff}, {0, 1}, {0, 10, 0xff, '4'}, {0, 5, 0xff, '4'}, {1, 1, 0xff, 9}, {1, 0, 0xff}} {
		if pkts, err := decodeBinaryPayloadV3(body); err == nil {
			t.Errorf("decodeBinaryPayloadV3(%x) = %+v, want an error", body, pkts)
		}
	}
}

// eio3Query opens requests of a v3 session.
func eio3Query(sid string) string { return "EIO=3&transport=polling&sid=" + sid }

// openEIO3 opens a v3 polling session and returns its id and open packet.
func (ts *testServer) openEIO3(tb testing.TB, query string) (string, string) {
	tb.Helper()
	r := ts.get(tb, "EIO=3&transport=polling"+query)
	testutil.Equal(tb, r.status, http.StatusOK)
	n, rest, ok := strings.Cut(r.body, ":")
	if !ok || !strings.HasPrefix(rest, "0{") {
		tb.Fatalf("handshake body %q", r.body)
	}
	open := rest[:strings.Index(rest, "}")+1]
	testutil.Equal(tb, n, strconv.Itoa(utf16Len([]byte(open))))
	return parseOpen(tb, open).SID, open
}

func TestEIO3RefusedByDefault(t *testing.T) {
	ts := newTestServer(t, quietOptions(), nil)
	wantError(t, ts.get(t, "EIO=3&transport=polling"), http.StatusBadRequest, CodeUnsupportedVersion, "Unsupported protocol version")
	opts := quietOptions()
	opts.AllowEIO3 = true
	ts = newTestServer(t, opts, nil)
	// Only 3 and 4 are spoken.
	wantError(t, ts.get(t, "EIO=5&transport=polling"), http.StatusBadRequest, CodeUnsupportedVersion, "Unsupported protocol version")
	wantError(t, ts.get(t, "transport=polling"), http.StatusBadRequest, CodeUnsupportedVersion, "Unsupported protocol version")
}

func TestEIO3Polling(t *testing.T) {
	opts := quietOptions()
	opts.AllowEIO3 = true
	ts := newTestServer(t, opts, nil)

	sid, open := ts.openEIO3(t, "&b64=1")
	if strings.Contains(open, "maxPayload") {
		t.Errorf("v3 open packet %s has maxPayload", open)
	}
	testutil.Equal(t, ts.eio.Session(sid).Protocol(), 3)

	// Echoes of text and binary, in one POST of the text form.
	testutil.Equal(t, ts.do(t, http.MethodPost, eio3Query(sid), strings.NewReader("9:4héllo 😀6:b4AQID"), nil).body, "ok")
	r := ts.get(t, eio3Query(sid))
	testutil.Equal(t, r.body, "9:4héllo 😀6:b4AQID")
	testutil.Equal(t, r.header.Get("Content-Type"), "text/plain; charset=UTF-8")

	// The client pings, the server answers.
	testutil.Equal(t, ts.do(t, http.MethodPost, eio3Query(sid), strings.NewReader("1:2"), nil).body, "ok")
	testutil.Equal(t, ts.get(t, eio3Query(sid)).body, "1:3")

	// A v3 client that takes binary gets the binary form for binary, and
	// may post it.
	sid2, _ := ts.openEIO3(t, "")
	post := ts.do(t, http.MethodPost, eio3Query(sid2), bytes.NewReader([]byte{0, 2, 0xff, '4', 'x', 1, 3, 0xff, 4, 0xca, 0xfe}),
		http.Header{"Content-Type": {"application/octet-stream"}})
	testutil.Equal(t, post.body, "ok")
	r = ts.get(t, eio3Query(sid2))
	testutil.Equal(t, r.header.Get("Content-Type"), "application/octet-stream")
	testutil.Equal(t, []byte(r.body), []byte{0, 2, 0xff, '4', 'x', 1, 3, 0xff, 4, 0xca, 0xfe})

	// A malformed payload closes the session.
	r = ts.do(t, http.MethodPost, eio3Query(sid2), strings.NewReader("5:4x"), nil)
	testutil.Equal(t, r.status, http.StatusBadRequest)
	ts.wantClose(t, sid2, ReasonParseError, errParse)
	// A pong is the wrong direction in v3.
	testutil.Equal(t, ts.do(t, http.MethodPost, eio3Query(sid), strings.NewReader("1:3"), nil).body, "ok")
	ts.wantClose(t, sid, ReasonTransportError, ErrHeartbeatDirection)
}

// The server never pings a v3 client; it closes a session whose client
// stops pinging for PingInterval+PingTimeout, and each ping pushes that
// deadline back.
func TestEIO3Heartbeat(t *testing.T) {
	opts := &Options{AllowEIO3: true, PingInterval: 150 * time.Millisecond, PingTimeout: 150 * time.Millisecond}
	ts := newTestServer(t, opts, nil)
	c := ts.dial(t, "EIO=3&transport=websocket")
	sid := parseOpen(t, readText(t, c)).SID
	start := time.Now()
	for range 4 {
		time.Sleep(100 * time.Millisecond)
		writeText(t, c, "2")
		testutil.Equal(t, readText(t, c), "3") // a pong, never a ping
	}
	if !ts.isOpen(sid) {
		t.Fatalf("session closed at %v although the client pinged every 100ms", time.Since(start))
	}
	pinged := time.Now()
	ts.wantClose(t, sid, ReasonPingTimeout, nil)
	if d := time.Since(pinged); d < 250*time.Millisecond {
		t.Errorf("closed %v after the last ping, want PingInterval+PingTimeout (300ms)", d)
	}
}

func TestEIO3WebSocket(t *testing.T) {
	for _, b64 := range []bool{false, true} {
		opts := quietOptions()
		opts.AllowEIO3 = true
		ts := newTestServer(t, opts, nil)
		q := "EIO=3&transport=websocket"
		if b64 {
			q += "&b64=1"
		}
		c := ts.dial(t, q)
		parseOpen(t, readText(t, c))
		writeText(t, c, "4text")
		testutil.Equal(t, readText(t, c), "4text")
		// Binary carries its packet type in v3, both ways.
		writeMessage(t, c, websocket.MessageBinary, []byte{4, 1, 2})
		typ, data := readMessage(t, c)
		if b64 {
			testutil.Equal(t, typ, websocket.MessageText)
			testutil.Equal(t, string(data), "b4AQI=")
		} else {
			testutil.Equal(t, typ, websocket.MessageBinary)
			testutil.Equal(t, data, []byte{4, 1, 2})
		}
		writeText(t, c, "b4AwQ=")
		typ, data = readMessage(t, c)
		if b64 {
			testutil.Equal(t, string(data), "b4AwQ=")
		} else {
			testutil.Equal(t, typ, websocket.MessageBinary)
			testutil.Equal(t, data, []byte{4, 3, 4})
		}
	}
}

// A v3 polling session upgrades as a v4 one does, and speaks v3 on the
// WebSocket afterwards.
func TestEIO3Upgrade(t *testing.T) {
	opts := quietOptions()
	opts.AllowEIO3 = true
	ts := newTestServer(t, opts, nil)
	sid, open := ts.openEIO3(t, "")
	testutil.Equal(t, parseOpen(t, open).Upgrades, []string{TransportWebSocket})
	c := ts.dial(t, "EIO=3&transport=websocket&sid="+sid)
	writeText(t, c, "2probe")
	testutil.Equal(t, readText(t, c), "3probe")
	writeText(t, c, "5")
	waitFor(t, "the switch to WebSocket", func() bool { return ts.eio.lookup(sid).Transport() == TransportWebSocket })
	writeMessage(t, c, websocket.MessageBinary, []byte{4, 9})
	typ, data := readMessage(t, c)
	testutil.Equal(t, typ, websocket.MessageBinary)
	testutil.Equal(t, data, []byte{4, 9})
	writeText(t, c, "2")
	testutil.Equal(t, readText(t, c), "3")
}

package conformance

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gosio/gosio/internal/testutil"
	"github.com/gosio/gosio/socketio"
)

// TestSIOInvalidUTF8NotRelayed: a client sends an event whose string holds
// the bytes \xff\xfe, and the server's handler re-emits the received Args
// to a room holding the official JS client. The JS client must stay
// connected: the WebSocket sender is closed with 1007 (as by the Node
// server) before its packet reaches the handler, and a polling body is
// read as Node reads it, with U+FFFD for each ill-formed sequence. Before
// the fix, the bytes were relayed as they came and the JS client dropped
// its connection ("transport error": invalid UTF-8 sequence).
func TestSIOInvalidUTF8NotRelayed(t *testing.T) {
	t.Parallel()
	sioEach(t, []string{"websocket", "polling"}, func(t *testing.T, mode string) {
		env := newSIOEnv(t, nil)
		env.Srv.OnConnection(func(s *socketio.Socket) {
			s.On("join", func(_ socketio.Args, ack socketio.Ack) {
				s.Join("r")
				_ = ack()
			})
			s.On("relay", func(a socketio.Args) {
				_ = env.Srv.To("r").Emit("relay", a.Any()...)
			})
		})
		p := startSIO(t, "js/sio-room-listener.mjs", env.URL, "mode="+mode)
		waitLine(t, p, `"ev":"ready"`)

		// The WebSocket attacker: closed with 1007.
		if code := wsAttack(t, env.URL, "42[\"relay\",\"ws\xff\xfe\"]"); code != 1007 {
			t.Errorf("the WebSocket sender of invalid UTF-8 got close code %d, want 1007", code)
		}
		// The polling attacker: its string arrives with U+FFFD.
		pollSend(t, env.URL, "42[\"relay\",\"poll\xff\xfe\"]")
		// The two senders are separate sockets, whose events are not
		// ordered with each other: "end" goes once "poll" has arrived.
		waitLine(t, p, `"args":["poll`)
		pollSend(t, env.URL, `42["relay","end"]`)

		res := p.mustWait(t)
		var got []string
		for _, l := range res.all("relay") {
			var args []string
			l.decode(t, "args", &args)
			got = append(got, args...)
		}
		testutil.Equal(t, got, []string{"poll\uFFFD\uFFFD", "end"})
	})
}

// waitLine waits until the script printed a line containing s.
func waitLine(t *testing.T, p *sioProc, s string) {
	t.Helper()
	deadline := time.Now().Add(sioWait)
	for !strings.Contains(p.stdout.String(), s) {
		select {
		case <-p.done:
			t.Fatalf("node exited before printing %s\n%s\n%s", s, p.stdout.String(), p.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("node did not print %s\n%s", s, p.stdout.String())
		}
	}
}

// wsAttack opens a Socket.IO session over a WebSocket of its own framing,
// connects to "/", sends event as one text frame and returns the close
// code the server answers with (0 for none).
func wsAttack(t *testing.T, base, event string) int {
	t.Helper()
	u, err := url.Parse(base)
	testutil.NoErr(t, err)
	c, err := net.DialTimeout("tcp", u.Host, sioWait)
	testutil.NoErr(t, err)
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(sioWait))
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	fmt.Fprintf(c, "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
		u.Host, base64.StdEncoding.EncodeToString(key))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	testutil.NoErr(t, err)
	testutil.Equal(t, resp.StatusCode, http.StatusSwitchingProtocols)
	write := func(op byte, s string) {
		f := []byte{0x80 | op, 0x80 | byte(len(s)), 0, 0, 0, 0} // zero mask
		_, err := c.Write(append(f, s...))
		testutil.NoErr(t, err)
	}
	read := func() (byte, []byte) {
		var h [2]byte
		if _, err := io.ReadFull(br, h[:]); err != nil {
			return 0, nil
		}
		n := int(h[1] & 0x7f)
		if n == 126 {
			var e [2]byte
			_, _ = io.ReadFull(br, e[:])
			n = int(binary.BigEndian.Uint16(e[:]))
		}
		b := make([]byte, n)
		_, _ = io.ReadFull(br, b)
		return h[0] & 0x0f, b
	}
	read() // open
	write(1, "40")
	read() // connect
	write(1, event)
	for {
		op, b := read()
		switch {
		case op == 0 && b == nil:
			return 0
		case op == 8 && len(b) >= 2:
			return int(binary.BigEndian.Uint16(b))
		}
	}
}

// pollSend opens a polling Socket.IO session, connects to "/" and POSTs
// event.
func pollSend(t *testing.T, base, event string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), sioWait)
	defer cancel()
	do := func(method, query, body string) string {
		req, err := http.NewRequestWithContext(ctx, method, base+"/socket.io/?EIO=4&transport=polling"+query, strings.NewReader(body))
		testutil.NoErr(t, err)
		resp, err := http.DefaultClient.Do(req)
		testutil.NoErr(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		testutil.Equal(t, resp.StatusCode, http.StatusOK)
		return string(b)
	}
	open := do(http.MethodGet, "", "")
	i := strings.Index(open, `"sid":"`)
	if i < 0 {
		t.Fatalf("open packet %q", open)
	}
	sid := open[i+7 : i+7+20]
	do(http.MethodPost, "&sid="+sid, "40")
	do(http.MethodGet, "&sid="+sid, "") // the CONNECT reply
	testutil.Equal(t, do(http.MethodPost, "&sid="+sid, event), "ok")
}

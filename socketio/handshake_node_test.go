package socketio

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// nodeHandshakeRequest is the Engine.IO handshake request (a polling GET,
// written byte for byte on a TCP connection) behind nodeHandshakeGolden.
// Its headers come in sorted order, so that Node's wire order and
// MarshalJSON's sorted order agree, and it repeats headers of each of
// Node's merge rules. The CONNECT that follows carries nodeHandshakeAuth.
var nodeHandshakeRequest = "GET /socket.io/?EIO=4&transport=polling&t=golden&rooms=r1,r2&z=1&rooms=r3&2=two&10=ten&b=x%20y+z&=empty&novalue&u=%C3%A9 HTTP/1.1\r\n" +
	strings.Join([]string{
		"Accept: */*",
		"Authorization: Bearer one",
		"Authorization: Bearer two",
		"Cookie: a=1",
		"Cookie: b=2",
		"Host: example.test",
		"Origin: http://example.test",
		"Referer: http://example.test/one",
		"Referer: http://example.test/two",
		"Set-Cookie: s=1",
		"Set-Cookie: t=2",
		"User-Agent: golden/1",
		"User-Agent: golden/2",
		"X-Dup: one",
		"X-Dup: two, three",
		"X-Html: <a href='/'>&amp;</a>",
		"X-Latin: café", // UTF-8 on the wire; Node decodes header bytes as Latin-1
		"X-Single: v",
	}, "\r\n") + "\r\n\r\n"

const nodeHandshakeAuth = `{"token":"abc","n":1}`

// nodeHandshakeGolden is JSON.stringify(socket.handshake) of a Node
// socket.io 4.8.4 server (engine.io 6.6.12, Node 20.20, TZ=UTC) for
// nodeHandshakeRequest: a throwaway script outside the repository started
// `new Server(http.createServer())`, wrote nodeHandshakeRequest on a raw
// net.Socket, POSTed "40"+nodeHandshakeAuth with the sid it got, and printed
// the handshake from io.on("connection"). The key order is Node's.
//
// Note what Node does, beyond the documented shape: a repeated query key
// keeps its last value as a string (engine.io builds _query with
// Object.fromEntries(url.searchParams)), integer-like keys come first, and
// header bytes are Latin-1.
const nodeHandshakeGolden = `{"headers":{"accept":"*/*","authorization":"Bearer one","cookie":"a=1; b=2","host":"example.test","origin":"http://example.test","referer":"http://example.test/one","set-cookie":["s=1","t=2"],"user-agent":"golden/1","x-dup":"one, two, three","x-html":"<a href='/'>&amp;</a>","x-latin":"cafÃ©","x-single":"v"},"time":"Wed Dec 02 2026 20:03:05 GMT+0000 (Coordinated Universal Time)","address":"127.0.0.1","xdomain":true,"secure":false,"issued":1796241785804,"url":"/socket.io/?EIO=4&transport=polling&t=golden&rooms=r1,r2&z=1&rooms=r3&2=two&10=ten&b=x%20y+z&=empty&novalue&u=%C3%A9","query":{"2":"two","10":"ten","EIO":"4","transport":"polling","t":"golden","rooms":"r3","z":"1","b":"x y z","":"empty","novalue":"","u":"é"},"auth":{"token":"abc","n":1}}`

// nodeGoldenTime is the golden's issued, in UTC.
var nodeGoldenTime = time.UnixMilli(1796241785804).UTC()

// TestHandshakeMatchesNode sends Node's request to a gosio server and
// compares its handshake's JSON with Node's, byte for byte (time and
// issued taken from the golden).
func TestHandshakeMatchesNode(t *testing.T) {
	t.Parallel()
	srv, base := newTestServer(t, nil)
	got := make(chan *Handshake, 1)
	srv.OnConnection(func(s *Socket) { got <- s.Handshake() })

	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte(nodeHandshakeRequest)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	var open struct {
		SID string `json:"sid"`
	}
	body := make([]byte, 0, 256)
	buf := make([]byte, 256)
	for {
		n, err := resp.Body.Read(buf)
		body = append(body, buf[:n]...)
		if err != nil {
			break
		}
	}
	_ = resp.Body.Close()
	if len(body) < 2 || body[0] != '0' || json.Unmarshal(body[1:], &open) != nil || open.SID == "" {
		t.Fatalf("open packet %q", body)
	}
	post, err := http.Post(base+"/socket.io/?EIO=4&transport=polling&sid="+open.SID, "text/plain", strings.NewReader("40"+nodeHandshakeAuth))
	if err != nil {
		t.Fatal(err)
	}
	_ = post.Body.Close()

	var hs *Handshake
	select {
	case hs = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("no connection")
	}
	cp := *hs
	cp.Time = nodeGoldenTime
	b, err := cp.MarshalJSON() // json.Marshal would escape <, > and & again
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != nodeHandshakeGolden {
		t.Fatalf("handshake JSON differs from Node's\n got: %s\nwant: %s", b, nodeHandshakeGolden)
	}
	if hs.Time.IsZero() || time.Since(hs.Time) > time.Minute {
		t.Fatalf("handshake time %v", hs.Time)
	}
}

// TestHandshakeUnmarshalNode decodes Node's handshake and encodes it again
// unchanged.
func TestHandshakeUnmarshalNode(t *testing.T) {
	t.Parallel()
	var h Handshake
	if err := json.Unmarshal([]byte(nodeHandshakeGolden), &h); err != nil {
		t.Fatal(err)
	}
	if !h.Time.Equal(nodeGoldenTime) || h.Time.Location() != time.UTC {
		t.Fatalf("time %v", h.Time)
	}
	if h.Host != "example.test" || h.Headers.Get("User-Agent") != "golden/1" ||
		h.Headers.Get("X-Latin") != "café" || len(h.Headers["Set-Cookie"]) != 2 {
		t.Fatalf("headers %q host %q", h.Headers, h.Host)
	}
	if h.Query.Get("rooms") != "r3" || h.Query.Get("b") != "x y z" || !h.XDomain || h.Address != "127.0.0.1" {
		t.Fatalf("handshake %+v", h)
	}
	b, err := h.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != nodeHandshakeGolden {
		t.Fatalf("round trip\n got: %s\nwant: %s", b, nodeHandshakeGolden)
	}
}

// TestHandshakeJSDate checks Date.prototype.toString's zone names, as Node
// 20 (ICU 78) writes them for the same instants.
func TestHandshakeJSDate(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		zone *time.Location
		want string
	}{
		{time.UTC, "Thu Jan 15 2026 12:00:00 GMT+0000 (Coordinated Universal Time)"},
		{time.FixedZone("GMT", 0), "Thu Jan 15 2026 12:00:00 GMT+0000 (Greenwich Mean Time)"},
		{time.FixedZone("CET", 3600), "Thu Jan 15 2026 13:00:00 GMT+0100 (Central European Standard Time)"},
		{time.FixedZone("EST", -5*3600), "Thu Jan 15 2026 07:00:00 GMT-0500 (Eastern Standard Time)"},
		{time.FixedZone("IST", 19800), "Thu Jan 15 2026 17:30:00 GMT+0530 (India Standard Time)"},
		{time.FixedZone("CST", 8*3600), "Thu Jan 15 2026 20:00:00 GMT+0800 (China Standard Time)"},
		{time.FixedZone("+14", 14*3600), "Fri Jan 16 2026 02:00:00 GMT+1400 (GMT+14:00)"}, // TZ=Etc/GMT-14
		{time.FixedZone("-03", -3*3600), "Thu Jan 15 2026 09:00:00 GMT-0300 (GMT-03:00)"}, // Node: Brasilia Standard Time
		{time.FixedZone("XYZ", 3600), "Thu Jan 15 2026 13:00:00 GMT+0100 (XYZ)"},
	} {
		got := jsDateString(at.In(tc.zone))
		if got != tc.want {
			t.Errorf("%v: got %q, want %q", tc.zone, got, tc.want)
		}
		back, ok := parseJSDate(got)
		if !ok || !back.Equal(at) || jsDateString(back) != got {
			t.Errorf("parse %q: %v %v (%q)", got, back, ok, jsDateString(back))
		}
	}
}

// TestHandshakeUnmarshalShapes accepts arrays for query values (a Node
// server behind a middleware that parsed the query with qs) and a time
// without issued.
func TestHandshakeUnmarshalShapes(t *testing.T) {
	t.Parallel()
	var h Handshake
	in := `{"headers":{"x-a":["1","2"]},"time":"Thu Jan 15 2026 13:00:00 GMT+0100 (Central European Standard Time)","query":{"r":["a","b"],"s":"c"},"auth":{}}`
	if err := json.Unmarshal([]byte(in), &h); err != nil {
		t.Fatal(err)
	}
	if got := h.Query["r"]; len(got) != 2 || got[1] != "b" || h.Query.Get("s") != "c" {
		t.Fatalf("query %q", h.Query)
	}
	if got := h.Headers["X-A"]; len(got) != 2 {
		t.Fatalf("headers %q", h.Headers)
	}
	if name, off := h.Time.Zone(); !h.Time.Equal(time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)) || name != "CET" || off != 3600 {
		t.Fatalf("time %v", h.Time)
	}
	b, err := h.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"headers":{"x-a":"1, 2"},"time":"Thu Jan 15 2026 13:00:00 GMT+0100 (Central European Standard Time)","address":"","xdomain":false,"secure":false,"issued":1768478400000,"url":"","query":{"r":"b","s":"c"},"auth":{}}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}

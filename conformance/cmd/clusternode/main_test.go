package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/parser"
	"github.com/gosio/gosio/socketio"
)

// TestMain runs the program itself when the test binary is started as a
// subprocess by the tests below.
func TestMain(m *testing.M) {
	if os.Getenv("CLUSTERNODE_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// testNode is a node run in-process by run.
type testNode struct {
	name    string
	sio     string // Socket.IO base URL
	control string // control API base URL
	ready   map[string]any
}

// freePort returns a port P such that P and P+1000 are free now.
func freePort(t *testing.T) int {
	t.Helper()
	for range 100 {
		p := 20000 + rand.IntN(20000)
		ok := true
		for _, port := range []int{p, p + 1000} {
			ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
			if err != nil {
				ok = false
				break
			}
			_ = ln.Close()
		}
		if ok {
			return p
		}
	}
	t.Fatal("no free port pair")
	return 0
}

// startNode runs the program with --adapter memory until the test ends.
func startNode(t *testing.T, name string) *testNode {
	t.Helper()
	for attempt := 0; ; attempt++ {
		port := freePort(t)
		ctx, cancel := context.WithCancel(context.Background())
		pr, pw := io.Pipe()
		var stderr syncBuffer
		done := make(chan int, 1)
		go func() {
			code := run(ctx, []string{"--port", strconv.Itoa(port), "--adapter", "memory", "--name", name}, pw, &stderr)
			_ = pw.Close()
			done <- code
		}()
		line, err := bufio.NewReader(pr).ReadString('\n')
		go func() { _, _ = io.Copy(io.Discard, pr) }()
		if err != nil {
			cancel()
			code := <-done
			if attempt < 3 {
				continue // the port was taken in between
			}
			t.Fatalf("no ready line (exit %d): %s", code, stderr.String())
		}
		t.Cleanup(func() {
			cancel()
			select {
			case code := <-done:
				if code != 0 {
					t.Errorf("exit status %d: %s", code, stderr.String())
				}
			case <-time.After(10 * time.Second):
				t.Error("node did not stop")
			}
		})
		var ready map[string]any
		if err := json.Unmarshal([]byte(line), &ready); err != nil {
			t.Fatalf("ready line %q: %v", line, err)
		}
		return &testNode{
			name:    name,
			sio:     fmt.Sprintf("http://127.0.0.1:%d", port),
			control: fmt.Sprintf("http://127.0.0.1:%d", port+1000),
			ready:   ready,
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// call sends a request to the control API and returns the status and the
// body.
func (n *testNode) call(t *testing.T, method, path, reqBody string) (int, string) {
	t.Helper()
	var rd io.Reader
	if reqBody != "" {
		rd = strings.NewReader(reqBody)
	}
	req, err := http.NewRequest(method, n.control+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: content type %q", method, path, ct)
	}
	return resp.StatusCode, string(b)
}

// expect checks a call's status and exact body.
func (n *testNode) expect(t *testing.T, method, path, reqBody string, status int, want string) {
	t.Helper()
	code, got := n.call(t, method, path, reqBody)
	if code != status || got != want {
		t.Errorf("%s %s %s:\n got %d %s\nwant %d %s", method, path, reqBody, code, got, status, want)
	}
}

// client connects a gosio client to nsp with the rooms query.
func (n *testNode) client(t *testing.T, nsp, rooms string, setup func(c *socketio.ClientSocket)) *socketio.ClientSocket {
	t.Helper()
	opts := &socketio.ClientOptions{}
	opts.DisableReconnection = true
	if rooms != "" {
		opts.Query = url.Values{"rooms": {rooms}}
	}
	c, err := socketio.NewClient(n.sio+nsp, opts)
	if err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestReadyAndHealth(t *testing.T) {
	t.Parallel()
	n := startNode(t, "G1")
	port := int(n.ready["controlPort"].(float64)) - 1000
	want := fmt.Sprintf(`{"ready":true,"name":"G1","impl":"go","adapter":"memory","port":%d,"controlPort":%d}`, port, port+1000)
	if b, _ := json.Marshal(n.ready); len(n.ready) != 6 || n.ready["impl"] != "go" || n.ready["ready"] != true {
		t.Fatalf("ready %s, want %s", b, want)
	}
	n.expect(t, "GET", "/health", "", 200,
		fmt.Sprintf(`{"name":"G1","adapter":"memory","impl":"go","port":%d,"controlPort":%d,"csr":false,"pid":%d}`, port, port+1000, os.Getpid()))
	n.expect(t, "GET", "/server-count", "", 200, `{"count":1}`)
	n.expect(t, "GET", "/server-count?nsp=/custom", "", 200, `{"count":1}`)
}

func TestErrors(t *testing.T) {
	t.Parallel()
	n := startNode(t, "G2")
	for _, tc := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"GET", "/nope", "", 404, `{"ok":false,"error":"no route GET /nope"}`},
		{"GET", "/emit", "", 404, `{"ok":false,"error":"no route GET /emit"}`},
		{"POST", "/health", "", 404, `{"ok":false,"error":"no route POST /health"}`},
		{"POST", "/emit", "{", 400, `{"ok":false,"error":"body is not valid JSON"}`},
		{"POST", "/emit", "[1]", 400, `{"ok":false,"error":"body must be a JSON object"}`},
		{"POST", "/emit", "null", 400, `{"ok":false,"error":"body must be a JSON object"}`},
		{"POST", "/emit", "", 400, `{"ok":false,"error":"event (string) is required"}`},
		{"POST", "/emit", `{"event":""}`, 400, `{"ok":false,"error":"event (string) is required"}`},
		{"POST", "/emit", `{"event":"e","args":{}}`, 400, `{"ok":false,"error":"args must be an array"}`},
		{"POST", "/emit", `{"event":"e","args":null}`, 400, `{"ok":false,"error":"args must be an array"}`},
		{"POST", "/emit", `{"event":"e","nsp":"/x"}`, 400, `{"ok":false,"error":"unknown namespace \"/x\" (known: /, /custom)"}`},
		{"POST", "/emit", `{"event":"e","nsp":5}`, 400, `{"ok":false,"error":"unknown namespace 5 (known: /, /custom)"}`},
		{"POST", "/emit", `{"event":"e","rooms":5}`, 400, `{"ok":false,"error":"rooms must be an array"}`},
		{"POST", "/emit", `{"event":"e","except":{}}`, 400, `{"ok":false,"error":"except must be an array"}`},
		{"POST", "/emit", `{"event":"disconnect"}`, 400, `{"ok":false,"error":"\"disconnect\" is a reserved event name"}`},
		{"POST", "/emit-ack", `{"event":"connect"}`, 400, `{"ok":false,"error":"\"connect\" is a reserved event name"}`},
		{"POST", "/emit-ack", `{"event":"e","timeoutMs":0}`, 400, `{"ok":false,"error":"timeoutMs must be a positive number"}`},
		{"POST", "/emit-ack", `{"event":"e","timeoutMs":"x"}`, 400, `{"ok":false,"error":"timeoutMs must be a positive number"}`},
		{"POST", "/emit-ack", `{"event":"e","timeoutMs":null}`, 400, `{"ok":false,"error":"timeoutMs must be a positive number"}`},
		{"POST", "/sse", `{"event":"connection"}`, 400, `{"ok":false,"error":"\"connection\" is a reserved event name"}`},
		{"POST", "/sse-ack", `{"event":"new_namespace"}`, 400, `{"ok":false,"error":"\"new_namespace\" is a reserved event name"}`},
		{"POST", "/sse-ack", `{"event":"e","timeoutMs":-1}`, 400, `{"ok":false,"error":"timeoutMs must be a positive number"}`},
		{"POST", "/sockets-join", `{"join":"a","nsp":"/y"}`, 400, `{"ok":false,"error":"unknown namespace \"/y\" (known: /, /custom)"}`},
		{"POST", "/sockets-join", `{"join":{}}`, 400, `{"ok":false,"error":"join must be an array"}`},
		{"POST", "/sockets-leave", `{"leave":true}`, 400, `{"ok":false,"error":"leave must be an array"}`},
		{"GET", "/fetch?nsp=/z", "", 400, `{"ok":false,"error":"unknown namespace \"/z\" (known: /, /custom)"}`},
		{"GET", "/fetch?nsp=", "", 400, `{"ok":false,"error":"unknown namespace \"\" (known: /, /custom)"}`},
		{"GET", "/server-count?nsp=/z", "", 400, `{"ok":false,"error":"unknown namespace \"/z\" (known: /, /custom)"}`},
		// Good input on an empty node.
		{"POST", "/emit", `{"event":"e","flags":{"volatile":true,"local":1,"compress":false}}`, 200, `{"ok":true}`},
		{"POST", "/emit-ack", `{"event":"e","rooms":"a,b"}`, 200, `{"ok":true,"responses":[]}`},
		{"POST", "/sse", `{"event":"e","args":[1]}`, 200, `{"ok":true}`},
		{"POST", "/sse-ack", `{"event":"e"}`, 200, `{"ok":true,"responses":[]}`},
		{"POST", "/disconnect", `{"close":true}`, 200, `{"ok":true}`},
		{"GET", "/fetch?nsp=/custom&rooms=a,b&except=c&local=1&timeoutMs=500", "", 200, `[]`},
		{"GET", "/received-sse", "", 200, `[]`},
		{"DELETE", "/received-sse", "", 200, `{"ok":true,"cleared":0}`},
	} {
		n.expect(t, tc.method, tc.path, tc.body, tc.status, tc.want)
	}
}

// event is an event a client received.
type event struct {
	name string
	args socketio.Args
}

func recorder(c *socketio.ClientSocket) chan event {
	ch := make(chan event, 16)
	c.OnAny(func(name string, args socketio.Args) { ch <- event{name, args} })
	return ch
}

func next(t *testing.T, ch chan event) event {
	t.Helper()
	select {
	case e := <-ch:
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
		return event{}
	}
}

func TestEmitFetchAndRooms(t *testing.T) {
	t.Parallel()
	n := startNode(t, "G3")
	var evA, evB chan event
	a := n.client(t, "/", "r1, r2,", func(c *socketio.ClientSocket) { evA = recorder(c) })
	b := n.client(t, "/", "", func(c *socketio.ClientSocket) { evB = recorder(c) })
	cu := n.client(t, "/custom", "r1", nil)

	// emit to a room, with binary both ways.
	n.expect(t, "POST", "/emit", `{"rooms":["r1"],"event":"ev","args":["x",{"b":{"$bin":"AQID"},"n":1.50},[{"$bin":""}]]}`, 200, `{"ok":true}`)
	e := next(t, evA)
	var bin struct {
		B []byte  `json:"b"`
		N float64 `json:"n"`
	}
	var empty [][]byte
	if e.name != "ev" || len(e.args) != 3 || e.args.Decode(1, &bin) != nil || !bytes.Equal(bin.B, []byte{1, 2, 3}) || bin.N != 1.5 ||
		e.args.Decode(2, &empty) != nil || len(empty) != 1 || len(empty[0]) != 0 {
		t.Fatalf("event %s %s", e.name, e.args)
	}
	// except, and a comma-separated string of rooms.
	n.expect(t, "POST", "/emit", `{"rooms":"r2,","except":"r1","event":"none"}`, 200, `{"ok":true}`)
	n.expect(t, "POST", "/emit", `{"except":["r1"],"event":"ev2"}`, 200, `{"ok":true}`)
	if e := next(t, evB); e.name != "ev2" {
		t.Fatalf("b got %s", e.name)
	}
	select {
	case e := <-evA:
		t.Fatalf("a got %s %s", e.name, e.args)
	case <-time.After(100 * time.Millisecond):
	}

	// fetch: sorted by id, rooms sorted, data, handshake auth and query.
	code, body := n.call(t, "GET", "/fetch", "")
	var got []struct {
		ID        string          `json:"id"`
		Rooms     []string        `json:"rooms"`
		Data      json.RawMessage `json:"data"`
		Handshake struct {
			Auth  json.RawMessage   `json:"auth"`
			Query map[string]string `json:"query"`
		} `json:"handshake"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &got) != nil || len(got) != 2 {
		t.Fatalf("fetch %d %s", code, body)
	}
	ids := []string{a.ID(), b.ID()}
	slices.Sort(ids)
	for i, s := range got {
		if s.ID != ids[i] || string(s.Data) != `{"server":"G3","firstServer":"G3"}` || string(s.Handshake.Auth) != `{}` ||
			s.Handshake.Query["EIO"] != "4" || s.Handshake.Query["transport"] == "" {
			t.Fatalf("socket %d: %s", i, body)
		}
		want := []string{s.ID}
		if s.ID == a.ID() {
			want = jsSorted([]string{a.ID(), "r1", "r2"})
			if s.Handshake.Query["rooms"] != "r1, r2," {
				t.Fatalf("query %v", s.Handshake.Query)
			}
		}
		if !slices.Equal(s.Rooms, want) {
			t.Fatalf("rooms %v, want %v", s.Rooms, want)
		}
	}
	code, body = n.call(t, "GET", "/fetch?nsp=/custom&rooms=r1", "")
	if code != 200 || !strings.Contains(body, `"id":"`+cu.ID()+`"`) || strings.Count(body, `"id"`) != 1 {
		t.Fatalf("fetch /custom %d %s", code, body)
	}
	code, body = n.call(t, "GET", "/fetch?rooms=r1,r2&except=r1&local=1", "")
	if code != 200 || body != "[]" {
		t.Fatalf("fetch except %d %s", code, body)
	}

	// sockets-join, sockets-leave.
	n.expect(t, "POST", "/sockets-join", `{"except":["r1"],"join":["j1","j2"]}`, 200, `{"ok":true}`)
	code, body = n.call(t, "GET", "/fetch?rooms=j2", "")
	if code != 200 || !strings.Contains(body, b.ID()) || strings.Contains(body, a.ID()) {
		t.Fatalf("after join %d %s", code, body)
	}
	n.expect(t, "POST", "/sockets-leave", `{"rooms":"j1","leave":"j2"}`, 200, `{"ok":true}`)
	n.expect(t, "GET", "/fetch?rooms=j2", "", 200, `[]`)

	// The client handlers: join, leave and echo with acks.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := a.EmitWithAck(ctx, "join", []string{"z", "b"})
	if err != nil || res.String() != `[`+mustJSON(jsSorted([]string{a.ID(), "b", "r1", "r2", "z"}))+`]` {
		t.Fatalf("join ack %s %v", res, err)
	}
	res, err = a.EmitWithAck(ctx, "join", "c")
	if err != nil || !strings.Contains(res.String(), `"c"`) {
		t.Fatalf("join ack %s %v", res, err)
	}
	res, err = a.EmitWithAck(ctx, "leave", "r1")
	if err != nil || res.String() != `[`+mustJSON(jsSorted([]string{a.ID(), "b", "c", "r2", "z"}))+`]` {
		t.Fatalf("leave ack %s %v", res, err)
	}
	res, err = a.EmitWithAck(ctx, "leave", []string{"b", "c", "z"})
	if err != nil || res.String() != `[`+mustJSON(jsSorted([]string{a.ID(), "r2"}))+`]` {
		t.Fatalf("leave ack %s %v", res, err)
	}
	res, err = a.EmitWithAck(ctx, "echo", 1, "two", []byte{9, 8}, map[string]any{"k": []byte{7}})
	var b1, b2 []byte
	var k struct{ K []byte }
	if err != nil || len(res) != 4 || res.Decode(2, &b1) != nil || !bytes.Equal(b1, []byte{9, 8}) ||
		res.Decode(3, &k) != nil || !bytes.Equal(k.K, []byte{7}) {
		t.Fatalf("echo ack %s %v", res, err)
	}
	_ = b2

	// disconnect
	dis := make(chan string, 1)
	b.OnDisconnect(func(reason string) { dis <- reason })
	n.expect(t, "POST", "/disconnect", `{"rooms":["`+b.ID()+`"]}`, 200, `{"ok":true}`)
	select {
	case r := <-dis:
		if r != socketio.ReasonIOServerDisconnect {
			t.Fatalf("reason %q", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("not disconnected")
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestEmitAck(t *testing.T) {
	t.Parallel()
	n := startNode(t, "G4")
	answer := func(c *socketio.ClientSocket) {
		c.On("ask", func(args socketio.Args, ack socketio.Ack) {
			_ = ack(map[string]any{"bin": []byte("hi"), "echo": args.Any()[0]}, "ignored")
		})
	}
	n.client(t, "/", "r", answer)
	n.client(t, "/", "r", answer)
	n.client(t, "/", "silent", nil) // never answers "ask"

	n.expect(t, "POST", "/emit-ack", `{"rooms":["r"],"event":"ask","args":[{"$bin":"AAE="}]}`, 200,
		`{"ok":true,"responses":[{"bin":{"$bin":"aGk="},"echo":{"$bin":"AAE="}},{"bin":{"$bin":"aGk="},"echo":{"$bin":"AAE="}}]}`)
	start := time.Now()
	n.expect(t, "POST", "/emit-ack", `{"event":"ask","args":[5],"timeoutMs":300}`, 200,
		`{"ok":false,"error":"operation has timed out","responses":[{"bin":{"$bin":"aGk="},"echo":5},{"bin":{"$bin":"aGk="},"echo":5}]}`)
	if d := time.Since(start); d < 300*time.Millisecond || d > 3*time.Second {
		t.Fatalf("timed out after %v", d)
	}
	n.expect(t, "POST", "/emit-ack", `{"rooms":"nobody","event":"ask"}`, 200, `{"ok":true,"responses":[]}`)

	// A client that disconnects instead of answering: Node reports the
	// timeout, when it passes.
	n.client(t, "/", "lv", func(c *socketio.ClientSocket) {
		c.On("ask", func() { go c.Disconnect() })
	})
	start = time.Now()
	n.expect(t, "POST", "/emit-ack", `{"rooms":"lv","event":"ask","timeoutMs":400}`, 200,
		`{"ok":false,"error":"operation has timed out","responses":[]}`)
	if d := time.Since(start); d < 400*time.Millisecond || d > 3*time.Second {
		t.Fatalf("answered after %v", d)
	}
}

// TestReceivedSSE feeds the adapter's side of the namespace (no second
// node exists with the memory adapter).
func TestReceivedSSE(t *testing.T) {
	t.Parallel()
	n := newNode(&config{name: "G5"}, nil)
	tap := sseTap{Namespace: fakeNamespace("/custom"), n: n}
	tap.HandleServerSideEmit("hello", []parser.Value{
		{JSON: []byte(`{"a":[1,{"_placeholder":true,"num":0}],"z":null}`), Attachments: [][]byte{{0xff}}},
		{JSON: []byte(`"s"`)},
	}, nil)
	acked := make(chan any, 1)
	tap.HandleServerSideEmit("ask", nil, func(arg any) { acked <- arg })
	select {
	case a := <-acked:
		if a != "G5:ack" {
			t.Fatalf("ack %v", a)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no ack")
	}

	do := func(method string) string {
		rec := httptest.NewRecorder()
		n.ServeHTTP(rec, httptest.NewRequest(method, "/received-sse", nil))
		if rec.Code != 200 {
			t.Fatalf("%s: %d %s", method, rec.Code, rec.Body)
		}
		return rec.Body.String()
	}
	got := do("GET")
	var recs []sseRecord
	if err := json.Unmarshal([]byte(got), &recs); err != nil || len(recs) != 2 {
		t.Fatalf("received %s", got)
	}
	if r := recs[0]; r.Nsp != "/custom" || r.Event != "hello" || string(r.Args) != `[{"a":[1,{"$bin":"/w=="}],"z":null},"s"]` || r.WithAck ||
		time.Since(time.UnixMilli(r.ReceivedAt)) > time.Minute {
		t.Fatalf("record 0: %s", got)
	}
	if r := recs[1]; r.Event != "ask" || string(r.Args) != `[]` || !r.WithAck {
		t.Fatalf("record 1: %s", got)
	}
	if got := do("DELETE"); got != `{"ok":true,"cleared":2}` {
		t.Fatalf("delete: %s", got)
	}
	if got := do("GET"); got != `[]` {
		t.Fatalf("after delete: %s", got)
	}
}

type fakeNamespace string

func (f fakeNamespace) Name() string                                         { return string(f) }
func (fakeNamespace) Socket(string) adapter.Socket                           { return nil }
func (fakeNamespace) NextAckID() uint64                                      { return 0 }
func (fakeNamespace) Recovery() (bool, time.Duration)                        { return false, 0 }
func (fakeNamespace) HandleServerSideEmit(string, []parser.Value, func(any)) {}

func TestJSONBin(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, json, out string }{
		{`[1,{"$bin":"AQ=="},{"$bin":"AQ","x":1},{"b":{"$bin":"_-8"}}]`,
			`[1,{"_placeholder":true,"num":0},{"$bin":"AQ","x":1},{"b":{"_placeholder":true,"num":1}}]`,
			`[1,{"$bin":"AQ=="},{"$bin":"AQ","x":1},{"b":{"$bin":"/+8="}}]`},
		{`{"z":1,"a":2,"z":3,"big":1e21,"small":1e-7,"f":1.0,"u":"<é>\u2028"}`,
			`{"z":3,"a":2,"big":1e+21,"small":1e-7,"f":1,"u":"<é>` + "\u2028" + `"}`,
			`{"z":3,"a":2,"big":1e+21,"small":1e-7,"f":1,"u":"<é>` + "\u2028" + `"}`},
	} {
		v, err := parseJSON([]byte(tc.in))
		if err != nil {
			t.Fatal(err)
		}
		pv := toValue(v)
		if string(pv.JSON) != tc.json {
			t.Errorf("toValue(%s) = %s, want %s", tc.in, pv.JSON, tc.json)
		}
		if got := string(fromValue(*pv)); got != tc.out {
			t.Errorf("fromValue(%s) = %s, want %s", pv.JSON, got, tc.out)
		}
	}
	for in, want := range map[string]string{`"a"`: "a", `5`: "5", `1.5e300`: "1.5e+300", `null`: "null", `true`: "true",
		`[1,null,"x"]`: "1,,x", `{}`: "[object Object]"} {
		v, _ := parseJSON([]byte(in))
		if got := jsString(v); got != want {
			t.Errorf("String(%s) = %q, want %q", in, got, want)
		}
	}
}

// TestProcess runs the program as a process: the ready line, SIGTERM and
// the exit statuses.
func TestProcess(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	command := func(args ...string) *exec.Cmd {
		cmd := exec.Command(exe, args...)
		cmd.Env = append(os.Environ(), "CLUSTERNODE_RUN_MAIN=1")
		return cmd
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--adapter", "memory"}, "clusternode: --port P is required (P+1000 must be a valid port)\n"},
		{[]string{"--port", "65000", "--adapter", "memory"}, "clusternode: --port P is required (P+1000 must be a valid port)\n"},
		{[]string{"--port", "1", "--adapter", "x"}, "clusternode: --adapter must be classic|sharded|streams|memory, got x\n"},
	} {
		var stderr bytes.Buffer
		cmd := command(tc.args...)
		cmd.Stderr = &stderr
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || stderr.String() != tc.want {
			t.Errorf("%v: %v, stderr %q, want exit 2 and %q", tc.args, err, stderr.String(), tc.want)
		}
	}

	for attempt := 0; ; attempt++ {
		port := freePort(t)
		cmd := command("--port", strconv.Itoa(port), "--adapter", "memory", "--name", "P1")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr syncBuffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil {
			_ = cmd.Wait()
			if attempt < 3 {
				continue
			}
			t.Fatalf("no ready line: %v %s", err, stderr.String())
		}
		want := fmt.Sprintf(`{"ready":true,"name":"P1","impl":"go","adapter":"memory","port":%d,"controlPort":%d}`+"\n", port, port+1000)
		if line != want {
			t.Errorf("ready line %q, want %q", line, want)
		}
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/health", port+1000))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if !strings.Contains(string(b), fmt.Sprintf(`"pid":%d`, cmd.Process.Pid)) {
			t.Errorf("health %s", b)
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("exit after SIGTERM: %v %s", err, stderr.String())
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatal("no exit after SIGTERM")
		}
		return
	}
}

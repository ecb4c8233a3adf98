package conformance

// Engine.IO v3 polling payloads between gosio's server (AllowEIO3) and the
// reference parsers (js/eio3-parser.mjs): the v3 parser of Node's engine.io
// 6.6 and the engine.io-parser of socket.io-client 2.5.0. The binary form
// (type byte, length digits, 0xff) is what a browser's socket.io 2.x client
// polls with; the client's Node build always asks for base64 (its
// XMLHttpRequest has no responseType), so the interop tests of
// sio_v2_test.go never see it.

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/internal/testutil"
)

// eio3Packet is a packet as js/eio3-parser.mjs prints it.
type eio3Packet struct {
	Type string  `json:"type"`
	Data *string `json:"data,omitempty"`
	Hex  *string `json:"hex,omitempty"`
}

type eio3ParserOut struct {
	Hex     *string      `json:"hex"`
	Text    *string      `json:"text"`
	Packets []eio3Packet `json:"packets"`
	Error   string       `json:"error"`
}

// eio3Parser runs js/eio3-parser.mjs with args.
func eio3Parser(t *testing.T, node string, args ...string) eio3ParserOut {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{"js/eio3-parser.mjs"}, args...)...)
	cmd.WaitDelay = 2 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("eio3-parser.mjs %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var out eio3ParserOut
	testutil.NoErr(t, json.Unmarshal(b, &out))
	return out
}

func TestEIO3PayloadsWithReferenceParsers(t *testing.T) {
	t.Parallel()
	node := needNode(t)
	srv := engineio.NewServer(&engineio.Options{AllowEIO3: true, PingInterval: time.Minute, PingTimeout: time.Minute})
	srv.OnConnection(func(s *engineio.Session) {
		s.OnMessage(func(data []byte, binary bool) {
			if binary {
				_ = s.SendBinary(data)
			} else {
				_ = s.SendText(data)
			}
		})
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		testutil.NoErr(t, srv.Shutdown(ctx))
		hs.Close()
	})
	do := func(method, query, ctype string, body []byte) (string, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, hs.URL+"/engine.io/?EIO=3&transport=polling"+query, bytes.NewReader(body))
		testutil.NoErr(t, err)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		res, err := hs.Client().Do(req)
		testutil.NoErr(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		testutil.NoErr(t, err)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d %q", method, query, res.StatusCode, b)
		}
		return res.Header.Get("Content-Type"), b
	}
	str := func(s string) *string { return &s }
	sent := []eio3Packet{
		{Type: "message", Data: str("héllo 😀 \u2028 \x1e")},
		{Type: "message", Hex: str("0102ff00")},
		{Type: "message", Data: str(strings.Repeat("ü", 300))},
		{Type: "message", Hex: str("")},
	}
	packets, _ := json.Marshal(sent)

	for _, parser := range []string{"server", "client"} {
		for _, form := range []string{"binary", "text"} {
			t.Run(parser+"/"+form, func(t *testing.T) {
				query := ""
				if form == "text" {
					query = "&b64=1"
				}
				_, open := do(http.MethodGet, query, "", nil)
				dec := eio3Parser(t, node, parser, "decode", string(mustJSON(t, string(open))))
				if dec.Error != "" || len(dec.Packets) != 1 || dec.Packets[0].Type != "open" {
					t.Fatalf("%s parser read the handshake %q as %+v", parser, open, dec)
				}
				var op struct {
					SID string `json:"sid"`
				}
				testutil.NoErr(t, json.Unmarshal([]byte(*dec.Packets[0].Data), &op))
				sid := "&sid=" + op.SID

				// POST what the reference encodes; the echoes come back in
				// one GET, which the reference must decode to the same.
				enc := eio3Parser(t, node, parser, "encode", form, string(packets))
				if form == "binary" {
					b, err := hex.DecodeString(*enc.Hex)
					testutil.NoErr(t, err)
					do(http.MethodPost, sid, "application/octet-stream", b)
				} else {
					do(http.MethodPost, sid, "text/plain;charset=UTF-8", []byte(*enc.Text))
				}
				ctype, body := do(http.MethodGet, sid, "", nil)
				arg := string(mustJSON(t, string(body)))
				if form == "binary" {
					testutil.Equal(t, ctype, "application/octet-stream")
					arg = hex.EncodeToString(body)
				}
				got := eio3Parser(t, node, parser, "decode", arg)
				if got.Error != "" {
					t.Fatalf("%s parser refused gosio's payload %q: %s", parser, body, got.Error)
				}
				want, _ := json.Marshal(sent)
				have, _ := json.Marshal(got.Packets)
				testutil.Equal(t, string(have), string(want))
			})
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	testutil.NoErr(t, err)
	return b
}

package parser_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/gosio/gosio/internal/testutil"
	"github.com/gosio/gosio/parser"
)

// goldenCase is one packet of testdata/golden.json, as encoded by the npm
// socket.io-parser (see testdata/golden.mjs).
type goldenCase struct {
	Name        string   `json:"name"`
	Text        string   `json:"text"`
	Attachments []string `json:"attachments"`
}

// goldenBuilders build, for each case of golden.mjs, the same packet the
// way gosio code would: MarshalArgs with []byte where JavaScript has a
// Buffer, or Values taken from a received packet.
var goldenBuilders = map[string]func(t *testing.T) *parser.Packet{
	"connect": func(t *testing.T) *parser.Packet { return &parser.Packet{Type: parser.Connect} },
	"connect-admin-sid": func(t *testing.T) *parser.Packet {
		return object(t, parser.Connect, "/admin", map[string]string{"sid": "oSO0OpakMV_3jnilAAAA"})
	},
	"connect-auth": func(t *testing.T) *parser.Packet {
		return object(t, parser.Connect, "/", map[string]any{"token": "123"})
	},
	"connect-error": func(t *testing.T) *parser.Packet {
		return object(t, parser.ConnectError, "", connectError{Message: "Not authorized"})
	},
	"connect-error-data": func(t *testing.T) *parser.Packet {
		return object(t, parser.ConnectError, "/custom", connectError{Message: "nope", Data: map[string]int{"code": 42}})
	},
	"connect-error-string": func(t *testing.T) *parser.Packet { return object(t, parser.ConnectError, "/", "plain") },
	"disconnect":           func(t *testing.T) *parser.Packet { return &parser.Packet{Type: parser.Disconnect, Namespace: "/"} },
	"disconnect-admin":     func(t *testing.T) *parser.Packet { return &parser.Packet{Type: parser.Disconnect, Namespace: "/admin"} },
	"event-foo":            func(t *testing.T) *parser.Packet { return args(t, parser.Event, "/", -1, "foo") },
	"event-foo-ack":        func(t *testing.T) *parser.Packet { return args(t, parser.Event, "/", 12, "foo") },
	"ack-admin":            func(t *testing.T) *parser.Packet { return args(t, parser.Ack, "/admin", 13, "bar") },
	"ack-empty":            func(t *testing.T) *parser.Packet { return args(t, parser.Ack, "/", 0) },
	"ack-max-safe-id":      func(t *testing.T) *parser.Packet { return args(t, parser.Ack, "/", 1<<53-1, "x") },
	"event-numeric-name":   func(t *testing.T) *parser.Packet { return args(t, parser.Event, "/", -1, 1, "x") },
	"event-unicode-nsp":    func(t *testing.T) *parser.Packet { return args(t, parser.Event, "/ünï", -1, "hi") },
	"message-back": func(t *testing.T) *parser.Packet {
		return args(t, parser.Event, "/", -1, append([]any{"message-back"}, received(t, `2["message",1,"2",{"3":[true]}]`)...)...)
	},
	"message-back-custom": func(t *testing.T) *parser.Packet {
		return args(t, parser.Event, "/custom", -1, "auth", json.RawMessage(`{"token":"abc"}`))
	},
	"strings": func(t *testing.T) *parser.Packet {
		return args(t, parser.Event, "/", -1, "esc", "q\" b\\ n\n t\t r\r bs\b ff\f c\x01 \x1f del\x7f <>& é ☃ 😀 \u2028\u2029 /", "")
	},
	"numbers": func(t *testing.T) *parser.Packet {
		return args(t, parser.Event, "/", -1, "nums", 0, -1, 1.5, -2.25, 1e21, 1e-7, 123456789, 0.1, 1e300, 5e-324,
			1<<53, 123456789012345680000.0, math.Copysign(0, -1), 1e20, 0.000001)
	},
	"literals": func(t *testing.T) *parser.Packet {
		return args(t, parser.Event, "/", -1, "lits", nil, true, false, []any{}, map[string]any{}, "")
	},
	"struct": func(t *testing.T) *parser.Packet {
		type person struct {
			Name string   `json:"name"`
			Age  int      `json:"age"`
			Tags []string `json:"tags"`
		}
		return args(t, parser.Event, "/", -1, "user", person{"Ann", 30, []string{"a", "b"}})
	},
	"binary-event": func(t *testing.T) *parser.Packet { return args(t, parser.Event, "/", -1, "baz", []byte{1, 2, 3, 4}) },
	"binary-event-admin": func(t *testing.T) *parser.Packet {
		return args(t, parser.Event, "/admin", -1, "baz", []byte{1, 2}, []byte{3, 4})
	},
	"binary-ack":       func(t *testing.T) *parser.Packet { return args(t, parser.Ack, "/", 15, "bar", []byte{0xff}) },
	"binary-ack-admin": func(t *testing.T) *parser.Packet { return args(t, parser.Ack, "/admin", 1, []byte{9, 8, 7}) },
	"binary-nested": func(t *testing.T) *parser.Packet {
		return args(t, parser.Event, "/", -1, "nested",
			map[string]any{"a": []any{[]byte{0}, map[string]any{"b": []byte{1}}}, "c": "x"}, []any{[]byte{2}}, []byte{})
	},
	"binary-map": func(t *testing.T) *parser.Packet {
		return args(t, parser.Event, "/", -1, "map",
			map[string]any{"d": []any{1, []byte{0xd}}, "c": []byte{0xc}, "b": "s", "a": []byte{0xa}})
	},
	"binary-deep": func(t *testing.T) *parser.Packet {
		return args(t, parser.Event, "/", -1, "deep", []any{[]any{[]any{[]any{map[string]any{"x": [][]byte{{0xde, 0xad}}}}}}})
	},
	"binary-many": func(t *testing.T) *parser.Packet {
		a := []any{"many"}
		for i := range 12 {
			a = append(a, []byte{byte(i)})
		}
		return args(t, parser.Event, "/", -1, a...)
	},
	"binary-echo": func(t *testing.T) *parser.Packet {
		in := received(t, `52-["message",`+ph0+`,`+ph1+`]`, []byte{1, 2, 3}, []byte{4, 5, 6})
		return args(t, parser.Event, "/", -1, append([]any{"message-back"}, in...)...)
	},
	"binary-echo-ack": func(t *testing.T) *parser.Packet {
		return args(t, parser.Ack, "/", 789, received(t, `52-789["message-with-ack",`+ph0+`,`+ph1+`]`, []byte{1, 2, 3}, []byte{4, 5, 6})...)
	},
	"binary-first-arg": func(t *testing.T) *parser.Packet { return args(t, parser.Ack, "/nsp", 7, []byte{0x42}, "after") },
}

type connectError struct {
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

// object returns a packet whose data is v marshalled by encoding/json.
func object(t *testing.T, typ parser.PacketType, nsp string, v any) *parser.Packet {
	t.Helper()
	data, err := json.Marshal(v)
	testutil.NoErr(t, err)
	return &parser.Packet{Type: typ, Namespace: nsp, Data: data}
}

// args returns a packet whose data is MarshalArgs(a...), with ack id id
// unless it is negative.
func args(t *testing.T, typ parser.PacketType, nsp string, id int64, a ...any) *parser.Packet {
	t.Helper()
	data, atts, err := parser.MarshalArgs(nil, a...)
	testutil.NoErr(t, err)
	return &parser.Packet{Type: typ, Namespace: nsp, ID: uint64(max(id, 0)), HasID: id >= 0, Data: data, Attachments: atts}
}

// received decodes a packet and returns its arguments after the event
// name, as Values.
func received(t *testing.T, text string, atts ...[]byte) []any {
	t.Helper()
	p := decode(t, text, atts...)
	elems, err := parser.SplitArray(p.Data)
	testutil.NoErr(t, err)
	var vals []any
	for _, e := range elems[1:] {
		vals = append(vals, parser.Value{JSON: e, Attachments: p.Attachments})
	}
	return vals
}

func readGolden(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "golden.json"))
	testutil.NoErr(t, err)
	return b
}

// TestGolden checks that AppendText and MarshalArgs write exactly what the
// reference encoder writes, and that the Decoder reads it back.
func TestGolden(t *testing.T) {
	t.Parallel()
	var cases []goldenCase
	testutil.NoErr(t, json.Unmarshal(readGolden(t), &cases))
	seen := map[string]bool{}
	for _, gc := range cases {
		seen[gc.Name] = true
		build := goldenBuilders[gc.Name]
		if build == nil {
			t.Errorf("golden case %q has no builder", gc.Name)
			continue
		}
		t.Run(gc.Name, func(t *testing.T) {
			t.Parallel()
			p := build(t)
			testutil.Equal(t, string(parser.AppendText(nil, p)), gc.Text)
			var gotAtts []string
			for _, a := range p.Attachments {
				gotAtts = append(gotAtts, hex.EncodeToString(a))
			}
			testutil.Equal(t, gotAtts, gc.Attachments, cmpEquateEmpty)

			var atts [][]byte
			for _, h := range gc.Attachments {
				b, err := hex.DecodeString(h)
				testutil.NoErr(t, err)
				atts = append(atts, b)
			}
			got := decodeMax(t, 100, gc.Text, atts...)
			want := *p
			if want.Namespace == "" {
				want.Namespace = "/"
			}
			if len(want.Attachments) > 0 {
				want.Type += parser.BinaryEvent - parser.Event
			}
			testutil.Equal(t, *got, want, cmpEquateEmpty)
		})
	}
	for name := range goldenBuilders {
		if !seen[name] {
			t.Errorf("builder %q has no golden case", name)
		}
	}
}

// TestGoldenNode re-runs testdata/golden.mjs against the npm package and
// checks that testdata/golden.json is what it prints.
func TestGoldenNode(t *testing.T) {
	t.Parallel()
	node := testutil.NeedTool(t, "node")
	pkg := filepath.Join("..", "conformance", "node_modules", "socket.io-parser", "package.json")
	if _, err := os.Stat(pkg); err != nil {
		if testutil.InCI() {
			t.Fatalf("%s is required in CI: %v (run npm ci in conformance/)", pkg, err)
		}
		t.Skipf("SKIPPED: %s is missing (run npm ci in conformance/); golden.json not re-checked against Node", pkg)
	}
	cmd := exec.CommandContext(t.Context(), node, filepath.Join("testdata", "golden.mjs"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node golden.mjs: %v\n%s", err, stderr.Bytes())
	}
	if want := readGolden(t); !bytes.Equal(out, want) {
		t.Fatalf("golden.json is stale; regenerate it with node parser/testdata/golden.mjs > parser/testdata/golden.json\n%s",
			diffLines(string(want), string(out)))
	}
}

// cmpEquateEmpty makes nil and empty slices equal: JSON has no nil.
var cmpEquateEmpty = cmpopts.EquateEmpty()

func diffLines(want, got string) string {
	return cmp.Diff(strings.Split(want, "\n"), strings.Split(got, "\n"))
}

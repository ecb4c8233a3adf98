package msgpack

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gosio/gosio/internal/testutil"
	"github.com/gosio/gosio/parser"
)

// golden.json is written by testdata/gen-golden.mjs with the real
// notepack.io 3.0.1 and @msgpack/msgpack 2.8.0 (see that file to
// regenerate it); these tests do not need Node.

type goldenGen struct {
	Kind string `json:"kind"`
	N    int    `json:"n"`
}

type goldenEncode struct {
	Name      string          `json:"name"`
	JSON      string          `json:"json"`
	Atts      []string        `json:"atts"`
	Gen       *goldenGen      `json:"gen"`
	Divergent bool            `json:"divergent"`
	Stringify *string         `json:"stringify"`
	Notepack  json.RawMessage `json:"notepack"`
	MsgpackJS json.RawMessage `json:"msgpackjs"`
}

type goldenResult struct {
	JSON  *string  `json:"json"`
	Atts  []string `json:"atts"`
	Error string   `json:"error"`
}

type goldenDecode struct {
	Name        string        `json:"name"`
	Hex         string        `json:"hex"`
	EncodeError string        `json:"encodeError"`
	Notepack    *goldenResult `json:"notepack"`
	MsgpackJS   *goldenResult `json:"msgpackjs"`
}

type goldenNumber struct {
	Bits      string `json:"bits"`
	Str       string `json:"str"`
	Notepack  string `json:"notepack"`
	MsgpackJS string `json:"msgpackjs"`
}

type goldenDate struct {
	MS  int64  `json:"ms"`
	ISO string `json:"iso"`
}

type goldenFile struct {
	Encode  []goldenEncode `json:"encode"`
	Decode  []goldenDecode `json:"decode"`
	Numbers []goldenNumber `json:"numbers"`
	Dates   []goldenDate   `json:"dates"`
}

var golden = sync.OnceValue(func() *goldenFile {
	b, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		panic(err)
	}
	var g goldenFile
	if err := json.Unmarshal(b, &g); err != nil {
		panic(err)
	}
	return &g
})

func mustHex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		tb.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// genValue builds the JSON element the generator's gen descriptor stands
// for, as socket.io-parser writes it.
func genValue(g *goldenGen) parser.Value {
	var b strings.Builder
	switch g.Kind {
	case "str":
		b.WriteByte('"')
		for i := range g.N {
			b.WriteByte(byte('a' + i%26))
		}
		b.WriteByte('"')
	case "bin":
		att := make([]byte, g.N)
		for i := range att {
			att[i] = byte(i)
		}
		return parser.Value{JSON: []byte(`{"_placeholder":true,"num":0}`), Attachments: [][]byte{att}}
	case "arr":
		b.WriteByte('[')
		for i := range g.N {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('0')
		}
		b.WriteByte(']')
	case "map":
		b.WriteByte('{')
		for i := range g.N {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`"k` + strconv.Itoa(i) + `":` + strconv.Itoa(i))
		}
		b.WriteByte('}')
	}
	return parser.Value{JSON: []byte(b.String())}
}

func (c goldenEncode) value(tb testing.TB) parser.Value {
	if c.Gen != nil {
		return genValue(c.Gen)
	}
	v := parser.Value{JSON: []byte(c.JSON)}
	for _, a := range c.Atts {
		v.Attachments = append(v.Attachments, mustHex(tb, a))
	}
	return v
}

// checkBytes compares got with a golden encoding: hex, or {len, sha256}.
func checkBytes(t *testing.T, what string, got []byte, want json.RawMessage) {
	t.Helper()
	var h string
	if json.Unmarshal(want, &h) == nil {
		if g := hex.EncodeToString(got); g != h {
			t.Errorf("%s:\n got %s\nwant %s", what, g, h)
		}
		return
	}
	var big struct {
		Len    int    `json:"len"`
		SHA256 string `json:"sha256"`
	}
	if err := json.Unmarshal(want, &big); err != nil || big.SHA256 == "" {
		t.Fatalf("%s: unexpected golden %s", what, want)
	}
	sum := sha256.Sum256(got)
	if len(got) != big.Len || hex.EncodeToString(sum[:]) != big.SHA256 {
		t.Errorf("%s: got %d bytes (sha256 %x), want %d bytes (sha256 %s)", what, len(got), sum, big.Len, big.SHA256)
	}
}

// divergentEncodings are what Go writes where the libraries do not write
// U+FFFD for a lone surrogate (see the package documentation).
var divergentEncodings = map[string]string{
	"str/lone-high-short": "a4efbfbd61",
	"str/lone-low-short":  "a461efbfbd",
}

func TestGoldenEncode(t *testing.T) {
	g := golden()
	if len(g.Encode) < 100 {
		t.Fatalf("only %d encode cases", len(g.Encode))
	}
	for _, c := range g.Encode {
		t.Run(c.Name, func(t *testing.T) {
			v := c.value(t)
			for _, m := range []Mode{Notepack, MsgpackJS} {
				want := c.Notepack
				if m == MsgpackJS {
					want = c.MsgpackJS
				}
				if c.Divergent {
					want = json.RawMessage(strconv.Quote(divergentEncodings[c.Name]))
				}
				got, err := AppendJSON(nil, v, m)
				testutil.NoErr(t, err)
				checkBytes(t, m.String(), got, want)
				// Appending keeps the prefix.
				got2, err := AppendJSON([]byte("prefix"), v, m)
				testutil.NoErr(t, err)
				if !bytes.Equal(got2[6:], got) || string(got2[:6]) != "prefix" {
					t.Errorf("%s: appending to a prefix differs", m)
				}
			}
		})
	}
}

// divergentDecodes lists the inputs the libraries decode and Go refuses
// (see the package documentation): Date and container map keys.
var divergentDecodes = map[string]bool{
	"raw/ts-in-map-key/Notepack": true,
	"raw/map-array-key/Notepack": true,
	"raw/map-map-key/Notepack":   true,
}

func TestGoldenDecode(t *testing.T) {
	g := golden()
	if len(g.Decode) < 300 {
		t.Fatalf("only %d decode cases", len(g.Decode))
	}
	for _, c := range g.Decode {
		if c.EncodeError != "" {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			data := mustHex(t, c.Hex)
			for _, m := range []Mode{Notepack, MsgpackJS} {
				want := c.Notepack
				if m == MsgpackJS {
					want = c.MsgpackJS
				}
				v, err := ToJSONMode(data, m)
				if divergentDecodes[c.Name+"/"+m.String()] {
					if err == nil || !errors.Is(err, ErrMalformed) {
						t.Errorf("%s: want an ErrMalformed error, got %s, %v", m, v.JSON, err)
					}
					continue
				}
				if want.Error != "" {
					if err == nil {
						t.Errorf("%s: JS fails (%s), Go gives %s", m, want.Error, v.JSON)
					} else if !errors.Is(err, ErrMalformed) {
						t.Errorf("%s: error %v does not wrap ErrMalformed", m, err)
					}
					continue
				}
				if err != nil {
					t.Errorf("%s: %v (JS gives %s)", m, err, *want.JSON)
					continue
				}
				if string(v.JSON) != *want.JSON {
					t.Errorf("%s JSON:\n got %s\nwant %s", m, v.JSON, *want.JSON)
				}
				var atts []string
				for _, a := range v.Attachments {
					atts = append(atts, hex.EncodeToString(a))
				}
				if want.Atts == nil {
					want.Atts = []string{}
				}
				if atts == nil {
					atts = []string{}
				}
				testutil.Equal(t, atts, want.Atts)
				if _, _, err := parser.MarshalArgs(nil, v); err != nil {
					t.Errorf("%s: MarshalArgs refuses %s: %v", m, v.JSON, err)
				}
			}
		})
	}
}

// TestGoldenTruncated checks that every strict prefix of every golden
// encoding is an error for ToJSON and Skip, and that nothing panics.
func TestGoldenTruncated(t *testing.T) {
	for _, c := range golden().Decode {
		if c.Hex == "" || len(c.Hex) > 2000 || c.Notepack == nil || c.Notepack.Error != "" {
			continue
		}
		data := mustHex(t, c.Hex)
		for k := range len(data) {
			p := data[:k:k]
			if v, err := ToJSON(p); err == nil {
				t.Errorf("%s: ToJSON of %d of %d bytes gives %s", c.Name, k, len(data), v.JSON)
			}
			if _, err := ToJSONMode(p, MsgpackJS); err == nil {
				t.Errorf("%s: ToJSONMode(MsgpackJS) of %d of %d bytes succeeded", c.Name, k, len(data))
			}
			if err := NewReader(p).Skip(); err == nil {
				t.Errorf("%s: Skip of %d of %d bytes succeeded", c.Name, k, len(data))
			}
		}
		r := NewReader(data)
		raw, err := r.Raw()
		testutil.NoErr(t, err)
		if !bytes.Equal(raw, data) || !r.Done() {
			t.Errorf("%s: Raw took %d of %d bytes", c.Name, len(raw), len(data))
		}
	}
}

func TestGoldenNumbers(t *testing.T) {
	g := golden()
	if len(g.Numbers) < 2000 {
		t.Fatalf("only %d numbers", len(g.Numbers))
	}
	for _, n := range g.Numbers {
		u, err := strconv.ParseUint(n.Bits, 16, 64)
		testutil.NoErr(t, err)
		f := math.Float64frombits(u)
		if got := string(appendJSNumber(nil, f)); got != n.Str {
			t.Errorf("String(%s): got %s, want %s", n.Bits, got, n.Str)
		}
		if got := hex.EncodeToString(AppendNumber(nil, f, Notepack)); got != n.Notepack {
			t.Errorf("notepack encode %s (%s): got %s, want %s", n.Str, n.Bits, got, n.Notepack)
		}
		if got := hex.EncodeToString(AppendNumber(nil, f, MsgpackJS)); got != n.MsgpackJS {
			t.Errorf("msgpack encode %s (%s): got %s, want %s", n.Str, n.Bits, got, n.MsgpackJS)
		}
		// Decoding any of them gives the number back, as JS prints it.
		for _, h := range []string{n.Notepack, n.MsgpackJS} {
			data := mustHex(t, h)
			s, err := NewReader(data).ReadStringOrNumber()
			testutil.NoErr(t, err)
			if h == n.MsgpackJS && s != n.Str {
				t.Errorf("ReadStringOrNumber(%s) = %s, want %s", h, s, n.Str)
			}
		}
	}
}

func TestGoldenDates(t *testing.T) {
	for _, d := range golden().Dates {
		got := string(appendISODate(nil, d.MS))
		if got != `"`+d.ISO+`"` {
			t.Errorf("ISO(%d) = %s, want %q", d.MS, got, d.ISO)
		}
	}
}

// TestGoldenBufferJSON checks BufferJSON against JSON.stringify of the
// value socket.io-parser decodes, Buffers included.
func TestGoldenBufferJSON(t *testing.T) {
	n := 0
	for _, c := range golden().Encode {
		if c.Stringify == nil {
			continue
		}
		n++
		got, err := BufferJSON(c.value(t))
		testutil.NoErr(t, err)
		if string(got) != *c.Stringify {
			t.Errorf("%s:\n got %s\nwant %s", c.Name, got, *c.Stringify)
		}
	}
	if n < 80 {
		t.Fatalf("only %d cases", n)
	}
}

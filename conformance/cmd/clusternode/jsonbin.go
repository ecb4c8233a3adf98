package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/gosio/gosio/internal/clusterwire"
	"github.com/gosio/gosio/parser"
)

// This file holds the harness's JSON conventions (peers/cluster/jsonbin.mjs)
// and the few JavaScript semantics the control API reproduces: a JSON value
// is kept as an ordered tree (jv), so that object keys keep their order and
// numbers are written as JSON.stringify writes them.
//
// Binary travels as {"$bin":"<base64>"}, an object whose only key is $bin.

// jv is a parsed JSON value.
type jv struct {
	kind byte // 'n' null, 'b' bool, 'f' number, 's' string, 'a' array, 'o' object
	b    bool
	f    float64
	s    string
	arr  []*jv
	keys []string // object keys, in order; vals[i] is keys[i]'s value
	vals []*jv
}

// maxDepth bounds the nesting of parsed JSON.
const maxDepth = 1000

// parseJSON parses one JSON value, as JSON.parse does (a repeated key keeps
// its first position and its last value).
func parseJSON(raw []byte) (*jv, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after JSON value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder, depth int) (*jv, error) {
	if depth > maxDepth {
		return nil, errors.New("JSON nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case nil:
		return &jv{kind: 'n'}, nil
	case bool:
		return &jv{kind: 'b', b: t}, nil
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, err
		}
		return &jv{kind: 'f', f: f}, nil // out of range: ±Inf, as JSON.parse gives
	case string:
		return &jv{kind: 's', s: t}, nil
	case json.Delim:
		switch t {
		case '[':
			v := &jv{kind: 'a', arr: []*jv{}}
			for dec.More() {
				e, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				v.arr = append(v.arr, e)
			}
			_, err := dec.Token()
			return v, err
		case '{':
			v := &jv{kind: 'o'}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				e, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				if i := slices.Index(v.keys, k); i >= 0 {
					v.vals[i] = e
				} else {
					v.keys = append(v.keys, k)
					v.vals = append(v.vals, e)
				}
			}
			_, err := dec.Token()
			return v, err
		}
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok)
}

// get returns the value of key in object v, or nil.
func (v *jv) get(key string) *jv {
	if v == nil || v.kind != 'o' {
		return nil
	}
	if i := slices.Index(v.keys, key); i >= 0 {
		return v.vals[i]
	}
	return nil
}

// binary returns the bytes of a {"$bin": base64} object.
func (v *jv) binary() ([]byte, bool) {
	if v.kind != 'o' || len(v.keys) != 1 || v.keys[0] != "$bin" || v.vals[0].kind != 's' {
		return nil, false
	}
	return decodeBase64(v.vals[0].s), true
}

// decodeBase64 decodes s as Node's Buffer.from(s, "base64") does: the
// URL-safe alphabet too, padding optional, other characters skipped.
func decodeBase64(s string) []byte {
	clean := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/':
			clean = append(clean, c)
		case c == '-':
			clean = append(clean, '+')
		case c == '_':
			clean = append(clean, '/')
		case c == '=':
			i = len(s) // padding ends the data
		}
	}
	if len(clean)%4 == 1 {
		clean = clean[:len(clean)-1]
	}
	out, _ := base64.RawStdEncoding.DecodeString(string(clean))
	if out == nil {
		out = []byte{}
	}
	return out
}

// appendJSON appends v as JSON.stringify writes it. With atts not nil,
// {"$bin"} objects become placeholders {"_placeholder":true,"num":N} and
// their bytes are appended to *atts.
func (v *jv) appendJSON(b []byte, atts *[][]byte) []byte {
	switch v.kind {
	case 'n':
		return append(b, "null"...)
	case 'b':
		return strconv.AppendBool(b, v.b)
	case 'f':
		return appendJSNumber(b, v.f)
	case 's':
		return clusterwire.AppendString(b, v.s)
	case 'a':
		b = append(b, '[')
		for i, e := range v.arr {
			if i > 0 {
				b = append(b, ',')
			}
			b = e.appendJSON(b, atts)
		}
		return append(b, ']')
	}
	if atts != nil {
		if bin, ok := v.binary(); ok {
			b = append(b, `{"_placeholder":true,"num":`...)
			b = strconv.AppendInt(b, int64(len(*atts)), 10)
			*atts = append(*atts, bin)
			return append(b, '}')
		}
	}
	b = append(b, '{')
	for i, k := range v.keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = clusterwire.AppendString(b, k)
		b = append(b, ':')
		b = v.vals[i].appendJSON(b, atts)
	}
	return append(b, '}')
}

// toValue converts a harness JSON value to what gosio emits: its JSON with
// each {"$bin"} object a binary attachment (Node's fromJSON).
func toValue(v *jv) *parser.Value {
	var atts [][]byte
	j := v.appendJSON(nil, &atts)
	return &parser.Value{JSON: j, Attachments: atts}
}

// toArgs converts a JSON array of harness values to emit arguments.
func toArgs(arr []*jv) []any {
	out := make([]any, len(arr))
	for i, e := range arr {
		out[i] = toValue(e)
	}
	return out
}

// fromValue converts a received value (JSON with placeholders and its
// attachments) to harness JSON: each placeholder becomes {"$bin"} (Node's
// toJSON of a Buffer).
func fromValue(v parser.Value) json.RawMessage {
	if len(v.JSON) == 0 {
		return json.RawMessage("null")
	}
	t, err := parseJSON(v.JSON)
	if err != nil {
		return json.RawMessage("null")
	}
	if len(v.Attachments) > 0 {
		t = resolvePlaceholders(t, v.Attachments)
	}
	return t.appendJSON(nil, nil)
}

// fromValues converts values to a harness JSON array; none gives [].
func fromValues(vs []parser.Value) json.RawMessage {
	b := []byte{'['}
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, fromValue(v)...)
	}
	return append(b, ']')
}

// fromAny converts a Go value (socket data) to harness JSON: []byte values
// become {"$bin"} objects. nil gives null.
func fromAny(x any) json.RawMessage {
	arr, atts, err := parser.MarshalArgs(nil, x)
	if err != nil {
		return json.RawMessage("null")
	}
	return fromValue(parser.Value{JSON: arr[1 : len(arr)-1], Attachments: atts})
}

func resolvePlaceholders(v *jv, atts [][]byte) *jv {
	switch v.kind {
	case 'a':
		for i, e := range v.arr {
			v.arr[i] = resolvePlaceholders(e, atts)
		}
	case 'o':
		if p := v.get("_placeholder"); p != nil && p.kind == 'b' && p.b {
			if n := v.get("num"); n != nil && n.kind == 'f' && n.f >= 0 && n.f < float64(len(atts)) && n.f == math.Trunc(n.f) {
				bin := base64.StdEncoding.EncodeToString(atts[int(n.f)])
				return &jv{kind: 'o', keys: []string{"$bin"}, vals: []*jv{{kind: 's', s: bin}}}
			}
		}
		for i, e := range v.vals {
			v.vals[i] = resolvePlaceholders(e, atts)
		}
	}
	return v
}

// appendJSNumber appends f as JavaScript's Number#toString (and
// JSON.stringify, but for non-finite numbers, which it writes null).
func appendJSNumber(b []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(b, "null"...)
	}
	return append(b, jsNumberString(f)...)
}

// jsNumberString is String(f) in JavaScript.
func jsNumberString(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	}
	abs := math.Abs(f)
	if abs >= 1e-6 && abs < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // 1e+21, 1e-07
	mant, exp, _ := strings.Cut(s, "e")
	sign := exp[0]
	exp = strings.TrimLeft(exp[1:], "0")
	return mant + "e" + string(sign) + exp
}

// jsString is String(v) in JavaScript.
func jsString(v *jv) string {
	switch v.kind {
	case 'n':
		return "null"
	case 'b':
		return strconv.FormatBool(v.b)
	case 'f':
		return jsNumberString(v.f)
	case 's':
		return v.s
	case 'a':
		parts := make([]string, len(v.arr))
		for i, e := range v.arr {
			if e.kind != 'n' {
				parts[i] = jsString(e)
			}
		}
		return strings.Join(parts, ",")
	}
	return "[object Object]"
}

// jsNumber is Number(v) in JavaScript.
func jsNumber(v *jv) float64 {
	switch v.kind {
	case 'n':
		return 0
	case 'b':
		if v.b {
			return 1
		}
		return 0
	case 'f':
		return v.f
	case 's':
		return jsNumberOfString(v.s)
	case 'a':
		switch len(v.arr) {
		case 0:
			return 0
		case 1:
			return jsNumberOfString(jsString(v.arr[0]))
		}
	}
	return math.NaN()
}

// jsNumberOfString is Number(s) for a string: decimal (and Infinity),
// surrounding white space ignored, "" is 0.
func jsNumberOfString(s string) float64 {
	s = strings.TrimSpace(s)
	switch s {
	case "":
		return 0
	case "Infinity", "+Infinity":
		return math.Inf(1)
	case "-Infinity":
		return math.Inf(-1)
	}
	if strings.ContainsAny(s, "_xXoObBnN") { // Go syntax JavaScript rejects (or hex, not worth it)
		return math.NaN()
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return math.NaN()
	}
	return f
}

// truthy is JavaScript's truthiness of v (nil is undefined).
func truthy(v *jv) bool {
	if v == nil {
		return false
	}
	switch v.kind {
	case 'n':
		return false
	case 'b':
		return v.b
	case 'f':
		return v.f != 0 && !math.IsNaN(v.f)
	case 's':
		return v.s != ""
	}
	return true
}

// jsLess orders strings as JavaScript's default sort does: by UTF-16 code
// units.
func jsCompare(a, b string) int {
	if isASCII(a) && isASCII(b) {
		return strings.Compare(a, b)
	}
	return slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// jsSorted returns a sorted copy of s, as [...s].sort() gives it.
func jsSorted(s []string) []string {
	out := slices.Clone(s)
	if out == nil {
		out = []string{}
	}
	slices.SortStableFunc(out, jsCompare)
	return out
}

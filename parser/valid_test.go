package parser

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

var validCases = []string{
	``, ` `, `null`, ` true `, `false`, `nul`, `nulls`, `tru`, `0`, `-0`, `01`, `-`, `1.`, `1.5`, `.5`, `1e5`,
	`1E+5`, `1e-5`, `1e`, `1e+`, `-1.5e10`, `"`, `""`, `"abc"`, `"a\"b"`, `"\u00e9"`, `"\u00g9"`, `"\u00e"`,
	`"\x"`, `"\/\b\f\n\r\t\\"`, "\"\x01\"", "\"\x7f\xff\xfe\"", `[]`, `[ ]`, `[,]`, `[1,]`, `[1 2]`, `[1,2]`,
	`{}`, `{ }`, `{"a":1}`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `{"a":}`, `{"a":1,"b":[true,{"c":null}]}`,
	`[[[[]]]]`, `[[[[]]]`, `]`, `}`, `[}`, `{]`, `[1]]`, `"abcdefghijklmnopqrstuvwxyz0123456789"`,
	`"abcdefgh\"ijklmnop"`, "\"abcdefghijklmn\nopqrstuvw\"", `"abcdefghijklmnopqrstuvwxyz`, `1 1`, `{"a":1}{}`,
	"\t\r\n[\t1\r,\n2 ]\n", "\v1", `["echo",{"t":123,"s":1,"p":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}]`,
}

// TestValidJSONAgreesWithEncodingJSON checks validJSON against json.Valid
// on edge cases, at the nesting limit and beyond it.
func TestValidJSONAgreesWithEncodingJSON(t *testing.T) {
	cases := append([]string(nil), validCases...)
	for _, depth := range []int{maxNesting - 1, maxNesting, maxNesting + 1} {
		cases = append(cases, strings.Repeat("[", depth)+strings.Repeat("]", depth))
		cases = append(cases, strings.Repeat(`{"a":`, depth)+"1"+strings.Repeat("}", depth))
	}
	for _, c := range cases {
		if got, want := validJSON([]byte(c)), json.Valid([]byte(c)); got != want {
			t.Errorf("validJSON(%.40q) = %v, json.Valid says %v", c, got, want)
		}
	}
}

// FuzzValidJSON: validJSON and json.Valid agree on every input.
func FuzzValidJSON(f *testing.F) {
	for _, c := range validCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, d []byte) {
		if got, want := validJSON(d), json.Valid(d); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid says %v", d, got, want)
		}
	})
}

func BenchmarkValidJSON(b *testing.B) {
	for _, size := range []int{32, 1024, 16384} {
		d := []byte(`["echo",{"t":1764200000000,"s":1,"p":"` + strings.Repeat("x", size) + `"}]`)
		b.Run("ours/"+strconv.Itoa(size), func(b *testing.B) {
			b.SetBytes(int64(len(d)))
			for b.Loop() {
				validJSON(d)
			}
		})
		b.Run("encoding_json/"+strconv.Itoa(size), func(b *testing.B) {
			b.SetBytes(int64(len(d)))
			for b.Loop() {
				json.Valid(d)
			}
		})
	}
}

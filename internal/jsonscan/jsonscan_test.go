package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
)

var seeds = []string{
	`{}`, `[]`, `""`, `"a\u00e9\ud83d\ude00"`, `"\ud800"`, "\"\xff\"", `0`, `-0.5e+10`, `01`, `1.`, `-`, `1e`,
	`{"a":[1,true,false,null,{"b":"c"}]}`, `{"a":1,}`, `[1,]`, `{"a" 1}`, ` [ 1 , 2 ] `, `tru`, `nul`,
	`{"headers":{"host":"x","set-cookie":["a","b"]},"issued":1.5}`, "\"a\tb\"", `"\x"`, `"\u12"`,
	// Past ScanString's first two words, where it splits at quotes and
	// backslashes.
	`"0123456789abcdef0123456789abcdef0123\"456789abcdef\\"`, `"0123456789abcdefghij\u00e9klmnopqrstuvwxyz0123456789"`,
	"\"0123456789abcdefghijklmnopqrstuvwxyz0123456789\x01\"", `"0123456789abcdefghijklmnopqrstuvwx\\\"yz"`,
	`["0123456789abcdefghij\u00"]`, `"0123456789abcdefghij\`,
}

// TestScanStringAtEveryPosition puts each kind of special byte sequence at
// every position of strings up to 80 bytes long, alone and with a second
// one after it, and checks ScanString against encoding/json: it must end
// right after the first quote that closes a valid string, and return -1
// when the string is not valid up to its closing quote.
func TestScanStringAtEveryPosition(t *testing.T) {
	specials := []string{`\"`, `\\`, `\/`, `\n`, `\u00e9`, `\u12`, `\x`, "\x01", "\x1f", "\t", "\u00e9", "\xff", `"`, `\`}
	check := func(body string) {
		t.Helper()
		b := []byte(`"` + body + `"`)
		want := firstEnd(b)
		for prefix := range 2 {
			in := append([]byte(" "[:prefix]), b...)
			got := ScanString(in, prefix)
			if want < 0 && got != -1 || want >= 0 && got != want+prefix {
				t.Fatalf("ScanString(%q, %d) = %d, want %d", in, prefix, got, want+prefix)
			}
		}
	}
	for n := range 81 {
		pad := strings.Repeat("x", n)
		for _, a := range specials {
			check(pad + a)
			check(pad + a + "yz")
			for _, z := range specials {
				check(pad + a + strings.Repeat("y", n%19) + z + "w")
			}
		}
	}
}

// firstEnd returns the length of the shortest prefix of b that is a valid
// JSON string, or -1.
func firstEnd(b []byte) int {
	for i := 2; i <= len(b); i++ {
		if b[i-1] == '"' && json.Valid(b[:i]) {
			return i
		}
	}
	return -1
}

// FuzzSkipMatchesValid: Valid agrees with encoding/json.Valid on every
// input, and Skip ends where the value ends.
func FuzzSkipMatchesValid(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(s)
		if got, want := Valid(b), json.Valid(b); got != want {
			t.Fatalf("Valid(%q) = %v, encoding/json says %v", s, got, want)
		}
		if end, err := Skip(b, 0); err == nil && !json.Valid(b[:end]) {
			t.Fatalf("Skip(%q) ended at %d, on %q that is not valid", s, end, b[:end])
		}
	})
}

// FuzzStringMatchesUnmarshal: String decodes as encoding/json does, and
// fails where it fails.
func FuzzStringMatchesUnmarshal(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(s)
		got, end, err := String(b, 0)
		var want string
		werr := json.Unmarshal(b, &want)
		if err == nil && WS(b, end) == len(b) {
			if werr != nil || got != want {
				t.Fatalf("String(%q) = %q, encoding/json gives %q, %v", s, got, want, werr)
			}
		} else if werr == nil && !jsonNullWS(b) {
			t.Fatalf("String(%q) failed (%v, end %d), encoding/json gives %q", s, err, end, want)
		}
	})
}

// FuzzWalkMatchesValid: walking every object and array member by member
// accepts exactly what encoding/json.Valid accepts.
func FuzzWalkMatchesValid(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(s)
		end, err := walk(b, 0)
		ok := err == nil && WS(b, end) == len(b)
		if want := json.Valid(b); ok != want {
			t.Fatalf("walk(%q) ok=%v (%v), encoding/json.Valid says %v", s, ok, err, want)
		}
	})
}

// walk consumes the value at b[i:] with Object and Array for containers
// and String for strings.
func walk(b []byte, i int) (int, error) {
	i = WS(b, i)
	if i < len(b) {
		switch b[i] {
		case '{':
			o := NewObject(b, i)
			for _, at, ok := o.Next(); ok; _, at, ok = o.Next() {
				end, err := walk(b, at)
				if err != nil {
					o.Fail(err)
					break
				}
				o.Done(end)
			}
			return o.End()
		case '[':
			a := NewArray(b, i)
			for at, ok := a.Next(); ok; at, ok = a.Next() {
				end, err := walk(b, at)
				if err != nil {
					a.Fail(err)
					break
				}
				a.Done(end)
			}
			return a.End()
		case '"':
			_, end, err := String(b, i)
			return end, err
		}
	}
	return Skip(b, i)
}

func TestCases(t *testing.T) {
	for _, s := range seeds {
		if got, want := Valid([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("Valid(%q) = %v, want %v", s, got, want)
		}
		end, err := walk([]byte(s), 0)
		if ok := err == nil && WS([]byte(s), end) == len(s); ok != json.Valid([]byte(s)) {
			t.Errorf("walk(%q) = %v", s, ok)
		}
	}
	deep := make([]byte, 0, 20002)
	for range 10001 {
		deep = append(deep, '[')
	}
	for range 10001 {
		deep = append(deep, ']')
	}
	if Valid(deep) || json.Valid(deep) {
		t.Errorf("nesting of 10001 accepted")
	}
	if !Valid(deep[1 : len(deep)-1]) {
		t.Errorf("nesting of 10000 refused")
	}
}

func BenchmarkSkip(b *testing.B) {
	in := []byte(`{"headers":{"host":"localhost:3000","connection":"keep-alive","user-agent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36","accept":"*/*"},"issued":1796304033123,"xdomain":false,"query":{"EIO":"4"}}`)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := Skip(in, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// jsonNullWS reports whether b is null with whitespace around it, which
// encoding/json accepts into a string as a no-op.
func jsonNullWS(b []byte) bool {
	i := WS(b, 0)
	end, err := literal(b, i, "null")
	return err == nil && WS(b, end) == len(b)
}

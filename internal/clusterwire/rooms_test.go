package clusterwire

import (
	"encoding/json"
	"slices"
	"strconv"
	"testing"
)

// roomsByEncodingJSON is Rooms.UnmarshalJSON written with encoding/json
// alone: the reference the one-pass reader must match.
func roomsByEncodingJSON(b []byte) ([]string, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(raw))
	for _, e := range raw {
		if len(e) > 0 && e[0] == '"' {
			var s string
			if err := json.Unmarshal(e, &s); err != nil {
				return nil, err
			}
			out = append(out, s)
			continue
		}
		var f float64
		if err := json.Unmarshal(e, &f); err != nil {
			return nil, ErrMalformed
		}
		out = append(out, strconv.FormatFloat(f, 'f', -1, 64))
	}
	return out, nil
}

// FuzzRoomsMatchesEncodingJSON: Rooms accepts what the encoding/json
// reading accepts and gives the same names.
func FuzzRoomsMatchesEncodingJSON(f *testing.F) {
	for _, s := range []string{`[]`, `null`, ` ["a", 1, 1.5e3, null]`, `["\u00e9\ud800"]`, `[true]`, `["a",]`, `{}`, `"a"`, `[1e999]`, `[-0]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got Rooms
		err := got.UnmarshalJSON([]byte(s))
		want, werr := roomsByEncodingJSON([]byte(s))
		if (err == nil) != (werr == nil) {
			t.Fatalf("%q: Rooms error %v, encoding/json %v", s, err, werr)
		}
		if err == nil && !slices.Equal(got, want) {
			t.Fatalf("%q: Rooms %q, encoding/json %q", s, got, want)
		}
	})
}

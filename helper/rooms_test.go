package helper

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/gosio/gosio/internal/testutil"
)

func TestDecodeRooms(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want []string // nil: refused
	}{
		{`{"rooms":["a","b"]}`, []string{"a", "b"}},
		{` { "rooms" : [ "a" , "a", "b" ] , "x": 1 } `, []string{"a", "b"}},
		{`{"rooms":["\u00e9","a\"b"]}`, []string{"é", `a"b`}},
		// ignis-helpers-behaviour.md §5.
		{`null`, nil},
		{`"public-z"`, nil},
		{`{"rooms":[]}`, nil},
		{`{"rooms":"public-str"}`, nil},
		{`{"rooms":[1,"public-b",null]}`, nil},
		{`{"rooms":"abc"}`, nil},
		{`{"rooms":{"length":1}}`, nil},
		// More.
		{``, nil},
		{`{}`, nil},
		{`{"rooms":null}`, nil},
		{`{"rooms":[null]}`, nil},
		{`{"rooms":[""]}`, nil},
		{`{"rooms":[["a"]]}`, nil},
		{`{"rooms":[{"_placeholder":true,"num":0}]}`, nil},
		{`["a"]`, nil},
		{`7`, nil},
		{`{"rooms":["a"]`, nil},
		{`{"rooms":["a",]}`, nil},
	} {
		got, err := decodeRooms(json.RawMessage(tc.in))
		if tc.want == nil {
			if err == nil {
				t.Errorf("decodeRooms(%s) = %q, want an error", tc.in, got)
			}
			continue
		}
		testutil.NoErr(t, err)
		testutil.Equal(t, got, tc.want)
	}
}

// FuzzDecodeRooms checks that decodeRooms never panics, that what it
// accepts is a list of distinct non-empty rooms that the payload really
// holds, and that the accepted rooms round-trip through the encoding the
// clients send.
func FuzzDecodeRooms(f *testing.F) {
	for _, s := range []string{
		`{"rooms":["a","b"]}`, `null`, `"public-z"`, `{"rooms":[]}`, `{"rooms":"public-str"}`,
		`{"rooms":[1,"public-b",null]}`, `{"rooms":{"length":1}}`, `{"rooms":["a","a"]}`,
		`{"rooms":["\ud800"]}`, `{"rooms":["x"],"rooms":["y"]}`, ` {"rooms" : ["a"] } `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		rooms, err := decodeRooms(in)
		if err != nil {
			if rooms != nil {
				t.Fatalf("refused with rooms %q", rooms)
			}
			return
		}
		if len(rooms) == 0 {
			t.Fatal("accepted with no rooms")
		}
		seen := map[string]bool{}
		for _, r := range rooms {
			if r == "" || seen[r] {
				t.Fatalf("rooms %q: empty or repeated", rooms)
			}
			seen[r] = true
		}
		// The payload holds these rooms under the exact key "rooms" (as
		// JavaScript reads payload.rooms; a struct would match any case),
		// duplicates aside.
		var obj map[string]json.RawMessage
		var held []string
		if err := json.Unmarshal(in, &obj); err != nil {
			t.Fatalf("accepted %q, which json.Unmarshal refuses: %v", in, err)
		}
		if err := json.Unmarshal(obj["rooms"], &held); err != nil {
			t.Fatalf("accepted %q, whose rooms json.Unmarshal refuses: %v", in, err)
		}
		var uniq []string
		for _, r := range held {
			if !slices.Contains(uniq, r) {
				uniq = append(uniq, r)
			}
		}
		if !slices.Equal(uniq, rooms) {
			t.Fatalf("rooms %q, the payload holds %q", rooms, held)
		}
		// Round trip.
		b, err := json.Marshal(roomsPayload{Rooms: rooms})
		if err != nil {
			t.Fatal(err)
		}
		again, err := decodeRooms(b)
		if err != nil || !slices.Equal(again, rooms) {
			t.Fatalf("round trip of %q: %q, %v", rooms, again, err)
		}
	})
}

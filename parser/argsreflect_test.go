package parser

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/gosio/gosio/internal/testutil"
)

type blobMeta struct {
	Name string `json:"name"`
	Data []byte `json:"data"`
}

type blobBase struct {
	ID   int    `json:"id"`
	Raw  []byte `json:"raw,omitempty"`
	Skip []byte `json:"-"`
}

type blobDoc struct {
	blobBase
	Title  string              `json:"title"`
	Cover  *blobMeta           `json:"cover"`
	Pages  []blobMeta          `json:"pages"`
	ByName map[string]blobMeta `json:"byName"`
	Extra  any                 `json:"extra"`
	Count  int                 `json:"count,string"`
	When   time.Time           `json:"when"`
	Empty  []byte              `json:"empty,omitempty"`
}

// TestMarshalArgsBytesInStructs checks that []byte at any depth of structs,
// maps and slices becomes an attachment, numbered in text order, that the
// rest is written as encoding/json writes it, and that Unmarshal decodes
// the attachments back into the struct.
func TestMarshalArgsBytesInStructs(t *testing.T) {
	t.Parallel()
	when := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	doc := blobDoc{
		blobBase: blobBase{ID: 7, Raw: []byte("raw"), Skip: []byte("no")},
		Title:    "t",
		Cover:    &blobMeta{Name: "c", Data: []byte{1, 2}},
		Pages:    []blobMeta{{Name: "p0", Data: []byte{3}}, {Name: "p1", Data: []byte{}}},
		ByName:   map[string]blobMeta{"b": {Name: "b", Data: []byte{5}}, "a": {Name: "a", Data: []byte{4}}},
		Extra:    map[string]any{"k": []byte{6}},
		Count:    3,
		When:     when,
	}
	data, atts, err := MarshalArgs(nil, "ev", doc)
	testutil.NoErr(t, err)
	ph := func(n string) string { return `{"_placeholder":true,"num":` + n + `}` }
	want := `["ev",{"id":7,"raw":` + ph("0") + `,"title":"t","cover":{"name":"c","data":` + ph("1") +
		`},"pages":[{"name":"p0","data":` + ph("2") + `},{"name":"p1","data":` + ph("3") +
		`}],"byName":{"a":{"name":"a","data":` + ph("4") + `},"b":{"name":"b","data":` + ph("5") +
		`}},"extra":{"k":` + ph("6") + `},"count":"3","when":"2024-05-06T07:08:09Z"}]`
	testutil.Equal(t, string(data), want)
	testutil.Equal(t, atts, [][]byte{[]byte("raw"), {1, 2}, {3}, {}, {4}, {5}, {6}})

	vals, err := SplitValues(data, atts)
	testutil.NoErr(t, err)
	var back blobDoc
	testutil.NoErr(t, Unmarshal(vals[1].JSON, vals[1].Attachments, &back))
	testutil.Equal(t, back.Cover.Data, []byte{1, 2})
	testutil.Equal(t, back.Pages[0].Data, []byte{3})
	testutil.Equal(t, back.ByName["b"].Data, []byte{5})
	testutil.Equal(t, back.Raw, []byte("raw"))
	testutil.Equal(t, back.Count, 3)
	if !back.When.Equal(when) {
		t.Fatalf("when %v", back.When)
	}
}

// TestMarshalArgsStructsLikeJSON checks that a struct without bytes is
// written as encoding/json writes it, walked (an interface field) or not.
func TestMarshalArgsStructsLikeJSON(t *testing.T) {
	t.Parallel()
	type inner struct {
		A int `json:"a"`
	}
	type walkedT struct {
		inner
		*blobMeta
		V   any               `json:"v"`
		M   map[int]string    `json:"m"`
		N   *inner            `json:"n"`
		O   string            `json:"o,omitempty"`
		S   []any             `json:"s"`
		Arr [2]int            `json:"arr"`
		R   json.RawMessage   `json:"r"`
		MM  map[string]*inner `json:"mm"`
	}
	for _, v := range []any{
		walkedT{inner: inner{A: 1}, V: "x<y>", M: map[int]string{2: "b", 10: "a"}, S: []any{1.5, nil}, R: json.RawMessage(`{"z":1}`), MM: map[string]*inner{"q": nil}},
		struct{ X, Y int }{1, 2},
		map[string]inner{"k": {A: 3}},
	} {
		data, atts, err := MarshalArgs(nil, v)
		testutil.NoErr(t, err)
		testutil.Equal(t, len(atts), 0)
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		testutil.NoErr(t, enc.Encode(v))
		testutil.Equal(t, string(data), "["+string(bytes.TrimSpace(buf.Bytes()))+"]")
	}
}

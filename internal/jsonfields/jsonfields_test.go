package jsonfields

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

type inner struct {
	A int
	B int `json:"b"`
}

type other struct{ A int }

type sample struct {
	inner
	*other
	C   string `json:"c,omitempty"`
	Bad int    `json:"a\"b"` // not a valid tag name: encoding/json uses Bad
	Q   int    `json:",string"`
	Z   int    `json:"z,omitzero"`
	Not int    `json:"-"`
	low int
}

// TestOfNamesAsEncodingJSON: the names Of lists, in order, are the keys
// encoding/json writes for the same value.
func TestOfNamesAsEncodingJSON(t *testing.T) {
	v := sample{C: "x", Z: 1, other: &other{}, low: 1}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var keys []string
	_, _ = dec.Token()
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var skip json.RawMessage
		_ = dec.Decode(&skip)
	}
	var names []string
	for _, f := range Of(reflect.TypeFor[sample]()) {
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != strings.Join(keys, ",") {
		t.Fatalf("Of: %v; encoding/json wrote %v (%s)", names, keys, b)
	}
	fs := Of(reflect.TypeFor[sample]())
	if len(fs) != 5 || !fs[1].OmitEmpty || fs[2].Tagged || !fs[3].Quoted || !fs[4].OmitZero {
		t.Fatalf("options: %+v", fs)
	}
}

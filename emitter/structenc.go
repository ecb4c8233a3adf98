package emitter

import (
	"encoding"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/gosio/gosio/internal/jsonfields"
	"github.com/gosio/gosio/internal/msgpack"
)

// Structs of plain fields are written to msgpack directly, with the
// fields encoding/json would write (jsonfields.Of), from a plan made once
// per type. A struct qualifies when it writes at most 15 fields, embeds
// none, each of kind bool, string, an integer or float64, with no
// ",string" or ",omitzero" option, no name JavaScript would reorder (an
// array index) or treat specially (__proto__), and neither the struct nor
// a field type marshals itself (json.Marshaler, encoding.TextMarshaler).
// Anything else goes through encoding/json.

type structField struct {
	index     int
	name      string // msgpack str of the JSON name
	kind      reflect.Kind
	omitEmpty bool
}

type structPlan struct {
	ok     bool
	fields []structField
}

var structPlans sync.Map // reflect.Type -> *structPlan

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

func marshalsItself(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	return t.Implements(jsonMarshaler) || t.Implements(textMarshaler) || pt.Implements(jsonMarshaler) || pt.Implements(textMarshaler)
}

func planOf(t reflect.Type) *structPlan {
	if p, ok := structPlans.Load(t); ok {
		return p.(*structPlan)
	}
	p := makePlan(t)
	structPlans.Store(t, p)
	return p
}

// makePlan plans the fields encoding/json writes for t (jsonfields.Of),
// or refuses t when it does not qualify.
func makePlan(t reflect.Type) *structPlan {
	no := &structPlan{}
	if marshalsItself(t) {
		return no
	}
	for i := range t.NumField() {
		if t.Field(i).Anonymous {
			return no
		}
	}
	fs := jsonfields.Of(t)
	if len(fs) > 15 {
		return no
	}
	p := &structPlan{ok: true}
	for _, f := range fs {
		if f.Quoted || f.OmitZero || f.Name == "__proto__" || isArrayIndex(f.Name) {
			return no
		}
		switch f.Type.Kind() {
		case reflect.Bool, reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float64:
		default:
			return no
		}
		if marshalsItself(f.Type) {
			return no
		}
		p.fields = append(p.fields, structField{index: f.Index[0], name: string(msgpack.AppendString(nil, f.Name)), kind: f.Type.Kind(), omitEmpty: f.OmitEmpty})
	}
	return p
}

// isArrayIndex reports whether JavaScript orders key s before the others
// (a canonical array index, 0 to 2^32-2).
func isArrayIndex(s string) bool {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return err == nil && n < math.MaxUint32
}

// appendStruct appends v, a struct, as a msgpack map, or returns false
// (b unchanged) when v does not qualify.
func appendStruct(b []byte, v reflect.Value) ([]byte, bool) {
	p := planOf(v.Type())
	if !p.ok {
		return b, false
	}
	n := 0
	for _, f := range p.fields {
		fv := v.Field(f.index)
		switch f.kind {
		case reflect.String:
			if !utf8.ValidString(fv.String()) {
				return b, false
			}
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			if i := fv.Int(); i > maxSafeInt || i < -maxSafeInt {
				return b, false
			}
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			if fv.Uint() > maxSafeInt {
				return b, false
			}
		case reflect.Float64:
			if f := fv.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
				return b, false
			}
		}
		if !f.omitEmpty || !fv.IsZero() {
			n++
		}
	}
	b = msgpack.AppendMapHeader(b, n)
	for _, f := range p.fields {
		fv := v.Field(f.index)
		if f.omitEmpty && fv.IsZero() {
			continue
		}
		b = append(b, f.name...)
		switch f.kind {
		case reflect.String:
			b = msgpack.AppendString(b, fv.String())
		case reflect.Bool:
			b = msgpack.AppendBool(b, fv.Bool())
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			b = msgpack.AppendNumber(b, float64(fv.Int()), msgpack.Notepack)
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			b = msgpack.AppendNumber(b, float64(fv.Uint()), msgpack.Notepack)
		case reflect.Float64:
			b = msgpack.AppendNumber(b, fv.Float(), msgpack.Notepack)
		}
	}
	return b, true
}

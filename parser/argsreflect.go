package parser

import (
	"encoding"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/gosio/gosio/internal/jsonfields"
)

// MarshalArgs walks the values encoding/json would otherwise marshal whole
// when their type can hold a []byte (or an interface that may hold one),
// so that bytes at any depth of structs, maps and slices travel as binary
// attachments, as a Buffer does anywhere in Node's arguments. Everything
// else follows encoding/json's rules: field names and tags, omitempty,
// omitzero and string options, embedded structs, sorted map keys, and the
// json.Marshaler and encoding.TextMarshaler methods (a type with one is
// marshalled by encoding/json, as it asks).

var (
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	byteType          = reflect.TypeFor[byte]()
)

// walkCache holds, by reflect.Type, whether values of the type are walked.
var walkCache sync.Map

// walked reports whether MarshalArgs walks values of type t rather than
// handing them to encoding/json.
func walked(t reflect.Type) bool {
	if w, ok := walkCache.Load(t); ok {
		return w.(bool)
	}
	w := reaches(t, make(map[reflect.Type]bool))
	walkCache.Store(t, w)
	return w
}

// reaches reports whether a value of type t can hold bytes to attach.
func reaches(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false // a recursive type: the first visit answers
	}
	seen[t] = true
	if ownMarshaler(t) {
		return false
	}
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Slice:
		return isBytes(t) || reaches(t.Elem(), seen)
	case reflect.Pointer, reflect.Array, reflect.Map:
		return reaches(t.Elem(), seen)
	case reflect.Struct:
		for _, f := range jsonfields.Of(t) {
			if reaches(f.Type, seen) {
				return true
			}
		}
	}
	return false
}

// ownMarshaler reports whether t (or *t) marshals itself.
func ownMarshaler(t reflect.Type) bool {
	return t.Implements(marshalerType) || t.Implements(textMarshalerType) ||
		t.Kind() != reflect.Pointer && (reflect.PointerTo(t).Implements(marshalerType) || reflect.PointerTo(t).Implements(textMarshalerType))
}

// isBytes reports whether t is a slice of bytes that encoding/json would
// write as base64.
func isBytes(t reflect.Type) bool {
	return t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 && !ownMarshaler(t.Elem())
}

// value writes v, a value of a walked type or inside one.
func (e *argEncoder) value(v reflect.Value, depth int) error {
	if depth > maxDepth {
		return errTooDeep
	}
	t := v.Type()
	if ownMarshaler(t) || !walked(t) && t.Kind() != reflect.Interface {
		switch {
		case v.Kind() == reflect.Pointer && v.IsNil():
			e.buf = append(e.buf, "null"...)
			return nil
		case v.CanInterface():
			return e.encode(v.Interface(), depth)
		}
		// A field promoted from an unexported embedded struct.
		switch v.Kind() {
		case reflect.Bool:
			e.buf = strconv.AppendBool(e.buf, v.Bool())
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			e.buf = strconv.AppendInt(e.buf, v.Int(), 10)
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			e.buf = strconv.AppendUint(e.buf, v.Uint(), 10)
		case reflect.Float32:
			return e.float(v.Float(), 32)
		case reflect.Float64:
			return e.float(v.Float(), 64)
		case reflect.String:
			e.buf = appendString(e.buf, v.String())
		default:
			e.buf = append(e.buf, "null"...)
		}
		return nil
	}
	switch v.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return e.encode(v.Elem().Interface(), depth+1)
	case reflect.Pointer:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return e.value(v.Elem(), depth+1)
	case reflect.Slice:
		if isBytes(t) {
			e.placeholder(v.Bytes())
			return nil
		}
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return e.elements(v, depth)
	case reflect.Array:
		return e.elements(v, depth)
	case reflect.Map:
		return e.mapValue(v, depth)
	case reflect.Struct:
		return e.structValue(v, depth)
	}
	return e.encode(v.Interface(), depth)
}

func (e *argEncoder) elements(v reflect.Value, depth int) error {
	e.buf = append(e.buf, '[')
	for i := range v.Len() {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.value(v.Index(i), depth+1); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, ']')
	return nil
}

func (e *argEncoder) mapValue(v reflect.Value, depth int) error {
	if v.IsNil() {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	type kv struct {
		key string
		val reflect.Value
	}
	kvs := make([]kv, 0, v.Len())
	for it := v.MapRange(); it.Next(); {
		k, err := mapKey(it.Key())
		if err != nil {
			return err
		}
		kvs = append(kvs, kv{k, it.Value()})
	}
	slices.SortFunc(kvs, func(a, b kv) int { return strings.Compare(a.key, b.key) })
	e.buf = append(e.buf, '{')
	for i, p := range kvs {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = appendString(e.buf, p.key)
		e.buf = append(e.buf, ':')
		if err := e.value(p.val, depth+1); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, '}')
	return nil
}

// mapKey returns a map key as encoding/json writes it.
func mapKey(k reflect.Value) (string, error) {
	if k.Kind() == reflect.String {
		return k.String(), nil
	}
	if tm, ok := k.Interface().(encoding.TextMarshaler); ok {
		if k.Kind() == reflect.Pointer && k.IsNil() {
			return "", nil
		}
		b, err := tm.MarshalText()
		return string(b), err
	}
	switch k.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(k.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(k.Uint(), 10), nil
	}
	return "", &json.UnsupportedTypeError{Type: k.Type()}
}

func (e *argEncoder) structValue(v reflect.Value, depth int) error {
	e.buf = append(e.buf, '{')
	first := true
fields:
	for _, f := range jsonfields.Of(v.Type()) {
		fv := v
		for _, i := range f.Index {
			if fv.Kind() == reflect.Pointer {
				if fv.IsNil() {
					continue fields // a nil embedded pointer has no fields
				}
				fv = fv.Elem()
			}
			fv = fv.Field(i)
		}
		if f.OmitEmpty && isEmpty(fv) || f.OmitZero && isZero(fv) {
			continue
		}
		if !first {
			e.buf = append(e.buf, ',')
		}
		first = false
		e.buf = appendString(e.buf, f.Name)
		e.buf = append(e.buf, ':')
		if f.Quoted {
			if err := e.quoted(fv, depth); err != nil {
				return err
			}
			continue
		}
		if err := e.value(fv, depth+1); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, '}')
	return nil
}

// quoted writes a field with the string option: its JSON inside a string.
func (e *argEncoder) quoted(v reflect.Value, depth int) error {
	inner := argEncoder{}
	if err := inner.value(v, depth+1); err != nil {
		return err
	}
	if string(inner.buf) == "null" {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	e.buf = appendString(e.buf, string(inner.buf))
	return nil
}

func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

func isZero(v reflect.Value) bool {
	if z, ok := v.Interface().(interface{ IsZero() bool }); ok {
		if v.Kind() == reflect.Pointer && v.IsNil() {
			return true
		}
		return z.IsZero()
	}
	return v.IsZero()
}

// Package jsonfields lists the fields encoding/json writes for a struct
// type, with their names and options, under its rules: tags, embedded
// structs promoted (the shallowest field of a name wins, then the tagged
// one; a tie drops the name), invalid tag names replaced by the Go name.
// The parser's binary-aware argument encoder and the emitter's direct
// msgpack encoder both follow it, so that they write what encoding/json
// would.
package jsonfields

import (
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode"
)

// A Field is a field encoding/json writes.
type Field struct {
	Name  string
	Index []int // as for reflect.Value.FieldByIndex, through embedded structs
	Type  reflect.Type
	// Tagged is set when the name comes from the json tag.
	Tagged bool
	// The tag's options; Quoted is the string option on a type it applies to.
	OmitEmpty, OmitZero, Quoted bool
}

var cache sync.Map // reflect.Type -> []Field

// Of returns the fields of struct type t that encoding/json writes, in its
// order. The result is shared: callers must not modify it.
func Of(t reflect.Type) []Field {
	if fs, ok := cache.Load(t); ok {
		return fs.([]Field)
	}
	type level struct {
		t     reflect.Type
		index []int
	}
	var all []Field
	next := []level{{t: t}}
	visited := map[reflect.Type]bool{}
	for len(next) > 0 {
		current := next
		next = nil
		count := map[reflect.Type]int{}
		for _, l := range current {
			count[l.t]++
		}
		for _, l := range current {
			if visited[l.t] {
				continue
			}
			visited[l.t] = true
			for i := range l.t.NumField() {
				sf := l.t.Field(i)
				ft := sf.Type
				if sf.Anonymous {
					if ft.Kind() == reflect.Pointer {
						ft = ft.Elem()
					}
					if !sf.IsExported() && ft.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				if !validTag(name) {
					name = ""
				}
				index := append(slices.Clip(l.index), i)
				if name == "" && sf.Anonymous && ft.Kind() == reflect.Struct {
					next = append(next, level{t: ft, index: index})
					continue
				}
				f := Field{Name: name, Index: index, Type: sf.Type, Tagged: name != ""}
				if name == "" {
					f.Name = sf.Name
				}
				for o := range strings.SplitSeq(opts, ",") {
					switch o {
					case "omitempty":
						f.OmitEmpty = true
					case "omitzero":
						f.OmitZero = true
					case "string":
						switch ft.Kind() {
						case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
							reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
							reflect.Float32, reflect.Float64, reflect.String:
							f.Quoted = true
						}
					}
				}
				all = append(all, f)
				if count[l.t] > 1 {
					all = append(all, f) // reached twice at one depth: a tie
				}
			}
		}
	}
	// Keep the dominant field of each name, then restore the index order.
	slices.SortStableFunc(all, func(a, b Field) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		if c := len(a.Index) - len(b.Index); c != 0 {
			return c
		}
		if a.Tagged != b.Tagged {
			if a.Tagged {
				return -1
			}
			return 1
		}
		return slices.Compare(a.Index, b.Index)
	})
	out := make([]Field, 0, len(all))
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].Name == all[i].Name {
			j++
		}
		group := all[i:j]
		if len(group) == 1 || len(group[1].Index) > len(group[0].Index) || group[0].Tagged && !group[1].Tagged {
			out = append(out, group[0])
		}
		i = j
	}
	slices.SortFunc(out, func(a, b Field) int { return slices.Compare(a.Index, b.Index) })
	fs, _ := cache.LoadOrStore(t, out)
	return fs.([]Field)
}

// validTag is encoding/json's test of a tag name: for an invalid one it
// uses the field's Go name.
func validTag(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}

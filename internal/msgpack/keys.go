package msgpack

import "bytes"

// keyTracker checks, object by object, that JavaScript keeps an object's
// keys in insertion order: no key repeats, and the array-index keys come
// first, ascending. Keys of the open objects are kept in one buffer.
type keyTracker struct {
	buf  []byte
	ends []int
}

// keyFrame is the per-object state of a keyTracker.
type keyFrame struct {
	bufBase, endsBase int
	sawOther          bool
	prevIndex         int64
	set               map[string]struct{}
}

func (t *keyTracker) begin() keyFrame {
	return keyFrame{bufBase: len(t.buf), endsBase: len(t.ends), prevIndex: -1}
}

func (t *keyTracker) end(f *keyFrame) {
	t.buf = t.buf[:f.bufBase]
	t.ends = t.ends[:f.endsBase]
}

// linearKeys is the number of keys below which duplicates are looked for
// by comparing with each previous key.
const linearKeys = 16

// commit records the key t.buf[start:] (its content is
// t.buf[start+trim:len-trim]) and reports false when the object needs
// reordering.
func (t *keyTracker) commit(f *keyFrame, start, trim int) bool {
	key := t.buf[start:]
	if idx, ok := arrayIndex(key[trim : len(key)-trim]); ok {
		if f.sawOther || idx <= f.prevIndex {
			return false
		}
		f.prevIndex = idx
	} else {
		f.sawOther = true
		n := len(t.ends) - f.endsBase
		switch {
		case n < linearKeys:
			prev := f.bufBase
			for _, e := range t.ends[f.endsBase:] {
				if bytes.Equal(t.buf[prev:e], key) {
					return false
				}
				prev = e
			}
		default:
			if f.set == nil {
				f.set = make(map[string]struct{}, 2*linearKeys)
				prev := f.bufBase
				for _, e := range t.ends[f.endsBase:] {
					f.set[string(t.buf[prev:e])] = struct{}{}
					prev = e
				}
			}
			if _, dup := f.set[string(key)]; dup {
				return false
			}
			f.set[string(key)] = struct{}{}
		}
	}
	t.ends = append(t.ends, len(t.buf))
	return true
}

// jsObject builds an object with JavaScript's property semantics: a
// repeated key keeps its first place and takes the last value; finish puts
// the array-index keys first, in ascending order.
type jsObject struct {
	keys  []string
	vals  []jsv
	index map[string]int
}

func (o *jsObject) set(k string, v jsv) {
	if o.index == nil && len(o.keys) >= linearKeys {
		o.index = make(map[string]int, 2*len(o.keys))
		for i, k := range o.keys {
			o.index[k] = i
		}
	}
	if o.index != nil {
		if i, ok := o.index[k]; ok {
			o.vals[i] = v
			return
		}
		o.index[k] = len(o.keys)
	} else {
		for i, k2 := range o.keys {
			if k2 == k {
				o.vals[i] = v
				return
			}
		}
	}
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
}

func (o *jsObject) get(k string) (jsv, bool) {
	if o.index != nil {
		i, ok := o.index[k]
		if !ok {
			return jsv{}, false
		}
		return o.vals[i], true
	}
	for i, k2 := range o.keys {
		if k2 == k {
			return o.vals[i], true
		}
	}
	return jsv{}, false
}

// finish returns the object value in JavaScript's key order. trim is the
// number of quote bytes around each key (1 for JSON literal keys).
func (o *jsObject) finish(trim int) jsv {
	type ik struct {
		idx int64
		pos int
	}
	var idxs []ik
	for i, k := range o.keys {
		if v, ok := arrayIndex([]byte(k[trim : len(k)-trim])); ok {
			idxs = append(idxs, ik{v, i})
		}
	}
	if len(idxs) > 0 {
		sortIK(idxs, func(a, b ik) bool { return a.idx < b.idx })
		keys := make([]string, 0, len(o.keys))
		vals := make([]jsv, 0, len(o.vals))
		isIdx := make([]bool, len(o.keys))
		for _, x := range idxs {
			keys = append(keys, o.keys[x.pos])
			vals = append(vals, o.vals[x.pos])
			isIdx[x.pos] = true
		}
		for i := range o.keys {
			if !isIdx[i] {
				keys = append(keys, o.keys[i])
				vals = append(vals, o.vals[i])
			}
		}
		o.keys, o.vals = keys, vals
	}
	return jsv{kind: kObj, keys: o.keys, elems: o.vals}
}

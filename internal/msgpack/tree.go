package msgpack

import "slices"

// jsKind is the type of a jsv.
type jsKind uint8

const (
	kUndef jsKind = iota
	kNull
	kBool
	kNum
	kStr // s is a JSON string literal (decoded msgpack) or WTF-8 text (parsed JSON)
	kBin // bin
	kArr // elems
	kObj // keys, elems
	kRaw // s is JSON text to write as it is (decoded scalars)
)

// jsv is a JavaScript value, for the slow paths only.
type jsv struct {
	kind  jsKind
	b     bool
	num   float64
	s     string
	bin   []byte
	keys  []string
	elems []jsv
}

func sortIK[T any](s []T, less func(a, b T) bool) {
	slices.SortStableFunc(s, func(a, b T) int {
		switch {
		case less(a, b):
			return -1
		case less(b, a):
			return 1
		}
		return 0
	})
}

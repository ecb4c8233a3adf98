package socketio

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"unicode/utf8"

	"github.com/gosio/gosio/parser"
)

// Args are the arguments of a received event or acknowledgement, kept as
// the peer sent them: re-emitting them sends the same JSON text and binary.
type Args []parser.Value

// Decode decodes argument i into v, which must be a pointer. Binary
// placeholders decode into []byte (and into []byte values inside any).
func (a Args) Decode(i int, v any) error {
	if i < 0 || i >= len(a) {
		return fmt.Errorf("socketio: no argument %d (got %d)", i, len(a))
	}
	return parser.Unmarshal(a[i].JSON, a[i].Attachments, v)
}

// Bind decodes the arguments in order into vs, which must be pointers;
// missing arguments leave their targets unchanged.
func (a Args) Bind(vs ...any) error {
	for i, v := range vs {
		if i >= len(a) {
			return nil
		}
		if err := a.Decode(i, v); err != nil {
			return err
		}
	}
	return nil
}

// Any returns the arguments as a []any of *parser.Value, pointing into a,
// ready to be passed on to Emit unchanged.
func (a Args) Any() []any {
	out := make([]any, len(a))
	for i := range a {
		out[i] = &a[i] // a pointer boxes without allocating
	}
	return out
}

// String returns the arguments' JSON text, for logs.
func (a Args) String() string {
	b := []byte{'['}
	for i, v := range a {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, v.JSON...)
	}
	return string(append(b, ']'))
}

// Ack sends the acknowledgement a client asked for with its event. Call it
// at most once; later calls return ErrAckAlreadySent. When the client asked
// for no acknowledgement it returns ErrNoAck.
type Ack func(args ...any) error

// newArgs splits a packet's data array into Args, after skip leading
// elements (1 for the event name of an EVENT), which it returns as first.
func newArgs(p *parser.Packet, skip int) (args Args, first json.RawMessage, err error) {
	if len(p.Data) == 0 {
		return nil, nil, nil
	}
	vals, err := parser.SplitValues(p.Data, p.Attachments)
	if err != nil {
		return nil, nil, err
	}
	if skip > 0 {
		if len(vals) < skip {
			return nil, nil, nil
		}
		first = vals[0].JSON
		vals = vals[skip:]
	}
	if len(vals) == 0 {
		return nil, first, nil
	}
	return Args(vals), first, nil
}

// incomingEvent splits an EVENT packet into its name and arguments and
// the Ack that answers it (ackFor builds it when the packet has an id).
func incomingEvent(p *parser.Packet, ackFor func(id uint64) Ack) (event string, args Args, ack Ack, ok bool) {
	args, name, err := newArgs(p, 1)
	if err != nil || name == nil {
		return "", nil, nil, false
	}
	ack = noAck
	if p.HasID {
		ack = ackFor(p.ID)
	}
	return eventName(name), args, ack, true
}

// eventName returns the event name of a JSON string or number.
func eventName(raw json.RawMessage) string {
	if n := len(raw); n >= 2 && raw[0] == '"' && raw[n-1] == '"' && plainString(raw[1:n-1]) {
		return string(raw[1 : n-1])
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw) // a number: its text, as JavaScript would use it
}

// plainString reports whether the body of a valid JSON string needs no
// unescaping: no backslash (the decoder has checked the rest), and valid
// UTF-8, which encoding/json would otherwise replace with U+FFFD.
func plainString(b []byte) bool {
	ascii := true
	for _, c := range b {
		if c == '\\' {
			return false
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	return ascii || utf8.Valid(b)
}

var (
	argsType  = reflect.TypeFor[Args]()
	ackType   = reflect.TypeFor[Ack]()
	errorType = reflect.TypeFor[error]()
)

// handler is an event handler: the func as registered and, unless it has
// one of the shapes called without reflection, its signature.
type handler struct {
	fn  any
	sig *signature // nil for func(), func(Args) and func(Args, Ack)
}

// signature is what a handler's func type says of its parameters. It is
// worked out once per type and shared by the handlers of that type: every
// socket registers its own closures, of the same few types.
type signature struct {
	params []reflect.Type
	raw    int  // index of an Args parameter, or -1
	ack    bool // the last parameter is an Ack
	varTyp reflect.Type
}

// signatures holds the signature of each handler type seen.
var signatures sync.Map // reflect.Type -> *signature

// newHandler checks fn's signature; see Socket.On.
func newHandler(fn any) *handler {
	switch fn.(type) {
	case func(), func(Args), func(Args, Ack):
		return &handler{fn: fn}
	}
	t := reflect.TypeOf(fn)
	if sig, ok := signatures.Load(t); ok {
		return &handler{fn: fn, sig: sig.(*signature)}
	}
	sig := newSignature(t, fn)
	actual, _ := signatures.LoadOrStore(t, sig)
	return &handler{fn: fn, sig: actual.(*signature)}
}

// newSignature checks the handler type t (of fn) and returns its
// signature; it panics as Socket.On documents.
func newSignature(t reflect.Type, fn any) *signature {
	if t == nil || t.Kind() != reflect.Func {
		panic(fmt.Sprintf("socketio: handler must be a func, got %T", fn))
	}
	if t.NumOut() > 1 || (t.NumOut() == 1 && t.Out(0) != errorType) {
		panic(fmt.Sprintf("socketio: handler %T may return nothing or an error", fn))
	}
	h := &signature{raw: -1}
	n := t.NumIn()
	if n > 0 && t.In(n-1) == ackType {
		h.ack = true
		n--
	}
	for i := range n {
		p := t.In(i)
		if t.IsVariadic() && i == t.NumIn()-1 {
			h.varTyp = p.Elem()
			break
		}
		if p == ackType {
			panic("socketio: an Ack parameter must be the last one")
		}
		if p == argsType {
			if h.raw >= 0 {
				panic("socketio: at most one Args parameter")
			}
			h.raw = i
		}
		h.params = append(h.params, p)
	}
	if h.raw >= 0 && (h.raw != len(h.params)-1 || h.varTyp != nil) {
		panic("socketio: an Args parameter must come after every decoded parameter")
	}
	h.params = slices.Clip(h.params)
	return h
}

// call decodes the arguments of event into the handler's parameters and
// calls it. It returns the handler's error, or an *ArgumentError without
// calling it.
func (h *handler) call(event string, args Args, ack Ack) error {
	switch f := h.fn.(type) {
	case func(Args, Ack):
		f(args, ack)
		return nil
	case func(Args):
		f(args)
		return nil
	case func():
		f()
		return nil
	}
	sig := h.sig
	in := make([]reflect.Value, 0, len(sig.params)+1)
	for i, p := range sig.params {
		if i == sig.raw {
			rest := Args(nil)
			if i < len(args) {
				rest = args[i:]
			}
			in = append(in, reflect.ValueOf(rest))
			continue
		}
		ptr := reflect.New(p)
		if i < len(args) {
			if err := args.Decode(i, ptr.Interface()); err != nil {
				return &ArgumentError{Event: event, Index: i, Type: p, Err: err}
			}
		}
		in = append(in, ptr.Elem())
	}
	if sig.varTyp != nil {
		for i := len(sig.params); i < len(args); i++ {
			ptr := reflect.New(sig.varTyp)
			if err := args.Decode(i, ptr.Interface()); err != nil {
				return &ArgumentError{Event: event, Index: i, Type: sig.varTyp, Err: err}
			}
			in = append(in, ptr.Elem())
		}
	}
	if sig.ack {
		in = append(in, reflect.ValueOf(ack))
	}
	out := reflect.ValueOf(h.fn).Call(in)
	if len(out) == 1 && !out[0].IsNil() {
		return out[0].Interface().(error)
	}
	return nil
}

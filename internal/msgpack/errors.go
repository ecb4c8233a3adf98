package msgpack

import (
	"errors"
	"strconv"
)

var (
	// ErrMalformed is wrapped by every decoding error: the input is not
	// one well-formed msgpack value, uses a form this package does not
	// support (the reserved byte 0xc1, nesting deeper than 10000 levels,
	// an unsupported map key), or is not of the kind a [Reader] method
	// expects.
	ErrMalformed = errors.New("msgpack: malformed or unsupported input")

	// ErrInvalidJSON is wrapped by the errors of [AppendJSON] and
	// [BufferJSON] when the JSON text is invalid, nests deeper than 10000
	// levels, or has a placeholder that does not refer to one of the
	// attachments.
	ErrInvalidJSON = errors.New("msgpack: invalid JSON input")
)

// Error describes a decoding or transcoding failure: Err is
// [ErrMalformed] or [ErrInvalidJSON], Offset the byte offset in the input
// where the problem was found.
type Error struct {
	Err    error
	Offset int
	Reason string
}

// Error returns the message: the sentinel's text, the reason and the offset.
func (e *Error) Error() string {
	return e.Err.Error() + ": " + e.Reason + " at offset " + strconv.Itoa(e.Offset)
}

// Unwrap returns Err, for [errors.Is].
func (e *Error) Unwrap() error { return e.Err }

func malformed(off int, reason string) error {
	return &Error{Err: ErrMalformed, Offset: off, Reason: reason}
}

func invalidJSON(off int, reason string) error {
	return &Error{Err: ErrInvalidJSON, Offset: off, Reason: reason}
}

// errSlow tells a fast path to hand over to the tree path: an object needs
// JavaScript's key reordering or de-duplication. It never leaves the package.
var errSlow = errors.New("msgpack: internal: slow path needed")

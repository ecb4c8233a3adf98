package parser

import (
	"errors"
	"fmt"
)

// Sentinel kinds of [DecodeError], for use with [errors.Is]. Socket.IO
// servers close the connection on any of them.
var (
	// ErrUnknownType means the first byte of a text message is not a
	// packet type '0' to '6' (or the message is empty).
	ErrUnknownType = errors.New("parser: unknown packet type")

	// ErrIllegalAttachments means a BINARY_EVENT or BINARY_ACK does not
	// start with a positive decimal attachment count followed by '-'.
	ErrIllegalAttachments = errors.New("parser: illegal attachments")

	// ErrTooManyAttachments means the attachment count of a binary packet
	// is above the Decoder's limit.
	ErrTooManyAttachments = errors.New("parser: too many attachments")

	// ErrInvalidPayload means the payload is not valid JSON, is not valid
	// for the packet type (see [Decoder.DecodeText]), or the ack id does
	// not fit in a uint64.
	ErrInvalidPayload = errors.New("parser: invalid payload")

	// ErrUnexpectedBinary means a binary message arrived while no binary
	// packet was waiting for attachments.
	ErrUnexpectedBinary = errors.New("parser: unexpected binary message")

	// ErrUnexpectedText means a text message arrived while a binary packet
	// was still waiting for attachments.
	ErrUnexpectedText = errors.New("parser: unexpected text message")

	// ErrInvalidPlaceholder means a placeholder {"_placeholder":true,...}
	// has a "num" that is not an integer index into the attachments.
	ErrInvalidPlaceholder = errors.New("parser: invalid placeholder")
)

// DecodeError is the error returned for input that is not a valid
// Socket.IO packet. Kind is one of the Err* sentinels of this package and
// is what [errors.Is] matches; Reason says what was wrong.
type DecodeError struct {
	Kind   error
	Reason string
}

// Error returns the Kind's message followed by the reason, for example
// "parser: invalid payload: EVENT data must be an array".
func (e *DecodeError) Error() string {
	if e.Kind == nil {
		return "parser: " + e.Reason
	}
	if e.Reason == "" {
		return e.Kind.Error()
	}
	return e.Kind.Error() + ": " + e.Reason
}

// Unwrap returns e.Kind.
func (e *DecodeError) Unwrap() error { return e.Kind }

func decodeErr(kind error, format string, args ...any) *DecodeError {
	return &DecodeError{Kind: kind, Reason: fmt.Sprintf(format, args...)}
}

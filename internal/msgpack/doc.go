// Package msgpack is the MessagePack codec of gosio's cluster wire: the
// messages Redis adapters and emitters exchange with Node nodes. It is
// internal and hand-written, so that its bytes match the two JavaScript
// libraries the Node side uses:
//
//   - notepack.io 3.0.1 (classic and sharded Redis adapters, redis-emitter),
//     mode [Notepack];
//   - @msgpack/msgpack 2.8.0 (streams adapter and emitter), mode [MsgpackJS].
//
// The package has three parts:
//
//   - append-style encoding primitives ([AppendInt], [AppendString], ...);
//   - a transcoder between a Socket.IO [parser.Value] (JSON text whose
//     binary parts are {"_placeholder":true,"num":N} placeholders) and
//     msgpack, in both directions, with JavaScript's semantics: numbers are
//     float64 and encoded by the mode's integer rule, object keys keep
//     JavaScript's property order (array-index keys first, ascending, then
//     the other keys in insertion order, a repeated key keeping its first
//     place and its last value), timestamps decode to the ISO strings
//     Date.prototype.toJSON writes, and binary becomes attachments;
//   - a [Reader] cursor to walk a message without building trees.
//
// The transcoder streams: it builds no tree for ordinary input. Input that
// needs JavaScript's key reordering (a repeated key, or an array-index key
// after another key) takes a slower path through an ordered tree, never
// through a Go map of values.
//
// Decoding never panics on hostile input: lengths and counts are checked
// against the remaining input before anything is allocated, and nesting is
// limited to 10000 levels. Every decoding error wraps [ErrMalformed];
// invalid JSON given to the encoder wraps [ErrInvalidJSON].
//
// # Known, deliberate differences from the JavaScript libraries
//
//   - A lone UTF-16 surrogate in a JSON string (written "\ud800") is
//     encoded as U+FFFD, as Buffer.from and TextEncoder write it. notepack
//     instead merges it with the next character for strings of up to 32
//     UTF-16 units, and @msgpack/msgpack writes WTF-8 (ED A0 80) for
//     strings of up to 200 units.
//   - @msgpack/msgpack's encoder refuses nesting deeper than 100; this
//     package accepts up to 10000 in both modes.
//   - A timestamp ext8 (C7) with a length other than 12 is an error;
//     notepack would misread the following bytes.
//   - On decoding, map keys that are arrays, maps, timestamps or other ext
//     values are an error (JavaScript would turn them into strings such as
//     "[object Object]"), and so is a "__proto__" key whose value is binary
//     or an ext value (in JavaScript it changes the object's prototype).
//   - @msgpack/msgpack caches the strings of short map keys across calls;
//     with invalid UTF-8 its result depends on that history. This package
//     decodes every key afresh.
package msgpack

//go:build !unix

package engineio

// writeSome is wsRaw.writeFn where non-blocking socket writes are not
// available: it writes nothing, and every frame goes through the flusher.
func (r *wsRaw) writeSome(uintptr) bool { return true }

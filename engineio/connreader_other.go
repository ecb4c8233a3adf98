//go:build !unix

package engineio

import "errors"

// readNow is readFn where no poller reads (see poller_other.go): it is
// never called.
func (c *connReader) readNow(uintptr) bool {
	c.opErr = errors.ErrUnsupported
	return true
}

//go:build !linux

package engineio

import "errors"

// A poller is Linux only (see poller_linux.go): elsewhere each WebSocket
// session reads on a goroutine of its own.
type poller struct{}

func newPoller(*Server) (*poller, error) {
	return nil, errors.New("engineio: no WebSocket poller on this system")
}

func (*poller) add(*wsRaw, *Session) bool { return false }
func (*poller) remove(*wsRaw)             {}
func (*poller) closeWhenEmpty()           {}

package socketio

import (
	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/parser"
)

// encodeMissed encodes the missed packets of a restored session, in their
// order, for one send: the WebSocket writes them with one system call, a
// polling GET answers them in one payload, instead of one write per
// packet. A packet that does not encode is left out, as a send of it alone
// would fail.
func (c *conn) encodeMissed(missed []*parser.Packet) []*engineio.Message {
	var frames []*engineio.Message
	for _, p := range missed {
		f, err := adapter.EncodeWith(c.srv.opts.Parser, p)
		if err != nil {
			continue
		}
		frames = append(frames, f...)
	}
	return frames
}

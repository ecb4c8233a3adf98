package socketio

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/parser"
)

// A BroadcastOperator selects the sockets of a namespace an event goes to.
// Its methods return a modified copy, so an operator can be kept and
// reused: srv.To("room").Except("muted").Emit("news", item).
type BroadcastOperator struct {
	nsp    *Namespace
	rooms  []string
	except []string
	flags  adapter.BroadcastFlags
}

// To adds rooms to the selection: sockets in any of the rooms receive.
func (b BroadcastOperator) To(rooms ...string) BroadcastOperator {
	b.rooms = appendNew(b.rooms, rooms)
	return b
}

// In is the same as To.
func (b BroadcastOperator) In(rooms ...string) BroadcastOperator { return b.To(rooms...) }

// Except excludes the sockets in any of rooms.
func (b BroadcastOperator) Except(rooms ...string) BroadcastOperator {
	b.except = appendNew(b.except, rooms)
	return b
}

// Local restricts the broadcast to this server.
func (b BroadcastOperator) Local() BroadcastOperator {
	b.flags.Local = true
	return b
}

// Volatile lets clients that cannot take the packet right away miss it.
func (b BroadcastOperator) Volatile() BroadcastOperator {
	b.flags.Volatile = true
	return b
}

// Compress sets the compress flag (carried to other servers; the
// WebSocket transport compresses by size, see engineio.Options).
func (b BroadcastOperator) Compress(compress bool) BroadcastOperator {
	b.flags.Compress = compress
	return b
}

// Timeout sets how long a broadcast with acknowledgements waits.
func (b BroadcastOperator) Timeout(d time.Duration) BroadcastOperator {
	b.flags.Timeout = d
	return b
}

// appendNew returns a new slice of a followed by the elements of add not
// already there, leaving a untouched.
func appendNew(a, add []string) []string {
	out := slices.Clip(a)
	for _, r := range add {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

func (b BroadcastOperator) options() *adapter.BroadcastOptions {
	return &adapter.BroadcastOptions{Rooms: b.rooms, Except: b.except, Flags: b.flags}
}

// Emit sends an event to every selected socket. The packet is encoded once
// and the same bytes are queued on every connection; a slow client never
// blocks it.
func (b BroadcastOperator) Emit(event string, args ...any) error {
	if parser.IsReserved(event) {
		return fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	p, err := eventPacket(b.nsp.name, event, args)
	if err != nil {
		return err
	}
	return b.nsp.adapter.Broadcast(context.Background(), p, b.options())
}

// LocalSocketIDs returns the ids of the selected sockets on this server.
func (b BroadcastOperator) LocalSocketIDs() []string {
	opts := b.options()
	ids := b.nsp.adapter.Sockets(opts.Rooms)
	if len(opts.Except) == 0 {
		return ids
	}
	excluded := make(map[string]bool)
	for _, id := range b.nsp.adapter.Sockets(opts.Except) {
		excluded[id] = true
	}
	return slices.DeleteFunc(ids, func(id string) bool { return excluded[id] })
}

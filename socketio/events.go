package socketio

import "slices"

// An eventTable holds the handlers of each event name, in the order they
// were added. A socket handles a few events, so a slice searched in order
// is as fast as a map and several times smaller: with a map per socket the
// handlers of four events were a seventh of an idle connection's heap.
type eventTable []eventEntry

type eventEntry struct {
	event string
	hs    []*handler
}

// get returns the handlers of event. The caller may keep the slice after
// the socket's lock is released: add and remove never change its elements.
func (t eventTable) get(event string) []*handler {
	for i := range t {
		if t[i].event == event {
			return t[i].hs
		}
	}
	return nil
}

// add appends h to the handlers of event.
func (t *eventTable) add(event string, h *handler) {
	for i := range *t {
		if e := &(*t)[i]; e.event == event {
			e.hs = append(e.hs, h)
			return
		}
	}
	*t = append(*t, eventEntry{event: event, hs: []*handler{h}})
}

// remove drops every handler of event.
func (t *eventTable) remove(event string) {
	*t = slices.DeleteFunc(*t, func(e eventEntry) bool { return e.event == event })
}

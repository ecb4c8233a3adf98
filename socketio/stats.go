package socketio

import (
	"expvar"
	"slices"
	"strings"

	"github.com/gosio/gosio/engineio"
)

// Stats is a snapshot of a Server's state and counters, returned by
// Server.Stats. It counts what this server holds: with a cluster adapter,
// other servers' sockets and rooms are not in it.
type Stats struct {
	// Engine holds the Engine.IO counters: sessions by transport, messages
	// and bytes in and out (a Socket.IO packet is one message, plus one
	// per binary attachment), volatile packets dropped, slow clients cut
	// and the bytes waiting in send queues.
	Engine engineio.Stats
	// Namespaces lists the server's namespaces, sorted by name.
	Namespaces []NamespaceStats
}

// NamespaceStats describes one namespace in Stats.
type NamespaceStats struct {
	Name    string // "/" for the main namespace
	Sockets int    // sockets connected to this server
	Rooms   int    // rooms of those sockets, not counting each socket's own room (its id)
}

// Stats returns a snapshot of the server's counters and namespaces. It
// costs a little per session and per room: call it when metrics are
// collected, not per packet.
func (srv *Server) Stats() Stats {
	srv.mu.RLock()
	nsps := make([]*Namespace, 0, len(srv.nsps))
	for _, n := range srv.nsps {
		nsps = append(nsps, n)
	}
	srv.mu.RUnlock()
	st := Stats{Engine: srv.eio.Stats(), Namespaces: make([]NamespaceStats, 0, len(nsps))}
	for _, n := range nsps {
		ns := NamespaceStats{Name: n.name, Sockets: n.SocketCount()}
		for _, room := range n.adapter.Rooms() {
			if n.LocalSocket(room) == nil {
				ns.Rooms++
			}
		}
		st.Namespaces = append(st.Namespaces, ns)
	}
	slices.SortFunc(st.Namespaces, func(a, b NamespaceStats) int { return strings.Compare(a.Name, b.Name) })
	return st
}

// StatsVar returns an expvar.Var whose value is the server's Stats as
// JSON, computed when it is read. Publish it under a name of your choice,
// and expvar's handler (/debug/vars) shows it:
//
//	expvar.Publish("socketio", srv.StatsVar())
func (srv *Server) StatsVar() expvar.Var {
	return expvar.Func(func() any { return srv.Stats() })
}

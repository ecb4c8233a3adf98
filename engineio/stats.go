package engineio

import "sync/atomic"

// Stats is a snapshot of a Server's counters, returned by Server.Stats.
// Counters (the uint64 fields) count from the server's creation; gauges
// (the int fields) are values at the time of the snapshot.
//
// Messages and bytes are Engine.IO message packets, counted at the
// session: a message queued for many sessions (a broadcast) counts once
// per session. Bytes are the encoded packet sizes (the "4" type byte and
// the text, or a binary message's bytes), before the transport's framing,
// base64 and compression. Heartbeat and other control packets are not
// counted.
type Stats struct {
	Polling   int // open sessions on HTTP long-polling
	WebSocket int // open sessions on WebSocket

	SessionsOpened   uint64 // sessions opened
	ConnectionErrors uint64 // requests refused with an Engine.IO error code (see OnConnectionError)

	MessagesIn  uint64 // messages received from clients
	BytesIn     uint64 // bytes of MessagesIn
	MessagesOut uint64 // messages queued for clients, volatile ones included when queued
	BytesOut    uint64 // bytes of MessagesOut

	VolatileDropped uint64 // volatile messages dropped because the transport could not take them at once
	SlowClients     uint64 // sessions closed as slow clients (ErrSlowClient)

	SendQueueBytes int // bytes queued or being written, over every open session
}

// counterShards spreads the per-message counters over cache lines, so
// that sessions on different cores rarely add to the same one; a session
// keeps one shard (see Session.ctr).
const counterShards = 16

// counters are the per-message counters of the sessions of one shard.
type counters struct {
	msgsIn, bytesIn, msgsOut, bytesOut, dropped atomic.Uint64
	_                                           [24]byte // to 64 bytes, a cache line
}

// stats are a Server's counters.
type stats struct {
	shards     [counterShards]counters
	next       atomic.Uint32 // the shard of the next session
	opened     atomic.Uint64
	connErrors atomic.Uint64
	slow       atomic.Uint64
	polling    atomic.Int64
	webSocket  atomic.Int64
}

// shard returns the counters for a new session.
func (st *stats) shard() *counters {
	return &st.shards[st.next.Add(1)%counterShards]
}

// countOut counts n messages of size bytes queued for the session.
func (c *counters) countOut(n, size int) {
	c.msgsOut.Add(uint64(n))
	c.bytesOut.Add(uint64(size))
}

// Stats returns a snapshot of the server's counters. It reads each open
// session's queue size under the session's lock, so it costs a little per
// session: call it when metrics are collected, not per message.
func (srv *Server) Stats() Stats {
	st := Stats{
		Polling:          int(srv.stats.polling.Load()),
		WebSocket:        int(srv.stats.webSocket.Load()),
		SessionsOpened:   srv.stats.opened.Load(),
		ConnectionErrors: srv.stats.connErrors.Load(),
		SlowClients:      srv.stats.slow.Load(),
	}
	for i := range srv.stats.shards {
		c := &srv.stats.shards[i]
		st.MessagesIn += c.msgsIn.Load()
		st.BytesIn += c.bytesIn.Load()
		st.MessagesOut += c.msgsOut.Load()
		st.BytesOut += c.bytesOut.Load()
		st.VolatileDropped += c.dropped.Load()
	}
	srv.mu.Lock()
	sessions := make([]*Session, 0, len(srv.sessions))
	for _, s := range srv.sessions {
		sessions = append(sessions, s)
	}
	srv.mu.Unlock()
	for _, s := range sessions {
		s.mu.Lock()
		if !s.closed {
			st.SendQueueBytes += s.queued
		}
		s.mu.Unlock()
	}
	return st
}

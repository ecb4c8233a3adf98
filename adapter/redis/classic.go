package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/rueidis"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/internal/clusterwire"
	"github.com/gosio/gosio/internal/jsonscan"
	"github.com/gosio/gosio/parser"
)

// classicRequest is a classic-adapter request or response as received.
type classicRequest struct {
	UID         *string               `json:"uid"`
	RequestID   string                `json:"requestId"`
	Type        *int                  `json:"type"`
	Opts        *clusterwire.WireOpts `json:"opts"`
	Rooms       clusterwire.Rooms     `json:"rooms"`
	Close       bool                  `json:"close"`
	Data        json.RawMessage       `json:"data"`
	Packet      json.RawMessage       `json:"packet"`
	Sockets     wireSockets           `json:"sockets"`
	ClientCount *int                  `json:"clientCount"`
	SID         string                `json:"sid"`
	Room        string                `json:"room"`
}

func (a *nsAdapter) onClassicMessage(m inbound) error {
	ch := m.channel
	switch {
	case strings.HasPrefix(ch, a.response):
		return a.onClassicResponse(m)
	case ch == a.request:
		return a.onClassicRequest(m)
	case strings.HasPrefix(ch, a.bcast):
		return a.onClassicBroadcast(m)
	}
	return nil // a channel of another namespace matched by the pattern
}

func (a *nsAdapter) onClassicBroadcast(m inbound) error {
	room := ""
	if rest := m.channel[len(a.bcast):]; rest != "" {
		if !strings.HasSuffix(rest, "#") {
			return nil // not a channel of ours
		}
		room = rest[:len(rest)-1]
	}
	if room != "" && !a.HasRoom(room) {
		return nil
	}
	v, err := clusterwire.Decode([]byte(m.msg))
	if err != nil {
		return err
	}
	var parts []json.RawMessage
	if err := json.Unmarshal(v.JSON, &parts); err != nil || len(parts) < 3 {
		return fmt.Errorf("broadcast is not [uid, packet, opts]")
	}
	var uid string
	_ = json.Unmarshal(parts[0], &uid)
	if uid == a.c.uid {
		return nil
	}
	var pkt clusterwire.WirePacket
	if err := json.Unmarshal(parts[1], &pkt); err != nil {
		return err
	}
	nsp := "/"
	if pkt.Nsp != nil {
		nsp = *pkt.Nsp
	}
	if nsp != a.name {
		return nil
	}
	var opts clusterwire.WireOpts
	if err := json.Unmarshal(parts[2], &opts); err != nil {
		return err
	}
	p, err := a.packetOf(pkt.Data, v.Attachments, 0, false)
	if err != nil {
		return err
	}
	a.BroadcastLocal(p, localOpts(&opts, true))
	return nil
}

func (a *nsAdapter) onClassicRequest(m inbound) error {
	v, err := clusterwire.Decode([]byte(m.msg))
	if err != nil {
		return err
	}
	var req classicRequest
	if err := json.Unmarshal(v.JSON, &req); err != nil {
		return err
	}
	if req.Type == nil {
		return fmt.Errorf("request without a type")
	}
	uid := ""
	if req.UID != nil {
		uid = *req.UID
	}
	own := uid == a.c.uid
	switch *req.Type {
	case clusterwire.Sockets:
		if a.isPending(req.RequestID) {
			return nil
		}
		ids := a.Sockets(req.Rooms)
		b := &clusterwire.Builder{}
		b.Raw("{").Key("requestId").Str(req.RequestID).Key("sockets").Strings(nonNilStrings(ids)).Raw("}")
		return a.publishClassicResponse(uid, b.Value(), false)
	case clusterwire.AllRooms:
		if a.isPending(req.RequestID) {
			return nil
		}
		b := &clusterwire.Builder{}
		b.Raw("{").Key("requestId").Str(req.RequestID).Key("rooms").Strings(nonNilStrings(a.Rooms())).Raw("}")
		return a.publishClassicResponse(uid, b.Value(), false)
	case clusterwire.RemoteJoin, clusterwire.RemoteLeave, clusterwire.RemoteDisconnect:
		if req.Opts != nil {
			// This server applied its own request when it made it.
			if own {
				return nil
			}
			opts := localOpts(req.Opts, false)
			switch *req.Type {
			case clusterwire.RemoteJoin:
				a.AddSocketsLocal(opts, req.Rooms)
			case clusterwire.RemoteLeave:
				a.DelSocketsLocal(opts, req.Rooms)
			default:
				a.DisconnectLocal(opts, req.Close)
			}
			return nil
		}
		// adapter 7 and older: one socket by id, answered by its server
		s := a.nsp.Socket(req.SID)
		if s == nil {
			return nil
		}
		switch *req.Type {
		case clusterwire.RemoteJoin:
			a.AddAll(req.SID, []string{req.Room})
		case clusterwire.RemoteLeave:
			a.Del(req.SID, req.Room)
		default:
			s.Disconnect(req.Close)
		}
		b := &clusterwire.Builder{}
		b.Raw("{").Key("requestId").Str(req.RequestID).Raw("}")
		return a.publishClassicResponse(uid, b.Value(), false)
	case clusterwire.RemoteFetch:
		if a.isPending(req.RequestID) || req.Opts == nil {
			return nil
		}
		socks := a.FetchLocal(localOpts(req.Opts, false))
		b := &clusterwire.Builder{}
		b.Raw("{").Key("requestId").Str(req.RequestID).Key("sockets").Raw("[")
		for i := range socks {
			if i > 0 {
				b.Raw(",")
			}
			infoJSON(b, &socks[i])
		}
		b.Raw("]}")
		return a.publishClassicResponse(uid, b.Value(), false)
	case clusterwire.ServerSideEmit:
		if own {
			return nil
		}
		ev, args, err := splitSSE(parser.Value{JSON: req.Data, Attachments: v.Attachments})
		if err != nil {
			return err
		}
		var ack func(any)
		if req.RequestID != "" {
			id := req.RequestID
			ack = func(arg any) {
				b := &clusterwire.Builder{}
				b.Raw("{").Key("type").Int(clusterwire.ServerSideEmit).Key("requestId").Str(id).Key("data").Val(firstValue(arg)).Raw("}")
				// Always the shared response channel, as Node does.
				if msg, err := clusterwire.Encode(b.Value(), false); err == nil {
					_ = a.c.pub.send(context.Background(), a.response, msg, false)
				}
			}
		}
		a.nsp.HandleServerSideEmit(ev, args, ack)
		return nil
	case clusterwire.Broadcast:
		if own || a.ackRequest(req.RequestID) != nil || req.Opts == nil {
			return nil
		}
		var pkt clusterwire.WirePacket
		if err := json.Unmarshal(req.Packet, &pkt); err != nil {
			return err
		}
		p, err := a.packetOf(pkt.Data, v.Attachments, a.nsp.NextAckID(), true)
		if err != nil {
			return err
		}
		id := req.RequestID
		// A remote classic node drops the flags: only rooms and except.
		a.BroadcastWithAckRemote(p, localOpts(req.Opts, false), func(n int) {
			b := &clusterwire.Builder{}
			b.Raw("{").Key("type").Int(clusterwire.BroadcastClientCount).Key("requestId").Str(id).Key("clientCount").Int(int64(n)).Raw("}")
			_ = a.publishClassicResponse(uid, b.Value(), false)
		}, func(arg parser.Value) {
			b := &clusterwire.Builder{}
			b.Raw("{").Key("type").Int(clusterwire.BroadcastAck).Key("requestId").Str(id).Key("packet").Val(arg).Raw("}")
			_ = a.publishClassicResponse(uid, b.Value(), a.c.parser == MessagePack)
		})
		return nil
	}
	return nil
}

// publishClassicResponse answers a request of server uid.
func (a *nsAdapter) publishClassicResponse(uid string, v parser.Value, asMsgpack bool) error {
	ch := a.response
	if a.c.specific && uid != "" {
		ch = clusterwire.SpecificResponseChannel(a.c.key, a.name, uid)
	}
	msg, err := clusterwire.Encode(v, asMsgpack)
	if err != nil {
		return err
	}
	return a.c.pub.send(context.Background(), ch, msg, false)
}

func (a *nsAdapter) onClassicResponse(m inbound) error {
	if len(m.msg) > 0 && m.msg[0] == '{' {
		// A fetchSockets response, the largest answers, in one pass.
		if id, socks, ok := decodeFetchResponse([]byte(m.msg)); ok {
			handled, found := false, false
			a.withRequest(id, func(r *request) {
				found = true
				if r.typ != clusterwire.RemoteFetch {
					return
				}
				handled = true
				r.got++
				for i := range socks {
					r.sockets = append(r.sockets, socks[i].info(nil, "remote"))
				}
				if r.got >= r.expected {
					r.finish()
				}
			})
			if handled || !found {
				return nil
			}
		}
	}
	v, err := clusterwire.Decode([]byte(m.msg))
	if err != nil {
		return err
	}
	var res classicRequest
	if err := json.Unmarshal(v.JSON, &res); err != nil {
		return err
	}
	if ar := a.ackRequest(res.RequestID); ar != nil && res.Type != nil {
		switch *res.Type {
		case clusterwire.BroadcastClientCount:
			if res.ClientCount != nil {
				ar.onClientCount(*res.ClientCount)
			}
		case clusterwire.BroadcastAck:
			ar.onAck(parser.Value{JSON: orNull(res.Packet), Attachments: v.Attachments}, nil)
		}
		return nil
	}
	a.withRequest(res.RequestID, func(r *request) {
		switch r.typ {
		case clusterwire.RemoteFetch:
			r.got++
			for i := range res.Sockets {
				r.sockets = append(r.sockets, res.Sockets[i].info(v.Attachments, "remote"))
			}
		case clusterwire.AllRooms:
			r.got++
			var rooms clusterwire.Rooms
			if err := json.Unmarshal(mustField(v.JSON, "rooms"), &rooms); err == nil {
				r.rooms = append(r.rooms, rooms...)
			}
		case clusterwire.ServerSideEmit:
			r.got++
			r.responses = append(r.responses, parser.Value{JSON: orNull(res.Data), Attachments: v.Attachments})
		}
		if r.got >= r.expected {
			r.finish()
		}
	})
	return nil
}

// decodeFetchResponse reads, in one pass, a fetchSockets response in the
// JSON form Node and gosio write: {"requestId":…,"sockets":[…]} and nothing
// else. ok is false for any other message, left to the general path.
func decodeFetchResponse(b []byte) (id string, socks wireSockets, ok bool) {
	o := jsonscan.NewObject(b, 0)
	var haveID, haveSockets bool
	for key, at, more := o.Next(); more; key, at, more = o.Next() {
		var end int
		var err error
		switch {
		case key == "requestId" && !haveID && b[at] == '"':
			id, end, err = jsonscan.String(b, at)
			haveID = true
		case key == "sockets" && !haveSockets && b[at] == '[':
			socks, end, err = readWireSockets(b, at)
			haveSockets = true
		default:
			return "", nil, false
		}
		if err != nil {
			return "", nil, false
		}
		o.Done(end)
	}
	end, err := o.End()
	if err != nil || jsonscan.WS(b, end) != len(b) || !haveID || !haveSockets {
		return "", nil, false
	}
	return id, socks, true
}

func orNull(j json.RawMessage) json.RawMessage {
	if len(j) == 0 {
		return json.RawMessage("null")
	}
	return j
}

func mustField(obj json.RawMessage, key string) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(obj, &m) != nil {
		return nil
	}
	return m[key]
}

// Broadcast implements adapter.Adapter: one PUBLISH, then local delivery.
func (a *nsAdapter) Broadcast(ctx context.Context, p *parser.Packet, opts *adapter.BroadcastOptions) error {
	switch a.c.mode {
	case shardedMode:
		return a.shardedBroadcast(ctx, p, opts)
	case streamsMode:
		return a.streamsBroadcast(ctx, p, opts)
	}
	var err error
	if !opts.Flags.Local {
		err = a.publishClassicBroadcast(ctx, p, opts)
	}
	a.BroadcastLocal(p, opts)
	return err
}

// classicPacket writes a broadcast's packet; withID keeps its ack id, as
// Node's socket.emit with an ack does under recovery (a broadcast with
// acks carries none: each server numbers its own sockets' acks).
func (a *nsAdapter) classicPacket(b *clusterwire.Builder, p *parser.Packet, withID bool) {
	b.Raw("{").Key("type").Int(2).Key("data").Val(parser.Value{JSON: p.Data, Attachments: p.Attachments})
	if withID && p.HasID {
		b.Key("id").Int(int64(p.ID))
	}
	b.Key("nsp").Str(a.name).Raw("}")
}

func (a *nsAdapter) publishClassicBroadcast(ctx context.Context, p *parser.Packet, opts *adapter.BroadcastOptions) error {
	b := &clusterwire.Builder{}
	b.Raw("[").Str(a.c.uid).Raw(",")
	a.classicPacket(b, p, true)
	b.Raw(",").Opts(wireOpts(opts), true).Raw("]")
	msg, err := clusterwire.Encode(b.Value(), a.c.parser == MessagePack)
	if err != nil {
		return err
	}
	ch := a.bcast
	if len(opts.Rooms) == 1 {
		ch = clusterwire.RoomChannel(a.c.key, a.name, opts.Rooms[0])
	}
	return a.c.pub.send(ctx, ch, msg, false)
}

// BroadcastWithAck implements adapter.Adapter.
func (a *nsAdapter) BroadcastWithAck(ctx context.Context, p *parser.Packet, opts *adapter.BroadcastOptions, onClientCount func(int), onAck func(parser.Value, error)) error {
	if opts.Flags.Local {
		return a.Memory.BroadcastWithAck(ctx, p, opts, onClientCount, onAck)
	}
	if a.c.clusterModel() {
		return a.shardedBroadcastWithAck(ctx, p, opts, onClientCount, onAck)
	}
	id := uid2(6)
	// Registered before publishing, unlike Node, so that no response can
	// arrive before the request is known.
	a.addAckRequest(id, &ackRequest{onClientCount: onClientCount, onAck: onAck}, opts.Flags.Timeout)
	b := &clusterwire.Builder{}
	b.Raw("{").Key("uid").Str(a.c.uid).Key("requestId").Str(id).Key("type").Int(clusterwire.Broadcast).Key("packet")
	a.classicPacket(b, p, false)
	b.Key("opts").Opts(wireOpts(opts), true).Raw("}")
	msg, err := clusterwire.Encode(b.Value(), a.c.parser == MessagePack)
	if err == nil {
		err = a.c.pub.send(ctx, a.request, msg, false)
	}
	return errorsJoin(err, a.Memory.BroadcastWithAck(ctx, p, opts, onClientCount, onAck))
}

func errorsJoin(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// classicOp publishes a socketsJoin, socketsLeave or disconnectSockets
// request and applies it locally at once.
func (a *nsAdapter) classicOp(ctx context.Context, typ int, opts *adapter.BroadcastOptions, rooms []string, close bool) error {
	if opts.Flags.Local {
		return nil
	}
	b := &clusterwire.Builder{}
	b.Raw("{").Key("uid").Str(a.c.uid).Key("type").Int(int64(typ)).Key("opts").Opts(wireOpts(opts), false)
	if typ == clusterwire.RemoteDisconnect {
		b.Key("close").Bool(close)
	} else {
		b.Key("rooms").Strings(nonNilStrings(rooms))
	}
	b.Raw("}")
	msg, _ := clusterwire.Encode(b.Value(), false)
	return a.c.pub.send(ctx, a.request, msg, false)
}

// AddSockets implements adapter.Adapter.
func (a *nsAdapter) AddSockets(ctx context.Context, opts *adapter.BroadcastOptions, rooms []string) error {
	a.AddSocketsLocal(opts, rooms)
	if a.c.clusterModel() {
		return a.shardedOp(ctx, clusterwire.MsgSocketsJoin, opts, rooms, false)
	}
	return a.classicOp(ctx, clusterwire.RemoteJoin, opts, rooms, false)
}

// DelSockets implements adapter.Adapter.
func (a *nsAdapter) DelSockets(ctx context.Context, opts *adapter.BroadcastOptions, rooms []string) error {
	a.DelSocketsLocal(opts, rooms)
	if a.c.clusterModel() {
		return a.shardedOp(ctx, clusterwire.MsgSocketsLeave, opts, rooms, false)
	}
	return a.classicOp(ctx, clusterwire.RemoteLeave, opts, rooms, false)
}

// DisconnectSockets implements adapter.Adapter. The request is published
// before the local sockets are disconnected, so that a packet emitted
// before it reaches every server's clients first.
func (a *nsAdapter) DisconnectSockets(ctx context.Context, opts *adapter.BroadcastOptions, close bool) error {
	var err error
	if a.c.clusterModel() {
		err = a.shardedOp(ctx, clusterwire.MsgDisconnectSockets, opts, nil, close)
	} else {
		err = a.classicOp(ctx, clusterwire.RemoteDisconnect, opts, nil, close)
	}
	a.DisconnectLocal(opts, close)
	return err
}

// FetchSockets implements adapter.Adapter.
func (a *nsAdapter) FetchSockets(ctx context.Context, opts *adapter.BroadcastOptions) ([]adapter.SocketInfo, error) {
	local := a.FetchLocal(opts)
	if opts.Flags.Local {
		return local, nil
	}
	if a.c.clusterModel() {
		return a.shardedFetch(ctx, opts, local)
	}
	n, err := a.ServerCount(ctx)
	if err != nil {
		return local, err
	}
	if n <= 1 {
		return local, nil
	}
	id := uid2(6)
	r := &request{typ: clusterwire.RemoteFetch, expected: n - 1, sockets: local}
	a.register(id, r)
	b := &clusterwire.Builder{}
	b.Raw("{").Key("uid").Str(a.c.uid).Key("requestId").Str(id).Key("type").Int(clusterwire.RemoteFetch).Key("opts").Opts(wireOpts(opts), false).Raw("}")
	msg, _ := clusterwire.Encode(b.Value(), false)
	if err := a.c.pub.send(ctx, a.request, msg, false); err != nil {
		a.forget(id)
		return local, err
	}
	ok := a.await(ctx, id, r, a.c.requestsTimeout)
	a.rmu.Lock()
	socks := slices.Clone(r.sockets)
	a.rmu.Unlock()
	if !ok {
		return socks, &adapter.TimeoutError{Op: "fetchSockets", Sockets: socks, Message: "timeout reached while waiting for fetchSockets response"}
	}
	return socks, nil
}

// AllRooms implements adapter.Adapter; the sharded and streams adapters
// have no such request (ErrNotSupported), as in Node.
func (a *nsAdapter) AllRooms(ctx context.Context) ([]string, error) {
	if a.c.clusterModel() {
		return nil, adapter.ErrNotSupported
	}
	local := a.Rooms()
	n, err := a.ServerCount(ctx)
	if err != nil || n <= 1 {
		return local, err
	}
	id := uid2(6)
	r := &request{typ: clusterwire.AllRooms, expected: n - 1, rooms: local}
	a.register(id, r)
	b := &clusterwire.Builder{}
	b.Raw("{").Key("uid").Str(a.c.uid).Key("requestId").Str(id).Key("type").Int(clusterwire.AllRooms).Raw("}")
	msg, _ := clusterwire.Encode(b.Value(), false)
	if err := a.c.pub.send(ctx, a.request, msg, false); err != nil {
		a.forget(id)
		return local, err
	}
	ok := a.await(ctx, id, r, a.c.requestsTimeout)
	a.rmu.Lock()
	rooms := dedup(r.rooms)
	a.rmu.Unlock()
	if !ok {
		return rooms, &adapter.TimeoutError{Op: "allRooms", Message: "timeout reached while waiting for allRooms response"}
	}
	return rooms, nil
}

func dedup(s []string) []string {
	seen := make(map[string]bool, len(s))
	out := make([]string, 0, len(s))
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// ServerSideEmit implements adapter.Adapter.
func (a *nsAdapter) ServerSideEmit(ctx context.Context, event string, args []any, ack bool) ([]parser.Value, error) {
	if a.c.clusterModel() {
		return a.shardedSSE(ctx, event, args, ack)
	}
	data, err := argsValue(event, args)
	if err != nil {
		return nil, err
	}
	// Node's key order: uid, requestId (with an ack), type, data.
	b := &clusterwire.Builder{}
	b.Raw("{").Key("uid").Str(a.c.uid)
	if !ack {
		b.Key("type").Int(clusterwire.ServerSideEmit).Key("data").Val(data).Raw("}")
		msg, err := clusterwire.Encode(b.Value(), false)
		if err != nil {
			return nil, err
		}
		return nil, a.c.pub.send(ctx, a.request, msg, false)
	}
	n, err := a.ServerCount(ctx)
	if err != nil {
		return nil, err
	}
	if n-1 <= 0 {
		return []parser.Value{}, nil
	}
	id := uid2(6)
	b.Key("requestId").Str(id).Key("type").Int(clusterwire.ServerSideEmit).Key("data").Val(data).Raw("}")
	msg, err := clusterwire.Encode(b.Value(), false)
	if err != nil {
		return nil, err
	}
	r := &request{typ: clusterwire.ServerSideEmit, expected: n - 1}
	a.register(id, r)
	if err := a.c.pub.send(ctx, a.request, msg, false); err != nil {
		a.forget(id)
		return nil, err
	}
	return a.sseResult(ctx, id, r, a.c.requestsTimeout)
}

func (a *nsAdapter) sseResult(ctx context.Context, id string, r *request, timeout time.Duration) ([]parser.Value, error) {
	ok := a.await(ctx, id, r, timeout)
	a.rmu.Lock()
	res := slices.Clone(r.responses)
	a.rmu.Unlock()
	if res == nil {
		res = []parser.Value{}
	}
	if !ok {
		return res, &adapter.TimeoutError{Op: "serverSideEmit", Responses: res,
			Message: fmt.Sprintf("timeout reached: only %d responses received out of %d", len(res), r.expected)}
	}
	return res, nil
}

// ServerCount implements adapter.Adapter: the subscribers of the request
// channel (classic) or of the main channel (sharded, streams), this
// server included.
func (a *nsAdapter) ServerCount(ctx context.Context) (int, error) {
	c := a.c
	if c.mode == shardedMode || (c.mode == streamsMode && c.streams.UseShardedPubSub) {
		if c.sub.cs != nil { // on a Redis Cluster: ask the master the subscriber is on
			return c.sub.shardNumSub(ctx, a.main)
		}
		r, err := c.client.Do(ctx, c.client.B().PubsubShardnumsub().Channel(a.main).Build().Pin()).ToArray()
		if err != nil {
			return 0, err
		}
		return numsub(r), nil
	}
	ch := a.request
	if c.mode == streamsMode {
		ch = a.main
	}
	nodes := []rueidis.Client{c.client}
	if c.client.Mode() == rueidis.ClientModeCluster {
		nodes = nodes[:0]
		for _, n := range c.client.Nodes() {
			nodes = append(nodes, n)
		}
	}
	total := 0
	for _, n := range nodes {
		r, err := n.Do(ctx, n.B().PubsubNumsub().Channel(ch).Build().Pin()).ToArray()
		if err != nil {
			return 0, err
		}
		total += numsub(r)
	}
	return total, nil
}

func numsub(r []rueidis.RedisMessage) int {
	if len(r) < 2 {
		return 0
	}
	n, _ := r[1].AsInt64()
	return int(n)
}

// PersistSession implements adapter.Adapter: the streams adapter keeps
// the session in Redis; the pub/sub adapters keep no sessions, as in Node.
func (a *nsAdapter) PersistSession(ctx context.Context, s *adapter.Session) error {
	if a.c.mode != streamsMode {
		return nil
	}
	return a.streamsPersist(ctx, s)
}

// RestoreSession implements adapter.Adapter: the streams adapter restores
// a session kept by any node; the pub/sub adapters always return
// ErrSessionNotFound.
func (a *nsAdapter) RestoreSession(ctx context.Context, pid, offset string) (*adapter.Session, error) {
	if a.c.mode != streamsMode {
		return nil, adapter.ErrSessionNotFound
	}
	return a.streamsRestore(ctx, pid, offset)
}

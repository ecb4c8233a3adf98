package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/redis/rueidis"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/internal/clusterwire"
	"github.com/gosio/gosio/internal/msgpack"
	"github.com/gosio/gosio/parser"
)

// clusterMessage is a ClusterAdapter message as received.
type clusterMessage struct {
	Type int             `json:"type"`
	Data json.RawMessage `json:"data"`
	UID  string          `json:"uid"`
	Nsp  string          `json:"nsp"`
}

// clusterData holds the fields of every message type's data.
type clusterData struct {
	Packet      json.RawMessage       `json:"packet"`
	Opts        *clusterwire.WireOpts `json:"opts"`
	RequestID   string                `json:"requestId"`
	Rooms       clusterwire.Rooms     `json:"rooms"`
	Close       bool                  `json:"close"`
	Sockets     wireSockets           `json:"sockets"`
	ClientCount *int                  `json:"clientCount"`
}

func (a *nsAdapter) onShardedMessage(m inbound) error {
	v, err := clusterwire.Decode([]byte(m.msg))
	if err != nil {
		return err
	}
	var msg clusterMessage
	if err := json.Unmarshal(v.JSON, &msg); err != nil {
		return err
	}
	if msg.UID == a.c.uid || msg.Nsp != a.name {
		return nil
	}
	return a.onClusterMessage(msg.Type, msg.UID, parser.Value{JSON: msg.Data, Attachments: v.Attachments}, "")
}

// onClusterMessage handles a message of the ClusterAdapter model from
// server uid, whose data (with its attachments) is data. offset is the
// stream id of a message read from a stream, else "".
func (a *nsAdapter) onClusterMessage(typ int, uid string, data parser.Value, offset string) error {
	var d clusterData
	if len(data.JSON) > 0 {
		if err := json.Unmarshal(data.JSON, &d); err != nil {
			return err
		}
	}
	switch typ {
	case clusterwire.MsgBroadcast:
		if d.Opts == nil {
			return fmt.Errorf("broadcast without opts")
		}
		var pkt clusterwire.WirePacket
		if err := json.Unmarshal(d.Packet, &pkt); err != nil {
			return err
		}
		if d.RequestID == "" {
			p, err := a.packetOf(pkt.Data, data.Attachments, 0, false)
			if err != nil {
				return err
			}
			if offset != "" && pkt.ID == nil && a.offsetEligible(p, d.Opts.Flags.Volatile != nil) {
				p = adapter.WithOffset(p, offset)
			}
			a.BroadcastLocal(p, localOpts(d.Opts, true))
			return nil
		}
		p, err := a.packetOf(pkt.Data, data.Attachments, a.nsp.NextAckID(), true)
		if err != nil {
			return err
		}
		id, to := d.RequestID, uid
		a.BroadcastWithAckRemote(p, localOpts(d.Opts, true), func(n int) {
			b := &clusterwire.Builder{}
			b.Raw("{").Key("requestId").Str(id).Key("clientCount").Int(int64(n)).Raw("}")
			_ = a.publishCluster(context.Background(), clusterwire.MsgBroadcastClientCount, b.Value(), to)
		}, func(arg parser.Value) {
			b := &clusterwire.Builder{}
			b.Raw("{").Key("requestId").Str(id).Key("packet").Val(arg).Raw("}")
			_ = a.publishCluster(context.Background(), clusterwire.MsgBroadcastAck, b.Value(), to)
		})
	case clusterwire.MsgSocketsJoin, clusterwire.MsgSocketsLeave, clusterwire.MsgDisconnectSockets:
		if d.Opts == nil {
			return fmt.Errorf("message without opts")
		}
		opts := localOpts(d.Opts, false)
		switch typ {
		case clusterwire.MsgSocketsJoin:
			a.AddSocketsLocal(opts, d.Rooms)
		case clusterwire.MsgSocketsLeave:
			a.DelSocketsLocal(opts, d.Rooms)
		default:
			a.DisconnectLocal(opts, d.Close)
		}
	case clusterwire.MsgFetchSockets:
		if d.Opts == nil {
			return fmt.Errorf("fetch without opts")
		}
		socks := a.FetchLocal(localOpts(d.Opts, false))
		b := &clusterwire.Builder{}
		b.Raw("{").Key("requestId").Str(d.RequestID).Key("sockets").Raw("[")
		for i := range socks {
			if i > 0 {
				b.Raw(",")
			}
			infoJSON(b, &socks[i])
		}
		b.Raw("]}")
		return a.publishCluster(context.Background(), clusterwire.MsgFetchSocketsResponse, b.Value(), uid)
	case clusterwire.MsgServerSideEmit:
		ev, args, err := splitSSE(parser.Value{JSON: d.Packet, Attachments: data.Attachments})
		if err != nil {
			return err
		}
		var ack func(any)
		if d.RequestID != "" {
			id, to := d.RequestID, uid
			ack = func(arg any) {
				b := &clusterwire.Builder{}
				b.Raw("{").Key("requestId").Str(id).Key("packet").Val(firstValue(arg)).Raw("}")
				_ = a.publishCluster(context.Background(), clusterwire.MsgServerSideEmitResponse, b.Value(), to)
			}
		}
		a.nsp.HandleServerSideEmit(ev, args, ack)
	case clusterwire.MsgFetchSocketsResponse, clusterwire.MsgServerSideEmitResponse:
		a.withRequest(d.RequestID, func(r *request) {
			r.got++
			if typ == clusterwire.MsgFetchSocketsResponse {
				for i := range d.Sockets {
					r.sockets = append(r.sockets, d.Sockets[i].info(data.Attachments, uid))
				}
			} else {
				r.responses = append(r.responses, parser.Value{JSON: orNull(d.Packet), Attachments: data.Attachments})
			}
			if r.got >= r.expected {
				r.finish()
			}
		})
	case clusterwire.MsgBroadcastClientCount:
		if ar := a.ackRequest(d.RequestID); ar != nil && d.ClientCount != nil {
			ar.onClientCount(*d.ClientCount)
		}
	case clusterwire.MsgBroadcastAck:
		if ar := a.ackRequest(d.RequestID); ar != nil {
			ar.onAck(parser.Value{JSON: orNull(d.Packet), Attachments: data.Attachments}, nil)
		}
	}
	return nil
}

// publishCluster publishes {type, data, uid, nsp} to the main channel, or
// to the response channel of server to.
func (a *nsAdapter) publishCluster(ctx context.Context, typ int, data parser.Value, to string) error {
	ch := a.main
	if to != "" {
		ch = clusterwire.RoomChannel(a.c.prefix, a.name, to)
	}
	return a.publishClusterOn(ctx, ch, typ, data)
}

func (a *nsAdapter) publishClusterOn(ctx context.Context, ch string, typ int, data parser.Value) error {
	b := &clusterwire.Builder{}
	b.Raw("{").Key("type").Int(int64(typ)).Key("data").Val(data).Key("uid").Str(a.c.uid).Key("nsp").Str(a.name).Raw("}")
	var msg []byte
	var err error
	if a.c.mode == streamsMode {
		// The streams adapter's pub/sub messages are always msgpack.
		msg, err = msgpack.AppendJSON(nil, b.Value(), msgpack.MsgpackJS)
	} else {
		msg, err = clusterwire.Encode(b.Value(), clusterwire.MayHaveBinary(typ) && len(data.Attachments) > 0)
	}
	if err != nil {
		return err
	}
	return a.c.pub.send(ctx, ch, msg, false)
}

// clusterBroadcastData writes {packet:{type,data}, [requestId,] opts}.
func clusterBroadcastData(p *parser.Packet, opts *adapter.BroadcastOptions, requestID string) parser.Value {
	b := &clusterwire.Builder{}
	b.Raw("{").Key("packet").Raw("{").Key("type").Int(2).Key("data").Val(parser.Value{JSON: p.Data, Attachments: p.Attachments})
	if p.HasID && requestID == "" {
		b.Key("id").Int(int64(p.ID)) // socket.emit with an ack under recovery; a broadcast with acks carries none
	}
	b.Raw("}")
	if requestID != "" {
		b.Key("requestId").Str(requestID)
	}
	b.Key("opts").Opts(wireOpts(opts), true).Raw("}")
	return b.Value()
}

func (a *nsAdapter) shardedBroadcast(ctx context.Context, p *parser.Packet, opts *adapter.BroadcastOptions) error {
	var err error
	if !opts.Flags.Local {
		ch := a.main
		if len(opts.Rooms) == 1 {
			r := opts.Rooms[0]
			if a.c.subMode == DynamicPrivate || (a.c.subMode == Dynamic && !clusterwire.LooksLikeSocketID(r)) {
				ch = clusterwire.RoomChannel(a.c.prefix, a.name, r)
			}
		}
		err = a.publishClusterOn(ctx, ch, clusterwire.MsgBroadcast, clusterBroadcastData(p, opts, ""))
	}
	a.BroadcastLocal(p, opts)
	return err
}

func (a *nsAdapter) shardedBroadcastWithAck(ctx context.Context, p *parser.Packet, opts *adapter.BroadcastOptions, onClientCount func(int), onAck func(parser.Value, error)) error {
	id := newUID(8)
	a.addAckRequest(id, &ackRequest{onClientCount: onClientCount, onAck: onAck}, opts.Flags.Timeout)
	err := a.publishCluster(ctx, clusterwire.MsgBroadcast, clusterBroadcastData(p, opts, id), "")
	return errorsJoin(err, a.Memory.BroadcastWithAck(ctx, p, opts, onClientCount, onAck))
}

func (a *nsAdapter) shardedOp(ctx context.Context, typ int, opts *adapter.BroadcastOptions, rooms []string, close bool) error {
	if opts.Flags.Local {
		return nil
	}
	b := &clusterwire.Builder{}
	b.Raw("{").Key("opts").Opts(wireOpts(opts), true)
	if typ == clusterwire.MsgDisconnectSockets {
		b.Key("close").Bool(close)
	} else {
		b.Key("rooms").Strings(nonNilStrings(rooms))
	}
	if a.c.mode == streamsMode {
		_, err := a.xadd(ctx, typ, b.Raw("}").Value())
		return err
	}
	return a.publishCluster(ctx, typ, b.Raw("}").Value(), "")
}

func (a *nsAdapter) shardedFetch(ctx context.Context, opts *adapter.BroadcastOptions, local []adapter.SocketInfo) ([]adapter.SocketInfo, error) {
	n, err := a.ServerCount(ctx)
	if err != nil {
		return local, err
	}
	expected := n - 1
	if expected <= 0 {
		return local, nil
	}
	timeout := opts.Flags.Timeout
	if timeout <= 0 {
		timeout = DefaultShardedRequestsTimeout
	}
	id := newUID(8)
	r := &request{typ: clusterwire.MsgFetchSockets, expected: expected, sockets: local}
	a.register(id, r)
	b := &clusterwire.Builder{}
	b.Raw("{").Key("opts").Opts(wireOpts(opts), true).Key("requestId").Str(id).Raw("}")
	if err := a.publishCluster(ctx, clusterwire.MsgFetchSockets, b.Value(), ""); err != nil {
		a.forget(id)
		return local, err
	}
	ok := a.await(ctx, id, r, timeout)
	a.rmu.Lock()
	socks, got := slices.Clone(r.sockets), r.got
	a.rmu.Unlock()
	if !ok {
		return socks, &adapter.TimeoutError{Op: "fetchSockets", Sockets: socks,
			Message: fmt.Sprintf("timeout reached: only %d responses received out of %d", got, expected)}
	}
	return socks, nil
}

func (a *nsAdapter) shardedSSE(ctx context.Context, event string, args []any, ack bool) ([]parser.Value, error) {
	data, err := argsValue(event, args)
	if err != nil {
		return nil, err
	}
	if !ack {
		b := &clusterwire.Builder{}
		b.Raw("{").Key("packet").Val(data).Raw("}")
		return nil, a.publishCluster(ctx, clusterwire.MsgServerSideEmit, b.Value(), "")
	}
	n, err := a.ServerCount(ctx)
	if err != nil {
		return nil, err
	}
	if n-1 <= 0 {
		return []parser.Value{}, nil
	}
	id := newUID(8)
	r := &request{typ: clusterwire.MsgServerSideEmit, expected: n - 1}
	a.register(id, r)
	// Node's order with an ack: requestId, then packet.
	b := &clusterwire.Builder{}
	b.Raw("{").Key("requestId").Str(id).Key("packet").Val(data).Raw("}")
	if err := a.publishCluster(ctx, clusterwire.MsgServerSideEmit, b.Value(), ""); err != nil {
		a.forget(id)
		return nil, err
	}
	return a.sseResult(ctx, id, r, DefaultShardedRequestsTimeout)
}

// roomCreated and roomDeleted follow the rooms for the dynamic modes; they
// run under the Memory's lock, so they only queue the change.
func (a *nsAdapter) roomCreated(room string, isSocketID bool) {
	if a.c.subMode == Dynamic && isSocketID {
		return
	}
	a.queueRoomOp(clusterwire.RoomChannel(a.c.prefix, a.name, room), true)
}

func (a *nsAdapter) roomDeleted(room string, isSocketID bool) {
	if a.c.subMode == Dynamic && isSocketID {
		return
	}
	a.queueRoomOp(clusterwire.RoomChannel(a.c.prefix, a.name, room), false)
}

func (a *nsAdapter) queueRoomOp(ch string, sub bool) {
	a.omu.Lock()
	a.ops = append(a.ops, roomOp{channel: ch, sub: sub})
	a.omu.Unlock()
	select {
	case a.opsKick <- struct{}{}:
	default:
	}
}

// roomLoop applies the room subscriptions in order.
func (a *nsAdapter) roomLoop() {
	defer a.c.wg.Done()
	for {
		select {
		case <-a.opsKick:
		case <-a.stop:
			return
		}
		for {
			a.omu.Lock()
			ops := a.ops
			a.ops = nil
			a.omu.Unlock()
			if len(ops) == 0 {
				break
			}
			for _, op := range ops {
				ctx, cancel := context.WithTimeout(context.Background(), subscribeTimeout)
				if op.sub {
					if err := a.c.sub.subscribe(ctx, a, subShard, op.channel); err != nil {
						a.c.log.Debug("redis adapter: room subscription deferred", "channel", op.channel, "err", err)
					}
				} else {
					a.c.sub.unsubscribe(ctx, op.channel)
				}
				cancel()
			}
		}
	}
}

// publishClient returns the client publishes go through: on a Redis
// Cluster, the classic adapter's PUBLISHes all enter through one node so
// that they keep their order.
func (c *Cluster) publishClient() rueidis.Client {
	if c.mode == classicMode && c.client.Mode() == rueidis.ClientModeCluster {
		nodes := c.client.Nodes()
		addrs := make([]string, 0, len(nodes))
		for addr := range nodes {
			addrs = append(addrs, addr)
		}
		if len(addrs) > 0 {
			slices.Sort(addrs)
			return nodes[addrs[0]]
		}
	}
	return c.client
}

func (c *Cluster) publishCmd(client rueidis.Client, ch string, msg []byte) rueidis.Completed {
	if c.mode == shardedMode || (c.mode == streamsMode && c.streams.UseShardedPubSub) {
		return client.B().Spublish().Channel(ch).Message(rueidis.BinaryString(msg)).Build().Pin()
	}
	return client.B().Publish().Channel(ch).Message(rueidis.BinaryString(msg)).Build().Pin()
}

func (c *Cluster) logPublishError(ch string, err error) {
	c.mu.Lock()
	now := time.Now()
	quiet := now.Sub(c.lastPublishLog) < 5*time.Second
	if !quiet {
		c.lastPublishLog = now
	}
	c.mu.Unlock()
	if !quiet {
		c.log.Warn("redis adapter: publish failed (further failures within 5 s are counted in Stats.PublishErrors)", "uid", c.uid, "channel", ch, "err", err)
	}
}

func (c *Cluster) reportGap(g Gap) {
	if c.onGap != nil {
		go c.onGap(g)
		return
	}
	c.log.Warn("redis adapter: subscriber reconnected; messages published in the gap were not received", "uid", c.uid, "gap", g.End.Sub(g.Start), "err", g.Err)
}

package engineio

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/coder/websocket"
)

// dialWebSocket opens a WebSocket to the server, with the session id once
// there is one.
func (c *ClientConn) dialWebSocket(ctx context.Context) (*websocket.Conn, error) {
	u := c.wsURL
	u.RawQuery = c.requestQuery(TransportWebSocket)
	conn, resp, err := websocket.Dial(ctx, u.String(), &websocket.DialOptions{
		HTTPClient:      c.hc,
		HTTPHeader:      c.opts.Header,
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		if resp != nil && resp.StatusCode != 0 && resp.StatusCode != 101 {
			var body []byte
			if resp.Body != nil {
				body, _ = io.ReadAll(io.LimitReader(resp.Body, 1024))
			}
			return nil, newHTTPError(resp.StatusCode, body)
		}
		return nil, err
	}
	// Messages from the server are not bound by the maxPayload it announces
	// for messages from clients, but by MaxMessageSize.
	conn.SetReadLimit(c.opts.MaxMessageSize)
	return conn, nil
}

// openWebSocket opens a WebSocket-only connection and returns its first
// packet, the open packet.
func (c *ClientConn) openWebSocket(ctx context.Context) (*websocket.Conn, []packet, error) {
	conn, err := c.dialWebSocket(ctx)
	if err != nil {
		return nil, nil, err
	}
	conn.SetReadLimit(c.handshakeLimit())
	typ, data, err := conn.Read(ctx)
	if err != nil {
		_ = conn.CloseNow()
		return nil, nil, c.wsReadError(err)
	}
	conn.SetReadLimit(c.opts.MaxMessageSize)
	if typ != websocket.MessageText {
		_ = conn.CloseNow()
		return nil, nil, parseError("binary frame instead of the open packet")
	}
	p, err := decodeText(data)
	if err != nil {
		_ = conn.CloseNow()
		return nil, nil, err
	}
	return conn, []packet{p}, nil
}

// readWebSocket is the WebSocket reader: it handles the packets of conn
// until the connection closes.
func (c *ClientConn) readWebSocket(conn *websocket.Conn, pkts []packet) {
	defer c.notifyClose()
	defer func() { _ = conn.CloseNow() }()
	for _, p := range pkts {
		if !c.onPacket(p) {
			return
		}
	}
	for {
		typ, data, err := conn.Read(c.ctx)
		if err != nil {
			reason := ReasonTransportError
			if isClosedConn(err) || errors.Is(err, context.Canceled) {
				reason = ReasonTransportClose
			}
			c.fail(reason, c.wsReadError(err))
			return
		}
		if typ == websocket.MessageBinary {
			c.deliver(data, true)
			continue
		}
		p, err := decodeText(data)
		if err != nil {
			c.fail(ReasonTransportError, err)
			return
		}
		if !c.onPacket(p) {
			return
		}
	}
}

// wsReadError marks the error of a read that passed the read limit with
// ErrMessageTooLarge (the WebSocket is then closed with status 1009).
func (c *ClientConn) wsReadError(err error) error {
	if errors.Is(err, websocket.ErrMessageTooBig) {
		return fmt.Errorf("%w: %w", ErrMessageTooLarge, err)
	}
	return err
}

// writeWebSocket writes the queue to conn until it is empty. Over a closing
// connection it then closes the WebSocket and ends the connection.
func (c *ClientConn) writeWebSocket(conn *websocket.Conn) {
	for {
		c.mu.Lock()
		if c.closed && !c.graceful {
			c.writing = false
			c.cond.Broadcast()
			c.mu.Unlock()
			return
		}
		if len(c.queue) == 0 {
			closing := c.closed
			if !closing {
				c.writing = false
				c.cond.Broadcast()
			}
			c.mu.Unlock()
			if closing {
				_ = conn.Close(websocket.StatusNormalClosure, "")
				c.cancel()
				c.mu.Lock()
				c.writing = false
				c.cond.Broadcast()
				c.mu.Unlock()
			}
			return
		}
		batch := c.queue
		c.queue = nil
		c.mu.Unlock()

		for _, m := range batch {
			typ := websocket.MessageText
			if m.binary {
				typ = websocket.MessageBinary
			}
			if err := conn.Write(c.ctx, typ, m.frame); err != nil {
				c.fail(ReasonTransportError, err)
				c.mu.Lock()
				c.writing = false
				c.cond.Broadcast()
				c.mu.Unlock()
				return
			}
		}
	}
}

// upgrade probes a WebSocket for the polling connection and, when the
// server answers the probe, pauses polling, switches to the WebSocket and
// becomes its reader. A failed probe leaves the connection on polling.
func (c *ClientConn) upgrade() {
	conn, err := c.dialWebSocket(c.ctx)
	if err != nil {
		return
	}
	ctx := c.ctx
	if err := conn.Write(ctx, websocket.MessageText, []byte("2probe")); err != nil {
		_ = conn.CloseNow()
		return
	}
	typ, data, err := conn.Read(ctx)
	if err != nil || typ != websocket.MessageText || string(data) != "3probe" {
		_ = conn.CloseNow()
		return
	}

	// Pause polling: no new request, and wait for those in flight.
	c.mu.Lock()
	c.pausing = true
	for (c.polling || c.writing) && !c.closed {
		c.cond.Wait()
	}
	if c.closed {
		reader := !c.polling // the poller is gone: this goroutine reads now
		if c.graceful {
			// Closed during the probe: say goodbye over polling.
			c.pausing = false
			c.kickLocked()
		}
		c.mu.Unlock()
		_ = conn.CloseNow()
		if reader {
			c.notifyClose()
		}
		return
	}
	c.mu.Unlock()

	if err := conn.Write(ctx, websocket.MessageText, []byte{typeUpgrade}); err != nil {
		_ = conn.CloseNow()
		c.fail(ReasonTransportError, err)
		c.notifyClose()
		return
	}
	c.mu.Lock()
	c.transport = webSocket
	c.ws = conn
	c.pausing = false
	c.kickLocked() // over a closing connection, the writer closes the WebSocket
	c.mu.Unlock()
	c.readWebSocket(conn, nil)
}

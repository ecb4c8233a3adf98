package engineio

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
)

// openPolling performs the polling handshake and returns its packets, the
// open packet first.
func (c *ClientConn) openPolling(ctx context.Context) ([]packet, error) {
	body, err := c.pollRequest(ctx, http.MethodGet, nil)
	if err != nil {
		return nil, err
	}
	pkts, err := decodePayload(body)
	if err != nil {
		return nil, err
	}
	return pkts, nil
}

// pollRequest sends one polling request and returns the response body.
func (c *ClientConn) pollRequest(ctx context.Context, method string, body []byte) ([]byte, error) {
	u := c.pollURL
	u.RawQuery = c.requestQuery(TransportPolling)
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	for k, vs := range c.opts.Header {
		req.Header[k] = vs
	}
	if body != nil {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, newHTTPError(resp.StatusCode, b)
	}
	return io.ReadAll(resp.Body)
}

// poll is the polling reader: it sends one GET at a time and handles the
// packets of each response, until the connection closes or an upgrade
// pauses polling. It starts with the packets that came with the
// handshake.
func (c *ClientConn) poll(pkts []packet) {
	for {
		ok := true
		for _, p := range pkts {
			if ok = c.onPacket(p); !ok {
				break
			}
		}
		c.mu.Lock()
		stop := !ok || c.closed || c.pausing
		if stop {
			c.polling = false
			c.cond.Broadcast()
		}
		c.mu.Unlock()
		if stop {
			break
		}
		body, err := c.pollRequest(c.ctx, http.MethodGet, nil)
		if err != nil {
			c.fail(ReasonTransportError, err)
			pkts = nil
			continue
		}
		if pkts, err = decodePayload(body); err != nil {
			c.fail(ReasonTransportError, err)
		}
	}
	c.notifyClose() // a no-op when paused by an upgrade
}

// writePolling is the polling writer: it POSTs the queue, in batches that
// fit the server's maxPayload, until the queue is empty or an upgrade
// pauses polling. Over a closing connection it then ends the connection.
func (c *ClientConn) writePolling() {
	var buf []byte
	for {
		c.mu.Lock()
		if (c.closed && !c.graceful) || c.pausing || len(c.queue) == 0 {
			c.writing = false
			c.cond.Broadcast()
			closing := c.closed
			c.mu.Unlock()
			if closing {
				c.cancel()
			}
			return
		}
		batch := c.takeBatchLocked()
		c.mu.Unlock()

		buf = buf[:0]
		for i, m := range batch {
			if i > 0 {
				buf = append(buf, recordSeparator)
			}
			buf = append(buf, m.pollingFrame()...)
		}
		if _, err := c.pollRequest(c.ctx, http.MethodPost, buf); err != nil {
			if !errors.Is(err, context.Canceled) {
				c.fail(ReasonTransportError, err)
			}
			c.mu.Lock()
			c.writing = false
			c.cond.Broadcast()
			c.mu.Unlock()
			c.cancel()
			return
		}
	}
}

// takeBatchLocked removes and returns the first queued messages that fit
// in one POST: the size of the payload is the sum of the packets' encoded
// sizes plus one separator between two, and a payload of more than one
// packet is cut before the packet that takes it over maxPayload.
func (c *ClientConn) takeBatchLocked() []*Message {
	n := len(c.queue)
	if c.maxPayload > 0 && n > 1 {
		size := 0
		for i, m := range c.queue {
			size += len(m.pollingFrame())
			if i > 0 {
				size++
				if size > c.maxPayload {
					n = i
					break
				}
			}
		}
	}
	batch := c.queue[:n:n]
	if n == len(c.queue) {
		c.queue = nil
	} else {
		c.queue = append([]*Message(nil), c.queue[n:]...)
	}
	return batch
}

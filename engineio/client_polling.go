package engineio

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// openPolling performs the polling handshake and returns its packets, the
// open packet first. The whole body is bounded by handshakeLimit.
func (c *ClientConn) openPolling(ctx context.Context) ([]packet, error) {
	resp, err := c.pollRequest(ctx, http.MethodGet, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Close()
	rd := io.Reader(resp)
	max := c.handshakeLimit()
	if max > 0 {
		rd = io.LimitReader(resp, max+1)
	}
	body, err := io.ReadAll(rd)
	if err != nil {
		return nil, err
	}
	if max > 0 && int64(len(body)) > max {
		return nil, messageTooLarge(max)
	}
	return decodePayload(body)
}

// minHandshakeLimit is the least bound of the handshake: an open packet
// takes about a hundred bytes, whatever MaxMessageSize says.
const minHandshakeLimit = 64 << 10

// handshakeLimit bounds the handshake's body or message: MaxMessageSize,
// at least minHandshakeLimit; -1 for no bound.
func (c *ClientConn) handshakeLimit() int64 {
	if c.opts.MaxMessageSize < 0 {
		return -1
	}
	return max(c.opts.MaxMessageSize, minHandshakeLimit)
}

// messageTooLarge is the error of a packet over the limit of max bytes.
func messageTooLarge(max int64) error {
	return fmt.Errorf("%w (%d bytes)", ErrMessageTooLarge, max)
}

// pollRequest sends one polling request and returns the response body,
// with its Content-Encoding undone, for the caller to close.
func (c *ClientConn) pollRequest(ctx context.Context, method string, body []byte) (io.ReadCloser, error) {
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
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		return nil, newHTTPError(resp.StatusCode, b)
	}
	if resp.Uncompressed {
		return resp.Body, nil // the transport undid its own gzip
	}
	// An Accept-Encoding of the caller's Header makes the transport leave
	// the body as it came.
	var dec io.ReadCloser
	switch strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding"))) {
	case "", "identity":
		return resp.Body, nil
	case "gzip":
		dec, err = gzip.NewReader(resp.Body)
	case "deflate":
		dec, err = zlib.NewReader(resp.Body)
	default:
		err = fmt.Errorf("unsupported Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
	if err != nil {
		resp.Body.Close()
		return nil, err
	}
	return decodedBody{dec, resp.Body}, nil
}

// decodedBody reads a decompressed response body and closes both.
type decodedBody struct {
	io.ReadCloser // the decompressor
	body          io.Closer
}

func (b decodedBody) Close() error {
	_ = b.ReadCloser.Close()
	return b.body.Close()
}

// readPayload reads the packets of a polling body one at a time and calls
// fn with each, until the body ends or fn returns false; a packet of more
// than max bytes (when max > 0) fails it with ErrMessageTooLarge. So a
// long body is never held whole: at most one packet is.
func readPayload(r io.Reader, max int64, fn func(packet) bool) error {
	br := bufio.NewReaderSize(r, 4096)
	var rec []byte
	for n := 0; ; {
		chunk, err := br.ReadSlice(recordSeparator)
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) && !errors.Is(err, io.EOF) {
			return err
		}
		end := err == nil // chunk ends with the separator
		if end {
			chunk = chunk[:len(chunk)-1]
		}
		if max > 0 && int64(len(rec)+len(chunk)) > max {
			return messageTooLarge(max)
		}
		// rec is a new slice for each packet: the data of a message goes to
		// OnMessage, which keeps it.
		rec = append(rec, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) && n == 0 && len(rec) == 0 {
			return parseError("empty payload")
		}
		p, perr := decodeText(rec)
		if perr != nil {
			return perr
		}
		n++
		rec = nil
		if !fn(p) || !end {
			return nil
		}
	}
}

// poll is the polling reader: it sends one GET at a time and handles the
// packets of each response as they are read, until the connection closes
// or an upgrade pauses polling. It starts with the packets that came with
// the handshake.
func (c *ClientConn) poll(pkts []packet) {
	ok := true
	for _, p := range pkts {
		if ok = c.onPacket(p); !ok {
			break
		}
	}
	for ok {
		c.mu.Lock()
		stop := c.closed || c.pausing
		if stop {
			c.polling = false
			c.cond.Broadcast()
		}
		c.mu.Unlock()
		if stop {
			break
		}
		body, err := c.pollRequest(c.ctx, http.MethodGet, nil)
		if err == nil {
			err = readPayload(body, c.opts.MaxMessageSize, func(p packet) bool {
				ok = c.onPacket(p)
				return ok
			})
			body.Close()
		}
		if err != nil {
			c.fail(ReasonTransportError, err)
		}
	}
	if !ok {
		c.mu.Lock()
		c.polling = false
		c.cond.Broadcast()
		c.mu.Unlock()
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
		resp, err := c.pollRequest(c.ctx, http.MethodPost, buf)
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp, 512)) // "ok"
			resp.Close()
		}
		if err != nil {
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
// packet is cut before the packet that takes it over maxPayload. The
// close packet goes alone, once the POST before it has ended, as the
// reference client sends it: a server that gets packets and the close in
// one payload may close the session before it handles them (Node then
// reports "transport close" for a socket that sent its DISCONNECT).
func (c *ClientConn) takeBatchLocked() []*Message {
	n := len(c.queue)
	for i, m := range c.queue {
		if m == closeMessage {
			n = max(i, 1)
			break
		}
	}
	if c.maxPayload > 0 && n > 1 {
		size := 0
		for i, m := range c.queue[:n] {
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

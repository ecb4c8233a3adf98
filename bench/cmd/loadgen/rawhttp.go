package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"sync"
)

// rawHTTP is a keep-alive HTTP/1.1 connection that writes requests as
// bytes and reads responses with the least parsing that Engine.IO polling
// needs: the status, Content-Length or a chunked body, Connection: close.
// Through net/http's client the polling scenario's load generator spent
// about 73 µs of CPU per request, as much as gosio, and was the limit
// (issue 19); with this one it spends about 37 µs.
type rawHTTP struct {
	host, path string // Host header, request target

	mu  sync.Mutex
	c   net.Conn
	br  *bufio.Reader
	req []byte
}

func newRawHTTP(rawURL string) (*rawHTTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	return &rawHTTP{host: u.Host, path: u.RequestURI()}, nil
}

// setPath changes the request target (the sid is known after the open).
func (h *rawHTTP) setPath(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	h.mu.Lock()
	h.path = u.RequestURI()
	h.mu.Unlock()
	return nil
}

// do sends one request and returns the body of a 200 answer. A broken
// keep-alive connection is dialed again once.
func (h *rawHTTP) do(ctx context.Context, method string, body []byte) ([]byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for attempt := 0; ; attempt++ {
		fresh := h.c == nil
		if fresh {
			c, err := dialContext(ctx, "tcp", h.host)
			if err != nil {
				return nil, err
			}
			h.c, h.br = c, bufio.NewReaderSize(c, 16<<10)
		}
		h.req = append(h.req[:0], method...)
		h.req = append(h.req, ' ')
		h.req = append(h.req, h.path...)
		h.req = append(h.req, " HTTP/1.1\r\nHost: "...)
		h.req = append(h.req, h.host...)
		if method == "POST" {
			h.req = append(h.req, "\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: "...)
			h.req = strconv.AppendInt(h.req, int64(len(body)), 10)
		}
		h.req = append(h.req, "\r\n\r\n"...)
		h.req = append(h.req, body...)
		httpRequests.Add(1)
		status, resp, keep, err := h.roundTrip()
		if err != nil {
			h.c.Close()
			h.c = nil
			if !fresh && attempt == 0 {
				continue // the server closed an idle keep-alive connection
			}
			return nil, err
		}
		if !keep {
			h.c.Close()
			h.c = nil
		}
		if status != 200 {
			return nil, fmt.Errorf("%s: HTTP %d: %q", method, status, resp)
		}
		return resp, nil
	}
}

var errBadResponse = errors.New("rawhttp: malformed response")

// roundTrip writes h.req and reads the response.
func (h *rawHTTP) roundTrip() (status int, body []byte, keep bool, err error) {
	if _, err := h.c.Write(h.req); err != nil {
		return 0, nil, false, err
	}
	line, err := h.br.ReadSlice('\n')
	if err != nil {
		return 0, nil, false, err
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, nil, false, errBadResponse
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, nil, false, errBadResponse
	}
	length, chunked := -1, false
	keep = line[7] == '1'
	for {
		line, err := h.br.ReadSlice('\n')
		if err != nil {
			return 0, nil, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, nil, false, errBadResponse
		}
		v = bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(v)); err != nil || length < 0 {
				return 0, nil, false, errBadResponse
			}
		case bytes.EqualFold(k, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(v, []byte("chunked"))
		case bytes.EqualFold(k, []byte("Connection")):
			if bytes.EqualFold(v, []byte("close")) {
				keep = false
			} else if bytes.EqualFold(v, []byte("keep-alive")) {
				keep = true
			}
		}
	}
	switch {
	case chunked:
		body, err = h.readChunked()
	case length >= 0:
		body = make([]byte, length)
		_, err = io.ReadFull(h.br, body)
	default:
		body, err = io.ReadAll(h.br)
		keep = false
	}
	if err != nil {
		return 0, nil, false, err
	}
	return status, body, keep, nil
}

func (h *rawHTTP) readChunked() ([]byte, error) {
	var body []byte
	for {
		line, err := h.br.ReadSlice('\n')
		if err != nil {
			return nil, err
		}
		size, _, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(";"))
		n, err := strconv.ParseInt(string(size), 16, 32)
		if err != nil || n < 0 {
			return nil, errBadResponse
		}
		if n == 0 {
			for { // trailers, then the empty line
				line, err := h.br.ReadSlice('\n')
				if err != nil {
					return nil, err
				}
				if len(bytes.TrimRight(line, "\r\n")) == 0 {
					return body, nil
				}
			}
		}
		start := len(body)
		body = append(body, make([]byte, n)...)
		if _, err := io.ReadFull(h.br, body[start:]); err != nil {
			return nil, err
		}
		if _, err := h.br.Discard(2); err != nil {
			return nil, err
		}
	}
}

// close closes the connection.
func (h *rawHTTP) close() {
	h.mu.Lock()
	if h.c != nil {
		h.c.Close()
		h.c = nil
	}
	h.mu.Unlock()
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// httpRequests counts every polling request, for requests/s.
var httpRequests atomic.Int64

// pclient is one Engine.IO 4 / Socket.IO 5 connection over HTTP
// long-polling: a GET loop reads, POSTs (one at a time, as the protocol
// requires) write.
type pclient struct {
	idx   int
	url   string // with sid
	h     *handlers
	postM sync.Mutex
	ackCh chan struct{}
	done  chan struct{}
}

func (p *pclient) get(ctx context.Context) ([]byte, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
	httpRequests.Add(1)
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET: %s: %q", resp.Status, b)
	}
	return b, err
}

// send POSTs one packet.
func (p *pclient) send(b []byte) error {
	p.postM.Lock()
	defer p.postM.Unlock()
	req, _ := http.NewRequest(http.MethodPost, p.url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	httpRequests.Add(1)
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST: %s", resp.Status)
	}
	return nil
}

// dialPolling performs the Engine.IO handshake over polling and connects
// to the main namespace, then starts the GET loop.
func dialPolling(ctx context.Context, base string, idx int, h *handlers) (*pclient, time.Duration, error) {
	start := time.Now()
	p := &pclient{idx: idx, url: base, h: h, ackCh: make(chan struct{}, 1), done: make(chan struct{})}
	b, err := p.get(ctx)
	if err != nil {
		return nil, 0, err
	}
	if len(b) == 0 || b[0] != '0' {
		return nil, 0, fmt.Errorf("unexpected open packet %q", b)
	}
	i := bytes.Index(b, []byte(`"sid":"`))
	if i < 0 {
		return nil, 0, fmt.Errorf("no sid in %q", b)
	}
	sid := b[i+7:]
	sid = sid[:bytes.IndexByte(sid, '"')]
	p.url = base + "&sid=" + string(sid)
	if err := p.send([]byte("40")); err != nil {
		return nil, 0, err
	}
	for {
		b, err := p.get(ctx)
		if err != nil {
			return nil, 0, err
		}
		connected := false
		for pkt := range bytes.SplitSeq(b, []byte{0x1e}) {
			if bytes.HasPrefix(pkt, []byte("40")) {
				connected = true
			} else {
				p.handle(pkt)
			}
		}
		if connected {
			break
		}
	}
	d := time.Since(start)
	go p.loop()
	return p, d, nil
}

func (p *pclient) loop() {
	defer close(p.done)
	for {
		b, err := p.get(context.Background())
		if err != nil {
			if p.h.closed != nil {
				p.h.closed(nil, err)
			}
			return
		}
		for pkt := range bytes.SplitSeq(b, []byte{0x1e}) {
			if string(pkt) == "1" {
				return
			}
			p.handle(pkt)
		}
	}
}

func (p *pclient) handle(pkt []byte) {
	switch {
	case string(pkt) == "2":
		go func() { _ = p.send([]byte("3")) }()
	case bytes.HasPrefix(pkt, []byte("42")):
		if p.h.event != nil {
			p.h.event(nil, pkt[2:])
		}
	case bytes.HasPrefix(pkt, []byte("43")):
		_, rest := splitID(pkt[2:])
		if p.h.ack != nil {
			p.h.ack(nil, rest)
		}
		select {
		case p.ackCh <- struct{}{}:
		default:
		}
	}
}

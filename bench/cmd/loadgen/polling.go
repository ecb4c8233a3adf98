package main

import (
	"bytes"
	"context"
	"fmt"
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
	getC  *rawHTTP // the long-polling GETs
	postC *rawHTTP // the POSTs, one at a time
	ackCh chan struct{}
	done  chan struct{}
}

func (p *pclient) get(ctx context.Context) ([]byte, error) {
	return p.getC.do(ctx, "GET", nil)
}

// send POSTs one packet.
func (p *pclient) send(b []byte) error {
	_, err := p.postC.do(context.Background(), "POST", b)
	return err
}

// dialPolling performs the Engine.IO handshake over polling and connects
// to the main namespace, then starts the GET loop.
func dialPolling(ctx context.Context, base string, idx int, h *handlers) (*pclient, time.Duration, error) {
	start := time.Now()
	p := &pclient{idx: idx, url: base, h: h, ackCh: make(chan struct{}, 1), done: make(chan struct{})}
	var err error
	if p.getC, err = newRawHTTP(base); err != nil {
		return nil, 0, err
	}
	if p.postC, err = newRawHTTP(base); err != nil {
		return nil, 0, err
	}
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
	if err := p.getC.setPath(p.url); err != nil {
		return nil, 0, err
	}
	if err := p.postC.setPath(p.url); err != nil {
		return nil, 0, err
	}
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

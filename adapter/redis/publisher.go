package redis

import (
	"context"
	"time"

	"github.com/redis/rueidis"
)

// maxBatch bounds the commands of one DoMulti: from 2000 on rueidis moves
// a batch to a dedicated connection.
const maxBatch = 512

// publishTimeout bounds one batch of publishes.
const publishTimeout = 10 * time.Second

// A pubItem is one PUBLISH or SPUBLISH; done, if set, gets its result.
type pubItem struct {
	channel string
	msg     []byte
	done    chan error
}

// A publisher sends a Cluster's messages in call order: one goroutine
// drains a queue and writes the messages in batches with DoMulti, which
// rueidis writes contiguously on one connection.
type publisher struct {
	c    *Cluster
	ch   chan *pubItem
	stop chan struct{}
}

func newPublisher(c *Cluster) *publisher {
	p := &publisher{c: c, ch: make(chan *pubItem, 4096), stop: make(chan struct{})}
	c.wg.Add(1)
	go p.run()
	return p
}

// send queues a message; with wait, it returns the result of its publish.
func (p *publisher) send(ctx context.Context, channel string, msg []byte, wait bool) error {
	it := &pubItem{channel: channel, msg: msg}
	if wait {
		it.done = make(chan error, 1)
	}
	select {
	case p.ch <- it:
	case <-p.stop:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	if !wait {
		return nil
	}
	select {
	case err := <-it.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *publisher) close() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
}

func (p *publisher) run() {
	defer p.c.wg.Done()
	batch := make([]*pubItem, 0, maxBatch)
	cmds := make(rueidis.Commands, 0, maxBatch)
	for {
		select {
		case it := <-p.ch:
			batch = append(batch[:0], it)
		case <-p.stop:
			p.drain()
			return
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case it := <-p.ch:
				batch = append(batch, it)
			default:
				break fill
			}
		}
		cmds = cmds[:0]
		client := p.c.publishClient()
		for _, it := range batch {
			cmds = append(cmds, p.c.publishCmd(client, it.channel, it.msg))
		}
		ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
		res := client.DoMulti(ctx, cmds...)
		// A connection that broke while idle (a Redis restart) fails the
		// first writes on it; rueidis does not retry writes. Send the
		// commands that failed that way once more, on the new connection.
		// A command that did reach Redis before the connection broke is
		// then published twice: at least once, rather than at most once.
		var retry []int
		for i := range batch {
			if err := res[i].Error(); err != nil && !isRedisReply(err) && ctx.Err() == nil {
				retry = append(retry, i)
			}
		}
		if len(retry) > 0 {
			p.c.stats.republished.Add(uint64(len(retry)))
			again := make(rueidis.Commands, len(retry))
			for k, i := range retry {
				again[k] = p.c.publishCmd(client, batch[i].channel, batch[i].msg)
			}
			for k, r := range client.DoMulti(ctx, again...) {
				res[retry[k]] = r
			}
		}
		cancel()
		for i, it := range batch {
			err := res[i].Error()
			if err != nil {
				p.c.stats.publishErrors.Add(1)
				p.c.logPublishError(it.channel, err)
			} else {
				p.c.stats.published.Add(1)
			}
			if it.done != nil {
				it.done <- err
			}
		}
		clear(batch)
		batch = batch[:0]
	}
}

// drain fails what is still queued at Close.
func (p *publisher) drain() {
	for {
		select {
		case it := <-p.ch:
			if it.done != nil {
				it.done <- ErrClosed
			}
		default:
			return
		}
	}
}

// isRedisReply reports whether err is an error reply of Redis (the
// command was executed and refused), as opposed to a connection error.
func isRedisReply(err error) bool {
	_, ok := rueidis.IsRedisErr(err)
	return ok
}

package emitter

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/redis/rueidis"
)

// DefaultWindow is the number of emits a Pipeline lets wait for their
// replies when NewPipeline is given 0.
const DefaultWindow = 1024

// A Target is what a Pipeline emits to: an *Emitter (every client of its
// namespace) or an Operator (a selection of them).
type Target interface {
	operator() Operator
}

func (e *Emitter) operator() Operator { return Operator{e: e} }
func (o Operator) operator() Operator { return o }

// A Pipeline emits without waiting for each reply, as Node's emitter does,
// but keeps Redis's answers: Emit encodes the event and queues its command
// at once, the queued commands of all a client's pipelines are written
// together (one DoMulti per batch, from a goroutine that runs only while
// commands are queued), and Wait returns the errors of every emit since
// the previous Wait. A loop of Emit calls from one goroutine so goes as
// fast as a loop of Node's emit calls, where Operator.Emit, which waits
// for its reply, needs many goroutines to do the same.
//
// A Pipeline is safe for concurrent use. At most its window of emits wait
// for their replies at a time; Emit then waits for room.
type Pipeline struct {
	window chan struct{} // a token per emit waiting for its reply

	mu     sync.Mutex
	flying int
	idle   chan struct{} // closed when flying falls to 0
	failed int
	errs   []error // the first maxPipelineErrs errors since the last Wait
}

const maxPipelineErrs = 16

// NewPipeline returns a pipeline that lets at most window emits wait for
// their replies; 0 or less means DefaultWindow.
func NewPipeline(window int) *Pipeline {
	if window <= 0 {
		window = DefaultWindow
	}
	return &Pipeline{window: make(chan struct{}, window)}
}

// Emit encodes event with args for to, as Operator.Emit does, and queues
// it. It returns at once, unless the window is full, then it waits for
// room or for ctx. An encoding error (ErrReservedEvent, ErrAck, an
// argument that does not marshal) is returned by Emit and the event is not
// sent; Redis's reply comes to Wait. A ctx done before the command is
// written withdraws it (Wait reports ctx's error); once written, it is
// not withdrawn.
func (p *Pipeline) Emit(ctx context.Context, to Target, event string, args ...any) (err error) {
	defer wrap(&err, "emit")
	o := to.operator()
	cmd, err := o.emitCommand(event, args)
	if err != nil {
		return err
	}
	select {
	case p.window <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	p.mu.Lock()
	p.flying++
	p.mu.Unlock()
	o.e.batch.push(queued{ctx: ctx, cmd: cmd, p: p})
	return nil
}

func (p *Pipeline) done(err error) {
	p.mu.Lock()
	if err != nil {
		p.failed++
		if len(p.errs) < maxPipelineErrs {
			p.errs = append(p.errs, fmt.Errorf("emitter: emit: %w", err))
		}
	}
	p.flying--
	if p.flying == 0 && p.idle != nil {
		close(p.idle)
		p.idle = nil
	}
	p.mu.Unlock()
	<-p.window
}

// Wait waits until every emit queued before it has its reply (emits
// queued meanwhile by other goroutines are waited for too) and returns
// nil, or a *PipelineError with the failures since the previous Wait,
// which it then forgets; or ctx's error if ctx is done first (the
// failures are then kept for the next Wait).
func (p *Pipeline) Wait(ctx context.Context) error {
	for {
		p.mu.Lock()
		if p.flying == 0 {
			var err error
			if p.failed > 0 {
				err = &PipelineError{Failed: p.failed, Errs: p.errs}
				p.failed, p.errs = 0, nil
			}
			p.mu.Unlock()
			return err
		}
		if p.idle == nil {
			p.idle = make(chan struct{})
		}
		idle := p.idle
		p.mu.Unlock()
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// A PipelineError reports the emits of a Pipeline that failed since the
// previous Wait. errors.Is and errors.As see each error of Errs (a
// *rueidis.RedisError, context.Canceled...).
type PipelineError struct {
	Failed int     // emits that failed
	Errs   []error // the errors of the first of them, at most 16
}

func (e *PipelineError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "emitter: %d emits failed", e.Failed)
	if len(e.Errs) > 0 {
		b.WriteString(", the first: ")
		b.WriteString(e.Errs[0].Error())
	}
	return b.String()
}

// Unwrap returns Errs.
func (e *PipelineError) Unwrap() []error { return e.Errs }

// A queued command waits for the batcher.
type queued struct {
	ctx context.Context
	cmd rueidis.Completed
	p   *Pipeline // told the reply
}

// A batcher writes the commands queued on one client with one DoMulti per
// batch. Its goroutine runs while the queue is not empty and exits when it
// finds it empty; every queued command gets its own reply. Locks: b.mu
// and a Pipeline's mu are never held together (replies are handed out
// with neither held).
type batcher struct {
	client rueidis.Client

	mu      sync.Mutex
	queue   []queued
	running bool
}

const maxBatch = 512

func (b *batcher) push(q queued) {
	b.mu.Lock()
	b.queue = append(b.queue, q)
	start := !b.running
	b.running = true
	b.mu.Unlock()
	if start {
		go b.run()
	}
}

// run sends batches until the queue is empty.
func (b *batcher) run() {
	var batch, live []queued
	var cmds []rueidis.Completed
	for {
		b.mu.Lock()
		if len(b.queue) == 0 {
			b.running = false
			b.mu.Unlock()
			return
		}
		n := min(len(b.queue), maxBatch)
		batch = append(batch[:0], b.queue[:n]...)
		rest := copy(b.queue, b.queue[n:])
		clear(b.queue[rest:])
		b.queue = b.queue[:rest]
		b.mu.Unlock()

		live, cmds = live[:0], cmds[:0]
		for _, q := range batch {
			if err := q.ctx.Err(); err != nil {
				q.p.done(err)
				continue
			}
			live = append(live, q)
			cmds = append(cmds, q.cmd)
		}
		if len(cmds) > 0 {
			for i, r := range b.client.DoMulti(context.Background(), cmds...) {
				live[i].p.done(r.Error())
			}
		}
		clear(batch)
		clear(live)
		clear(cmds)
	}
}

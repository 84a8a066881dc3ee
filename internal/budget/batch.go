package budget

import (
	"context"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Batch runs one Lua script in Redis for concurrent callers with group
// commit: while one batch is on the wire, the calls that arrive queue;
// when it returns, one of them sends all that queued, as one pipeline (one
// write, one read). Each call still takes one round trip, behind at most
// the one in flight; a process with one call at a time sends each alone,
// from its own goroutine. Under concurrency the system calls and wake-ups
// of a round trip are shared by the batch. The limits' acquires (limits
// and budgets in one script) and the budgets' settles go this way.
type Batch struct {
	c       redis.UniversalClient
	script  *redis.Script
	source  string
	mu      sync.Mutex
	pending []*batchCall
	leading bool // a batch is being sent; its sender will hand over
}

// NewBatch returns a Batch running script (whose text is source) in c.
func NewBatch(c redis.UniversalClient, source string) *Batch {
	return &Batch{c: c, script: redis.NewScript(source), source: source}
}

// batchCall is one call's script run.
type batchCall struct {
	ctx  context.Context
	keys []string
	args []any
	res  []int64
	err  error
	// wake is signalled once: the result is in, or (lead set, under mu)
	// the call is to send the next batch.
	wake chan struct{}
	lead bool
}

// maxBatch bounds the scripts sent in one pipeline.
const maxBatch = 128

// Run runs the script with keys and args and returns its answer as
// integers (go-redis's Int64Slice).
// ctx ends the wait only while the call is still queued: once sent, its
// answer is waited for (bounded by the client's read and write timeouts),
// since Redis may already have applied it.
func (a *Batch) Run(ctx context.Context, keys []string, args []any) ([]int64, error) {
	call := &batchCall{ctx: ctx, keys: keys, args: args, wake: make(chan struct{}, 1)}
	a.mu.Lock()
	a.pending = append(a.pending, call)
	if a.leading {
		a.mu.Unlock()
		select {
		case <-call.wake:
		case <-ctx.Done():
			a.mu.Lock()
			if !call.lead {
				for i, c := range a.pending {
					if c == call {
						a.pending = append(a.pending[:i], a.pending[i+1:]...)
						a.mu.Unlock()
						return nil, ctx.Err()
					}
				}
			}
			a.mu.Unlock()
			<-call.wake // sent (wait for its answer) or to lead
		}
		if !call.lead {
			return call.res, call.err
		}
	} else {
		a.leading = true
		a.mu.Unlock()
	}
	// This call sends the next batch, itself in it.
	a.mu.Lock()
	n := min(len(a.pending), maxBatch)
	batch := make([]*batchCall, n)
	copy(batch, a.pending)
	a.pending = append(a.pending[:0], a.pending[n:]...)
	a.mu.Unlock()
	a.sendLive(ctx, batch)
	for _, c := range batch {
		if c != call {
			c.wake <- struct{}{}
		}
	}
	a.mu.Lock()
	if len(a.pending) > 0 {
		next := a.pending[0]
		next.lead = true
		next.wake <- struct{}{}
	} else {
		a.leading = false
	}
	a.mu.Unlock()
	return call.res, call.err
}

// sendLive sends the calls of batch whose context has not ended (the
// others get its error, unsent). The pipeline is not cancelled with the
// sender's context (a client gone would fail the others' calls) but ends
// at the latest of the calls' deadlines: no call waits much past its own.
func (a *Batch) sendLive(ctx context.Context, batch []*batchCall) {
	live := make([]*batchCall, 0, len(batch))
	var last time.Time
	bounded := true
	for _, c := range batch {
		if err := c.ctx.Err(); err != nil {
			c.err = err
			continue
		}
		live = append(live, c)
		if d, ok := c.ctx.Deadline(); !ok {
			bounded = false
		} else if d.After(last) {
			last = d
		}
	}
	if len(live) == 0 {
		return
	}
	sctx := context.WithoutCancel(ctx)
	if bounded {
		var cancel context.CancelFunc
		sctx, cancel = context.WithDeadline(sctx, last)
		defer cancel()
	}
	a.send(sctx, live)
}

// send runs batch's scripts, alone or as one pipeline, and sets each
// call's answer. A Redis that lost its scripts (restarted) answers
// NOSCRIPT: those are sent again with the script's text, which loads it.
func (a *Batch) send(ctx context.Context, batch []*batchCall) {
	if len(batch) == 1 {
		c := batch[0]
		c.res, c.err = a.script.Run(ctx, a.c, c.keys, c.args...).Int64Slice()
		return
	}
	pipe := a.c.Pipeline()
	cmds := make([]*redis.Cmd, len(batch))
	for i, c := range batch {
		cmds[i] = pipe.EvalSha(ctx, a.script.Hash(), c.keys, c.args...)
	}
	_, _ = pipe.Exec(ctx)
	var again []int
	for i, cmd := range cmds {
		if err := cmd.Err(); err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
			again = append(again, i)
			continue
		}
		batch[i].res, batch[i].err = cmd.Int64Slice()
	}
	if len(again) == 0 {
		return
	}
	pipe = a.c.Pipeline()
	for _, i := range again {
		cmds[i] = pipe.Eval(ctx, a.source, batch[i].keys, batch[i].args...)
	}
	_, _ = pipe.Exec(ctx)
	for _, i := range again {
		batch[i].res, batch[i].err = cmds[i].Int64Slice()
	}
}

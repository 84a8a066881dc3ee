package mock

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmgw/llmgw/internal/llm"
)

// Options configures the mock's timing and failures. Negative durations count
// as zero and ErrorRate is clamped to [0, 1].
type Options struct {
	// Latency is the delay before the response starts: before Chat returns.
	Latency time.Duration
	// TimeToFirstToken is the further delay before the first content delta.
	TimeToFirstToken time.Duration
	// TokensPerSecond paces each word after the first at 1/TokensPerSecond;
	// 0 means as fast as the caller reads.
	TokensPerSecond float64
	// ErrorRate is the probability, from 0 to 1, that a call fails with an
	// upstream-unavailable error.
	ErrorRate float64
	// Seed seeds the sequence of simulated failures; 0 means a fixed default.
	Seed int64
}

// ErrorMessage is the public message of a simulated upstream failure.
const ErrorMessage = "mock provider: simulated upstream error"

// defaultSeed seeds the failure sequence when Options.Seed is 0.
const defaultSeed = 0x6c6c6d6777

// maxChoices caps n, as OpenAI does, so one request cannot ask for unbounded work.
const maxChoices = 128

// Provider is the built-in mock provider. It is safe for concurrent use.
type Provider struct {
	name     string
	opts     Options
	interval time.Duration // between words after the first; 0 = unpaced

	seq atomic.Uint64 // response ids

	mu  sync.Mutex // guards rng
	rng *rand.Rand

	// now and sleep are the clock; tests replace them.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

// New returns a mock provider called name.
func New(name string, opts Options) *Provider {
	opts.Latency = max(opts.Latency, 0)
	opts.TimeToFirstToken = max(opts.TimeToFirstToken, 0)
	opts.ErrorRate = min(max(opts.ErrorRate, 0), 1)
	seed := uint64(opts.Seed)
	if seed == 0 {
		seed = defaultSeed
	}
	p := &Provider{
		name:  name,
		opts:  opts,
		rng:   rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		now:   time.Now,
		sleep: sleep,
	}
	if opts.TokensPerSecond > 0 {
		p.interval = time.Duration(float64(time.Second) / opts.TokensPerSecond)
	}
	return p
}

// Name returns the provider's configured name.
func (p *Provider) Name() string { return p.name }

// Chat answers req with the text of its last user message (see the package
// documentation). It never modifies req.
func (p *Provider) Chat(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a, err := p.answer(req)
	if err != nil {
		return nil, err
	}
	failed := p.fails()
	if err := p.wait(ctx, p.opts.Latency); err != nil {
		return nil, err
	}
	if failed {
		return nil, p.upstreamError()
	}
	if req.Stream {
		return p.newStream(ctx, a), nil
	}
	if err := p.wait(ctx, p.generationTime(a)); err != nil {
		return nil, err
	}
	return llm.NewSliceStream(nil, a.whole()), nil
}

// generationTime is how long streaming a's content would take after Latency.
func (p *Provider) generationTime(a *answer) time.Duration {
	deltas := a.deltas()
	if deltas == 0 {
		return 0
	}
	return p.opts.TimeToFirstToken + time.Duration(deltas-1)*p.interval
}

// fails draws whether the next call fails.
func (p *Provider) fails() bool {
	switch {
	case p.opts.ErrorRate <= 0:
		return false
	case p.opts.ErrorRate >= 1:
		return true
	}
	p.mu.Lock()
	f := p.rng.Float64()
	p.mu.Unlock()
	return f < p.opts.ErrorRate
}

func (p *Provider) upstreamError() error {
	return &llm.Error{
		Kind:           llm.KindUpstreamUnavailable,
		Message:        ErrorMessage,
		Provider:       p.name,
		UpstreamStatus: http.StatusServiceUnavailable,
	}
}

// wait sleeps d unless it is not positive.
func (p *Provider) wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	return p.sleep(ctx, d)
}

// nextID returns a response id unique within the provider.
func (p *Provider) nextID() uint64 { return p.seq.Add(1) }

func chatID(n uint64) string { return "chatcmpl-mock-" + strconv.FormatUint(n, 10) }

// sleep waits d, or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

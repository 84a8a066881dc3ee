package ratelimit

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/limits"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
	"github.com/llmgw/llmgw/internal/protocol/openai"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// fixture is the stage over a memory limiter on a stopped clock, in front
// of a terminal answering with usage.
type fixture struct {
	t       *testing.T
	invoke  pipeline.Invoke
	usage   *llm.Usage
	decodes int
}

func newFixture(t *testing.T, models map[string]limits.Limit) *fixture {
	f := &fixture{t: t}
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	stage := New(Options{Limiter: limits.NewMemory(c.now), Models: models})
	f.invoke = pipeline.Chain(func(ctx context.Context, call *pipeline.Call) (llm.Stream, error) {
		return llm.NewSliceStream(nil, &llm.Chunk{Usage: f.usage}), nil
	}, stage)
	return f
}

func (f *fixture) call(p *auth.Principal, model, body string) *pipeline.Call {
	call := pipeline.NewChatCall("openai", []byte(body), func(b []byte) (*llm.ChatRequest, error) {
		f.decodes++
		return openai.DecodeChatRequest(b)
	})
	call.Model = model
	if p != nil {
		call.Caller = p
	}
	return call
}

// run invokes a call and drains its stream (releasing it).
func (f *fixture) run(p *auth.Principal, model, body string) (*pipeline.Call, error) {
	f.t.Helper()
	call := f.call(p, model, body)
	s, err := f.invoke(context.Background(), call)
	if err != nil {
		return call, err
	}
	for {
		if _, err := s.Recv(); err == io.EOF {
			break
		} else if err != nil {
			f.t.Fatal(err)
		}
	}
	s.Close()
	return call, nil
}

func principal(l limits.Limit) *auth.Principal {
	p := auth.NewPrincipal("team-a", "acme", nil)
	p.Limits = l
	return p
}

const small = `{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":100}`

func rateErr(t *testing.T, err error) *llm.Error {
	t.Helper()
	var e *llm.Error
	if !errors.As(err, &e) || e.Kind != llm.KindRateLimited {
		t.Fatalf("err = %v, want a rate limit error", err)
	}
	return e
}

func TestKeyRPM(t *testing.T) {
	f := newFixture(t, nil)
	p := principal(limits.Limit{RPM: 2})
	for i := 0; i < 2; i++ {
		call, err := f.run(p, "m", small)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if rl := call.RateLimits; !rl.Applied || rl.Requests.Limit != 2 || rl.Requests.Remaining != int64(1-i) {
			t.Errorf("request %d: rate limits %+v", i, rl)
		}
	}
	call, err := f.run(p, "m", small)
	e := rateErr(t, err)
	if e.RetryAfter <= 0 || e.RetryAfter > 30*time.Second {
		t.Errorf("RetryAfter = %v, want about 30s (one request refills every 30s)", e.RetryAfter)
	}
	if !strings.Contains(e.Message, "this key's requests per minute") {
		t.Errorf("message %q does not name the key's rpm", e.Message)
	}
	if !call.RateLimits.Applied || call.RateLimits.Requests.Limit != 2 {
		t.Errorf("refused call's rate limits: %+v", call.RateLimits)
	}
	if f.decodes != 0 {
		t.Errorf("the body was decoded %d times with no tokens-per-minute limit", f.decodes)
	}
	// Another key is not limited by this one's counts.
	other := auth.NewPrincipal("other", "acme", nil)
	other.Limits = limits.Limit{RPM: 2}
	if _, err := f.run(other, "m", small); err != nil {
		t.Errorf("another key: %v", err)
	}
}

func TestTenantAndModelLimits(t *testing.T) {
	f := newFixture(t, map[string]limits.Limit{"m": {RPM: 3}, "wild/*": {RPM: 1}})
	p := principal(limits.Limit{})
	p.TenantLimits = limits.Limit{RPM: 1}
	if _, err := f.run(p, "other", small); err != nil {
		t.Fatal(err)
	}
	e := rateErr(t, func() error { _, err := f.run(p, "other", small); return err }())
	if !strings.Contains(e.Message, "tenant") {
		t.Errorf("message %q does not name the tenant", e.Message)
	}
	// The model's limit holds across callers.
	for i := 0; i < 3; i++ {
		if _, err := f.run(principal(limits.Limit{}), "m", small); err != nil {
			t.Fatalf("model request %d: %v", i, err)
		}
	}
	e = rateErr(t, func() error { _, err := f.run(nil, "m", small); return err }())
	if !strings.Contains(e.Message, "this model's requests per minute") {
		t.Errorf("message %q does not name the model", e.Message)
	}
	// A wildcard model's limit covers every name under it, together.
	if _, err := f.run(nil, "wild/a", small); err != nil {
		t.Fatal(err)
	}
	rateErr(t, func() error { _, err := f.run(nil, "wild/b", small); return err }())
}

func TestConcurrencyReleasedOnClose(t *testing.T) {
	f := newFixture(t, nil)
	p := principal(limits.Limit{Concurrent: 1})
	s, err := f.invoke(context.Background(), f.call(p, "m", small))
	if err != nil {
		t.Fatal(err)
	}
	e := rateErr(t, func() error { _, err := f.run(p, "m", small); return err }())
	if !strings.Contains(e.Message, "concurrent requests") {
		t.Errorf("message %q does not name concurrency", e.Message)
	}
	s.Close() // a client gone mid-stream: closed, never drained
	if _, err := f.run(p, "m", small); err != nil {
		t.Errorf("after the first stream closed: %v", err)
	}
}

func TestTokensReservedAndReconciled(t *testing.T) {
	f := newFixture(t, nil)
	p := principal(limits.Limit{TPM: 10_000})
	f.usage = &llm.Usage{PromptTokens: 10, CompletionTokens: 90}
	// Reserves the prompt plus max_tokens 4000, then settles at 100.
	body := `{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":4000}`
	call := f.call(p, "m", body)
	s, err := f.invoke(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	if got := call.RateLimits.Tokens.Remaining; got > 6000 || got < 5900 {
		t.Errorf("remaining tokens while the call runs = %d, want 10000 - (4000 + prompt)", got)
	}
	for {
		if _, err := s.Recv(); err != nil {
			break
		}
	}
	s.Close()
	call, err = f.run(p, "m", `{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":1}`)
	if err != nil {
		t.Fatal(err)
	}
	// 10000 - 100 (settled) - (1 + prompt) of this one.
	if got := call.RateLimits.Tokens.Remaining; got < 9880 || got > 9899 {
		t.Errorf("remaining tokens after reconciling = %d, want about 9890", got)
	}
	if f.decodes == 0 {
		t.Error("the prompt was not counted under a tokens-per-minute limit")
	}
}

func TestDefaultMaxTokensReserved(t *testing.T) {
	f := newFixture(t, nil)
	p := principal(limits.Limit{TPM: 100_000})
	call := f.call(p, "m", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`)
	s, err := f.invoke(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if used := 100_000 - call.RateLimits.Tokens.Remaining; used < DefaultMaxTokens || used > DefaultMaxTokens+50 {
		t.Errorf("reserved %d tokens with no max_tokens, want %d plus the prompt", used, DefaultMaxTokens)
	}
}

func TestUnknownUsageKeepsReservation(t *testing.T) {
	f := newFixture(t, nil)
	p := principal(limits.Limit{TPM: 10_000})
	call, err := f.run(p, "m", `{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":4000}`)
	if err != nil {
		t.Fatal(err)
	}
	_ = call
	call, err = f.run(p, "m", `{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":1}`)
	if err != nil {
		t.Fatal(err)
	}
	if got := call.RateLimits.Tokens.Remaining; got > 6000 {
		t.Errorf("remaining = %d: a call with no usage reported gave its reservation back", got)
	}
}

func TestRequestLargerThanTPMNeverPasses(t *testing.T) {
	f := newFixture(t, nil)
	p := principal(limits.Limit{TPM: 1000})
	_, err := f.run(p, "m", `{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":5000}`)
	e := rateErr(t, err)
	if e.RetryAfter != 0 {
		t.Errorf("RetryAfter = %v on a request that can never pass", e.RetryAfter)
	}
	if !strings.Contains(e.Message, "more than this key's tokens per minute limit allows at once") {
		t.Errorf("message %q", e.Message)
	}
}

func TestUnlimitedCallUntouched(t *testing.T) {
	f := newFixture(t, nil)
	call, err := f.run(principal(limits.Limit{}), "m", small)
	if err != nil {
		t.Fatal(err)
	}
	if call.RateLimits.Applied || f.decodes != 0 {
		t.Errorf("an unlimited call: rate limits %+v, decodes %d", call.RateLimits, f.decodes)
	}
}

type downLimiter struct{ err error }

func (d downLimiter) Acquire(context.Context, limits.Request) (limits.Decision, limits.Lease, error) {
	return limits.Decision{}, limits.Lease{}, d.err
}

func TestClosedLimiterIs503(t *testing.T) {
	inv := pipeline.Chain(func(context.Context, *pipeline.Call) (llm.Stream, error) {
		t.Fatal("the call went through")
		return nil, nil
	}, New(Options{Limiter: downLimiter{limits.ErrClosed}}))
	call := pipeline.NewChatCall("openai", []byte(small), openai.DecodeChatRequest)
	call.Caller = principal(limits.Limit{RPM: 5})
	_, err := inv(context.Background(), call)
	var e *llm.Error
	if !errors.As(err, &e) || e.Status() != 503 || !strings.Contains(e.PublicMessage(), "shared limit store") {
		t.Fatalf("err = %v, want 503 naming the limit store", err)
	}
}

// BenchmarkStage is the stage's cost per call under a key's rpm and
// concurrency limits (no token count), its lease released.
func BenchmarkStage(b *testing.B) {
	stream := llm.NewSliceStream(nil)
	inv := pipeline.Chain(func(context.Context, *pipeline.Call) (llm.Stream, error) { return stream, nil },
		New(Options{Limiter: limits.NewMemory(nil)}))
	p := principal(limits.Limit{RPM: 1 << 40, Concurrent: 1 << 20})
	call := &pipeline.Call{Model: "m", Caller: p}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		s, err := inv(ctx, call)
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

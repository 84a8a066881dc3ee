package router

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
	"github.com/llmgw/llmgw/internal/provider"
)

// scripted answers each Chat with the next of its errors (nil: a good
// answer); past the end it answers well. hang answers with a stream that
// sends nothing until its context ends; late with one that sends its first
// chunk only once its context has ended.
type scripted struct {
	name string
	errs []error
	hang bool
	late bool

	mu    sync.Mutex
	calls []time.Time
}

func (s *scripted) Name() string { return s.name }

func (s *scripted) Chat(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	s.mu.Lock()
	n := len(s.calls)
	s.calls = append(s.calls, time.Now())
	s.mu.Unlock()
	if n < len(s.errs) && s.errs[n] != nil {
		return nil, s.errs[n]
	}
	if s.hang {
		return hung{ctx}, nil
	}
	if s.late {
		return &lateFirst{ctx: ctx, model: req.Model + "@" + s.name}, nil
	}
	return llm.NewSliceStream(nil, &llm.Chunk{Model: req.Model + "@" + s.name}), nil
}

func (s *scripted) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

type hung struct{ ctx context.Context }

func (h hung) Recv() (*llm.Chunk, error) { <-h.ctx.Done(); return nil, h.ctx.Err() }
func (hung) Usage() llm.Usage            { return llm.Usage{} }
func (hung) Close() error                { return nil }

// lateFirst holds its first chunk until its context ends, then sends it:
// the chunk arrives just as a timer cancels the attempt.
type lateFirst struct {
	ctx   context.Context
	model string
	sent  bool
}

func (l *lateFirst) Recv() (*llm.Chunk, error) {
	if l.sent {
		return nil, io.EOF
	}
	<-l.ctx.Done()
	l.sent = true
	return &llm.Chunk{Model: l.model}, nil
}
func (*lateFirst) Usage() llm.Usage { return llm.Usage{} }
func (*lateFirst) Close() error     { return nil }

// watchdog bounds a test that would hang if a timer were broken: a few
// seconds, far beyond the timeouts under test.
func watchdog(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func chatCall(model string, stream bool) *pipeline.Call {
	c := pipeline.NewChatCall("test", nil, func([]byte) (*llm.ChatRequest, error) { return &llm.ChatRequest{Model: model}, nil })
	c.Model, c.Stream = model, stream
	return c
}

var (
	e503    = &llm.Error{Kind: llm.KindUpstreamUnavailable, UpstreamStatus: 503}
	e400    = &llm.Error{Kind: llm.KindInvalidRequest, UpstreamStatus: 400}
	eCtx    = &llm.Error{Kind: llm.KindContextLength, UpstreamStatus: 400}
	ePolicy = &llm.Error{Kind: llm.KindContentPolicy, UpstreamStatus: 400}
)

func fast(m Model) Model {
	m.Retry = Retry{MaxAttempts: m.Retry.MaxAttempts, BaseBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}
	m.AllOpenWait = 50 * time.Millisecond
	return m
}

// served reads the first chunk's model ("upstream@provider").
func served(t *testing.T, s llm.Stream) string {
	t.Helper()
	defer s.Close()
	c, err := s.Recv()
	if err != nil {
		t.Fatalf("Recv: %v", err)
	}
	if _, err := s.Recv(); err != io.EOF {
		t.Fatalf("second Recv: %v, want EOF", err)
	}
	return c.Model
}

func TestRetriesAndFallbacks(t *testing.T) {
	tests := []struct {
		name      string
		a, b, fb  []error // scripts of m's targets a, b and of model fb's target
		cw, cp    []error // scripts of models cw and cp
		attempts  int
		want      string // "upstream@provider" or an error code
		fallbacks []string
	}{
		{"first try", nil, nil, nil, nil, nil, 1, "x@a", nil},
		{"retry goes to the other target", []error{e503}, nil, nil, nil, nil, 2, "x@b", nil},
		{"third attempt reuses a target", []error{e503}, []error{e503}, nil, nil, nil, 3, "x@b", nil},
		{"all attempts fail: fallback", []error{e503, e503}, []error{e503, e503}, nil, nil, nil, 4, "f@fb", nil},
		{"not retryable", []error{e400}, nil, nil, nil, nil, 1, "invalid_request_error", nil},
		{"context window list", []error{eCtx}, nil, nil, nil, nil, 2, "big@cw", nil},
		{"content policy list", []error{ePolicy}, nil, nil, nil, nil, 2, "lenient@cp", nil},
		{"fallback fails too: last error", []error{e503, e503}, []error{e503, e503}, []error{e503, e503, e503}, nil, nil, 6, "upstream_unavailable", nil},
		{"override replaces the list", []error{e503, e503}, []error{e503, e503}, nil, nil, nil, 4, "lenient@cp", []string{"cp"}},
		{"empty override: no fallbacks", []error{e503, e503}, []error{e503, e503}, nil, nil, nil, 3, "upstream_unavailable", []string{}},
		{"override in order", []error{e503, e503}, []error{e503, e503}, nil, []error{e503, e503, e503}, nil, 7, "f@fb", []string{"cw", "fb"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := &scripted{name: "a", errs: tt.a}, &scripted{name: "b", errs: tt.b}
			r := New([]Model{
				fast(Model{Name: "m", Balancing: RoundRobin, Targets: []Target{{Provider: a, Model: "x", Weight: 1}, {Provider: b, Model: "x", Weight: 1}},
					Fallbacks: []string{"fb"}, ContextWindowFallbacks: []string{"cw"}, ContentPolicyFallbacks: []string{"cp"}}),
				fast(Model{Name: "fb", Targets: []Target{{Provider: &scripted{name: "fb", errs: tt.fb}, Model: "f", Weight: 1}}}),
				fast(Model{Name: "cw", Targets: []Target{{Provider: &scripted{name: "cw", errs: tt.cw}, Model: "big", Weight: 1}}}),
				fast(Model{Name: "cp", Targets: []Target{{Provider: &scripted{name: "cp", errs: tt.cp}, Model: "lenient", Weight: 1}}}),
			}, Options{})
			call := chatCall("m", true)
			call.Fallbacks = tt.fallbacks
			s, err := r.Invoke(context.Background(), call)
			got := ""
			if err != nil {
				got = llm.AsError(err).Kind.Code()
			} else {
				got = served(t, s)
			}
			if got != tt.want || call.Attempts != tt.attempts {
				t.Errorf("got %s after %d attempts, want %s after %d", got, call.Attempts, tt.want, tt.attempts)
			}
		})
	}
}

// allowOnly is a caller that may use the listed models only.
type allowOnly []string

func (a allowOnly) Allows(model string) bool {
	for _, m := range a {
		if m == model {
			return true
		}
	}
	return false
}

func TestOverrideChecked(t *testing.T) {
	r := New([]Model{
		{Name: "m", Targets: []Target{{Provider: &scripted{name: "a"}, Model: "x", Weight: 1}}},
		{Name: "other", Targets: []Target{{Provider: &scripted{name: "b"}, Model: "y", Weight: 1}}},
	}, Options{})
	tests := []struct {
		fallbacks []string
		code      string
	}{
		{[]string{"other"}, "model_not_allowed"},
		{[]string{"nope"}, "invalid_request_error"},
		{[]string{"m", "m", "m", "m", "m", "m"}, "invalid_request_error"},
		{[]string{"m"}, ""},
	}
	for _, tt := range tests {
		call := chatCall("m", false)
		call.Fallbacks = tt.fallbacks
		call.Caller = allowOnly{"m"}
		s, err := r.Invoke(context.Background(), call)
		code := ""
		if err != nil {
			code = llm.AsError(err).Kind.Code()
		} else {
			s.Close()
		}
		if code != tt.code {
			t.Errorf("%v: code %q, want %q", tt.fallbacks, code, tt.code)
		}
	}
}

// A configured fallback is skipped when the call's caller may not use it:
// the next one the caller may use serves.
func TestConfiguredFallbackSkipsDisallowed(t *testing.T) {
	for _, tt := range []struct {
		name   string
		caller pipeline.Caller
		want   string
	}{
		{"no caller: first fallback", nil, "x@hidden"},
		{"caller without the first fallback", allowOnly{"m", "open"}, "y@open"},
		{"caller with no fallback", allowOnly{"m"}, "upstream_unavailable"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			hidden := &scripted{name: "hidden"}
			r := New([]Model{
				fast(Model{Name: "m", Fallbacks: []string{"hidden", "open"},
					Targets: []Target{{Provider: &scripted{name: "a", errs: []error{e503, e503, e503}}, Model: "x", Weight: 1}}}),
				{Name: "hidden", Targets: []Target{{Provider: hidden, Model: "x", Weight: 1}}},
				{Name: "open", Targets: []Target{{Provider: &scripted{name: "open"}, Model: "y", Weight: 1}}},
			}, Options{})
			call := chatCall("m", false)
			call.Caller = tt.caller
			s, err := r.Invoke(context.Background(), call)
			got := ""
			if err != nil {
				got = llm.AsError(err).Kind.Code()
			} else {
				got = served(t, s)
			}
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
			hidden.mu.Lock()
			defer hidden.mu.Unlock()
			if tt.caller != nil && len(hidden.calls) != 0 {
				t.Errorf("a fallback the caller may not use was called %d times", len(hidden.calls))
			}
		})
	}
}

func TestParseFallbacks(t *testing.T) {
	long := strings.Repeat("x", maxFallbackName)
	tests := []struct {
		name  string
		lines []string
		want  string // names joined by |; "!" for a 400
	}{
		{"one line", []string{" a, ,b ,"}, "a|b"},
		{"empty", []string{""}, ""},
		{"several lines are one list", []string{"a", "", " b,c", ","}, "a|b|c"},
		{"at the cap", []string{"a,b,c", "d,e"}, "a|b|c|d|e"},
		{"over the cap", []string{"a,b,c", "d,e", "f"}, "!"},
		{"longest name", []string{long}, long},
		{"name too long", []string{long + "x"}, "!"},
		{"blank lines by the thousand", append(make([]string, 45_000), "a"), "a"},
		{"commas by the thousand", []string{strings.Repeat(",", 100_000) + "a"}, "a"},
		{"names by the thousand", []string{strings.Repeat("m,", 100_000)}, "!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFallbacks(tt.lines)
			if tt.want == "!" {
				if e := llm.AsError(err); err == nil || e.Status() != 400 || e.Param != FallbacksHeader {
					t.Fatalf("got %q, %v; want a 400 naming %s", got, err, FallbacksHeader)
				}
				return
			}
			if err != nil || got == nil || strings.Join(got, "|") != tt.want {
				t.Fatalf("got %#v, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// Parsing keeps no more than the names allowed, however many a client
// sends: a bounded number of allocations for 45,000 header lines.
func TestParseFallbacksBounded(t *testing.T) {
	lines := make([]string, 45_000)
	for i := range lines {
		lines[i] = " , "
	}
	lines[len(lines)-1] = "a,b"
	allocs := testing.AllocsPerRun(5, func() {
		if _, err := ParseFallbacks(lines); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 4 {
		t.Errorf("%v allocations for 45,000 lines", allocs)
	}
}

func BenchmarkParseFallbacksBlankLines(b *testing.B) {
	lines := make([]string, 45_000)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = ParseFallbacks(lines)
	}
}

func TestFirstTokenTimeoutFailsOver(t *testing.T) {
	a := &scripted{name: "a", hang: true}
	b := &scripted{name: "b"}
	r := New([]Model{fast(Model{Name: "m", Balancing: RoundRobin, Timeouts: Timeouts{FirstToken: 30 * time.Millisecond},
		Targets: []Target{{Provider: a, Model: "x", Weight: 1}, {Provider: b, Model: "x", Weight: 1}}})}, Options{})
	call := chatCall("m", true)
	s, err := r.Invoke(watchdog(t), call)
	if err != nil {
		t.Fatal(err)
	}
	if got := served(t, s); got != "x@b" || call.Attempts != 2 || call.Provider != "b" {
		t.Errorf("served %s by %s after %d attempts", got, call.Provider, call.Attempts)
	}
	st := r.Status()[0].Targets
	if st[0].Inflight != 0 || st[1].Inflight != 0 {
		t.Errorf("in flight after close: %d %d", st[0].Inflight, st[1].Inflight)
	}
}

func TestStreamIdleTimeout(t *testing.T) {
	p := &idleAfterFirst{}
	r := New([]Model{{Name: "m", Timeouts: Timeouts{StreamIdle: 20 * time.Millisecond},
		Targets: []Target{{Provider: p, Model: "x", Weight: 1}}}}, Options{})
	s, err := r.Invoke(watchdog(t), chatCall("m", true))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Recv(); err != nil {
		t.Fatal(err)
	}
	_, err = s.Recv()
	// Under the watchdog's deadline instead, the message would not name
	// the idle timeout.
	if e := llm.AsError(err); e.Kind != llm.KindUpstreamTimeout || !strings.Contains(e.Message, "idle") {
		t.Errorf("err = %v, want an idle timeout", err)
	}
	if u := s.Usage(); u.TotalTokens != 7 {
		t.Errorf("partial usage %+v lost", u)
	}
}

// An answer already in memory cannot wait for the upstream: it gets no idle
// timer, a stream does.
func TestIdleTimerOnlyForStreamsThatWait(t *testing.T) {
	tests := []struct {
		name   string
		stream llm.Stream
		timer  bool
	}{
		{"unary", provider.NewUnary(&llm.Chunk{Model: "x"}), false},
		{"slice", llm.NewSliceStream(nil, &llm.Chunk{Model: "x"}), false},
		{"stream", &oneThenHang{ctx: context.Background()}, true},
	}
	for _, tt := range tests {
		p := &fixedStream{s: tt.stream}
		r := New([]Model{{Name: "m", Timeouts: Timeouts{StreamIdle: time.Hour},
			Targets: []Target{{Provider: p, Model: "x", Weight: 1}}}}, Options{})
		s, err := r.Invoke(context.Background(), chatCall("m", tt.timer))
		if err != nil {
			t.Fatal(err)
		}
		rs, ok := s.(*routed)
		if !ok {
			t.Fatalf("%s: Invoke returned a %T", tt.name, s)
		}
		if got := rs.timer != nil; got != tt.timer {
			t.Errorf("%s: idle timer %v, want %v", tt.name, got, tt.timer)
		}
		if _, err := s.Recv(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !tt.timer {
			if _, err := s.Recv(); err != io.EOF {
				t.Errorf("%s: second Recv = %v, want io.EOF", tt.name, err)
			}
		}
		_ = s.Close()
	}
}

// fixedStream answers with the one stream it holds.
type fixedStream struct{ s llm.Stream }

func (fixedStream) Name() string { return "fixed" }
func (p *fixedStream) Chat(context.Context, *llm.ChatRequest) (llm.Stream, error) {
	return p.s, nil
}

// idleAfterFirst sends one chunk with usage, then nothing.
type idleAfterFirst struct{}

func (idleAfterFirst) Name() string { return "idle" }
func (idleAfterFirst) Chat(ctx context.Context, _ *llm.ChatRequest) (llm.Stream, error) {
	return &oneThenHang{ctx: ctx}, nil
}

type oneThenHang struct {
	ctx  context.Context
	sent bool
}

func (s *oneThenHang) Recv() (*llm.Chunk, error) {
	if !s.sent {
		s.sent = true
		return &llm.Chunk{Usage: &llm.Usage{TotalTokens: 7}}, nil
	}
	<-s.ctx.Done()
	return nil, s.ctx.Err()
}
func (s *oneThenHang) Usage() llm.Usage { return llm.Usage{TotalTokens: 7} }
func (s *oneThenHang) Close() error     { return nil }

func TestRetryAfterHonouredAndDeadlineCaps(t *testing.T) {
	limited := &llm.Error{Kind: llm.KindRateLimited, UpstreamStatus: 429, RetryAfter: 80 * time.Millisecond}
	long := &llm.Error{Kind: llm.KindRateLimited, UpstreamStatus: 429, RetryAfter: time.Second}
	a := &scripted{name: "a", errs: []error{long}}
	r := New([]Model{fast(Model{Name: "m", Retry: Retry{MaxAttempts: 2}, Targets: []Target{{Provider: a, Model: "x", Weight: 1}}})}, Options{})
	// AllOpenWait 50ms < Retry-After 1s: the request does not wait, and
	// ends as every target failing (503) with the upstream's wait for the
	// client.
	call := chatCall("m", false)
	_, err := r.Invoke(context.Background(), call)
	e := llm.AsError(err)
	if e.Kind != llm.KindUpstreamUnavailable || e.UpstreamStatus != 429 || e.RetryAfter != time.Second || a.count() != 1 {
		t.Fatalf("err %v (retry after %v) after %d calls", err, e.RetryAfter, a.count())
	}

	// With room to wait, the retry comes no earlier than the Retry-After.
	b := &scripted{name: "b", errs: []error{limited}}
	m := fast(Model{Name: "m", Retry: Retry{MaxAttempts: 2}, Targets: []Target{{Provider: b, Model: "x", Weight: 1}}})
	m.AllOpenWait = time.Second
	r = New([]Model{m}, Options{})
	s, err := r.Invoke(context.Background(), chatCall("m", false))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if gap := b.calls[1].Sub(b.calls[0]); gap < 80*time.Millisecond {
		t.Errorf("retried after %v, before the Retry-After of 80ms", gap)
	}

	// A deadline far shorter than the wait: the last error at once, not a
	// wait for the Retry-After of 5s (AllOpenWait would allow it).
	c := &scripted{name: "c", errs: []error{&llm.Error{Kind: llm.KindRateLimited, UpstreamStatus: 429, RetryAfter: 5 * time.Second}}}
	m.Targets = []Target{{Provider: c, Model: "x", Weight: 1}}
	m.AllOpenWait = 10 * time.Second
	r = New([]Model{m}, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = r.Invoke(ctx, chatCall("m", false))
	// The slack covers scheduling on a loaded machine; the wait it rules
	// out is 5s.
	if took := time.Since(start); took > time.Second || llm.AsError(err).UpstreamStatus != 429 || c.count() != 1 {
		t.Errorf("err %v after %v and %d calls, want the upstream's 429 by the 40ms deadline", err, took, c.count())
	}
}

func TestAllOpenWaitsThen503(t *testing.T) {
	c := newClock()
	a := &scripted{name: "a", errs: []error{e503}}
	m := fast(Model{Name: "m", Retry: Retry{MaxAttempts: 1}, Breaker: BreakerPolicy{ConsecutiveFailures: 1, Cooldown: time.Hour},
		Targets: []Target{{Provider: a, Model: "x", Weight: 1}}})
	r := New([]Model{m}, Options{Now: c.Now})
	if _, err := r.Invoke(context.Background(), chatCall("m", false)); llm.AsError(err).Kind != llm.KindUpstreamUnavailable {
		t.Fatalf("first: %v", err)
	}
	if r.Status()[0].Targets[0].State != "open" {
		t.Fatal("breaker not open")
	}
	// Open for an hour, longer than AllOpenWait: 503 at once, Retry-After
	// the time left.
	_, err := r.Invoke(context.Background(), chatCall("m", false))
	e := llm.AsError(err)
	if e.Kind != llm.KindUpstreamUnavailable || e.RetryAfter != time.Hour || a.count() != 1 {
		t.Fatalf("err %v retry after %v calls %d", err, e.RetryAfter, a.count())
	}
	// Cooldown over: half-open probe succeeds and closes the breaker.
	c.Add(time.Hour)
	s, err := r.Invoke(context.Background(), chatCall("m", false))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if st := r.Status()[0].Targets[0].State; st != "half_open" {
		t.Errorf("state %s after one probe of two", st)
	}
}

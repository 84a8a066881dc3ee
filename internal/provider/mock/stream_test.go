package mock

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/llmgw/llmgw/internal/llm"
)

func TestTiming(t *testing.T) {
	opts := Options{Latency: 300 * time.Millisecond, TimeToFirstToken: 50 * time.Millisecond, TokensPerSecond: 20}
	const interval = 50 * time.Millisecond
	tests := []struct {
		name string
		opts Options
		req  *llm.ChatRequest
		// wantAfterChat are the waits Chat asked for; wantPerRecv[i] those
		// the i-th Recv added.
		wantAfterChat []time.Duration
		wantPerRecv   [][]time.Duration
	}{
		{
			name:          "stream",
			opts:          opts,
			req:           &llm.ChatRequest{Model: "mock", Stream: true, Messages: userReq("one two three").Messages},
			wantAfterChat: []time.Duration{opts.Latency},
			wantPerRecv:   [][]time.Duration{nil, {opts.TimeToFirstToken}, {interval}, {interval}, nil, nil},
		},
		{
			name:          "stream tool call",
			opts:          opts,
			req:           &llm.ChatRequest{Model: "mock", Stream: true, Messages: userReq("one two three").Messages, Tools: []llm.Tool{{Type: "function", Name: "f"}}, ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceRequired}},
			wantAfterChat: []time.Duration{opts.Latency},
			wantPerRecv:   [][]time.Duration{nil, {opts.TimeToFirstToken}, nil, nil},
		},
		{
			name:          "non-stream waits the whole generation",
			opts:          opts,
			req:           userReq("one two three"),
			wantAfterChat: []time.Duration{opts.Latency, opts.TimeToFirstToken + 2*interval},
			wantPerRecv:   [][]time.Duration{nil},
		},
		{
			name:          "unpaced stream never waits",
			opts:          Options{},
			req:           &llm.ChatRequest{Model: "mock", Stream: true, Messages: userReq("one two").Messages},
			wantAfterChat: nil,
			wantPerRecv:   [][]time.Duration{nil, nil, nil, nil, nil},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, clock := newTest(tt.opts)
			s, err := p.Chat(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if diff := cmp.Diff(tt.wantAfterChat, clock.waits()); diff != "" {
				t.Errorf("waits in Chat (-want +got):\n%s", diff)
			}
			for i, want := range tt.wantPerRecv {
				before := len(clock.waits())
				if _, err := s.Recv(); err != nil {
					t.Fatalf("Recv %d: %v", i, err)
				}
				if diff := cmp.Diff(want, clock.waits()[before:], cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("waits in Recv %d (-want +got):\n%s", i, diff)
				}
			}
			if _, err := s.Recv(); !errors.Is(err, io.EOF) {
				t.Errorf("Recv after last chunk = %v, want io.EOF", err)
			}
		})
	}
}

// blockingClock blocks every wait until its context is done, and reports each
// wait that starts.
type blockingClock struct{ started chan time.Duration }

func (b *blockingClock) sleep(ctx context.Context, d time.Duration) error {
	b.started <- d
	<-ctx.Done()
	return ctx.Err()
}

func TestAbortMidStream(t *testing.T) {
	tests := []struct {
		name  string
		abort func(cancel context.CancelFunc, s llm.Stream)
		want  error
	}{
		{"context canceled", func(cancel context.CancelFunc, _ llm.Stream) { cancel() }, context.Canceled},
		{"stream closed", func(_ context.CancelFunc, s llm.Stream) { s.Close() }, llm.ErrStreamClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := New("mock", Options{TokensPerSecond: 1})
			clock := &blockingClock{started: make(chan time.Duration, 1)}
			p.sleep = clock.sleep
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req := userReq("one two three")
			req.Stream = true
			s, err := p.Chat(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for range 2 { // role and first word: no wait
				if _, err := s.Recv(); err != nil {
					t.Fatal(err)
				}
			}
			errc := make(chan error, 1)
			go func() {
				_, err := s.Recv()
				errc <- err
			}()
			if d := <-clock.started; d != time.Second {
				t.Errorf("wait = %v, want 1s", d)
			}
			tt.abort(cancel, s)
			if err := <-errc; !errors.Is(err, tt.want) {
				t.Errorf("Recv during wait = %v, want %v", err, tt.want)
			}
			if _, err := s.Recv(); !errors.Is(err, tt.want) {
				t.Errorf("Recv after abort = %v, want %v", err, tt.want)
			}
			want := llm.Usage{PromptTokens: 7, CompletionTokens: 1, TotalTokens: 8}
			if diff := cmp.Diff(want, s.Usage()); diff != "" {
				t.Errorf("partial usage (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCanceledBeforeRecv(t *testing.T) {
	p, _ := newTest(Options{})
	ctx, cancel := context.WithCancel(context.Background())
	req := userReq("a b")
	req.Stream = true
	s, err := p.Chat(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cancel()
	if _, err := s.Recv(); !errors.Is(err, context.Canceled) {
		t.Errorf("Recv = %v, want context.Canceled", err)
	}
	if _, err := p.Chat(ctx, req); !errors.Is(err, context.Canceled) {
		t.Errorf("Chat with canceled context = %v, want context.Canceled", err)
	}
}

func TestLatencyCanceled(t *testing.T) {
	p := New("mock", Options{Latency: time.Hour})
	clock := &blockingClock{started: make(chan time.Duration, 1)}
	p.sleep = clock.sleep
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := p.Chat(ctx, userReq("x"))
		errc <- err
	}()
	<-clock.started
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Chat = %v, want context.Canceled", err)
	}
}

func TestCloseIdempotent(t *testing.T) {
	for _, stream := range []bool{true, false} {
		t.Run(fmt.Sprint("stream=", stream), func(t *testing.T) {
			p, _ := newTest(Options{})
			req := userReq("a b c")
			req.Stream = stream
			s, err := p.Chat(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				if err := s.Close(); err != nil {
					t.Errorf("Close #%d = %v", i+1, err)
				}
			}
			if _, err := s.Recv(); !errors.Is(err, llm.ErrStreamClosed) {
				t.Errorf("Recv after Close = %v, want llm.ErrStreamClosed", err)
			}
		})
	}
}

func TestRealSleep(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("sleep with canceled context = %v, want context.Canceled", err)
	}
	if err := sleep(context.Background(), time.Nanosecond); err != nil {
		t.Errorf("sleep = %v, want nil", err)
	}
}

func TestErrorRate(t *testing.T) {
	const calls = 1000
	failures := func(p *Provider) []bool {
		out := make([]bool, calls)
		for i := range out {
			s, err := p.Chat(context.Background(), userReq("x"))
			if err == nil {
				s.Close()
				continue
			}
			var e *llm.Error
			if !errors.As(err, &e) || e.Kind != llm.KindUpstreamUnavailable || e.Provider != "m" || e.PublicMessage() != ErrorMessage {
				t.Fatalf("error = %#v, want upstream unavailable from provider m", err)
			}
			out[i] = true
		}
		return out
	}
	count := func(fs []bool) int {
		n := 0
		for _, f := range fs {
			if f {
				n++
			}
		}
		return n
	}
	if n := count(failures(New("m", Options{}))); n != 0 {
		t.Errorf("rate 0: %d failures, want 0", n)
	}
	if n := count(failures(New("m", Options{ErrorRate: 1}))); n != calls {
		t.Errorf("rate 1: %d failures, want %d", n, calls)
	}
	a := failures(New("m", Options{ErrorRate: 0.3, Seed: 42}))
	if n := count(a); n < 240 || n > 360 {
		t.Errorf("rate 0.3: %d failures in %d calls", n, calls)
	}
	if b := failures(New("m", Options{ErrorRate: 0.3, Seed: 42})); !cmp.Equal(a, b) {
		t.Error("same seed gave a different failure sequence")
	}
	if c := failures(New("m", Options{ErrorRate: 0.3, Seed: 7})); cmp.Equal(a, c) {
		t.Error("another seed gave the same failure sequence")
	}
	if d, e := failures(New("m", Options{ErrorRate: 0.3})), failures(New("m", Options{ErrorRate: 0.3})); !cmp.Equal(d, e) {
		t.Error("default seed is not fixed")
	}
}

func TestErrorRateConcurrent(t *testing.T) {
	// The failures form one sequence per seed, so concurrent callers see as
	// many of them in total as one caller would.
	const workers, each = 8, 100
	want := 0
	seq := New("m", Options{ErrorRate: 0.5, Seed: 3})
	for range workers * each {
		if _, err := seq.Chat(context.Background(), userReq("x")); err != nil {
			want++
		}
	}
	p := New("m", Options{ErrorRate: 0.5, Seed: 3})
	var mu sync.Mutex
	got := 0
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				s, err := p.Chat(context.Background(), userReq("x"))
				if err != nil {
					mu.Lock()
					got++
					mu.Unlock()
					continue
				}
				s.Close()
			}
		})
	}
	wg.Wait()
	if got != want {
		t.Errorf("concurrent failures = %d, want %d", got, want)
	}
}

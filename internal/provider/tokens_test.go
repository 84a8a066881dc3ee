package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// issuerStub hands out tok-1, tok-2, ... living life each, optionally
// suggesting a refresh time; a fetch waits while gate is set.
type issuerStub struct {
	mu      sync.Mutex
	n       int
	life    time.Duration
	refresh time.Duration // 0: no suggestion
	gate    chan struct{}
	err     error
}

func (s *issuerStub) fetch(ctx context.Context) (Token, error) {
	s.mu.Lock()
	gate, err := s.gate, s.err
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return Token{}, ctx.Err()
		}
	}
	if err != nil {
		return Token{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	t := Token{Value: fmt.Sprintf("tok-%d", s.n), Expires: time.Now().Add(s.life)}
	if s.refresh > 0 {
		t.Refresh = time.Now().Add(s.refresh)
	}
	return t, nil
}

func newTestTokens(s *issuerStub) (*Tokens, *providertest.Clock) {
	ts := NewTokens(TokensConfig{Name: "p", Fetch: s.fetch, Failure: "no token", Cause: "stub",
		Sanitize: func(m string) string { return strings.ReplaceAll(m, "SECRET", "[redacted]") }})
	c := providertest.NewClock()
	ts.SetClock(c.Now)
	return ts, c
}

func ready(t *testing.T, ts *Tokens) string {
	t.Helper()
	if err := ts.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
	return ts.Header(context.Background()).Get("Authorization")
}

// TestTokensRefreshAhead: five minutes before expiry a refresh starts in
// the background; Ready does not wait for it, and the next token is used
// once it has come.
func TestTokensRefreshAhead(t *testing.T) {
	s := &issuerStub{life: time.Hour}
	ts, c := newTestTokens(s)
	if got := ready(t, ts); got != "Bearer tok-1" {
		t.Fatalf("first: %q", got)
	}
	c.Add(54 * time.Minute)
	ready(t, ts)
	ts.Wait()
	if s.n != 1 {
		t.Fatalf("refreshed %d times before due", s.n-1)
	}
	gate := make(chan struct{})
	s.mu.Lock()
	s.gate = gate
	s.mu.Unlock()
	c.Add(2 * time.Minute)
	if got := ready(t, ts); got != "Bearer tok-1" {
		t.Errorf("during refresh: %q", got)
	}
	close(gate)
	ts.Wait()
	if got := ready(t, ts); got != "Bearer tok-2" {
		t.Errorf("after refresh: %q", got)
	}
}

// TestTokensRefreshHint: the issuer's suggested refresh time wins.
func TestTokensRefreshHint(t *testing.T) {
	s := &issuerStub{life: time.Hour, refresh: 30 * time.Minute}
	ts, c := newTestTokens(s)
	ready(t, ts)
	c.Add(31 * time.Minute)
	ready(t, ts)
	ts.Wait()
	if got := ready(t, ts); got != "Bearer tok-2" {
		t.Errorf("after the hinted refresh: %q", got)
	}
}

// TestTokensFailure: a failed fetch is a 401 upstream error whose cause is
// sanitized; within the retry gap the same error comes back without a
// new fetch; a canceled wait is KindCanceled.
func TestTokensFailure(t *testing.T) {
	s := &issuerStub{life: time.Hour, err: errors.New("refused SECRET")}
	ts, c := newTestTokens(s)
	err := ts.Ready(context.Background())
	le := llm.AsError(err)
	if le.Kind != llm.KindUpstream || le.UpstreamStatus != http.StatusUnauthorized || le.Message != "no token" ||
		strings.Contains(err.Error(), "SECRET") || !strings.Contains(err.Error(), "stub: refused") {
		t.Fatalf("failure: %+v (%v)", le, err)
	}
	s.mu.Lock()
	s.err = nil
	s.mu.Unlock()
	if err2 := ts.Ready(context.Background()); err2 != err {
		t.Errorf("within the retry gap: %v", err2)
	}
	c.Add(11 * time.Second)
	if got := ready(t, ts); got != "Bearer tok-1" {
		t.Errorf("after the gap: %q", got)
	}
	gate := make(chan struct{})
	ts2, _ := newTestTokens(&issuerStub{life: time.Hour, gate: gate})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if k := llm.AsError(ts2.Ready(ctx)).Kind; k != llm.KindCanceled {
		t.Errorf("canceled wait: %v", k)
	}
	close(gate)
	ts2.Wait()
}

// TestTokensEmptyAnswer: an issuer answering no token, or one already
// expired, is a failure, not a token.
func TestTokensEmptyAnswer(t *testing.T) {
	for _, tok := range []Token{{}, {Value: "old", Expires: time.Now().Add(-time.Minute)}} {
		ts := NewTokens(TokensConfig{Name: "p", Failure: "no token", Cause: "stub",
			Fetch: func(context.Context) (Token, error) { return tok, nil }})
		if err := ts.Ready(context.Background()); llm.AsError(err).UpstreamStatus != http.StatusUnauthorized || ts.Current() != "" {
			t.Errorf("%+v: %v", tok, err)
		}
	}
}

// TestTokensScrub: the current token is redacted from an error's message.
func TestTokensScrub(t *testing.T) {
	ts, _ := newTestTokens(&issuerStub{life: time.Hour})
	ready(t, ts)
	err := ts.Scrub(&llm.Error{Kind: llm.KindUpstream, Message: "bad header Bearer tok-1"})
	if m := llm.AsError(err).Message; strings.Contains(m, "tok-1") {
		t.Errorf("message %q", m)
	}
	if ts.Scrub(nil) != nil {
		t.Error("nil")
	}
}

type modelFw struct{ Forwarder }

func (modelFw) ForwardsModel(m string) bool { return m == "yes" }

// TestForwards: a ModelForwarder forwards the models it names only.
func TestForwards(t *testing.T) {
	var plain Forwarder
	if !Forwards(plain, "any") || !Forwards(modelFw{}, "yes") || Forwards(modelFw{}, "no") {
		t.Error("Forwards")
	}
}

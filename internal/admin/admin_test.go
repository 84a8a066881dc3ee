package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
	"github.com/llmgw/llmgw/internal/router"
)

type fakeProvider struct{}

func (fakeProvider) Name() string { return "p" }
func (fakeProvider) Chat(context.Context, *llm.ChatRequest) (llm.Stream, error) {
	return llm.NewSliceStream(nil), nil
}

func TestTargets(t *testing.T) {
	r := router.New([]router.Model{{Name: "m", Targets: []router.Target{
		{Provider: fakeProvider{}, Model: "a", Weight: 1}, {Provider: fakeProvider{}, Model: "b", Weight: 3},
	}}}, router.Options{})
	tests := []struct {
		name, token, auth string
		status            int
	}{
		{"disabled", "", "Bearer ", http.StatusNotFound},
		{"no header", "secret", "", http.StatusUnauthorized},
		{"wrong token", "secret", "Bearer secreT", http.StatusUnauthorized},
		{"prefix of token", "secret", "Bearer secre", http.StatusUnauthorized},
		{"basic scheme", "secret", "Basic secret", http.StatusUnauthorized},
		{"right token", "secret", "Bearer secret", http.StatusOK},
		{"scheme case", "secret", "bearer secret", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := New(Options{Token: tt.token, Router: r})
			req := httptest.NewRequest("GET", "/admin/v1/targets", nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			rec := httptest.NewRecorder()
			a.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.status != http.StatusOK {
				return
			}
			var got targets
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if len(got.Models) != 1 || len(got.Models[0].Targets) != 2 {
				t.Fatalf("body %s", rec.Body)
			}
			b := got.Models[0].Targets[1]
			if b.Model != "b" || b.State != "closed" || b.Share != 0.75 || got.Models[0].Balancing != "weighted" {
				t.Errorf("target b = %+v", b)
			}
		})
	}
}

// failingProvider answers every call with 503.
type failingProvider struct{}

func (failingProvider) Name() string { return "down" }
func (failingProvider) Chat(context.Context, *llm.ChatRequest) (llm.Stream, error) {
	return nil, &llm.Error{Kind: llm.KindUpstreamUnavailable, UpstreamStatus: 503}
}

func TestTargetsReportOpenBreakerAndCounts(t *testing.T) {
	r := router.New([]router.Model{{Name: "m", Balancing: router.RoundRobin,
		Retry:   router.Retry{MaxAttempts: 2, BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond},
		Breaker: router.BreakerPolicy{ConsecutiveFailures: 1, Cooldown: time.Hour},
		Targets: []router.Target{{Provider: failingProvider{}, Model: "a", Weight: 1}, {Provider: fakeProvider{}, Model: "b", Weight: 1}},
	}}, router.Options{})
	call := pipeline.NewChatCall("openai", nil, func([]byte) (*llm.ChatRequest, error) { return &llm.ChatRequest{Model: "m"}, nil })
	call.Model = "m"
	s, err := r.Invoke(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/admin/v1/targets", nil)
	req.Header.Set("Authorization", "Bearer secret")
	New(Options{Token: "secret", Router: r}).ServeHTTP(rec, req)
	var got struct {
		Models []struct {
			Targets []map[string]any `json:"targets"`
		} `json:"models"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || len(got.Models) != 1 || len(got.Models[0].Targets) != 2 {
		t.Fatalf("body %s (%v)", rec.Body, err)
	}
	tests := []struct {
		field string
		a, b  any
	}{
		{"state", "open", "closed"},
		{"attempts", 1.0, 1.0},
		{"failures", 1.0, 0.0},
		{"successes", 0.0, 1.0},
		{"share", 0.0, 1.0},
	}
	ts := got.Models[0].Targets
	for _, tt := range tests {
		if ts[0][tt.field] != tt.a || ts[1][tt.field] != tt.b {
			t.Errorf("%s: a %v, b %v; want %v, %v", tt.field, ts[0][tt.field], ts[1][tt.field], tt.a, tt.b)
		}
	}
}

func TestErrorsGoThroughWriter(t *testing.T) {
	var kinds []llm.Kind
	a := New(Options{Token: "x", WriteError: func(w http.ResponseWriter, _ *http.Request, err error) {
		kinds = append(kinds, llm.AsError(err).Kind)
		w.WriteHeader(llm.AsError(err).Status())
	}})
	a.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/admin/v1/targets", nil))
	New(Options{WriteError: a.writeErr}).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/admin/v1/targets", nil))
	if len(kinds) != 2 || kinds[0] != llm.KindAuthentication || kinds[1] != llm.KindNoRoute {
		t.Errorf("kinds = %v", kinds)
	}
}

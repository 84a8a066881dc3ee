package server

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// Every legacy completion leaves its usage record, streamed or not, with
// the upstream's usage and its cost, whether or not the client asked for
// usage in the stream.
func TestCompletionLedger(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		stream     bool
	}{
		{"unary", `{"model":"gpt","prompt":"Say this is a test"}`, false},
		{"stream without usage", `{"model":"gpt","prompt":"Say this is a test","stream":true}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, st := sqliteLedger(t)
			g := newCompletionsGateway(t, "")
			vars := map[string]string{"UPSTREAM": g.up.URL, "SECOND": g.second.URL, "ANTHROPIC": g.claude.URL}
			g.srv.Swap(compileConfig(t, completionsConfig, vars, gateway.Options{Ledger: w}))
			resp, body := g.do("POST", "/v1/completions", tc.body)
			if resp.StatusCode != 200 || (tc.stream && strings.Contains(body, `"usage":{`)) {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			u := oneRecord(t, st)
			// 5 tokens in and out at $0.15 and $0.60 per million.
			if u.Model != "gpt" || u.Provider != "fake-openai" || u.UpstreamModel != "gpt-4o-mini" || u.InputTokens != 5 ||
				u.OutputTokens != 5 || !u.CostKnown || u.CostPico != 3_750_000 || u.Status != 200 || u.Stream != tc.stream || u.UsageEstimated {
				t.Fatalf("record %+v", u)
			}
		})
	}
}

// Tokens-per-minute limits reserve a legacy completion's prompt (token
// ids counted one each) and its largest answer: max_tokens, 16 when
// absent, for every choice of every prompt.
func TestCompletionReservesPromptAndMaxTokens(t *testing.T) {
	g := newCompletionsGateway(t, `keys:
  - {name: small, key: sk-small-key, limits: {tpm: 20}}
  - {name: big, key: sk-big-key, limits: {tpm: 100000}}
`)
	small := []string{"Authorization", "Bearer sk-small-key"}
	big := []string{"Authorization", "Bearer sk-big-key"}
	for _, tc := range []struct {
		body  string
		key   []string
		needs string
	}{
		// 5 ids and the default 16: 21 tokens, more than 20 allows.
		{`{"model":"gpt","prompt":[1,2,3,4,5]}`, small, "needs 21 tokens"},
		// 2 prompts of 2 ids; 2 prompts x best_of 3 x 20000.
		{`{"model":"gpt","prompt":[[1,2],[3,4]],"max_tokens":20000,"n":2,"best_of":3}`, big, "needs 120004 tokens"},
	} {
		resp, body := g.do("POST", "/v1/completions", tc.body, tc.key...)
		if resp.StatusCode != 429 || !strings.Contains(body, tc.needs) {
			t.Errorf("%s: %d %s", tc.body, resp.StatusCode, body)
		}
	}
	// 4 ids and the default 16 fit in 20.
	if resp, body := g.do("POST", "/v1/completions", `{"model":"gpt","prompt":[1,2,3,4]}`, small...); resp.StatusCode != 200 {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
	if len(g.up.Requests()) != 1 {
		t.Errorf("%d upstream requests, want the one admitted", len(g.up.Requests()))
	}
}

// A budget holds what a legacy completion may cost, from its max_tokens,
// before the call.
func TestCompletionBudgetReserves(t *testing.T) {
	g := newCompletionsGateway(t, `keys:
  - {name: capped, key: sk-capped-key, budget: {usd: 0.01, period: daily}}
`)
	key := []string{"Authorization", "Bearer sk-capped-key"}
	// 100000 tokens out at $0.60 per million may cost $0.06.
	resp, body := g.do("POST", "/v1/completions", `{"model":"gpt","prompt":"x","max_tokens":100000}`, key...)
	if resp.StatusCode != 429 || gjson.Get(body, "error.code").Str != "budget_exceeded" || !strings.Contains(body, "may cost up to $0.06") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if resp, body := g.do("POST", "/v1/completions", `{"model":"gpt","prompt":"x","max_tokens":100}`, key...); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if len(g.up.Requests()) != 1 {
		t.Errorf("%d upstream requests, want the one admitted", len(g.up.Requests()))
	}
}

// A stream cut before the upstream reported usage is billed for its
// prompt, counted as admission counts it, and for the text delivered.
func TestCompletionCutStreamBilled(t *testing.T) {
	w, st := sqliteLedger(t)
	g := newCompletionsGateway(t, "")
	vars := map[string]string{"UPSTREAM": g.up.URL, "SECOND": g.second.URL, "ANTHROPIC": g.claude.URL}
	g.srv.Swap(compileConfig(t, completionsConfig, vars, gateway.Options{Ledger: w}))
	capture := providertest.Load(t, "openai/completion_stream_text.sse")
	events := bytes.SplitAfter(capture, []byte("\n\n"))
	g.up.Enqueue(providertest.Response{SSE: bytes.Join(events[:3], nil), HangUp: true})
	resp, body := g.do("POST", "/v1/completions", `{"model":"gpt","prompt":"Say this is a test","stream":true}`)
	if resp.StatusCode != 200 || strings.Contains(body, "[DONE]") || !strings.Contains(body, `"error"`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	u := oneRecord(t, st)
	// "Say this is a test" and "This is indeed" in gpt-4o-mini's tokens.
	if !u.UsageEstimated || u.InputTokens != 5 || u.OutputTokens != 3 || !u.CostKnown {
		t.Fatalf("record %+v", u)
	}
}

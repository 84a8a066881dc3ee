package server

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
)

// budgetConfig prices the mock at $1,000 per million tokens in and out,
// so that a small request costs a few cents, and gives keys budgets of
// ten cents: a day's, and a total one. The unpriced model has no price.
const budgetConfig = baseConfig + `  - name: unpriced
    targets: [{provider: fake-openai, model: house-model-1}]
  - name: mock-with-fallback
    targets: [{provider: mock, model: mock}]
    fallbacks: [unpriced]
pricing:
  - {provider: mock, model: mock, input_per_mtok: 1000, output_per_mtok: 1000}
keys:
  - name: daily
    key: sk-daily-key
    budget: {usd: 0.1, period: daily}
  - name: total
    key: sk-total-key
    budget: {usd: 0.1, period: total}
  - name: free
    key: sk-free-key
`

type openAIError struct {
	Error struct{ Message, Type, Code string }
}

// A key's budget admits requests while what they may cost fits in it,
// then refuses with 429 budget_exceeded naming the budget, with
// Retry-After until its period starts over; what the admitted requests
// cost never exceeds the budget.
func TestBudgetExceeded(t *testing.T) {
	g := newGateway(t, budgetConfig, nil)
	for _, tc := range []struct {
		key, period string
		retry       bool
	}{{"sk-daily-key", "daily", true}, {"sk-total-key", "total", false}} {
		t.Run(tc.period, func(t *testing.T) {
			spent, admitted := 0.0, 0
			for i := 0; ; i++ {
				if i > 50 {
					t.Fatalf("50 requests of a few cents each fit in a ten-cent budget: spent $%v", spent)
				}
				resp, body := g.do("POST", "/v1/chat/completions", chatBody("mock", false, 10), "Authorization", "Bearer "+tc.key)
				if resp.StatusCode == 200 {
					spent += costOf(t, resp.Header.Get("X-Llmgw-Cost-Usd"))
					admitted++
					// Settling is off the request's path: let it land, so
					// that the next request sees this one's actual cost.
					time.Sleep(20 * time.Millisecond)
					continue
				}
				if resp.StatusCode != 429 {
					t.Fatalf("request %d: %d %s", i, resp.StatusCode, body)
				}
				var e openAIError
				if err := json.Unmarshal([]byte(body), &e); err != nil {
					t.Fatal(err)
				}
				if e.Error.Code != "budget_exceeded" || e.Error.Type != "rate_limit_error" {
					t.Errorf("refusal: %s", body)
				}
				if !strings.Contains(e.Error.Message, "this key's "+tc.period+" budget of $0.1 is spent") {
					t.Errorf("the message does not name the budget: %q", e.Error.Message)
				}
				ra := resp.Header.Get("Retry-After")
				if tc.retry {
					n, err := strconv.Atoi(ra)
					if err != nil || n < 1 || n > 86400 {
						t.Errorf("Retry-After = %q, want the seconds until midnight UTC", ra)
					}
				} else if ra != "" {
					t.Errorf("a total budget never starts over, yet Retry-After = %q", ra)
				}
				break
			}
			if admitted < 2 || spent > 0.1 {
				t.Errorf("%d requests admitted, costing $%v, against a budget of $0.1", admitted, spent)
			}
		})
	}
	// Another key has no budget, and is not held by theirs.
	if resp, body := g.do("POST", "/v1/chat/completions", chatBody("mock", false, 10), "Authorization", "Bearer sk-free-key"); resp.StatusCode != 200 {
		t.Fatalf("a key without a budget: %d %s", resp.StatusCode, body)
	}
}

// A key with a budget may not use a model whose cost cannot be bounded:
// one without a price, or one with a fallback without a price. A key
// without a budget may.
func TestBudgetUnpricedModel(t *testing.T) {
	g := newGateway(t, budgetConfig, nil)
	for _, model := range []string{"unpriced", "mock-with-fallback"} {
		resp, body := g.do("POST", "/v1/chat/completions", chatBody(model, false, 10), "Authorization", "Bearer sk-daily-key")
		var e openAIError
		_ = json.Unmarshal([]byte(body), &e)
		if resp.StatusCode != 403 || e.Error.Code != "model_not_allowed" || !strings.Contains(e.Error.Message, "has no price") {
			t.Errorf("%s: %d %s", model, resp.StatusCode, body)
		}
	}
	if resp, body := g.do("POST", "/v1/chat/completions", chatBody("unpriced", false, 10), "Authorization", "Bearer sk-free-key"); resp.StatusCode != 200 {
		t.Fatalf("a key without a budget: %d %s", resp.StatusCode, body)
	}
	// A model that does not exist is a 404 for a key with a budget too,
	// not a refusal for want of a price.
	resp, body := g.do("POST", "/v1/chat/completions", chatBody("no-such-model", false, 10), "Authorization", "Bearer sk-daily-key")
	var e openAIError
	_ = json.Unmarshal([]byte(body), &e)
	if resp.StatusCode != 404 || e.Error.Code != "model_not_found" {
		t.Errorf("unknown model, key with a budget: %d %s", resp.StatusCode, body)
	}
}

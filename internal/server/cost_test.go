package server

import (
	"math"
	"strconv"
	"testing"

	"github.com/tidwall/gjson"
)

// pricedConfig prices both models: the mock at 1 and 2 dollars per million
// input and output tokens, the fake OpenAI upstream's gpt-4o-mini at 0.15
// and 0.6 with cached input at 0.075.
const pricedConfig = baseConfig + `
pricing:
  - {provider: mock, model: mock, input_per_mtok: 1, output_per_mtok: 2}
  - {provider: fake-openai, model: "gpt-4o-mini", input_per_mtok: 0.15, output_per_mtok: 0.6, cached_input_per_mtok: 0.075}
`

func costOf(t *testing.T, h string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(h, 64)
	if err != nil {
		t.Fatalf("x-llmgw-cost-usd %q: %v", h, err)
	}
	return v
}

// A non-streamed response carries its cost, computed from the usage it
// reports and the serving model's price, on either route and on the
// forwarding fast path.
func TestCostHeader(t *testing.T) {
	g := newGateway(t, pricedConfig, nil)
	for _, tc := range []struct {
		name, path, body  string
		in, out, cached   string // where the usage's counts are in the body
		inPrice, outPrice float64
		cachedPrice       float64
		inIncludesCached  bool
		headers           []string
	}{
		{"openai mock", "/v1/chat/completions", `{"model":"mock","messages":[{"role":"user","content":"hello there"}]}`,
			"usage.prompt_tokens", "usage.completion_tokens", "usage.prompt_tokens_details.cached_tokens", 1, 2, 1, true, nil},
		{"anthropic mock", "/v1/messages", `{"model":"mock","max_tokens":100,"messages":[{"role":"user","content":"hello there"}]}`,
			"usage.input_tokens", "usage.output_tokens", "usage.cache_read_input_tokens", 1, 2, 1, false, []string{"anthropic-version", "2023-06-01"}},
		{"openai fast path", "/v1/chat/completions", `{"model":"gpt","messages":[{"role":"user","content":"hello there"}]}`,
			"usage.prompt_tokens", "usage.completion_tokens", "usage.prompt_tokens_details.cached_tokens", 0.15, 0.6, 0.075, true, nil},
		{"anthropic to openai", "/v1/messages", `{"model":"gpt","max_tokens":100,"messages":[{"role":"user","content":"hello there"}]}`,
			"usage.input_tokens", "usage.output_tokens", "usage.cache_read_input_tokens", 0.15, 0.6, 0.075, false, []string{"anthropic-version", "2023-06-01"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := g.do("POST", tc.path, tc.body, tc.headers...)
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			in, out := gjson.Get(body, tc.in).Float(), gjson.Get(body, tc.out).Float()
			cached := gjson.Get(body, tc.cached).Float()
			if in+out == 0 {
				t.Fatalf("no usage in %s", body)
			}
			if tc.inIncludesCached {
				in -= cached
			}
			want := (in*tc.inPrice + out*tc.outPrice + cached*tc.cachedPrice) / 1e6
			got := costOf(t, resp.Header.Get("X-Llmgw-Cost-Usd"))
			if math.Abs(got-want) > 1e-12 {
				t.Fatalf("x-llmgw-cost-usd = %v, want %v (usage in %v out %v cached %v)", got, want, in, out, cached)
			}
		})
	}
}

// No price, no header: an unknown cost is not zero. A stream has no
// header either: its cost is known only at its end.
func TestCostHeaderAbsent(t *testing.T) {
	g := newGateway(t, baseConfig, nil)
	resp, body := g.do("POST", "/v1/chat/completions", `{"model":"mock","messages":[{"role":"user","content":"hello"}]}`)
	if resp.StatusCode != 200 || resp.Header.Get("X-Llmgw-Cost-Usd") != "" {
		t.Fatalf("unpriced model: %d %q %s", resp.StatusCode, resp.Header.Get("X-Llmgw-Cost-Usd"), body)
	}
	g = newGateway(t, pricedConfig, nil)
	resp, _ = g.do("POST", "/v1/chat/completions", `{"model":"mock","stream":true,"messages":[{"role":"user","content":"hello"}]}`)
	if resp.StatusCode != 200 || resp.Header.Get("X-Llmgw-Cost-Usd") != "" {
		t.Fatalf("stream: %d %q", resp.StatusCode, resp.Header.Get("X-Llmgw-Cost-Usd"))
	}
}

package server

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/pricing"
)

// capConfig routes "gpt" to gpt-4o-mini (built-in price), "pricey" and
// "big" to a model priced at $1000 per million tokens ("big" with gpt as
// its cost fallback), and "unpriced" to a model with no price, all on the
// fake OpenAI upstream.
const capConfig = `
providers:
  - name: fake-openai
    type: openai
    base_url: "${UPSTREAM}"
    api_key: sk-upstream-test
models:
  - name: gpt
    targets: [{provider: fake-openai, model: "gpt-4o-mini"}]
  - name: pricey
    targets: [{provider: fake-openai, model: "pricey-model"}]
  - name: big
    targets: [{provider: fake-openai, model: "pricey-model"}]
    cost_fallback: gpt
  - name: unpriced
    targets: [{provider: fake-openai, model: "no-price-model"}]
pricing:
  - {provider: fake-openai, model: pricey-model, input_per_mtok: 1000, output_per_mtok: 1000}
`

// capKeysConfig is capConfig with keys: one capped at one cent, one
// capped whose models leave out gpt, one without a cap.
const capKeysConfig = capConfig + `
keys:
  - {name: capped, key: sk-capped-0123456789, max_cost_usd: 0.01}
  - {name: narrow, key: sk-narrow-0123456789, models: [big], max_cost_usd: 0.01}
  - {name: free, key: sk-free-01234567890}
`

// dollarsOf reads a dollar amount as the gateway writes it.
func dollarsOf(t *testing.T, s string) pricing.Amount {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || s == "" {
		t.Fatalf("not a dollar amount: %q", s)
	}
	return pricing.Amount(f * float64(pricing.Dollar))
}

// wantCapRefusal checks a 400 cost_cap_exceeded in the OpenAI shape whose
// message says want, and that no upstream call was made.
func wantCapRefusal(t *testing.T, g *testGateway, resp *http.Response, body, want string) {
	t.Helper()
	if resp.StatusCode != 400 || gjson.Get(body, "error.code").String() != "cost_cap_exceeded" ||
		gjson.Get(body, "error.type").String() != "invalid_request_error" {
		t.Fatalf("want 400 cost_cap_exceeded, got %d %s", resp.StatusCode, body)
	}
	if msg := gjson.Get(body, "error.message").String(); !strings.Contains(msg, want) {
		t.Errorf("message %q does not say %q", msg, want)
	}
	if n := len(g.up.Requests()); n != 0 {
		t.Errorf("the upstream received %d requests; a refused call must reach none", n)
	}
}

func TestCostCapRefusesAboveTheCapBeforeTheUpstream(t *testing.T) {
	g := newGateway(t, capConfig, nil)
	resp, body := g.do("POST", "/v1/chat/completions", chatBody("pricey", false, 100), "x-llmgw-max-cost-usd", "0.01")
	wantCapRefusal(t, g, resp, body, "is above the cap of $0.01 set by x-llmgw-max-cost-usd")
	est := resp.Header.Get("X-Llmgw-Cost-Estimate-Usd")
	// At least the 100 answer tokens at $0.001 each.
	if dollarsOf(t, est) < 100*pricing.Dollar/1000 {
		t.Errorf("estimate %s: below the answer's own cost", est)
	}
	if msg := gjson.Get(body, "error.message").String(); !strings.Contains(msg, "estimated cost $"+est+" ") {
		t.Errorf("message %q does not carry the estimate %s of the header", msg, est)
	}
	if resp.Header.Get("X-Llmgw-Cost-Fallback") != "" {
		t.Error("a refused call names a cost fallback")
	}
}

func TestCostCapAdmitsUnderTheCapWithItsEstimate(t *testing.T) {
	g := newGateway(t, capConfig, nil)
	resp, body := g.do("POST", "/v1/chat/completions", chatBody("gpt", false, 100), "x-llmgw-max-cost-usd", "0.01")
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	est := dollarsOf(t, resp.Header.Get("X-Llmgw-Cost-Estimate-Usd"))
	cost := dollarsOf(t, resp.Header.Get("X-Llmgw-Cost-Usd"))
	if est <= 0 || cost <= 0 || cost > est || est > pricing.Dollar/100 {
		t.Errorf("estimate %v, cost %v: want 0 < cost <= estimate <= the cap", est, cost)
	}
	if n := len(g.up.Requests()); n != 1 {
		t.Errorf("upstream requests: %d", n)
	}

	// Without a cap, no estimate is made or shown.
	resp, _ = g.do("POST", "/v1/chat/completions", chatBody("pricey", false, 100))
	if resp.StatusCode != 200 || resp.Header.Get("X-Llmgw-Cost-Estimate-Usd") != "" {
		t.Errorf("no cap: %d, estimate %q", resp.StatusCode, resp.Header.Get("X-Llmgw-Cost-Estimate-Usd"))
	}
}

// The cap is estimated with the largest answer the request allows: with
// no max_tokens, the default answer cap of limits and budgets.
func TestCostCapCountsTheLargestAnswer(t *testing.T) {
	g := newGateway(t, capConfig, nil)
	// 4096 answer tokens at $0.001: above $4.
	resp, body := g.do("POST", "/v1/chat/completions", chatBody("pricey", false, 0), "x-llmgw-max-cost-usd", "4")
	wantCapRefusal(t, g, resp, body, "above the cap of $4 ")
	resp, body = g.do("POST", "/v1/chat/completions", chatBody("pricey", false, 0), "x-llmgw-max-cost-usd", "4.2")
	if resp.StatusCode != 200 {
		t.Fatalf("under the cap with the default answer: %d %s", resp.StatusCode, body)
	}
}

func TestCostCapAnthropicRouteErrorShape(t *testing.T) {
	g := newGateway(t, capConfig, nil)
	body := `{"model":"pricey","max_tokens":100,"messages":[{"role":"user","content":"hello"}]}`
	resp, out := g.do("POST", "/v1/messages", body, "x-llmgw-max-cost-usd", "0.05")
	if resp.StatusCode != 400 || gjson.Get(out, "type").String() != "error" ||
		gjson.Get(out, "error.type").String() != "invalid_request_error" ||
		!strings.Contains(gjson.Get(out, "error.message").String(), "above the cap of $0.05") {
		t.Fatalf("%d %s", resp.StatusCode, out)
	}
	if resp.Header.Get("X-Llmgw-Cost-Estimate-Usd") == "" || len(g.up.Requests()) != 0 {
		t.Errorf("estimate header %q, upstream requests %d", resp.Header.Get("X-Llmgw-Cost-Estimate-Usd"), len(g.up.Requests()))
	}
	resp, out = g.do("POST", "/v1/messages", `{"model":"pricey","messages":[{"role":"user","content":"hello"}]}`, "x-llmgw-max-cost-usd", "junk")
	if resp.StatusCode != 400 || gjson.Get(out, "error.type").String() != "invalid_request_error" || gjson.Get(out, "type").String() != "error" {
		t.Fatalf("junk header on /v1/messages: %d %s", resp.StatusCode, out)
	}
}

func TestCostCapEmbeddings(t *testing.T) {
	g := newGateway(t, capConfig, nil)
	body := `{"model":"pricey","input":"` + strings.Repeat("word ", 2000) + `"}`
	resp, out := g.do("POST", "/v1/embeddings", body, "x-llmgw-max-cost-usd", "0.001")
	wantCapRefusal(t, g, resp, out, "above the cap of $0.001")
	resp, out = g.do("POST", "/v1/embeddings", body, "x-llmgw-max-cost-usd", "100")
	if resp.StatusCode != 200 || resp.Header.Get("X-Llmgw-Cost-Estimate-Usd") == "" {
		t.Fatalf("%d %s", resp.StatusCode, out)
	}
}

func TestCostCapHostileHeaderValues(t *testing.T) {
	g := newGateway(t, capConfig, nil)
	for name, vals := range map[string][]string{
		"negative":       {"-1"},
		"zero":           {"0"},
		"zero decimals":  {"0.000"},
		"NaN":            {"NaN"},
		"Inf":            {"Inf"},
		"+Inf":           {"+Inf"},
		"exponent":       {"1e3"},
		"plus sign":      {"+1"},
		"dollar sign":    {"$1"},
		"junk":           {"cheap please"},
		"empty":          {""},
		"bare point":     {"."},
		"trailing point": {"1."},
		"comma list":     {"0.1,0.2"},
		"huge":           {"9000000.000000000001"},
		"huger":          {strings.Repeat("9", 400)},
		"past picos":     {"0.0000000000001"},
		"hex":            {"0x10"},
		"invalid UTF-8":  {"0.1\xff"},
		"several values": {"0.1", "0.2"},
	} {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", g.http.URL+"/v1/chat/completions", strings.NewReader(chatBody("gpt", false, 10)))
			for _, v := range vals {
				req.Header.Add("x-llmgw-max-cost-usd", v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body := string(b)
			if resp.StatusCode != 400 || gjson.Get(body, "error.code").String() != "invalid_request_error" ||
				gjson.Get(body, "error.param").String() != "x-llmgw-max-cost-usd" {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			if len(body) > 1000 {
				t.Errorf("the error echoes too much: %d bytes", len(body))
			}
		})
	}
	if n := len(g.up.Requests()); n != 0 {
		t.Errorf("the upstream received %d requests", n)
	}
	// The largest cap, with every decimal, and spaces around it, passes.
	for _, v := range []string{"9000000", " 0.000000000001 ", ".5", "007.5"} {
		resp, body := g.do("POST", "/v1/chat/completions", chatBody("gpt", false, 10), "x-llmgw-max-cost-usd", v)
		if resp.StatusCode != 200 && !(v == " 0.000000000001 " && resp.StatusCode == 400 && gjson.Get(body, "error.code").String() == "cost_cap_exceeded") {
			t.Errorf("%q: %d %s", v, resp.StatusCode, body)
		}
	}
}

// A streamed response's cost comes as a trailer the HTTP client reads
// once the body is done, on both streaming routes.
func TestCostCapStreamCostTrailer(t *testing.T) {
	g := newGateway(t, capConfig, nil)
	for _, tc := range []struct{ path, body string }{
		{"/v1/chat/completions", chatBody("gpt", true, 100)},
		{"/v1/messages", `{"model":"gpt","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"one two three"}]}`},
		{"/v1/responses", `{"model":"gpt","max_output_tokens":100,"stream":true,"store":false,"input":"one two three"}`},
	} {
		req, _ := http.NewRequest("POST", g.http.URL+tc.path, strings.NewReader(tc.body))
		req.Header.Set("x-llmgw-max-cost-usd", "0.5")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || resp.Header.Get("X-Llmgw-Cost-Estimate-Usd") == "" {
			t.Fatalf("%s: %d, estimate %q", tc.path, resp.StatusCode, resp.Header.Get("X-Llmgw-Cost-Estimate-Usd"))
		}
		if _, ok := resp.Trailer["X-Llmgw-Cost-Usd"]; !ok {
			t.Errorf("%s: the trailer is not declared: %v", tc.path, resp.Header)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cost := dollarsOf(t, resp.Trailer.Get("X-Llmgw-Cost-Usd"))
		if est := dollarsOf(t, resp.Header.Get("X-Llmgw-Cost-Estimate-Usd")); cost <= 0 || cost > est {
			t.Errorf("%s: trailer cost %v, estimate %v\n%s", tc.path, cost, est, b)
		}
	}
	// A stream above its cap is refused as a plain error, before any
	// event.
	resp, body := g.do("POST", "/v1/chat/completions", chatBody("pricey", true, 100), "x-llmgw-max-cost-usd", "0.01")
	if resp.StatusCode != 400 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
		gjson.Get(body, "error.code").String() != "cost_cap_exceeded" {
		t.Fatalf("%d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

func TestCostCapKeyDefaultAndHeader(t *testing.T) {
	g := newGateway(t, capKeysConfig, nil)
	capped := []string{"Authorization", "Bearer sk-capped-0123456789"}
	// The key's cap holds with no header.
	resp, body := g.do("POST", "/v1/chat/completions", chatBody("pricey", false, 100), capped...)
	wantCapRefusal(t, g, resp, body, "above the cap of $0.01 set by this key's max_cost_usd")
	if resp.Header.Get("X-Llmgw-Cost-Estimate-Usd") == "" {
		t.Error("no estimate header under a key's cap")
	}
	// A header cannot raise it.
	resp, body = g.do("POST", "/v1/chat/completions", chatBody("pricey", false, 100), append(capped, "x-llmgw-max-cost-usd", "100")...)
	wantCapRefusal(t, g, resp, body, "above the cap of $0.01 set by this key's max_cost_usd")
	// A header may lower it.
	resp, body = g.do("POST", "/v1/chat/completions", chatBody("gpt", false, 100), append(capped, "x-llmgw-max-cost-usd", "0.000001")...)
	wantCapRefusal(t, g, resp, body, "above the cap of $0.000001 set by x-llmgw-max-cost-usd")
	// Under the key's cap, the call passes with its estimate.
	resp, body = g.do("POST", "/v1/chat/completions", chatBody("gpt", false, 100), capped...)
	if resp.StatusCode != 200 || resp.Header.Get("X-Llmgw-Cost-Estimate-Usd") == "" {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	// A key without a cap is not capped, nor estimated.
	resp, body = g.do("POST", "/v1/chat/completions", chatBody("pricey", false, 100), "Authorization", "Bearer sk-free-01234567890")
	if resp.StatusCode != 200 || resp.Header.Get("X-Llmgw-Cost-Estimate-Usd") != "" {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

func TestCostCapCheaperFallback(t *testing.T) {
	g := newGateway(t, capKeysConfig, nil)
	free := []string{"Authorization", "Bearer sk-free-01234567890", "x-llmgw-max-cost-usd", "0.01"}
	resp, body := g.do("POST", "/v1/chat/completions", chatBody("big", false, 100), free...)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if got := resp.Header.Get("X-Llmgw-Cost-Fallback"); got != "gpt" {
		t.Errorf("x-llmgw-cost-fallback = %q, want gpt", got)
	}
	if est := dollarsOf(t, resp.Header.Get("X-Llmgw-Cost-Estimate-Usd")); est > pricing.Dollar/100 {
		t.Errorf("the estimate shown, %v, is not the fallback's", est)
	}
	reqs := g.up.Requests()
	if len(reqs) != 1 || gjson.GetBytes(reqs[0].Body, "model").String() != "gpt-4o-mini" {
		t.Fatalf("upstream requests: %d, first model %s", len(reqs), gjson.GetBytes(reqs[0].Body, "model"))
	}
	if resp.Header.Get("X-Llmgw-Provider") != "fake-openai" || gjson.Get(body, "model").String() != "gpt-4o-mini" {
		t.Errorf("provider %q, response model %s", resp.Header.Get("X-Llmgw-Provider"), gjson.Get(body, "model"))
	}

	// The fallback's own estimate must fit too.
	resp, body = g.do("POST", "/v1/chat/completions", chatBody("big", false, 100), "Authorization", "Bearer sk-free-01234567890", "x-llmgw-max-cost-usd", "0.000000001")
	if resp.StatusCode != 400 || gjson.Get(body, "error.code").String() != "cost_cap_exceeded" || resp.Header.Get("X-Llmgw-Cost-Fallback") != "" {
		t.Fatalf("fallback above the cap too: %d %s", resp.StatusCode, body)
	}
	// A key that may not use the fallback is refused.
	resp, body = g.do("POST", "/v1/chat/completions", chatBody("big", false, 100), "Authorization", "Bearer sk-narrow-0123456789")
	if resp.StatusCode != 400 || gjson.Get(body, "error.code").String() != "cost_cap_exceeded" {
		t.Fatalf("fallback not allowed to the key: %d %s", resp.StatusCode, body)
	}
	if n := len(g.up.Requests()); n != 1 {
		t.Errorf("upstream requests after the refusals: %d, want still 1", n)
	}
}

func TestCostCapUnpricedAndUnknownModels(t *testing.T) {
	g := newGateway(t, capConfig, nil)
	resp, body := g.do("POST", "/v1/chat/completions", chatBody("unpriced", false, 10), "x-llmgw-max-cost-usd", "100")
	wantCapRefusal(t, g, resp, body, "cannot be estimated")
	if resp.Header.Get("X-Llmgw-Cost-Estimate-Usd") != "" {
		t.Error("an estimate header for a cost that cannot be estimated")
	}
	resp, body = g.do("POST", "/v1/chat/completions", chatBody("nope", false, 10), "x-llmgw-max-cost-usd", "100")
	if resp.StatusCode != 404 || gjson.Get(body, "error.code").String() != "model_not_found" {
		t.Fatalf("unknown model under a cap: %d %s", resp.StatusCode, body)
	}
	resp, body = g.do("POST", "/v1/chat/completions", chatBody("unpriced", false, 10))
	if resp.StatusCode != 200 {
		t.Fatalf("unpriced model without a cap: %d %s", resp.StatusCode, body)
	}
}

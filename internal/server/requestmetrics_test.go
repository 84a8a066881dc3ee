package server

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/llmgw/llmgw/internal/auth"
)

// metricsConfig has keys of two tenants with a rate limit, a budget too
// small for any request, a model list and a concurrency limit, a priced
// mock, a slow mock for streams that stay open, and a wildcard model.
const metricsConfig = baseConfig + `  - name: slow
    targets: [{provider: slow-mock, model: mock}]
  - name: wild/*
    targets: [{provider: mock, model: "*"}]
pricing:
  - {provider: mock, model: mock, input_per_mtok: 1000, output_per_mtok: 1000}
keys:
  - name: acme-key
    key: sk-acme-key
    tenant: acme
    limits: {rpm: 4}
  - name: poor-key
    key: sk-poor-key
    tenant: poor
    budget: {usd: 0.000001, period: total}
  - name: narrow-key
    key: sk-narrow-key
    tenant: acme
    models: [mock]
  - name: conc-key
    key: sk-conc-key
    tenant: acme
    limits: {concurrent: 1}
  - name: free-key
    key: sk-free-key
`

func newMetricsGateway(t *testing.T) *testGateway {
	t.Helper()
	yaml := strings.Replace(metricsConfig, "  - name: mock\n    type: mock\n",
		"  - name: mock\n    type: mock\n  - name: slow-mock\n    type: mock\n    mock: {tokens_per_second: 4}\n", 1)
	return newGateway(t, yaml, nil)
}

// metric returns the value of the series of name with exactly the labels
// given as name, value pairs (a histogram's: its count of observations),
// and whether it exists.
func metric(t *testing.T, g prometheus.Gatherer, name string, labels ...string) (float64, bool) {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.Metric {
			if !sameLabels(m.Label, labels) {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue(), true
			case m.Gauge != nil:
				return m.Gauge.GetValue(), true
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount()), true
			}
		}
	}
	return 0, false
}

func sameLabels(got []*dto.LabelPair, want []string) bool {
	if len(got) != len(want)/2 {
		return false
	}
	for i := 0; i+1 < len(want); i += 2 {
		if !slices.ContainsFunc(got, func(l *dto.LabelPair) bool { return l.GetName() == want[i] && l.GetValue() == want[i+1] }) {
			return false
		}
	}
	return true
}

// histogramSum returns the sum of the observations of a histogram series.
func histogramSum(t *testing.T, g prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.Metric {
			if sameLabels(m.Label, labels) && m.Histogram != nil {
				return m.Histogram.GetSampleSum()
			}
		}
	}
	t.Fatalf("no series %s%v", name, labels)
	return 0
}

const chatRoute = "/v1/chat/completions"

// Requests, their durations, sizes, tokens, cost and rejections are
// counted with the labels the configuration and the store give them.
func TestRequestMetrics(t *testing.T) {
	g := newMetricsGateway(t)
	reg := g.srv.Snapshot().Metrics.Gatherer()
	want := func(v float64, name string, labels ...string) {
		t.Helper()
		got, ok := metric(t, reg, name, labels...)
		if !ok || got != v {
			t.Errorf("%s%v = %v (exists %v), want %v", name, labels, got, ok, v)
		}
	}
	acme := []string{"Authorization", "Bearer sk-acme-key"}

	// A unary success.
	body := chatBody("mock", false, 10)
	if resp, b := g.do("POST", chatRoute, body, acme...); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	ok := []string{"route", chatRoute, "model", "mock", "provider", "mock", "status_class", "2xx", "code", ""}
	want(1, "llmgw_requests_total", ok...)
	want(1, "llmgw_request_duration_seconds", "route", chatRoute, "model", "mock", "provider", "mock")
	want(1, "llmgw_request_body_bytes", "route", chatRoute)
	if got := histogramSum(t, reg, "llmgw_request_body_bytes", "route", chatRoute); got != float64(len(body)) {
		t.Errorf("request body bytes %v, want %d", got, len(body))
	}
	if got := histogramSum(t, reg, "llmgw_response_body_bytes", "route", chatRoute); got < 100 {
		t.Errorf("response body bytes %v, want a chat completion's", got)
	}
	in, _ := metric(t, reg, "llmgw_tokens_total", "tenant", "acme", "model", "mock", "type", "input")
	out, _ := metric(t, reg, "llmgw_tokens_total", "tenant", "acme", "model", "mock", "type", "output")
	cost, _ := metric(t, reg, "llmgw_cost_usd_total", "tenant", "acme", "model", "mock")
	if in <= 0 || out <= 0 || cost <= 0 {
		t.Errorf("tokens in %v, out %v, cost %v: want all counted", in, out, cost)
	}
	// The price is $1000 per million tokens both ways.
	if want := (in + out) * 1000 / 1e6; cost < want*0.999 || cost > want*1.001 {
		t.Errorf("cost $%v for %v+%v tokens, want $%v", cost, in, out, want)
	}
	want(0, "llmgw_requests_in_flight", "route", chatRoute)

	// A stream: its time to first event, the gaps between its events, and
	// no stream left open once it ended.
	resp, b := g.do("POST", chatRoute, chatBody("mock", true, 10), acme...)
	if resp.StatusCode != 200 || len(events(t, b)) < 3 {
		t.Fatalf("stream: %d %s", resp.StatusCode, b)
	}
	want(2, "llmgw_requests_total", ok...)
	want(1, "llmgw_time_to_first_token_seconds", "route", chatRoute, "model", "mock", "provider", "mock")
	if n, _ := metric(t, reg, "llmgw_inter_token_latency_seconds", "model", "mock", "provider", "mock"); n < 2 {
		t.Errorf("%v inter-event gaps observed for a stream of %d events", n, len(events(t, b)))
	}
	want(0, "llmgw_streams_open")

	// Errors with their codes.
	if resp, _ := g.do("POST", chatRoute, `{"model":`, acme...); resp.StatusCode != 400 {
		t.Fatalf("malformed body: %d", resp.StatusCode)
	}
	want(1, "llmgw_requests_total", "route", chatRoute, "model", "", "provider", "", "status_class", "4xx", "code", "invalid_request_error")
	if resp, _ := g.do("POST", chatRoute, chatBody("gpt", false, 10), "Authorization", "Bearer sk-narrow-key"); resp.StatusCode != 403 {
		t.Fatalf("model not allowed: %d", resp.StatusCode)
	}
	want(1, "llmgw_rejections_total", "tenant", "acme", "reason", "model_not_allowed")
	if resp, _ := g.do("POST", chatRoute, chatBody("mock", false, 10), "Authorization", "Bearer sk-poor-key"); resp.StatusCode != 429 {
		t.Fatalf("budget: %d", resp.StatusCode)
	}
	want(1, "llmgw_requests_total", "route", chatRoute, "model", "mock", "provider", "", "status_class", "4xx", "code", "budget_exceeded")
	want(1, "llmgw_rejections_total", "tenant", "poor", "reason", "budget")
	// The key's rpm of 4: two used above, two more, then 429.
	for range 2 {
		g.do("POST", "/v1/messages", `{"model":"mock","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, acme...)
	}
	if resp, _ := g.do("POST", chatRoute, chatBody("mock", false, 10), acme...); resp.StatusCode != 429 {
		t.Fatalf("rate limit: %d", resp.StatusCode)
	}
	want(2, "llmgw_requests_total", "route", "/v1/messages", "model", "mock", "provider", "mock", "status_class", "2xx", "code", "")
	want(1, "llmgw_requests_total", "route", chatRoute, "model", "mock", "provider", "", "status_class", "4xx", "code", "rate_limit_exceeded")
	want(1, "llmgw_rejections_total", "tenant", "acme", "reason", "rate_limit")
	if resp, _ := g.do("GET", "/v1/models", ""); resp.StatusCode != 401 {
		t.Fatalf("no key: %d", resp.StatusCode)
	}
	want(1, "llmgw_requests_total", "route", "/v1/models", "model", "", "provider", "", "status_class", "4xx", "code", "invalid_api_key")
	if resp, _ := g.do("GET", "/healthz", ""); resp.StatusCode != 200 {
		t.Fatalf("healthz: %d", resp.StatusCode)
	}
	want(1, "llmgw_requests_total", "route", "/healthz", "model", "", "provider", "", "status_class", "2xx", "code", "")
}

// Neither a model name nor a path a client sends becomes a label value:
// an unknown model is model="", a wildcard model's requests are labelled
// with its pattern, an unknown path is route="other".
func TestMetricsLabelsBounded(t *testing.T) {
	g := newMetricsGateway(t)
	free := []string{"Authorization", "Bearer sk-free-key"}
	for _, m := range []string{"garbage-model-x1", "gpt\u0000evil\"}", strings.Repeat("z", 300), "wild/client-chosen-id-7"} {
		g.do("POST", chatRoute, chatBody(strings.ReplaceAll(m, `"`, `\"`), false, 10), free...)
	}
	g.do("GET", "/v1/client-chosen-path-9", "", free...)
	g.do("POST", "/v1/messages", `{"model":"garbage-model-x2","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, free...)
	reg := g.srv.Snapshot().Metrics.Gatherer()
	want := func(v float64, name string, labels ...string) {
		t.Helper()
		if got, ok := metric(t, reg, name, labels...); !ok || got != v {
			t.Errorf("%s%v = %v (exists %v), want %v", name, labels, got, ok, v)
		}
	}
	want(2, "llmgw_requests_total", "route", chatRoute, "model", "", "provider", "", "status_class", "4xx", "code", "model_not_found")
	// The NUL makes the body invalid JSON.
	want(1, "llmgw_requests_total", "route", chatRoute, "model", "", "provider", "", "status_class", "4xx", "code", "invalid_request_error")
	want(1, "llmgw_requests_total", "route", chatRoute, "model", "wild/*", "provider", "mock", "status_class", "2xx", "code", "")
	want(1, "llmgw_requests_total", "route", "other", "model", "", "provider", "", "status_class", "4xx", "code", "not_found")
	_, text := g.do("GET", "/metrics", "")
	for _, s := range []string{"garbage-model", "evil", "zzzz", "client-chosen"} {
		if strings.Contains(text, s) {
			t.Errorf("/metrics holds %q, sent by a client", s)
		}
	}
	// Every label value of the request metrics is one the configuration
	// or the gateway's tables know.
	known := map[string]bool{"": true, "mock": true, "slow-mock": true, "wild/*": true, "fake-openai": true, "gpt": true, "slow": true}
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "llmgw_") {
			continue
		}
		for _, m := range mf.Metric {
			for _, l := range m.Label {
				if (l.GetName() == "model" || l.GetName() == "provider") && !known[l.GetValue()] {
					t.Errorf("%s has %s=%q", mf.GetName(), l.GetName(), l.GetValue())
				}
			}
		}
	}
}

// While a stream is open it is counted in llmgw_streams_open and its
// request in llmgw_requests_in_flight; a second request of a key whose
// one concurrent slot it holds is a concurrency rejection.
func TestMetricsOpenStream(t *testing.T) {
	g := newMetricsGateway(t)
	reg := g.srv.Snapshot().Metrics.Gatherer()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", g.http.URL+chatRoute, strings.NewReader(chatBody("slow", true, 0)))
	req.Header.Set("Authorization", "Bearer sk-conc-key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("stream: %d", resp.StatusCode)
	}
	if _, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	if v, _ := metric(t, reg, "llmgw_streams_open"); v != 1 {
		t.Errorf("streams open %v, want 1", v)
	}
	if v, _ := metric(t, reg, "llmgw_requests_in_flight", "route", chatRoute); v != 1 {
		t.Errorf("requests in flight %v, want 1", v)
	}
	if r2, body := g.do("POST", chatRoute, chatBody("mock", false, 10), "Authorization", "Bearer sk-conc-key"); r2.StatusCode != 429 {
		t.Fatalf("second while streaming: %d %s", r2.StatusCode, body)
	}
	if v, _ := metric(t, reg, "llmgw_rejections_total", "tenant", "acme", "reason", "concurrency"); v != 1 {
		t.Errorf("concurrency rejections %v, want 1", v)
	}
	cancel()
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	// The handler ends once it notices the client gone: a bounded wait.
	deadline := time.Now().Add(5 * time.Second)
	for {
		open, _ := metric(t, reg, "llmgw_streams_open")
		flying, _ := metric(t, reg, "llmgw_requests_in_flight", "route", chatRoute)
		if open == 0 && flying == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the client left: %v streams open, %v requests in flight", open, flying)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if v, _ := metric(t, reg, "llmgw_time_to_first_token_seconds", "route", chatRoute, "model", "slow", "provider", "slow-mock"); v != 1 {
		t.Errorf("time to first token of the cut stream: %v observations, want 1", v)
	}
}

// The tenant label is a name the gateway knows: a static key's configured
// tenant, a stored key's tenant; never a JWT's tenant claim.
func TestMetricTenant(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    auth.Principal
		want string
	}{
		{"static key", auth.Principal{KeyName: "acme-key", Tenant: "acme"}, "acme"},
		{"stored key", auth.Principal{KeyName: "k1", KeyID: "key_1", Tenant: "acme", TenantID: "ten_1"}, "acme"},
		{"jwt", auth.Principal{KeyName: auth.JWTKeyPrefix + "issuer.example:user-1", Tenant: "claimed-by-token"}, ""},
		{"no key", auth.Principal{}, ""},
	} {
		if got := metricTenant(&tc.p); got != tc.want {
			t.Errorf("%s: tenant label %q, want %q", tc.name, got, tc.want)
		}
	}
}

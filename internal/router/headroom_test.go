package router_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/llmgw/llmgw/internal/provider"
	"github.com/llmgw/llmgw/internal/provider/openai"
	"github.com/llmgw/llmgw/internal/provider/providertest"
	"github.com/llmgw/llmgw/internal/router"
)

const sse = `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":"hello faulty world"},"finish_reason":null}]}

data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}

data: [DONE]

`

func TestHeadroomSteersTrafficOverHTTP(t *testing.T) {
	low, ample := providertest.NewOpenAI(t), providertest.NewOpenAI(t)
	// The low target reports 1 request of 100 left on every answer.
	h := http.Header{}
	h.Set("x-ratelimit-remaining-requests", "1")
	h.Set("x-ratelimit-limit-requests", "100")
	h.Set("x-ratelimit-reset-requests", "50s")
	for range 50 {
		low.Enqueue(providertest.Response{Header: h, SSE: []byte(sse)})
	}
	var ts []router.Target
	for _, f := range []*providertest.OpenAI{low, ample} {
		p, err := openai.New(openai.Config{Name: f.URL, Type: openai.TypeOpenAI, BaseURL: f.URL, APIKey: "sk-test",
			HTTPClient: provider.NewHTTPClient(provider.ClientOptions{})})
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, router.Target{Provider: p, Model: "gpt-4o-mini", Weight: 1})
	}
	r := router.New([]router.Model{{Name: "m", Balancing: router.RoundRobin, Targets: ts}}, router.Options{})
	send := func() {
		t.Helper()
		s, err := r.Invoke(context.Background(), call())
		if err == nil {
			_, err = drain(s)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	send() // round robin: the low target first
	if n := len(low.Requests()); n != 1 {
		t.Fatalf("low target got %d requests, want the first", n)
	}
	st := r.Status()[0].Targets
	// 1% left, below the 20% threshold: the share shrinks to its floor of
	// 5% of the weight, 0.05/(0.05+1) of the traffic.
	if st[0].Headroom != 0.01 || st[1].Headroom != 1 || st[0].Share > 0.05 || st[0].Share < 0.04 {
		t.Fatalf("status %+v, want the low target at headroom 0.01 and a share under 5%%", st)
	}
	const n = 200
	for range n {
		send()
	}
	// Without steering round robin would send it 100 of them.
	if got := len(low.Requests()) - 1; got > n/10 {
		t.Errorf("low target got %d of %d requests", got, n)
	}
	if got := len(ample.Requests()); got < n*9/10 {
		t.Errorf("ample target got %d of %d requests", got, n)
	}
}

package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/tidwall/gjson"
)

// providers[].max_connections reaches the provider's client: with one
// connection held by a request in progress, the next waits pool_timeout
// and fails as the upstream being unavailable; the first is served.
func TestProviderMaxConnections(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	arrived := make(chan struct{}, 8)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		arrived <- struct{}{}
		<-release
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`)
	}))
	t.Cleanup(up.Close)
	t.Cleanup(free)
	g := newGateway(t, `
providers:
  - {name: held, type: openai, base_url: "`+up.URL+`/v1", api_key: sk-held-0123456789, max_connections: 1, pool_timeout: 50ms}
models:
  - {name: m, targets: [{provider: held, model: gpt-4o-mini}]}
`, nil)
	body := `{"model":"m","messages":[{"role":"user","content":"hello"}]}`
	first := make(chan int, 1)
	go func() {
		resp, _ := g.do("POST", "/v1/chat/completions", body)
		first <- resp.StatusCode
	}()
	<-arrived
	resp, got := g.do("POST", "/v1/chat/completions", body)
	if resp.StatusCode != http.StatusServiceUnavailable || gjson.Get(got, "error.code").String() != "upstream_unavailable" ||
		!strings.Contains(got, "max_connections") {
		t.Errorf("over the bound: %d %s", resp.StatusCode, got)
	}
	if len(arrived) != 0 {
		t.Error("the request over the bound reached the upstream")
	}
	free()
	if code := <-first; code != 200 {
		t.Errorf("the request holding the connection: %d", code)
	}
}

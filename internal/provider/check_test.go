package provider_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/provider"
	"github.com/llmgw/llmgw/internal/provider/anthropic"
	"github.com/llmgw/llmgw/internal/provider/azure"
	"github.com/llmgw/llmgw/internal/provider/cohere"
	"github.com/llmgw/llmgw/internal/provider/gemini"
	"github.com/llmgw/llmgw/internal/provider/mistral"
	"github.com/llmgw/llmgw/internal/provider/mock"
	"github.com/llmgw/llmgw/internal/provider/ollama"
	"github.com/llmgw/llmgw/internal/provider/openai"
)

const checkKey = "sk-check-secret-0123456789"

// checkUpstream records the requests it gets and answers them with status.
type checkUpstream struct {
	mu     sync.Mutex
	seen   []string // method, path and query, and the credential's header
	status int
}

func (u *checkUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	defer u.mu.Unlock()
	cred := r.Header.Get("Authorization") + r.Header.Get("X-Api-Key") + r.Header.Get("X-Goog-Api-Key") + r.Header.Get("Api-Key")
	u.seen = append(u.seen, r.Method+" "+r.URL.RequestURI()+" "+cred)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(u.status)
	if u.status != http.StatusOK {
		// An upstream that echoes the credential in its error.
		_, _ = w.Write([]byte(`{"error":{"message":"bad key ` + checkKey + `"}}`))
		return
	}
	_, _ = w.Write([]byte(`{"data":[],"models":[]}`))
}

// TestCheckers checks each adapter's health check request: the cheap,
// documented one, with the provider's credentials; success on 2xx; any
// other answer an error that does not carry the key.
func TestCheckers(t *testing.T) {
	cases := []struct {
		name string
		make func(base string) (provider.Provider, error)
		want string
	}{
		{"openai", func(b string) (provider.Provider, error) {
			return openai.New(openai.Config{Name: "p", Type: "openai", BaseURL: b + "/v1", APIKey: checkKey})
		}, "GET /v1/models Bearer " + checkKey},
		{"anthropic", func(b string) (provider.Provider, error) {
			return anthropic.New(anthropic.Config{Name: "p", BaseURL: b, APIKey: checkKey})
		}, "GET /v1/models?limit=1 " + checkKey},
		{"gemini", func(b string) (provider.Provider, error) {
			return gemini.New(gemini.Config{Name: "p", BaseURL: b, APIKey: checkKey})
		}, "GET /v1beta/models?pageSize=1 " + checkKey},
		{"mistral", func(b string) (provider.Provider, error) {
			return mistral.New(mistral.Config{Name: "p", BaseURL: b + "/v1", APIKey: checkKey})
		}, "GET /v1/models Bearer " + checkKey},
		{"cohere", func(b string) (provider.Provider, error) {
			return cohere.New(cohere.Config{Name: "p", BaseURL: b, APIKey: checkKey})
		}, "GET /v1/models?page_size=1 Bearer " + checkKey},
		{"azure_openai deployments", func(b string) (provider.Provider, error) {
			return azure.New(azure.Config{Name: "p", BaseURL: b, APIKey: checkKey, APIVersion: "2024-10-21"})
		}, "GET /openai/models?api-version=2024-10-21 " + checkKey},
		{"azure_openai v1", func(b string) (provider.Provider, error) {
			return azure.New(azure.Config{Name: "p", BaseURL: b, APIKey: checkKey, APIVersion: "v1"})
		}, "GET /openai/v1/models " + checkKey},
		{"ollama", func(b string) (provider.Provider, error) {
			return ollama.New(ollama.Config{Name: "p", BaseURL: b, APIKey: checkKey})
		}, "GET /api/tags Bearer " + checkKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up := &checkUpstream{status: http.StatusOK}
			srv := httptest.NewServer(up)
			defer srv.Close()
			p, err := tc.make(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			c, ok := p.(provider.Checker)
			if !ok {
				t.Fatalf("%T is not a provider.Checker", p)
			}
			if err := c.Check(context.Background()); err != nil {
				t.Fatalf("Check on a 200: %v", err)
			}
			up.status = http.StatusServiceUnavailable
			err = c.Check(context.Background())
			if err == nil {
				t.Fatal("Check on a 503 succeeded")
			}
			if e := llm.AsError(err); e.UpstreamStatus != http.StatusServiceUnavailable {
				t.Errorf("UpstreamStatus = %d, want 503 (%v)", e.UpstreamStatus, err)
			}
			if strings.Contains(err.Error(), checkKey) || strings.Contains(llm.AsError(err).Message, checkKey) {
				t.Errorf("the check's error carries the key: %v", err)
			}
			if len(up.seen) != 2 || up.seen[0] != tc.want {
				t.Errorf("requests = %q, want two of %q", up.seen, tc.want)
			}
		})
	}
	if err := mock.New("m", mock.Options{ErrorRate: 1}).Check(context.Background()); err != nil {
		t.Errorf("mock Check: %v", err)
	}
}

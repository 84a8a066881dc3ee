package e2e

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/provider/providertest"
	"github.com/llmgw/llmgw/internal/server"
)

// TestAzureFromEnvironment: with no config file, AZURE_OPENAI_ENDPOINT and
// AZURE_OPENAI_API_KEY make every deployment of the resource a model,
// azure/<deployment>, reached with the key in Azure's api-key header.
func TestAzureFromEnvironment(t *testing.T) {
	fake := providertest.NewAzure(t)
	fake.Key = "azure-env-key"
	env := map[string]string{"AZURE_OPENAI_ENDPOINT": fake.URL + "/", "AZURE_OPENAI_API_KEY": fake.Key}
	cfg := config.Default(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	snap, err := gateway.Compile(cfg, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(snap, slog.New(slog.NewTextHandler(io.Discard, nil))))
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"azure/prod-gpt4o","messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Llmgw-Provider") != "azure" {
		t.Fatalf("status %d provider %q: %s", resp.StatusCode, resp.Header.Get("X-Llmgw-Provider"), body)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 || providertest.AzureDeployment(reqs[0]) != "prod-gpt4o" || reqs[0].Header.Get("api-key") != fake.Key {
		t.Fatalf("the resource got %d requests, the first to deployment %q", len(reqs), providertest.AzureDeployment(reqs[0]))
	}
	if gjson.GetBytes(body, "choices.0.message.content").String() == "" {
		t.Errorf("no answer: %s", body)
	}
}

// TestCustomModelIDsPassThrough: fine-tuned and custom model ids, with the
// colons and slashes of their names, reach the upstream as the client
// wrote them after the provider's prefix.
func TestCustomModelIDsPassThrough(t *testing.T) {
	fake := providertest.NewOpenAI(t)
	env := map[string]string{"OPENAI_API_KEY": "sk-env", "OPENAI_BASE_URL": fake.URL}
	cfg := config.Default(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	snap, err := gateway.Compile(cfg, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(snap, slog.New(slog.NewTextHandler(io.Discard, nil))))
	defer srv.Close()
	for i, id := range []string{"ft:gpt-4o-mini-2024-07-18:acme:support:9xYzAbCd", "ft:gpt-4o-mini:org::id", "acme/llama-3.1-8b-instruct:v2"} {
		resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json",
			strings.NewReader(`{"model":"openai/`+id+`","messages":[{"role":"user","content":"hi"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d: %s", id, resp.StatusCode, body)
		}
		if got := gjson.GetBytes(fake.Requests()[i].Body, "model").String(); got != id {
			t.Errorf("upstream model %q, want %q", got, id)
		}
	}
}

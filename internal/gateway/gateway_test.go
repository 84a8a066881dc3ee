package gateway

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
	"github.com/llmgw/llmgw/internal/provider"
)

func compile(t *testing.T, yaml string) (*Snapshot, error) {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml), nil)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return Compile(cfg, Options{})
}

func TestCompileProviderTypes(t *testing.T) {
	snap, err := compile(t, `
providers:
  - {name: oa, type: openai, api_key: k}
  - {name: compat, type: openai_compatible, base_url: "http://127.0.0.1:9/v1"}
  - {name: local, type: vllm}
  - {name: mock, type: mock, mock: {error_rate: 0.5}}
  - {name: an, type: anthropic, api_key: k}
models:
  - name: m
    targets: [{provider: oa, model: x}, {provider: compat, model: y}, {provider: local, model: z}, {provider: an, model: c}]
  - name: mock
    targets: [{provider: mock, model: mock}]
keys:
  - {name: k1, key: sk-1, models: [mock]}
`)
	if err != nil {
		t.Fatal(err)
	}
	an := snap.Providers["an"]
	if fw, ok := an.(provider.Forwarder); !ok || fw.Protocol() != "anthropic" {
		t.Errorf("an is not an Anthropic-format forwarder: %T", an)
	}
	if _, ok := an.(provider.TokenCounter); !ok {
		t.Errorf("an does not count tokens: %T", an)
	}
	for _, name := range []string{"oa", "compat", "local"} {
		p := snap.Providers[name]
		if fw, ok := p.(provider.Forwarder); !ok || fw.Protocol() != "openai" {
			t.Errorf("%s is not an OpenAI-format forwarder: %T", name, p)
		}
		if _, ok := p.(provider.Embedder); !ok {
			t.Errorf("%s has no embeddings", name)
		}
	}
	if got := snap.Router.Names(); strings.Join(got, ",") != "m,mock" {
		t.Errorf("models %v", got)
	}
	if snap.Keys.Lookup("sk-1") == nil || snap.Keys.Lookup("sk-2") != nil {
		t.Error("keys not compiled")
	}
}

// Validation already refuses types this version cannot serve; Compile checks
// again, for configurations built without Parse.
func TestCompileReportsUnavailableTypes(t *testing.T) {
	cfg := &config.Config{
		Providers: []config.Provider{{Name: "a", Type: "nope", APIKey: "k"}, {Name: "c", Type: "watsonx", APIKey: "k"}},
		Models:    []config.Model{{Name: "m", Targets: []config.Target{{Provider: "a", Model: "x", Weight: 1}, {Provider: "c", Model: "y", Weight: 1}}}},
	}
	cfg.ApplyDefaults()
	_, err := Compile(cfg, Options{})
	if err == nil {
		t.Fatal("compiled providers this build cannot serve")
	}
	msg := err.Error()
	for _, want := range []string{`providers[0].type: provider type "nope"`, `providers[1].type: provider type "watsonx"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "models[") {
		t.Errorf("targets of a failed provider reported twice:\n%s", msg)
	}
}

// The chain checks access before the router, so a key limited to some models
// never reaches an upstream for the others.
func TestChainChecksAccess(t *testing.T) {
	snap, err := compile(t, `
providers: [{name: mock, type: mock}]
models:
  - {name: a, targets: [{provider: mock, model: mock}]}
  - {name: b, targets: [{provider: mock, model: mock}]}
keys: [{name: k, key: sk-k, models: [a]}]
`)
	if err != nil {
		t.Fatal(err)
	}
	ctx := auth.WithPrincipal(context.Background(), snap.Keys.Lookup("sk-k"))
	decode := func([]byte) (*llm.ChatRequest, error) {
		return &llm.ChatRequest{Messages: []llm.Message{{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart("hi")}}}}, nil
	}
	for model, wantErr := range map[string]bool{"a": false, "b": true} {
		call := pipeline.NewChatCall("openai", nil, decode)
		call.Model = model
		_, err := snap.Invoke(ctx, call)
		if (err != nil) != wantErr {
			t.Errorf("model %s: err = %v", model, err)
		}
		if wantErr && llm.AsError(err).Kind != llm.KindPermission {
			t.Errorf("model %s: %v, want model_not_allowed", model, err)
		}
	}
}

// The snapshot keeps no secret in plaintext: keys and the admin token live on
// only hashed, and the provider key only inside the provider.
func TestSnapshotHoldsNoPlaintextSecrets(t *testing.T) {
	const key, token, upstream = "sk-canary-virtual-key", "canary-admin-token", "sk-canary-provider"
	snap, err := compile(t, `
server: {admin_token: "`+token+`"}
providers: [{name: oa, type: openai, api_key: "`+upstream+`"}]
models: [{name: m, targets: [{provider: oa, model: x}]}]
keys: [{name: k, key: "`+key+`"}]
`)
	if err != nil {
		t.Fatal(err)
	}
	c := snap.Config
	for _, v := range []string{c.Keys[0].Key.Value(), c.Server.AdminToken.Value(), c.Providers[0].APIKey.Value()} {
		if strings.Contains(v, "canary") {
			t.Errorf("snapshot config holds a plaintext secret: %q", v)
		}
	}
	if snap.Keys.Lookup(key) == nil {
		t.Error("the key no longer authenticates")
	}
	r := httptest.NewRequest("GET", "/admin/v1/targets", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	snap.Admin.ServeHTTP(w, r)
	if w.Code != 200 {
		t.Errorf("admin token rejected: %d %s", w.Code, w.Body)
	}
}

// The mock block of the config reaches the mock provider.
func TestMockOptionsWired(t *testing.T) {
	snap, err := compile(t, `
providers:
  - {name: failing, type: mock, mock: {error_rate: 1}}
  - {name: slow, type: mock, mock: {tokens_per_second: 20, latency: "50ms"}}
models:
  - {name: failing, targets: [{provider: failing, model: mock}], retry: {max_attempts: 1}}
  - {name: slow, targets: [{provider: slow, model: mock}]}
`)
	if err != nil {
		t.Fatal(err)
	}
	req := &llm.ChatRequest{Stream: true, Messages: []llm.Message{{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart("a b c d e")}}}}
	if _, err := snap.Providers["failing"].Chat(context.Background(), req); llm.AsError(err).Kind != llm.KindUpstreamUnavailable {
		t.Errorf("error_rate 1: err = %v, want a simulated upstream error", err)
	}
	start := time.Now()
	s, err := snap.Providers["slow"].Chat(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := s.Recv(); err != nil {
			break
		}
	}
	// 50ms latency, then four gaps of 1/20 s between the five words: a
	// lower bound, which a slow machine only exceeds.
	if took := time.Since(start); took < 250*time.Millisecond {
		t.Errorf("stream took %v, want at least 250ms from latency and tokens_per_second", took)
	}
}

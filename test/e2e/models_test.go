package e2e

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	anthropic "github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/openai/openai-go/v3"
	ooption "github.com/openai/openai-go/v3/option"

	"github.com/llmgw/llmgw/internal/catalog"
	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/provider/providertest"
	"github.com/llmgw/llmgw/internal/server"
)

const modelsConfig = `
providers:
  - name: oai
    type: openai
    base_url: "${OPENAI_URL}"
    api_key: "sk-upstream-openai"
  - name: ant
    type: anthropic
    base_url: "${ANTHROPIC_URL}"
    api_key: "sk-ant-upstream"
models:
  - name: gpt
    targets: [{provider: oai, model: "gpt-4o-mini"}]
  - name: "openai/*"
    targets: [{provider: oai, model: "*"}]
  - name: "anthropic/*"
    targets: [{provider: ant, model: "*"}]
`

// modelsGateway serves modelsConfig in front of the fakes and returns its
// URL.
func modelsGateway(t *testing.T) string {
	t.Helper()
	oai, ant := providertest.NewOpenAI(t), providertest.NewAnthropic(t)
	env := map[string]string{"OPENAI_URL": oai.URL, "ANTHROPIC_URL": ant.URL}
	cfg, err := config.Parse([]byte(modelsConfig), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	lists := catalog.New(catalog.Options{})
	t.Cleanup(lists.Close)
	snap, err := gateway.Compile(cfg, gateway.Options{ModelLists: lists})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(snap, slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(srv.Close)
	return srv.URL
}

var wantModels = []string{"gpt",
	"openai/gpt-4o-mini", "openai/gpt-4o", "openai/text-embedding-3-small", "openai/ft:gpt-4o-mini-2024-07-18:acme::9abcDEF1",
	"anthropic/claude-sonnet-4-20250514", "anthropic/claude-3-7-sonnet-20250219", "anthropic/claude-3-5-haiku-20241022"}

// The OpenAI SDK lists the models and retrieves one whose id has a slash.
func TestOpenAISDKModels(t *testing.T) {
	url := modelsGateway(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client := openai.NewClient(ooption.WithBaseURL(url+"/v1"), ooption.WithAPIKey("sk-client"), ooption.WithMaxRetries(0))
	var got []string
	iter := client.Models.ListAutoPaging(ctx)
	for iter.Next() {
		got = append(got, iter.Current().ID)
	}
	if err := iter.Err(); err != nil || !slices.Equal(got, wantModels) {
		t.Errorf("list: %v (err %v)", got, err)
	}
	m, err := client.Models.Get(ctx, "openai/gpt-4o")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if m.ID != "openai/gpt-4o" || m.OwnedBy != "system" || m.Created != 1715367049 {
		t.Errorf("get: %s", m.RawJSON())
	}
	if _, err := client.Models.Get(ctx, "openai/unknown"); err == nil {
		t.Error("get of an unknown model succeeded")
	} else if e := (*openai.Error)(nil); !errors.As(err, &e) || e.StatusCode != 404 || e.Code != "model_not_found" {
		t.Errorf("unknown: %v", err)
	}
}

// The Anthropic SDK pages through the list with its own cursors and gets
// one model.
func TestAnthropicSDKModels(t *testing.T) {
	url := modelsGateway(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client := anthropic.NewClient(aoption.WithBaseURL(url), aoption.WithAPIKey("sk-client"), aoption.WithMaxRetries(0))
	var got []string
	iter := client.Models.ListAutoPaging(ctx, anthropic.ModelListParams{Limit: anthropic.Int(3)})
	for iter.Next() {
		got = append(got, iter.Current().ID)
	}
	if err := iter.Err(); err != nil || !slices.Equal(got, wantModels) {
		t.Errorf("list in pages of 3: %v (err %v)", got, err)
	}
	m, err := client.Models.Get(ctx, "anthropic/claude-sonnet-4-20250514", anthropic.ModelGetParams{})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if m.ID != "anthropic/claude-sonnet-4-20250514" || m.DisplayName != "Claude Sonnet 4" ||
		m.CreatedAt.Format(time.DateOnly) != "2025-05-22" || string(m.Type) != "model" {
		t.Errorf("get: %s", m.RawJSON())
	}
	if _, err := client.Models.Get(ctx, "gpt-unknown", anthropic.ModelGetParams{}); err == nil {
		t.Error("get of an unknown model succeeded")
	} else if e := (*anthropic.Error)(nil); !errors.As(err, &e) || e.StatusCode != 404 {
		t.Errorf("unknown: %v", err)
	}
}

package openai

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/provider"
)

var _ provider.ModelLister = (*Provider)(nil)

// malformedModels is the public message of a model list that is not one.
const malformedModels = "the upstream sent a malformed model list"

// modelsURL is the List models endpoint: GET {base}/models, answering
// {"object":"list","data":[{"id","object":"model","created","owned_by"}]}.
func (p *Provider) modelsURL() string {
	return strings.TrimSuffix(p.chatURL, "/chat/completions") + "/models"
}

// ListModels implements provider.ModelLister with OpenAI's List models
// endpoint, which answers the whole list at once. An entry without a string
// id is skipped; a created that is not a number is taken as unknown.
func (p *Provider) ListModels(ctx context.Context) ([]provider.ModelInfo, error) {
	b, err := p.up.GetRead(ctx, p.modelsURL(), provider.MaxModelListBody)
	if err != nil {
		return nil, err
	}
	if err := provider.CheckModelList(b); err != nil {
		return nil, p.up.Malformed(fmt.Errorf("openai: %w", err), malformedModels)
	}
	data := gjson.GetBytes(b, "data")
	var list []provider.ModelInfo
	data.ForEach(func(_, m gjson.Result) bool {
		id := m.Get("id")
		if id.Type != gjson.String {
			return true
		}
		info := provider.ModelInfo{ID: id.String()}
		if o := m.Get("owned_by"); o.Type == gjson.String {
			info.OwnedBy = o.String()
		}
		if c := m.Get("created"); c.Type == gjson.Number && c.Int() > 0 {
			info.Created = time.Unix(c.Int(), 0).UTC()
		}
		list = append(list, info)
		return len(list) < 4*provider.MaxModels // invalid ones are dropped later
	})
	return provider.KeepModels(list), nil
}

// ModelsKey implements provider.ModelLister.
func (p *Provider) ModelsKey() string { return "openai " + p.modelsURL() + " " + p.up.Fingerprint() }

var _ provider.Checker = (*Provider)(nil)

// Check implements provider.Checker with the List models endpoint, which
// every OpenAI-compatible server (vLLM's included) serves and which costs
// no tokens.
func (p *Provider) Check(ctx context.Context) error { return p.up.Probe(ctx, p.modelsURL()) }

// Probe sends a health check GET to url, another endpoint of the same
// upstream, with the provider's headers and credentials
// (provider.Upstream.Probe): for adapters built on this one whose check
// request is elsewhere (Azure OpenAI).
func (p *Provider) Probe(ctx context.Context, url string) error { return p.up.Probe(ctx, url) }

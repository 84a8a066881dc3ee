package anthropic

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/provider"
)

var _ provider.ModelLister = (*Provider)(nil)

const (
	// malformedModels is the public message of a model list that is not
	// one.
	malformedModels = "the upstream sent a malformed model list"
	// modelsPageLimit is the page size asked for: the API's maximum.
	modelsPageLimit = 1000
	// maxModelPages bounds the pages followed: an upstream that always
	// says has_more must not keep the gateway asking.
	maxModelPages = 5
)

// modelsURL is the List Models endpoint, GET {base}/v1/models, paginated
// with limit and after_id; it answers
// {"data":[{"type":"model","id","display_name","created_at"}],"has_more","first_id","last_id"}.
func (p *Provider) modelsURL() string {
	return strings.TrimSuffix(p.messageURL, "/messages") + "/models"
}

// ListModels implements provider.ModelLister with Anthropic's List Models
// endpoint, following has_more with after_id for at most maxModelPages
// pages of modelsPageLimit models. An entry without a string id is
// skipped; a created_at that is not an RFC 3339 time is taken as unknown.
func (p *Provider) ListModels(ctx context.Context) ([]provider.ModelInfo, error) {
	var list []provider.ModelInfo
	after := ""
	for page := 0; page < maxModelPages; page++ {
		q := url.Values{"limit": {fmt.Sprint(modelsPageLimit)}}
		if after != "" {
			q.Set("after_id", after)
		}
		b, err := p.up.GetRead(ctx, p.modelsURL()+"?"+q.Encode(), provider.MaxModelListBody)
		if err != nil {
			return nil, err
		}
		if err := provider.CheckModelList(b); err != nil {
			return nil, p.up.Malformed(fmt.Errorf("anthropic: %w", err), malformedModels)
		}
		data := gjson.GetBytes(b, "data")
		n := 0
		data.ForEach(func(_, m gjson.Result) bool {
			n++
			id := m.Get("id")
			if id.Type != gjson.String {
				return true
			}
			info := provider.ModelInfo{ID: id.String()}
			if d := m.Get("display_name"); d.Type == gjson.String {
				info.DisplayName = d.String()
			}
			if c := m.Get("created_at"); c.Type == gjson.String {
				if t, err := time.Parse(time.RFC3339, c.String()); err == nil {
					info.Created = t.UTC()
				}
			}
			list = append(list, info)
			return n < modelsPageLimit
		})
		last := gjson.GetBytes(b, "last_id")
		if !gjson.GetBytes(b, "has_more").Bool() || n == 0 || last.Type != gjson.String || last.String() == after {
			break
		}
		after = last.String()
	}
	return provider.KeepModels(list), nil
}

// ModelsKey implements provider.ModelLister.
func (p *Provider) ModelsKey() string {
	return "anthropic " + p.modelsURL() + " " + p.up.Fingerprint()
}

var _ provider.Checker = (*Provider)(nil)

// Check implements provider.Checker with the List Models endpoint, one
// model asked for.
func (p *Provider) Check(ctx context.Context) error {
	return p.up.Probe(ctx, p.modelsURL()+"?limit=1")
}

package cohere

import (
	"context"
	"strings"

	"github.com/llmgw/llmgw/internal/provider"
)

var _ provider.Checker = (*Provider)(nil)

// Check implements provider.Checker with the List Models endpoint, GET
// {base}/v1/models, one model asked for.
func (p *Provider) Check(ctx context.Context) error {
	return p.up.Probe(ctx, strings.TrimSuffix(p.chatURL, "/v2/chat")+"/v1/models?page_size=1")
}

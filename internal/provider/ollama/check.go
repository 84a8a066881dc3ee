package ollama

import (
	"context"
	"strings"

	"github.com/llmgw/llmgw/internal/provider"
)

var _ provider.Checker = (*Provider)(nil)

// Check implements provider.Checker with the list of local models, GET
// {base}/api/tags, which loads none.
func (p *Provider) Check(ctx context.Context) error {
	return p.up.Probe(ctx, strings.TrimSuffix(p.chatURL, "/api/chat")+"/api/tags")
}

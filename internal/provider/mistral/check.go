package mistral

import (
	"context"
	"strings"

	"github.com/llmgw/llmgw/internal/provider"
)

var _ provider.Checker = (*Provider)(nil)

// Check implements provider.Checker with the List Models endpoint, GET
// {base}/models.
func (p *Provider) Check(ctx context.Context) error {
	return p.up.Probe(ctx, strings.TrimSuffix(p.chatURL, "/chat/completions")+"/models")
}

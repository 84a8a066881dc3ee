package gemini

import (
	"context"

	"github.com/llmgw/llmgw/internal/provider"
)

var _ provider.Checker = (*Provider)(nil)

// Check implements provider.Checker with the models.list method (GET
// /v1beta/models), one model asked for.
func (p *Provider) Check(ctx context.Context) error {
	return p.up.Probe(ctx, p.models+"?pageSize=1")
}

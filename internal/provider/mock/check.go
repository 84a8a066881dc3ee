package mock

import (
	"context"

	"github.com/llmgw/llmgw/internal/provider"
)

var _ provider.Checker = (*Provider)(nil)

// Check implements provider.Checker: the mock is up as long as the process
// is; its error rate applies to requests, not to checks.
func (p *Provider) Check(ctx context.Context) error { return ctx.Err() }

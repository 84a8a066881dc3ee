package azure

import (
	"context"
	"net/url"

	"github.com/llmgw/llmgw/internal/provider"
)

var _ provider.Checker = (*Provider)(nil)

// modelsURL is the Models - List endpoint of the resource: GET
// {endpoint}/openai/models?api-version=... on the deployments surface,
// GET {endpoint}/openai/v1/models on the v1 one. It lists the models the
// resource may use, which takes the resource's credentials and no
// deployment.
func modelsURL(base, version string) string {
	if version == APIVersionV1 {
		return base + "/openai/v1/models"
	}
	return base + "/openai/models?api-version=" + url.QueryEscape(version)
}

// Check implements provider.Checker with the resource's model list, with
// an Entra token first when the provider uses one.
func (p *Provider) Check(ctx context.Context) error {
	if err := p.authorize(ctx); err != nil {
		return err
	}
	return p.scrub(p.oa.Probe(ctx, p.models))
}

package gateway

import (
	"context"
	"net/http"
	"time"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/provider"
	"github.com/llmgw/llmgw/internal/provider/bedrock"
)

// newBedrock builds a provider of type bedrock: with api anthropic, the
// adapter that also forwards Anthropic clients' bodies.
func newBedrock(pc *config.Provider, headers map[string]string, client *http.Client, streamIdle time.Duration) (provider.Provider, error) {
	c := bedrock.Config{Name: pc.Name, BaseURL: pc.BaseURL, Headers: headers, HTTPClient: client, StreamIdleTimeout: streamIdle}
	if b := pc.Bedrock; b != nil {
		c.Region, c.Profile, c.API = b.Region, b.Profile, b.API
		c.AccessKeyID, c.SecretAccessKey, c.SessionToken = b.AccessKeyID.Value(), b.SecretAccessKey.Value(), b.SessionToken.Value()
	}
	// Reading the shared config files is all New does with ctx: credentials
	// are fetched when first needed.
	p, err := bedrock.New(context.Background(), c)
	if err != nil {
		return nil, err
	}
	if c.API == bedrock.APIAnthropic {
		return bedrock.Anthropic{Provider: p}, nil
	}
	return p, nil
}

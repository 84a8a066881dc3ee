package provider

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Bearer is what the providers of an API authenticated by a bearer token
// (Mistral, Cohere, Ollama) are configured with, whatever their wire
// format.
type Bearer struct {
	// Name is the provider's configured name.
	Name string
	// BaseURL is the API root; the provider's default when empty.
	BaseURL string
	// APIKey is sent as a bearer token; no Authorization header when empty.
	APIKey string
	// Headers are extra static headers sent with every request.
	Headers map[string]string
	// HTTPClient is the upstream client; nil means NewHTTPClient with
	// default options.
	HTTPClient *http.Client
	// StreamIdleTimeout is the longest wait between two stream events;
	// 0 means no limit.
	StreamIdleTimeout time.Duration
}

// NewBearerUpstream checks b for a provider of type typ (a name, a base
// URL that is def when empty and an absolute http or https URL) and
// returns the base URL and the Upstream that sends b's headers and its key
// as a bearer token, both redacted from what it returns. up sets the
// rest: how the API's errors read (ParseError, ParseErrorFields).
func NewBearerUpstream(typ, def string, b Bearer, up UpstreamConfig) (string, *Upstream, error) {
	if b.Name == "" {
		return "", nil, errors.New(typ + ": provider name is empty")
	}
	if b.BaseURL == "" {
		b.BaseURL = def
	}
	base, err := ParseBaseURL(b.BaseURL)
	if err != nil {
		return "", nil, fmt.Errorf("%s: provider %s: %w", typ, b.Name, err)
	}
	header, secrets := StaticHeader(b.Headers)
	if b.APIKey != "" {
		header.Set("Authorization", "Bearer "+b.APIKey)
		secrets = append(secrets, b.APIKey)
	}
	up.Name, up.Client, up.Header, up.Secrets = b.Name, b.HTTPClient, header, secrets
	up.Protocol, up.StreamIdleTimeout = typ, b.StreamIdleTimeout
	return base, NewUpstream(up), nil
}

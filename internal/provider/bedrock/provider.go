package bedrock

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/provider"
)

// Type is the provider type served by this adapter.
const Type = "bedrock"

// The request bodies a provider sends to its models (Config.API).
const (
	// APIConverse: Converse and ConverseStream, one request shape for
	// every model on Bedrock.
	APIConverse = "converse"
	// APIAnthropic: InvokeModel and InvokeModelWithResponseStream with an
	// Anthropic Messages body, for Anthropic's models only.
	APIAnthropic = "anthropic"
)

const (
	// maxResponseBody caps a JSON answer (Converse, InvokeModel, an
	// error).
	maxResponseBody = 32 << 20
)

// Config configures a Provider.
type Config struct {
	// Name is the provider's configured name.
	Name string
	// BaseURL replaces the regional endpoint
	// (https://bedrock-runtime.{region}.amazonaws.com), as the SDK's
	// BaseEndpoint: a VPC endpoint, a proxy, a test server. Requests are
	// still signed for Region.
	BaseURL string
	// Region is the AWS region; empty: the SDK's (AWS_REGION,
	// AWS_DEFAULT_REGION, the profile's region).
	Region string
	// Profile is the shared config profile to read; empty: AWS_PROFILE or
	// "default".
	Profile string
	// AccessKeyID, SecretAccessKey and SessionToken are static
	// credentials; empty: the SDK's default chain (environment, shared
	// files, web identity, container and instance roles).
	AccessKeyID, SecretAccessKey, SessionToken string
	// API is APIConverse (the default) or APIAnthropic.
	API string
	// Headers are extra headers sent with every request, not signed.
	Headers map[string]string
	// HTTPClient is the upstream client; nil means provider.NewHTTPClient
	// with default options.
	HTTPClient *http.Client
	// StreamIdleTimeout is the longest wait between two stream events
	// before the stream is aborted; 0 means no limit.
	StreamIdleTimeout time.Duration
	// Credentials, when set, replaces every other source of credentials
	// (for tests and embedding).
	Credentials aws.CredentialsProvider
}

// Provider is an upstream speaking Amazon Bedrock's runtime API. It
// implements provider.Provider and provider.Embedder, and, with
// APIAnthropic, provider.Forwarder.
type Provider struct {
	name   string
	api    string
	client *bedrockruntime.Client
	up     *provider.Upstream
	creds  *refresher
	idle   time.Duration
}

var (
	_ provider.Provider = (*Provider)(nil)
	_ provider.Embedder = (*Provider)(nil)
)

// New returns a Provider for c. It reads the AWS shared config files and
// environment once, here; credentials themselves are fetched when first
// needed and refreshed ahead of their expiry.
func New(ctx context.Context, c Config) (*Provider, error) {
	if c.Name == "" {
		return nil, errors.New("bedrock: provider name is empty")
	}
	switch c.API {
	case "":
		c.API = APIConverse
	case APIConverse, APIAnthropic:
	default:
		return nil, fmt.Errorf("bedrock: provider %s: unknown api %q (want %s or %s)", c.Name, c.API, APIConverse, APIAnthropic)
	}
	var base string
	if c.BaseURL != "" {
		var err error
		if base, err = provider.ParseBaseURL(c.BaseURL); err != nil {
			return nil, fmt.Errorf("bedrock: provider %s: %w", c.Name, err)
		}
	}
	if (c.AccessKeyID == "") != (c.SecretAccessKey == "") || (c.SessionToken != "" && c.AccessKeyID == "") {
		return nil, fmt.Errorf("bedrock: provider %s: static credentials need both an access key id and a secret access key", c.Name)
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = provider.NewHTTPClient(provider.ClientOptions{})
	}
	header, secrets := provider.StaticHeader(c.Headers)
	header.Del("Content-Type")
	header.Del("User-Agent")
	secrets = append(secrets, c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
	up := provider.NewUpstream(provider.UpstreamConfig{Name: c.Name, Secrets: nonEmpty(secrets), ParseError: parseError})
	doer := &httpDoer{client: hc, header: header, up: up}
	cfg, err := loadConfig(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("bedrock: provider %s: %s", c.Name, up.Sanitize(err.Error()))
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("bedrock: provider %s: no region: set bedrock.region, AWS_REGION or AWS_DEFAULT_REGION", c.Name)
	}
	p := &Provider{name: c.Name, api: c.API, up: up, idle: c.StreamIdleTimeout}
	p.creds = newRefresher(cfg.Credentials, time.Now)
	p.creds.name, p.creds.sanitize = c.Name, up.Sanitize
	p.client = bedrockruntime.NewFromConfig(cfg, func(o *bedrockruntime.Options) {
		o.Credentials = p.creds
		o.HTTPClient = doer
		// The router retries and fails over; the SDK's own retries would
		// multiply its attempts and hide their failures from the breakers.
		o.Retryer = aws.NopRetryer{}
		if base != "" {
			o.BaseEndpoint = aws.String(base)
		}
	})
	return p, nil
}

// loadConfig resolves region and credentials as the SDK does, with the
// configured ones first.
func loadConfig(ctx context.Context, c Config) (aws.Config, error) {
	// The SDK's own client fetches credentials (STS, SSO, the instance
	// metadata service) and honours AWS_CA_BUNDLE; doer serves Bedrock.
	var opts []func(*awsconfig.LoadOptions) error
	if c.Region != "" {
		opts = append(opts, awsconfig.WithRegion(c.Region))
	}
	if c.Profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(c.Profile))
	}
	switch {
	case c.Credentials != nil:
		opts = append(opts, awsconfig.WithCredentialsProvider(c.Credentials))
	case c.AccessKeyID != "":
		opts = append(opts, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return cfg, err
	}
	if c.Credentials != nil {
		// Taken as it is: LoadDefaultConfig would put it behind its own
		// cache, which refreshes on the request path.
		cfg.Credentials = c.Credentials
	}
	return cfg, nil
}

func nonEmpty(ss []string) []string {
	out := ss[:0]
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return p.name }

// Sanitize returns msg with the provider's credentials and configured
// header values redacted, as in the errors it returns: for the logs.
func (p *Provider) Sanitize(msg string) string { return p.up.Sanitize(msg) }

// Close stops a background credentials refresh in flight, if any.
func (p *Provider) Close() error {
	p.creds.wait()
	return nil
}

// Chat implements provider.Provider.
func (p *Provider) Chat(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	if p.api == APIAnthropic {
		return p.chatAnthropic(ctx, req)
	}
	rep := llm.ParamReportFrom(ctx)
	in, dropped, err := encodeConverse(req, rep.Refuse())
	if err != nil {
		return nil, err
	}
	rep.Drop(dropped...)
	if req.Stream {
		return p.converseStream(ctx, req, in)
	}
	out, err := p.client.Converse(ctx, in)
	if err != nil {
		return nil, p.apiError(err)
	}
	c, err := p.converseChunk(out, req.Model)
	if err != nil {
		return nil, err
	}
	return provider.NewUnary(c), nil
}

// httpDoer is the SDK's HTTP client: the gateway's upstream client, with
// the configured headers and the hop header added to every (already
// signed) request, and every JSON answer read whole, bounded and with the
// provider's secrets redacted before the SDK decodes it. Event streams
// pass as they come; their text is redacted once decoded.
type httpDoer struct {
	client *http.Client
	header http.Header
	up     *provider.Upstream
}

// Do implements the SDK's HTTPClient.
func (d *httpDoer) Do(req *http.Request) (*http.Response, error) {
	for k, v := range d.header {
		req.Header[k] = v
	}
	provider.SetTraceContext(req.Context(), req.Header)
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, err
	}
	ct := strings.ToLower(resp.Header.Get("Content-Type"))
	if strings.Contains(ct, "eventstream") {
		if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
			provider.ReportHeadroom(req.Context(), resp.Header)
		}
		return resp, nil
	}
	b, err := provider.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1), resp.ContentLength, maxResponseBody)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if len(b) > maxResponseBody {
		return nil, &llm.Error{Kind: llm.KindUpstream, Provider: d.up.Name(), Message: "the upstream response is too large",
			Err: fmt.Errorf("response body over %d bytes", maxResponseBody)}
	}
	b = d.up.Redact(b)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	return resp, nil
}

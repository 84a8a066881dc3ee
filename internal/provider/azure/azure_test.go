package azure

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/tidwall/gjson"
	"go.uber.org/goleak"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/provider"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const testKey = "azure-key-PLANTED-0123456789abcdef"

func newProvider(t testing.TB, c Config) *Provider {
	t.Helper()
	if c.Name == "" {
		c.Name = "az"
	}
	if c.HTTPClient == nil {
		c.HTTPClient = provider.NewHTTPClient(provider.ClientOptions{})
	}
	p, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.HTTPClient.CloseIdleConnections)
	return p
}

func chatRequest(model string, stream bool) *llm.ChatRequest {
	return &llm.ChatRequest{
		Model:    model,
		Messages: []llm.Message{{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart("Say hello")}}},
		Stream:   stream,
	}
}

// drain receives the whole stream, keeping copies of its chunks.
func drain(t testing.TB, s llm.Stream) ([]llm.Chunk, error) {
	t.Helper()
	defer s.Close()
	var chunks []llm.Chunk
	for {
		c, err := s.Recv()
		if err != nil {
			return chunks, err
		}
		chunks = append(chunks, *c)
	}
}

func text(chunks []llm.Chunk) (string, llm.FinishReason) {
	var sb strings.Builder
	var finish llm.FinishReason
	for _, c := range chunks {
		for _, ch := range c.Choices {
			sb.WriteString(ch.Message.Text())
			if ch.FinishReason != "" {
				finish = ch.FinishReason
			}
		}
	}
	return sb.String(), finish
}

// TestURLs: the deployment goes in the path with the api-version (the
// default GA one unless configured), or, with api_version v1, to the v1
// surface as the body's model; the key goes in api-key, never as a bearer
// token.
func TestURLs(t *testing.T) {
	f := providertest.NewAzure(t)
	f.Key = testKey
	cases := []struct {
		version, model, path, query, bodyModel string
	}{
		{"", "gpt-4o-prod", "/openai/deployments/gpt-4o-prod/chat/completions", "api-version=" + DefaultAPIVersion, "gpt-4o-prod"},
		{"2025-04-01-preview", "my.dep", "/openai/deployments/my.dep/chat/completions", "api-version=2025-04-01-preview", "my.dep"},
		{"", "a/../../x", "/openai/deployments/a%2F..%2F..%2Fx/chat/completions", "api-version=" + DefaultAPIVersion, "a/../../x"},
		{APIVersionV1, "gpt-4o-prod", "/openai/v1/chat/completions", "", "gpt-4o-prod"},
	}
	for _, tc := range cases {
		var got string
		var rec *http.Request
		client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			got, rec = r.URL.EscapedPath(), r
			return http.DefaultTransport.RoundTrip(r)
		})}
		p := newProvider(t, Config{BaseURL: f.URL + "/", APIKey: testKey, APIVersion: tc.version, HTTPClient: client})
		s, err := p.Chat(context.Background(), chatRequest(tc.model, false))
		if tc.model == "a/../../x" {
			// The fake has no such deployment path; only the URL matters.
			if got != tc.path {
				t.Errorf("%q: path %q, want %q", tc.model, got, tc.path)
			}
			if s != nil {
				s.Close()
			}
			continue
		}
		if err != nil {
			t.Fatalf("%+v: %v", tc, err)
		}
		chunks, err := drain(t, s)
		if !errors.Is(err, io.EOF) {
			t.Fatal(err)
		}
		if txt, _ := text(chunks); txt != "Say hello" {
			t.Errorf("text %q", txt)
		}
		if got != tc.path || rec.URL.RawQuery != tc.query {
			t.Errorf("%+v: sent to %s?%s", tc, got, rec.URL.RawQuery)
		}
		reqs := f.Requests()
		last := reqs[len(reqs)-1]
		if m := gjson.GetBytes(last.Body, "model").String(); m != tc.bodyModel {
			t.Errorf("body model %q", m)
		}
		if last.Header.Get("api-key") != testKey || last.Header.Get("Authorization") != "" {
			t.Errorf("auth headers: api-key %q, Authorization %q", last.Header.Get("api-key"), last.Header.Get("Authorization"))
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestEmbed: embeddings go to the deployment's /embeddings.
func TestEmbed(t *testing.T) {
	f := providertest.NewAzure(t)
	p := newProvider(t, Config{BaseURL: f.URL, APIKey: testKey})
	r, err := p.Embed(context.Background(), &llm.EmbedRequest{Model: "emb-3", Input: []byte(`["a","b"]`)})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Data) != 2 {
		t.Fatalf("%d embeddings", len(r.Data))
	}
	rec := f.Requests()[0]
	if rec.Path != "/openai/deployments/emb-3/embeddings" {
		t.Errorf("path %q", rec.Path)
	}
}

// TestNoModelList: a deployment is not a model of any list.
func TestNoModelList(t *testing.T) {
	p := newProvider(t, Config{BaseURL: "https://x.openai.azure.com", APIKey: testKey})
	if _, ok := any(p).(provider.ModelLister); ok {
		t.Fatal("azure provider offers a model list")
	}
}

// TestContentFilter: Azure's filter outcomes become the gateway's: a
// filtered completion (streamed or not) finishes with content_filter, and
// a filtered prompt's 400 is a content-policy error.
func TestContentFilter(t *testing.T) {
	f := providertest.NewAzure(t)
	p := newProvider(t, Config{BaseURL: f.URL, APIKey: testKey})
	ctx := context.Background()

	f.Enqueue(providertest.Response{Body: providertest.Load(t, "azure/chat_content_filter.json")})
	s, err := p.Chat(ctx, chatRequest("dep", false))
	if err != nil {
		t.Fatal(err)
	}
	chunks, _ := drain(t, s)
	if _, finish := text(chunks); finish != llm.FinishContentFilter {
		t.Errorf("unary finish %q", finish)
	}

	f.Enqueue(providertest.Response{SSE: providertest.Load(t, "azure/stream_content_filter.sse")})
	s, err = p.Chat(ctx, chatRequest("dep", true))
	if err != nil {
		t.Fatal(err)
	}
	chunks, err = drain(t, s)
	if !errors.Is(err, io.EOF) {
		t.Fatalf("stream: %v", err)
	}
	if txt, finish := text(chunks); txt != "Hello there" || finish != llm.FinishContentFilter {
		t.Errorf("stream: %q, finish %q", txt, finish)
	}

	f.Enqueue(providertest.Response{Status: 400, Body: providertest.Load(t, "azure/error_400_content_filter.json")})
	_, err = p.Chat(ctx, chatRequest("dep", false))
	if e := llm.AsError(err); e.Kind != llm.KindContentPolicy {
		t.Errorf("filtered prompt: kind %v (%v)", e.Kind, err)
	}
}

// TestHeadroom: Azure's rate-limit headers are reported for steering.
func TestHeadroom(t *testing.T) {
	f := providertest.NewAzure(t)
	p := newProvider(t, Config{BaseURL: f.URL, APIKey: testKey})
	var got provider.Headroom
	ctx := provider.WithHeadroomFunc(context.Background(), func(h provider.Headroom) { got = h })
	s, err := p.Chat(ctx, chatRequest("dep", false))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if got.RemainingRequests != 99 || got.RemainingTokens != 119000 {
		t.Errorf("headroom %+v", got)
	}
}

// TestErrors: Azure's error bodies (code and message, no type) map as
// OpenAI's do, and the key never shows.
func TestErrors(t *testing.T) {
	f := providertest.NewAzure(t)
	f.Key = testKey
	p := newProvider(t, Config{BaseURL: f.URL, APIKey: "wrong-key-0123456789abcdef"})
	_, err := p.Chat(context.Background(), chatRequest("dep", false))
	e := llm.AsError(err)
	if e.UpstreamStatus != 401 {
		t.Errorf("status %d: %v", e.UpstreamStatus, err)
	}
	f.Key = ""
	f.Enqueue(providertest.Response{Status: 429, Header: http.Header{"Retry-After": {"6"}}, Body: providertest.Load(t, "azure/error_429.json")})
	_, err = p.Chat(context.Background(), chatRequest("dep", false))
	if e := llm.AsError(err); e.Kind != llm.KindRateLimited || e.RetryAfter != 6*time.Second {
		t.Errorf("429: kind %v retry-after %v", e.Kind, e.RetryAfter)
	}
}

// TestConfig: New refuses what cannot work.
func TestConfig(t *testing.T) {
	for _, c := range []Config{
		{Name: "a", BaseURL: "https://x.openai.azure.com"},
		{Name: "a", BaseURL: "https://x.openai.azure.com", APIKey: "k", Entra: &Entra{TenantID: "t", ClientID: "c", ClientSecret: "s"}},
		{Name: "a", BaseURL: "https://x.openai.azure.com", Entra: &Entra{TenantID: "t", ClientID: "c"}},
		{Name: "a", BaseURL: "x.openai.azure.com", APIKey: "k"},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

// entraSetup returns a fake Entra authority, a fake resource accepting its
// tokens, and a provider authenticating with Entra, whose clock is *now.
func entraSetup(t *testing.T, expiresIn int) (*providertest.Entra, *providertest.Azure, *Provider, *providertest.Clock) {
	t.Helper()
	e := providertest.NewEntra(t, "tenant-1", "client-1", "entra-secret-PLANTED-0123456789", expiresIn)
	f := providertest.NewAzure(t)
	f.Token = e.Valid
	client := e.Server.Client()
	p := newProvider(t, Config{BaseURL: f.URL, HTTPClient: client,
		Entra: &Entra{TenantID: "tenant-1", ClientID: "client-1", ClientSecret: "entra-secret-PLANTED-0123456789", AuthorityHost: e.URL}})
	c := providertest.NewClock()
	p.tokens.SetClock(c.Now)
	t.Cleanup(func() { p.tokens.Wait() })
	return e, f, p, c
}

func lastAuth(f *providertest.Azure) string {
	reqs := f.Requests()
	return reqs[len(reqs)-1].Header.Get("Authorization")
}

func chatOK(t *testing.T, p *Provider) {
	t.Helper()
	s, err := p.Chat(context.Background(), chatRequest("dep", false))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// TestEntraToken: the first request waits for a token of the Cognitive
// Services scope, sent as a bearer token; later ones reuse it.
func TestEntraToken(t *testing.T) {
	e, f, p, _ := entraSetup(t, 120)
	chatOK(t, p)
	chatOK(t, p)
	if got := e.Issued(); len(got) != 1 {
		t.Fatalf("tokens issued: %v", got)
	}
	if lastAuth(f) != "Bearer entra-token-1" || f.Requests()[0].Header.Get("api-key") != "" {
		t.Errorf("Authorization %q", lastAuth(f))
	}
	if s := e.Scopes(); len(s) != 1 || !strings.Contains(s[0], Scope) {
		t.Errorf("scopes %q", s)
	}
}

// TestEntraRefresh: a token due for refresh is refreshed in the
// background while requests go on with it, unblocked even while the
// token endpoint hangs; the new token is used once it has come.
func TestEntraRefresh(t *testing.T) {
	e, f, p, c := entraSetup(t, 120)
	chatOK(t, p)
	hold := e.Hold()
	c.Add(70 * time.Second) // past half the life of a 120 s token
	done := make(chan struct{})
	go func() {
		defer close(done)
		chatOK(t, p)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		close(hold)
		t.Fatal("a request waited for the token refresh")
	}
	if lastAuth(f) != "Bearer entra-token-1" {
		t.Errorf("during refresh: %q", lastAuth(f))
	}
	close(hold)
	p.tokens.Wait()
	chatOK(t, p)
	if lastAuth(f) != "Bearer entra-token-2" {
		t.Errorf("after refresh: %q (issued %v)", lastAuth(f), e.Issued())
	}
}

// TestEntraExpired: a token past its expiry is not sent; the request
// waits for a new one.
func TestEntraExpired(t *testing.T) {
	e, f, p, c := entraSetup(t, 120)
	chatOK(t, p)
	c.Add(125 * time.Second)
	chatOK(t, p)
	if lastAuth(f) != "Bearer entra-token-2" || len(e.Issued()) != 2 {
		t.Errorf("after expiry: %q (issued %v)", lastAuth(f), e.Issued())
	}
}

// TestEntraSecretsHidden: neither the client secret nor a token reaches
// an error's message or cause, whether the token endpoint refuses or the
// upstream echoes the request's Authorization header.
func TestEntraSecretsHidden(t *testing.T) {
	e, f, p, c := entraSetup(t, 120)
	e.Fail(http.StatusUnauthorized)
	_, err := p.Chat(context.Background(), chatRequest("dep", false))
	le := llm.AsError(err)
	if le.UpstreamStatus != http.StatusUnauthorized || le.Kind != llm.KindUpstream {
		t.Errorf("token failure: kind %v status %d", le.Kind, le.UpstreamStatus)
	}
	for _, s := range []string{le.Message, err.Error(), p.Sanitize(err.Error())} {
		if strings.Contains(s, "PLANTED") {
			t.Errorf("client secret in %q", s)
		}
	}
	e.Fail(0)
	c.Add(11 * time.Second) // past the retry gap
	chatOK(t, p)
	f.Enqueue(providertest.Response{Status: 400, Body: []byte(`{"error":{"code":"BadRequest","message":"bad header Bearer entra-token-1"}}`)})
	_, err = p.Chat(context.Background(), chatRequest("dep", false))
	if err == nil || strings.Contains(llm.AsError(err).Message, "entra-token-1") || strings.Contains(p.Sanitize(err.Error()), "entra-token-1") {
		t.Errorf("token in error: %v / %q", err, llm.AsError(err).Message)
	}
}

type failingCred struct{ msg string }

func (c failingCred) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{}, errors.New(c.msg)
}

// TestEntraFailureCause: a credential error quoting the client secret is
// kept for the logs with the secret redacted.
func TestEntraFailureCause(t *testing.T) {
	p := newProvider(t, Config{BaseURL: "https://x.openai.azure.com",
		Entra: &Entra{TenantID: "t", ClientID: "c", ClientSecret: "entra-secret-PLANTED-0123456789"}})
	p.entra.cred = failingCred{msg: "token request with client_secret=entra-secret-PLANTED-0123456789 refused"}
	err := p.tokens.Ready(context.Background())
	var le *llm.Error
	if !errors.As(err, &le) || le.Err == nil {
		t.Fatalf("error %v", err)
	}
	if strings.Contains(le.Err.Error(), "PLANTED") || strings.Contains(le.Message, "PLANTED") || !strings.Contains(le.Err.Error(), "refused") {
		t.Errorf("cause %q, message %q", le.Err, le.Message)
	}
}

// TestPromptAnnotationDropped: the opening event of an Azure stream, with
// only prompt_filter_results, reaches no client, forwarded or decoded.
func TestPromptAnnotationDropped(t *testing.T) {
	f := providertest.NewAzure(t)
	p := newProvider(t, Config{BaseURL: f.URL, APIKey: testKey})
	sse := providertest.Load(t, "azure/stream_content_filter.sse")

	f.Enqueue(providertest.Response{SSE: sse})
	s, err := p.Forward(context.Background(), &provider.Forward{Body: []byte(`{"messages":[{"role":"user","content":"hi"}],"stream":true}`), Model: "dep", Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := drain(t, s)
	if !errors.Is(err, io.EOF) || len(chunks) == 0 {
		t.Fatalf("%d chunks, %v", len(chunks), err)
	}
	for _, c := range chunks {
		if strings.Contains(string(c.Raw), "prompt_filter_results") {
			t.Errorf("forwarded %s", c.Raw)
		}
	}
	if !strings.Contains(string(chunks[0].Raw), `"role":"assistant"`) {
		t.Errorf("first chunk %s", chunks[0].Raw)
	}

	f.Enqueue(providertest.Response{SSE: sse})
	s, err = p.Chat(context.Background(), chatRequest("dep", true))
	if err != nil {
		t.Fatal(err)
	}
	chunks, _ = drain(t, s)
	if len(chunks) == 0 || chunks[0].ID == "" {
		t.Errorf("first decoded chunk %+v", chunks)
	}
}

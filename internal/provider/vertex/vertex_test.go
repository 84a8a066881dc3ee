package vertex

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
	"go.uber.org/goleak"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/provider"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
	)
}

const (
	project  = "fake-project"
	location = "us-central1"
	claude   = "claude-sonnet-4@20250514"
	gem      = "gemini-2.5-flash"
)

// setup returns a fake token endpoint issuing tokens of life seconds, a
// fake Vertex AI accepting them, and a provider authenticating with the
// fake's service account, whose clock is the returned one.
func setup(t *testing.T, life int) (*providertest.GoogleAuth, *providertest.Vertex, *Provider, *providertest.Clock) {
	t.Helper()
	g := providertest.NewGoogleAuth(t, life)
	f := providertest.NewVertex(t, project, location, g.Valid)
	p, err := New(Config{Name: "vx", Project: project, Location: location, BaseURL: f.URL,
		Credentials: g.ServiceAccountJSON(project), StreamIdleTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c := providertest.NewClock()
	p.tokens.SetClock(c.Now)
	t.Cleanup(p.tokens.Wait)
	return g, f, p, c
}

func chatRequest(model string, stream bool) *llm.ChatRequest {
	return &llm.ChatRequest{Model: model, Stream: stream, Messages: []llm.Message{
		{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart("hello there")}}}}
}

// collect returns the text and finish reason a stream yielded.
func collect(t *testing.T, s llm.Stream) (string, llm.FinishReason, llm.Usage) {
	t.Helper()
	defer s.Close()
	var text strings.Builder
	var finish llm.FinishReason
	for {
		c, err := s.Recv()
		if err == io.EOF {
			return text.String(), finish, s.Usage()
		}
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
		for _, ch := range c.Choices {
			text.WriteString(ch.Message.Text())
			if ch.FinishReason != "" {
				finish = ch.FinishReason
			}
		}
	}
}

func chat(t *testing.T, p *Provider, req *llm.ChatRequest) string {
	t.Helper()
	s, err := p.Chat(context.Background(), req)
	if err != nil {
		t.Fatalf("chat %s: %v", req.Model, err)
	}
	text, _, _ := collect(t, s)
	return text
}

func last(f *providertest.Vertex) providertest.Recorded {
	reqs := f.Requests()
	return reqs[len(reqs)-1]
}

// TestHost: the host of each kind of location, as the Gen AI and Anthropic
// SDKs build it.
func TestHost(t *testing.T) {
	for loc, want := range map[string]string{
		"global": "aiplatform.googleapis.com", "us": "aiplatform.us.rep.googleapis.com",
		"eu": "aiplatform.eu.rep.googleapis.com", "us-central1": "us-central1-aiplatform.googleapis.com",
		"europe-west4": "europe-west4-aiplatform.googleapis.com",
	} {
		if got := Host(loc); got != want {
			t.Errorf("Host(%q) = %q, want %q", loc, got, want)
		}
	}
}

// TestPublishersAndURLs: Gemini models go to publishers/google, Claude
// models to publishers/anthropic with rawPredict and streamRawPredict,
// tuned models to their endpoint; each with the bearer token, ids with @
// kept as they are.
func TestPublishersAndURLs(t *testing.T) {
	_, f, p, _ := setup(t, 3600)
	root := "/v1/projects/" + project + "/locations/" + location
	for _, tc := range []struct {
		model  string
		stream bool
		path   string
	}{
		{gem, false, root + "/publishers/google/models/gemini-2.5-flash:generateContent"},
		{gem, true, root + "/publishers/google/models/gemini-2.5-flash:streamGenerateContent"},
		{claude, false, root + "/publishers/anthropic/models/claude-sonnet-4@20250514:rawPredict"},
		{claude, true, root + "/publishers/anthropic/models/claude-sonnet-4@20250514:streamRawPredict"},
		{"endpoints/1234567890", false, root + "/endpoints/1234567890:generateContent"},
		{"endpoints/1234567890", true, root + "/endpoints/1234567890:streamGenerateContent"},
	} {
		if got := chat(t, p, chatRequest(tc.model, tc.stream)); got != "hello there" {
			t.Errorf("%s stream=%v: text %q", tc.model, tc.stream, got)
		}
		r := last(f)
		if r.Path != tc.path || r.Header.Get("Authorization") != "Bearer ya29.fake-1" {
			t.Errorf("%s stream=%v: %s with %q", tc.model, tc.stream, r.Path, r.Header.Get("Authorization"))
		}
		if strings.HasPrefix(tc.model, "claude") {
			if !strings.Contains(r.EscapedPath, "claude-sonnet-4@20250514:") {
				t.Errorf("@ escaped: %s", r.EscapedPath)
			}
			b := gjson.ParseBytes(r.Body)
			if b.Get("model").Exists() || b.Get("anthropic_version").Str != AnthropicVersion || !b.Get("max_tokens").Exists() {
				t.Errorf("claude body %s", r.Body)
			}
		}
	}
}

// TestModelEscaped: a model id is one escaped path segment: it cannot
// reach another path or add a query.
func TestModelEscaped(t *testing.T) {
	_, f, p, _ := setup(t, 3600)
	for _, m := range []string{"gemini?alt=json", "gemini-x#y", "claude-3@2024 x", "../../../x", "claude/../../y"} {
		_, _ = p.Chat(context.Background(), chatRequest(m, false))
		pub := "google"
		if strings.HasPrefix(m, "claude") {
			pub = "anthropic"
		}
		want := "/v1/projects/" + project + "/locations/" + location + "/publishers/" + pub + "/models/" + m + ":rawPredict"
		if pub == "google" {
			want = strings.TrimSuffix(want, ":rawPredict") + ":generateContent"
		}
		r := last(f)
		if r.Path != want {
			t.Errorf("%q reached %s", m, r.Path)
		}
		seg := r.EscapedPath[strings.LastIndex(r.EscapedPath[:strings.LastIndexByte(r.EscapedPath, ':')], "/models/")+len("/models/"):]
		if strings.ContainsAny(seg, "/?#") {
			t.Errorf("%q sent unescaped: %s", m, r.EscapedPath)
		}
	}
}

// TestForward: an Anthropic client's body for a Claude model goes with the
// model removed and anthropic_version added, streamed or not; Gemini
// models take no Anthropic body.
func TestForward(t *testing.T) {
	_, f, p, _ := setup(t, 3600)
	if !p.ForwardsModel(claude) || p.ForwardsModel(gem) || p.ForwardsModel("endpoints/1") || p.Protocol() != "anthropic" {
		t.Fatal("ForwardsModel")
	}
	body := []byte(`{"model":"client-name","max_tokens":50,"messages":[{"role":"user","content":"hi you"}]}`)
	for _, stream := range []bool{false, true} {
		s, err := p.Forward(context.Background(), &provider.Forward{Body: body, Model: claude, Stream: stream})
		if err != nil {
			t.Fatal(err)
		}
		var raw []byte
		for {
			c, err := s.Recv()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			raw = append(raw, c.Raw...)
		}
		s.Close()
		if !strings.Contains(string(raw), "you") || s.Usage().PromptTokens == 0 {
			t.Errorf("stream=%v: %s usage %+v", stream, raw, s.Usage())
		}
		b := gjson.ParseBytes(last(f).Body)
		if b.Get("model").Exists() || b.Get("anthropic_version").Str != AnthropicVersion || b.Get("stream").Bool() != stream {
			t.Errorf("forwarded %s", last(f).Body)
		}
	}
	if _, err := p.Forward(context.Background(), &provider.Forward{Body: body, Model: gem}); err == nil {
		t.Error("a Gemini model took an Anthropic body")
	}
}

// TestCountTokens: Claude models count upstream with
// count-tokens:rawPredict, the model in the body; others are estimated.
func TestCountTokens(t *testing.T) {
	_, f, p, _ := setup(t, 3600)
	n, err := p.CountTokens(context.Background(), chatRequest(claude, false))
	if err != nil || n <= 0 {
		t.Fatalf("count %d, %v", n, err)
	}
	r := last(f)
	if !strings.HasSuffix(r.Path, "/publishers/anthropic/models/count-tokens:rawPredict") ||
		gjson.GetBytes(r.Body, "model").Str != claude || gjson.GetBytes(r.Body, "anthropic_version").Str != AnthropicVersion {
		t.Errorf("%s %s", r.Path, r.Body)
	}
	before := len(f.Requests())
	if n, err := p.CountTokens(context.Background(), chatRequest(gem, false)); err != nil || n <= 0 || len(f.Requests()) != before {
		t.Errorf("gemini count %d, %v", n, err)
	}
}

// TestEmbed: text embedding models take the inputs as instances of one
// :predict; gemini-embedding models one instance a request; the token
// counts of the answer are the usage; Claude models have no embeddings.
func TestEmbed(t *testing.T) {
	_, f, p, _ := setup(t, 3600)
	in := json.RawMessage(`["one two","three four five"]`)
	for _, tc := range []struct {
		model    string
		requests int
	}{{"text-embedding-005", 1}, {"gemini-embedding-001", 2}} {
		before := len(f.Requests())
		dims := 3
		r, err := p.Embed(context.Background(), &llm.EmbedRequest{Model: tc.model, Input: in, Dimensions: &dims})
		if err != nil {
			t.Fatalf("%s: %v", tc.model, err)
		}
		reqs := f.Requests()[before:]
		if len(reqs) != tc.requests || len(r.Data) != 2 || r.Usage.PromptTokens != 5 {
			t.Errorf("%s: %d requests, %d vectors, usage %+v", tc.model, len(reqs), len(r.Data), r.Usage)
		}
		body := gjson.ParseBytes(reqs[0].Body)
		if !strings.HasSuffix(reqs[0].Path, "/publishers/google/models/"+tc.model+":predict") ||
			body.Get("instances.0.content").Str != "one two" || body.Get("parameters.outputDimensionality").Int() != 3 {
			t.Errorf("%s: %s %s", tc.model, reqs[0].Path, reqs[0].Body)
		}
		if string(r.Data[1].Embedding) != "[15,1,0.5]" && string(r.Data[1].Embedding) != "[15,0,0.5]" {
			t.Errorf("%s: vector %s", tc.model, r.Data[1].Embedding)
		}
	}
	// An answer that lies about the count, or holds an error, is an
	// upstream error.
	for _, body := range []string{
		`{"predictions":[{"embeddings":{"values":[1,2]}}]}`,
		`{"predictions":[{},{}]}`,
		`{"error":{"code":500,"message":"boom","status":"INTERNAL"}}`,
		`[1,2]`,
	} {
		f.Enqueue(providertest.Response{Body: []byte(body)})
		if _, err := p.Embed(context.Background(), &llm.EmbedRequest{Model: "text-embedding-005", Input: in}); llm.AsError(err).Kind != llm.KindUpstream {
			t.Errorf("%s: %v", body, err)
		}
	}
	if _, err := p.Embed(context.Background(), &llm.EmbedRequest{Model: claude, Input: in}); llm.AsError(err).Kind != llm.KindInvalidRequest {
		t.Errorf("claude embeddings: %v", err)
	}
}

// TestSafetyAndUsage: a Vertex answer stopped by a safety filter is
// content_filter; thoughts and cached tokens are counted as Vertex reports
// them.
func TestSafetyAndUsage(t *testing.T) {
	_, f, p, _ := setup(t, 3600)
	f.Enqueue(providertest.Response{Body: []byte(`{"candidates":[{"content":{"role":"model","parts":[{"text":"I can"}]},"finishReason":"SAFETY",
"safetyRatings":[{"category":"HARM_CATEGORY_DANGEROUS_CONTENT","probability":"HIGH","blocked":true}]}],
"usageMetadata":{"promptTokenCount":120,"candidatesTokenCount":2,"totalTokenCount":152,"cachedContentTokenCount":100,"thoughtsTokenCount":30,"trafficType":"ON_DEMAND",
"promptTokensDetails":[{"modality":"TEXT","tokenCount":120}]},"modelVersion":"gemini-2.5-flash","createTime":"2026-12-02T10:00:00.000000Z","responseId":"r1"}`)})
	s, err := p.Chat(context.Background(), chatRequest(gem, false))
	if err != nil {
		t.Fatal(err)
	}
	_, finish, u := collect(t, s)
	if finish != llm.FinishContentFilter || u.PromptTokens != 120 || u.CompletionTokens != 32 || u.CachedTokens != 100 || u.ReasoningTokens != 30 {
		t.Errorf("finish %q usage %+v", finish, u)
	}
}

// TestTokenRefreshAhead: a token due for refresh, five minutes before it
// expires, is refreshed in the background while requests go on with it,
// unblocked even while the token endpoint hangs; the new token is sent
// once it has come.
func TestTokenRefreshAhead(t *testing.T) {
	g, f, p, c := setup(t, 3600)
	chat(t, p, chatRequest(gem, false))
	c.Add(54 * time.Minute)
	chat(t, p, chatRequest(gem, false))
	if got := g.Issued(); len(got) != 1 {
		t.Fatalf("refreshed before it was due: %v", got)
	}
	hold := g.Hold()
	c.Add(2 * time.Minute) // 56 minutes: due, not expired
	done := make(chan struct{})
	go func() {
		defer close(done)
		chat(t, p, chatRequest(claude, false))
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		close(hold)
		t.Fatal("a request waited for the token refresh")
	}
	if a := last(f).Header.Get("Authorization"); a != "Bearer ya29.fake-1" {
		t.Errorf("during refresh: %q", a)
	}
	close(hold)
	p.tokens.Wait()
	chat(t, p, chatRequest(gem, true))
	if a := last(f).Header.Get("Authorization"); a != "Bearer ya29.fake-2" {
		t.Errorf("after refresh: %q (issued %v)", a, g.Issued())
	}
	if s := g.Scopes(); s[0] != Scope {
		t.Errorf("scope %q", s)
	}
}

// TestTokenExpired: with no valid token the request waits for one.
func TestTokenExpired(t *testing.T) {
	g, f, p, c := setup(t, 3600)
	chat(t, p, chatRequest(gem, false))
	c.Add(time.Hour)
	chat(t, p, chatRequest(gem, false))
	if a := last(f).Header.Get("Authorization"); a != "Bearer ya29.fake-2" || len(g.Issued()) != 2 {
		t.Errorf("after expiry: %q (issued %v)", a, g.Issued())
	}
}

// TestSecretsHidden: a refused token request is a 401 upstream error that
// quotes neither the key nor the endpoint's answer; a token an upstream
// echoes is redacted.
func TestSecretsHidden(t *testing.T) {
	g, f, p, c := setup(t, 3600)
	g.Fail(http.StatusBadRequest)
	_, err := p.Chat(context.Background(), chatRequest(gem, false))
	le := llm.AsError(err)
	if le.Kind != llm.KindUpstream || le.UpstreamStatus != http.StatusUnauthorized || strings.Contains(le.Message, "invalid_grant") {
		t.Errorf("token failure: %+v", le)
	}
	if strings.Contains(err.Error(), "PRIVATE KEY") {
		t.Errorf("key in %v", err)
	}
	g.Fail(0)
	c.Add(11 * time.Second) // past the retry gap
	chat(t, p, chatRequest(gem, false))
	f.Enqueue(providertest.VertexError(400, "INVALID_ARGUMENT", "bad header Bearer ya29.fake-1"))
	_, err = p.Chat(context.Background(), chatRequest(gem, false))
	if err == nil || strings.Contains(llm.AsError(err).Message, "ya29.fake-1") || strings.Contains(p.Sanitize(err.Error()), "ya29.fake-1") {
		t.Errorf("token in error: %v", err)
	}
}

// TestUnauthenticated: an answer 401 from Vertex AI is an upstream error in
// Google's shape, whichever publisher.
func TestUnauthenticated(t *testing.T) {
	_, f, p, _ := setup(t, 3600)
	f.Token = func(string) bool { return false }
	for _, m := range []string{gem, claude} {
		_, err := p.Chat(context.Background(), chatRequest(m, false))
		if le := llm.AsError(err); le.UpstreamStatus != http.StatusUnauthorized || le.Kind != llm.KindUpstream {
			t.Errorf("%s: %+v", m, le)
		}
	}
}

// TestCredentials: what New refuses, and Application Default Credentials
// from GOOGLE_APPLICATION_CREDENTIALS when none are configured.
func TestCredentials(t *testing.T) {
	for name, c := range map[string]Config{
		"no project":       {Name: "a", Location: "us-central1"},
		"bad location":     {Name: "a", Project: "p", Location: "us-central1.evil.com/"},
		"not json":         {Name: "a", Project: "p", Credentials: []byte("nope")},
		"external account": {Name: "a", Project: "p", Credentials: []byte(`{"type":"external_account","credential_source":{"executable":{"command":"/bin/true"}}}`)},
		"no key":           {Name: "a", Project: "p", Credentials: []byte(`{"type":"service_account","client_email":"a@b"}`)},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), "/bin/true") {
			t.Errorf("%s: %v quotes the file", name, err)
		}
	}
	// The service account flow posts without a context: the token
	// client carries the bound.
	if s, err := newGoogleSource(nil, &http.Client{}); err != nil || s.client.Timeout != tokenTimeout {
		t.Errorf("token client timeout: %v", err)
	}
	g := providertest.NewGoogleAuth(t, 3600)
	f := providertest.NewVertex(t, project, "global", g.Valid)
	file := filepath.Join(t.TempDir(), "sa.json")
	if err := os.WriteFile(file, g.ServiceAccountJSON(project), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", file)
	p, err := New(Config{Name: "adc", Project: project, BaseURL: f.URL})
	if err != nil {
		t.Fatal(err)
	}
	chat(t, p, chatRequest(gem, false))
	if r := last(f); !strings.HasPrefix(r.Path, "/v1/projects/"+project+"/locations/global/") || r.Header.Get("Authorization") != "Bearer ya29.fake-1" {
		t.Errorf("ADC: %s %q", r.Path, r.Header.Get("Authorization"))
	}
}

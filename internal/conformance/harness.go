package conformance

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
	"github.com/llmgw/llmgw/internal/provider/providertest"
	"github.com/llmgw/llmgw/internal/server"
)

// Fake is what the suite needs of a fake upstream.
type Fake interface {
	Enqueue(r ...providertest.Response)
	Requests() []providertest.Recorded
	Canceled() <-chan time.Time
}

// Upstream model names and the model each protocol's fake is reached by.
const (
	OpenAIUpstreamModel    = "gpt-4o-mini"
	AnthropicUpstreamModel = "claude-sonnet-4-20250514"
	MistralUpstreamModel   = "mistral-small-latest"
	OllamaUpstreamModel    = "llama3.2"
	GeminiUpstreamModel    = "gemini-2.5-flash"
	AzureUpstreamModel     = "gpt-4o-mini-deployment"
	VLLMUpstreamModel      = "Qwen/Qwen3-8B"
	CohereUpstreamModel    = "command-a-03-2025"
	// VertexUpstreamModel and VertexAnthropicUpstreamModel are Vertex AI's
	// ids of a Gemini and a Claude model.
	VertexUpstreamModel          = "gemini-2.5-flash"
	VertexAnthropicUpstreamModel = "claude-sonnet-4@20250514"
	// VertexProject and VertexLocation are where the fake Vertex AI
	// serves.
	VertexProject  = "llmgw-conformance"
	VertexLocation = "us-east5"
	// BedrockUpstreamModel is an inference profile id; the Anthropic
	// column's model is an inference profile ARN, whose colons and
	// slash go escaped in the URL path.
	BedrockUpstreamModel          = "us.anthropic.claude-sonnet-4-20250514-v1:0"
	BedrockAnthropicUpstreamModel = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0"
	BedrockEmbedUpstreamModel     = "amazon.titan-embed-text-v2:0"
	// OpenAIReasoningUpstreamModel is an OpenAI reasoning model, which
	// takes reasoning_effort where gpt-4o-mini refuses it; the gateway
	// reaches it by the model name ReasoningModel.
	OpenAIReasoningUpstreamModel = "o4-mini"
	ReasoningModel               = "oa-reasoning"
)

// ModelFor returns the gateway model name routed to upstream protocol p.
func ModelFor(p string) string {
	switch p {
	case Anthropic:
		return "an-model"
	case Mistral:
		return "mi-model"
	case Ollama:
		return "ol-model"
	case Gemini:
		return "ge-model"
	case Azure:
		return "az-model"
	case VLLM:
		return "vl-model"
	case Cohere:
		return "co-model"
	case Vertex:
		return "vx-model"
	case VertexAnthropic:
		return "vc-model"
	case Bedrock:
		return "bd-model"
	case BedrockAnthropic:
		return "ba-model"
	}
	return "oa-model"
}

// Harness is the real gateway, in process on a loopback listener, in front of
// one fake upstream per protocol: model "oa-model" goes to the fake OpenAI
// API, "an-model" to the fake Anthropic API, "mi-model" to the fake Mistral
// API, "ol-model" to the fake Ollama server, "ge-model" to the fake Gemini
// API, "az-model" to the fake Azure OpenAI resource, "co-model" to the fake
// Cohere API, "vx-model" and "vc-model" to a Gemini and a Claude model of
// the fake Vertex AI.
type Harness struct {
	OpenAI    *providertest.OpenAI
	Anthropic *providertest.Anthropic
	Mistral   *providertest.Mistral
	Ollama    *providertest.Ollama
	Gemini    *providertest.Gemini
	Azure     *providertest.Azure
	VLLM      *providertest.OpenAI
	Cohere    *providertest.Cohere
	// Vertex serves both of Vertex AI's columns, with tokens from
	// GoogleAuth.
	Vertex     *providertest.Vertex
	GoogleAuth *providertest.GoogleAuth
	// Bedrock and BedrockAnthropic are the fake Bedrock runtimes of the
	// Converse and the Anthropic body columns.
	Bedrock, BedrockAnthropic *bedrockFake
	// URL is the gateway's root URL.
	URL string
	// Options are those the harness was started with, defaults filled in.
	Options Options
}

// Options change how a harness's gateway runs.
type Options struct {
	// Translate takes every call off the fast path, as a stage that
	// inspects or rewrites content would: a same-protocol pair then goes
	// through the canonical request and the full decode and encode instead
	// of forwarding bytes.
	Translate bool
	// StreamIdleTimeout is the gateway's upstream stream idle timeout;
	// zero means 5s.
	StreamIdleTimeout time.Duration
}

const harnessConfig = `
server:
  stream_idle_timeout: "${IDLE}"
providers:
  - name: fake-openai
    type: openai
    base_url: "${OPENAI_URL}"
    api_key: "sk-upstream-openai"
  - name: fake-anthropic
    type: anthropic
    base_url: "${ANTHROPIC_URL}"
    api_key: "sk-ant-upstream"
  - name: fake-mistral
    type: mistral
    base_url: "${MISTRAL_URL}"
    api_key: "mistral-upstream-key"
  - name: fake-ollama
    type: ollama
    base_url: "${OLLAMA_URL}"
  - name: fake-gemini
    type: gemini
    base_url: "${GEMINI_URL}"
    api_key: "gemini-upstream-key"
  - name: fake-azure
    type: azure_openai
    base_url: "${AZURE_URL}"
    api_key: "azure-upstream-key"
  - name: fake-vllm
    type: vllm
    base_url: "${VLLM_URL}"
  - name: fake-cohere
    type: cohere
    base_url: "${COHERE_URL}"
    api_key: "cohere-upstream-key"
  - name: fake-vertex
    type: vertex
    base_url: "${VERTEX_URL}"
    vertex: {project: "` + VertexProject + `", location: "` + VertexLocation + `", credentials: "${VERTEX_CREDENTIALS}"}
  - name: fake-bedrock
    type: bedrock
    base_url: "${BEDROCK_URL}"
    bedrock: {region: us-east-1, access_key_id: AKIAUPSTREAMBEDROCK1, secret_access_key: "bedrock-upstream-secret-key"}
  - name: fake-bedrock-anthropic
    type: bedrock
    base_url: "${BEDROCK_ANTHROPIC_URL}"
    bedrock: {region: us-east-1, access_key_id: AKIAUPSTREAMBEDROCK2, secret_access_key: "bedrock-upstream-secret-key", api: anthropic}
models:
  - name: oa-model
    targets: [{provider: fake-openai, model: "` + OpenAIUpstreamModel + `"}]
  - name: an-model
    targets: [{provider: fake-anthropic, model: "` + AnthropicUpstreamModel + `"}]
  - name: mi-model
    targets: [{provider: fake-mistral, model: "` + MistralUpstreamModel + `"}]
  - name: ol-model
    targets: [{provider: fake-ollama, model: "` + OllamaUpstreamModel + `"}]
  - name: ge-model
    targets: [{provider: fake-gemini, model: "` + GeminiUpstreamModel + `"}]
  - name: az-model
    targets: [{provider: fake-azure, model: "` + AzureUpstreamModel + `"}]
  - name: vl-model
    targets: [{provider: fake-vllm, model: "` + VLLMUpstreamModel + `"}]
  - name: co-model
    targets: [{provider: fake-cohere, model: "` + CohereUpstreamModel + `"}]
  - name: vx-model
    targets: [{provider: fake-vertex, model: "` + VertexUpstreamModel + `"}]
  - name: vc-model
    targets: [{provider: fake-vertex, model: "` + VertexAnthropicUpstreamModel + `"}]
  - name: bd-model
    targets: [{provider: fake-bedrock, model: "` + BedrockUpstreamModel + `"}]
  - name: ba-model
    targets: [{provider: fake-bedrock-anthropic, model: "` + BedrockAnthropicUpstreamModel + `"}]
  - name: bd-embed
    targets: [{provider: fake-bedrock, model: "` + BedrockEmbedUpstreamModel + `"}]
  - name: ` + ReasoningModel + `
    targets: [{provider: fake-openai, model: "` + OpenAIReasoningUpstreamModel + `"}]
`

// NewHarness starts the fakes and the gateway, all stopped when the test
// ends.
func NewHarness(t testing.TB) *Harness { return NewHarnessWith(t, Options{}) }

// NewHarnessWith is NewHarness with options.
func NewHarnessWith(t testing.TB, o Options) *Harness {
	t.Helper()
	if o.StreamIdleTimeout == 0 {
		o.StreamIdleTimeout = 5 * time.Second
	}
	h := &Harness{OpenAI: providertest.NewOpenAI(t), Anthropic: providertest.NewAnthropic(t), Mistral: providertest.NewMistral(t), Ollama: providertest.NewOllama(t), Gemini: providertest.NewGemini(t), Azure: providertest.NewAzure(t), VLLM: providertest.NewOpenAI(t), Cohere: providertest.NewCohere(t), Options: o}
	h.Azure.Key = "azure-upstream-key"
	h.GoogleAuth = providertest.NewGoogleAuth(t, 3600)
	h.Vertex = providertest.NewVertex(t, VertexProject, VertexLocation, h.GoogleAuth.Valid)
	h.Bedrock = &bedrockFake{Bedrock: providertest.NewBedrock(t), converse: true}
	h.BedrockAnthropic = &bedrockFake{Bedrock: providertest.NewBedrock(t)}
	env := map[string]string{"OPENAI_URL": h.OpenAI.URL, "ANTHROPIC_URL": h.Anthropic.URL, "MISTRAL_URL": h.Mistral.URL, "OLLAMA_URL": h.Ollama.URL, "GEMINI_URL": h.Gemini.URL, "AZURE_URL": h.Azure.URL, "VLLM_URL": h.VLLM.URL, "COHERE_URL": h.Cohere.URL, "VERTEX_URL": h.Vertex.URL, "VERTEX_CREDENTIALS": string(h.GoogleAuth.ServiceAccountJSON(VertexProject)), "IDLE": o.StreamIdleTimeout.String(),
		"BEDROCK_URL": h.Bedrock.URL, "BEDROCK_ANTHROPIC_URL": h.BedrockAnthropic.URL}
	cfg, err := config.Parse([]byte(harnessConfig), func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	snap, err := gateway.Compile(cfg, gateway.Options{})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	if o.Translate {
		fast := snap.Invoke
		snap.Invoke = func(ctx context.Context, c *pipeline.Call) (llm.Stream, error) {
			c.NeedBody()
			return fast(ctx, c)
		}
	}
	srv := httptest.NewServer(server.New(snap, slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(srv.Close)
	h.URL = srv.URL
	return h
}

// Fake returns the fake of upstream protocol p.
func (h *Harness) Fake(p string) Fake {
	switch p {
	case Anthropic:
		return h.Anthropic
	case Mistral:
		return h.Mistral
	case Ollama:
		return h.Ollama
	case Gemini:
		return h.Gemini
	case Azure:
		return h.Azure
	case VLLM:
		return h.VLLM
	case Cohere:
		return h.Cohere
	case Vertex, VertexAnthropic:
		return h.Vertex
	case Bedrock:
		return h.Bedrock
	case BedrockAnthropic:
		return h.BedrockAnthropic
	}
	return h.OpenAI
}

// Path returns the gateway route of client protocol p.
func Path(p string) string {
	switch p {
	case Anthropic:
		return "/v1/messages"
	case Responses:
		return "/v1/responses"
	}
	return "/v1/chat/completions"
}

// Request returns an HTTP request to the gateway in client protocol c.Pair.Client
// with body's model set for the case's upstream and stream set for its mode.
func (c *Case) Request(ctx context.Context, t testing.TB, body string) *http.Request {
	t.Helper()
	if c.Pair.Client == Responses && gjson.Get(body, "messages").Exists() {
		converted, err := chatToResponses(body)
		if err != nil {
			t.Fatalf("the scenario's request has no Responses form: %v", err)
		}
		c.chat, body = body, converted
	}
	b := []byte(body)
	var err error
	model := c.Model
	if model == "" {
		model = ModelFor(c.Pair.Upstream)
	}
	if b, err = sjson.SetBytes(b, "model", model); err != nil {
		t.Fatal(err)
	}
	if c.Streamed() {
		b, _ = sjson.SetBytes(b, "stream", true)
		if c.Client() == OpenAI && c.Pair.Client != Responses {
			b, _ = sjson.SetBytes(b, "stream_options.include_usage", true)
		}
	}
	c.sent = b
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.H.URL+Path(c.Pair.Client), strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.Pair.Client == Anthropic {
		req.Header.Set("anthropic-version", "2023-06-01")
	}
	return req
}

// Send sends body and parses the answer in the client's protocol.
func (c *Case) Send(t testing.TB, body string) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(c.Request(ctx, t, body))
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	r := &Result{Status: resp.StatusCode, Header: resp.Header, Body: raw}
	streamed := strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream")
	switch {
	case resp.StatusCode != http.StatusOK:
		parseError(r, c.Client(), raw)
	case c.Pair.Client == Responses && streamed:
		parseResponsesStream(r, raw)
	case c.Pair.Client == Responses:
		parseResponsesMessage(r, raw)
	case c.Pair.Client == OpenAI && streamed:
		parseOpenAIStream(r, raw)
	case c.Pair.Client == OpenAI:
		parseOpenAIMessage(r, raw)
	case streamed:
		parseAnthropicStream(r, raw)
	default:
		parseAnthropicMessage(r, raw)
	}
	if c.Streamed() != streamed && resp.StatusCode == http.StatusOK {
		r.Violations = append(r.Violations, "answered streamed="+boolString(streamed)+" to a request with stream="+boolString(c.Streamed()))
	}
	return r
}

// LastUpstream returns the body of the last request the case's fake received.
func (c *Case) LastUpstream(t testing.TB) []byte {
	t.Helper()
	reqs := c.Fake().Requests()
	if len(reqs) == 0 {
		t.Fatalf("the %s upstream received no request", c.Pair.Upstream)
	}
	body := reqs[len(reqs)-1].Body
	if c.nativeResponses() {
		return c.forwarded(t, body)
	}
	return body
}

// forwarded checks that a Responses body reached the OpenAI upstream as
// the client sent it, its model the upstream's own and nothing else
// changed, and returns the Chat Completions body the scenario wrote it
// from, with that model: what the scenario's upstream checks read, since
// a forwarded body carries exactly what the client put in it.
func (c *Case) forwarded(t testing.TB, up []byte) []byte {
	t.Helper()
	model := gjson.GetBytes(up, "model").Str
	want, err := sjson.SetBytes(append([]byte(nil), c.sent...), "model", model)
	if err != nil || model == "" || !jsonEqual(string(up), string(want)) {
		t.Errorf("the upstream did not receive the client's body as sent (model %q):\n%s\nwant\n%s", model, up, want)
	}
	if c.chat == "" {
		return up
	}
	b, _ := sjson.SetBytes([]byte(c.chat), "model", model)
	return b
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

package bedrock

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
	"go.uber.org/goleak"

	"github.com/llmgw/llmgw/internal/llm"
	anthropicwire "github.com/llmgw/llmgw/internal/protocol/anthropic"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

const (
	testKeyID  = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testModel  = "anthropic.claude-sonnet-4-20250514-v1:0"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newProvider returns a Provider in front of f, with static credentials.
func newProvider(t *testing.T, f *providertest.Bedrock, mutate ...func(*Config)) *Provider {
	t.Helper()
	c := Config{Name: "bdr", BaseURL: f.URL, Region: "us-east-1", AccessKeyID: testKeyID, SecretAccessKey: testSecret}
	for _, m := range mutate {
		m(&c)
	}
	p, err := New(context.Background(), c)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// collect reads s to its end.
func collect(t *testing.T, s llm.Stream) ([]*llm.Chunk, error) {
	t.Helper()
	defer s.Close()
	var out []*llm.Chunk
	for {
		c, err := s.Recv()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, c)
	}
}

func user(text string) llm.Message {
	return llm.Message{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart(text)}}
}

func ptr[T any](v T) *T { return &v }

// Every field that has a place in Converse reaches it: system blocks,
// alternating turns (tool results and the next user words in one user
// turn), images as bytes, thinking with its signature, tool calls and
// results, inferenceConfig, top_k and thinking among
// additionalModelRequestFields, tools with their JSON schema, the tool
// choice, metadata and structured output.
func TestConverseRequest(t *testing.T) {
	f := providertest.NewBedrock(t)
	p := newProvider(t, f)
	png := base64.StdEncoding.EncodeToString([]byte("\x89PNG fake"))
	req := &llm.ChatRequest{
		Model: testModel,
		Messages: []llm.Message{
			{Role: llm.RoleSystem, Content: []llm.Part{llm.TextPart("Be brief.")}},
			{Role: llm.RoleDeveloper, Content: []llm.Part{{Type: llm.PartText, Text: "Cite nothing.", CacheControl: json.RawMessage(`{"type":"ephemeral"}`)}}},
			{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart("Weather?"), {Type: llm.PartImage, Image: &llm.Image{MediaType: "image/png", Data: png}}}},
			{Role: llm.RoleAssistant, Content: []llm.Part{{Type: llm.PartThinking, Text: "Look it up.", Signature: "sig-1"}},
				ToolCalls: []llm.ToolCall{{ID: "tooluse_1", Name: "get_weather", Arguments: `{"city":"Paris"}`}, {ID: "tooluse_2", Name: "get_weather", Arguments: `{"city":"Rome"}`}}},
			{Role: llm.RoleTool, ToolCallID: "tooluse_1", Content: []llm.Part{llm.TextPart("18°C")}},
			{Role: llm.RoleTool, ToolCallID: "tooluse_2", Content: []llm.Part{llm.TextPart("24°C")}},
			user("And tomorrow?"),
		},
		Tools: []llm.Tool{{Type: "function", Name: "get_weather", Description: "Weather of a city",
			Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`)}},
		ToolChoice:          &llm.ToolChoice{Mode: llm.ToolChoiceFunction, Name: "get_weather"},
		MaxCompletionTokens: ptr(4000),
		Temperature:         ptr(0.5),
		TopP:                ptr(0.9),
		TopK:                ptr(40),
		Stop:                []string{"END"},
		Thinking:            json.RawMessage(`{"type":"enabled","budget_tokens":2000}`),
		User:                "user-42",
		Metadata:            map[string]string{"team": "search"},
		ResponseFormat:      &llm.ResponseFormat{Type: "json_schema", JSONSchema: &llm.JSONSchema{Name: "weather", Schema: json.RawMessage(`{"type":"object"}`)}},
	}
	s, err := p.Chat(context.Background(), req)
	require.NoError(t, err)
	_, err = collect(t, s)
	require.NoError(t, err)
	reqs := f.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "/model/"+testModel+"/converse", reqs[0].Path)
	b := gjson.ParseBytes(reqs[0].Body)
	assert.Equal(t, "Be brief.", b.Get("system.0.text").Str)
	assert.Equal(t, "Cite nothing.", b.Get("system.1.text").Str)
	assert.Equal(t, "default", b.Get("system.2.cachePoint.type").Str)
	var roles []string
	for _, m := range b.Get("messages").Array() {
		roles = append(roles, m.Get("role").Str)
	}
	assert.Equal(t, []string{"user", "assistant", "user"}, roles)
	assert.Equal(t, "png", b.Get("messages.0.content.1.image.format").Str)
	assert.Equal(t, png, b.Get("messages.0.content.1.image.source.bytes").Str)
	assert.Equal(t, "Look it up.", b.Get("messages.1.content.0.reasoningContent.reasoningText.text").Str)
	assert.Equal(t, "sig-1", b.Get("messages.1.content.0.reasoningContent.reasoningText.signature").Str)
	assert.Equal(t, "tooluse_2", b.Get("messages.1.content.2.toolUse.toolUseId").Str)
	assert.Equal(t, "Rome", b.Get("messages.1.content.2.toolUse.input.city").Str)
	assert.Equal(t, "tooluse_1", b.Get("messages.2.content.0.toolResult.toolUseId").Str)
	assert.Equal(t, "24°C", b.Get("messages.2.content.1.toolResult.content.0.text").Str)
	assert.Equal(t, "And tomorrow?", b.Get("messages.2.content.2.text").Str)
	assert.Equal(t, int64(4000), b.Get("inferenceConfig.maxTokens").Int())
	assert.InDelta(t, 0.5, b.Get("inferenceConfig.temperature").Float(), 1e-6)
	assert.InDelta(t, 0.9, b.Get("inferenceConfig.topP").Float(), 1e-6)
	assert.Equal(t, "END", b.Get("inferenceConfig.stopSequences.0").Str)
	assert.Equal(t, int64(40), b.Get("additionalModelRequestFields.top_k").Int())
	assert.Equal(t, "enabled", b.Get("additionalModelRequestFields.thinking.type").Str)
	assert.Equal(t, `{"type":"enabled","budget_tokens":2000}`, b.Get("additionalModelRequestFields.thinking").Raw)
	assert.Equal(t, "get_weather", b.Get("toolConfig.tools.0.toolSpec.name").Str)
	assert.Equal(t, "city", b.Get("toolConfig.tools.0.toolSpec.inputSchema.json.required.0").Str)
	assert.Equal(t, "get_weather", b.Get("toolConfig.toolChoice.tool.name").Str)
	assert.Equal(t, "search", b.Get("requestMetadata.team").Str)
	assert.Equal(t, "user-42", b.Get("requestMetadata.user_id").Str)
	assert.Equal(t, "json_schema", b.Get("outputConfig.textFormat.type").Str)
	assert.Equal(t, `{"type":"object","properties":{},"additionalProperties":false}`, b.Get("outputConfig.textFormat.structure.jsonSchema.schema").Str,
		"the schema in Claude's subset")
}

// A reasoning effort becomes Anthropic's thinking as toward Anthropic's
// API: a budget, max_tokens raised above it when the client set none,
// and no sampling parameters; none when a tool is forced.
func TestConverseReasoningEffort(t *testing.T) {
	f := providertest.NewBedrock(t)
	p := newProvider(t, f)
	for _, forced := range []bool{false, true} {
		req := &llm.ChatRequest{Model: testModel, Messages: []llm.Message{user("think")}, ReasoningEffort: "medium", Temperature: ptr(0.3), TopK: ptr(3)}
		if forced {
			req.Tools = []llm.Tool{{Type: "function", Name: "f"}}
			req.ToolChoice = &llm.ToolChoice{Mode: llm.ToolChoiceRequired}
		}
		s, err := p.Chat(context.Background(), req)
		require.NoError(t, err)
		_, err = collect(t, s)
		require.NoError(t, err)
		reqs := f.Requests()
		b := gjson.ParseBytes(reqs[len(reqs)-1].Body)
		if forced {
			assert.False(t, b.Get("additionalModelRequestFields.thinking").Exists())
			assert.InDelta(t, 0.3, b.Get("inferenceConfig.temperature").Float(), 1e-6)
			continue
		}
		budget := anthropicwire.ThinkingBudget("medium", 0)
		assert.Equal(t, fmt.Sprintf(`{"type":"enabled","budget_tokens":%d}`, budget), b.Get("additionalModelRequestFields.thinking").Raw)
		assert.Equal(t, int64(budget+anthropicwire.DefaultMaxTokens), b.Get("inferenceConfig.maxTokens").Int())
		assert.False(t, b.Get("inferenceConfig.temperature").Exists())
		assert.False(t, b.Get("additionalModelRequestFields.top_k").Exists())
	}
}

// Fields Converse has no place for are dropped and reported, or refused
// when the operator says so; n > 1 and images by URL are refused.
func TestConverseRefusals(t *testing.T) {
	f := providertest.NewBedrock(t)
	p := newProvider(t, f)
	rep := llm.NewParamReport(false)
	s, err := p.Chat(llm.WithParamReport(context.Background(), rep), &llm.ChatRequest{Model: testModel, Messages: []llm.Message{user("hi")},
		Seed: ptr(int64(7)), User: "u-1", PresencePenalty: ptr(0.5)})
	require.NoError(t, err)
	_, err = collect(t, s)
	require.NoError(t, err)
	assert.Equal(t, []string{"presence_penalty", "seed"}, rep.Dropped())

	_, err = p.Chat(llm.WithParamReport(context.Background(), llm.NewParamReport(true)), &llm.ChatRequest{Model: testModel, Messages: []llm.Message{user("hi")}, Seed: ptr(int64(7))})
	assertKind(t, err, llm.KindInvalidRequest, "seed")

	_, err = p.Chat(context.Background(), &llm.ChatRequest{Model: testModel, Messages: []llm.Message{user("hi")}, N: ptr(2)})
	assertKind(t, err, llm.KindInvalidRequest, "one choice")

	_, err = p.Chat(context.Background(), &llm.ChatRequest{Model: testModel, Messages: []llm.Message{{Role: llm.RoleUser,
		Content: []llm.Part{{Type: llm.PartImage, Image: &llm.Image{URL: "https://example.com/cat.png"}}}}}})
	assertKind(t, err, llm.KindInvalidRequest, "images by URL")
	assert.Len(t, f.Requests(), 1, "a refused request reached the upstream")
}

func assertKind(t *testing.T, err error, kind llm.Kind, msg string) {
	t.Helper()
	e := llm.AsError(err)
	require.NotNil(t, e, "error %v", err)
	assert.Equal(t, kind, e.Kind, "kind of %v", err)
	assert.Contains(t, e.PublicMessage(), msg)
}

// A Converse answer: reasoning with its signature, text, parallel tool
// calls, tool_use as tool_calls, and the usage with the prompt cache
// counted into the prompt.
func TestConverseAnswer(t *testing.T) {
	f := providertest.NewBedrock(t)
	p := newProvider(t, f)
	f.Enqueue(providertest.Response{Body: providertest.Load(t, "bedrock/converse_tool_use.json")},
		providertest.Response{Body: providertest.Load(t, "bedrock/converse_text.json")})
	s, err := p.Chat(context.Background(), &llm.ChatRequest{Model: testModel, Messages: []llm.Message{user("weather?")}})
	require.NoError(t, err)
	cs, err := collect(t, s)
	require.NoError(t, err)
	require.Len(t, cs, 1)
	ch := cs[0].Choices[0]
	assert.Equal(t, llm.FinishToolCalls, ch.FinishReason)
	assert.Equal(t, []llm.Part{{Type: llm.PartThinking, Text: "The user wants the weather in two cities.", Signature: "EqoBCkgIARABGAIiQL2f"},
		llm.TextPart("Let me look that up.")}, ch.Message.Content)
	require.Len(t, ch.Message.ToolCalls, 2)
	assert.Equal(t, llm.ToolCall{Index: 1, ID: "tooluse_Zu3nB8cYQ0mOo1mY6mZ2LQ", Type: "function", Name: "get_weather", Arguments: `{"city":"Zürich"}`}, ch.Message.ToolCalls[1])
	assert.Equal(t, llm.Usage{PromptTokens: 420, CompletionTokens: 96, TotalTokens: 516}, s.Usage())

	s, err = p.Chat(context.Background(), &llm.ChatRequest{Model: testModel, Messages: []llm.Message{user("capital?")}})
	require.NoError(t, err)
	cs, err = collect(t, s)
	require.NoError(t, err)
	assert.Equal(t, "The capital of France is Paris.", cs[0].Choices[0].Message.Text())
	assert.Equal(t, llm.Usage{PromptTokens: 22, CompletionTokens: 8, TotalTokens: 30, CachedTokens: 6, CacheCreationTokens: 4}, *cs[0].Usage)
}

func TestStopReasons(t *testing.T) {
	f := providertest.NewBedrock(t)
	p := newProvider(t, f)
	for reason, want := range map[string]llm.FinishReason{
		"end_turn": llm.FinishStop, "stop_sequence": llm.FinishStop, "tool_use": llm.FinishToolCalls,
		"max_tokens": llm.FinishLength, "model_context_window_exceeded": llm.FinishLength,
		"guardrail_intervened": llm.FinishContentFilter, "content_filtered": llm.FinishContentFilter,
		"malformed_model_output": "", "malformed_tool_use": "", "a_reason_added_later": "",
	} {
		t.Run(reason, func(t *testing.T) {
			f.Enqueue(providertest.Response{Body: providertest.BedrockConverseAnswer("x", reason, 1, 1)})
			s, err := p.Chat(context.Background(), &llm.ChatRequest{Model: testModel, Messages: []llm.Message{user("hi")}})
			if want == "" {
				assertKind(t, err, llm.KindUpstream, "failed to generate")
				return
			}
			require.NoError(t, err)
			cs, err := collect(t, s)
			require.NoError(t, err)
			assert.Equal(t, want, cs[0].Choices[0].FinishReason)
		})
	}
}

// A ConverseStream answer: the role first, reasoning deltas and the
// signature, text, tool calls by content block (id and name at the
// start, the input in fragments), and the finish reason held for the
// metadata event so that the last chunk carries both.
func TestConverseStream(t *testing.T) {
	f := providertest.NewBedrock(t)
	p := newProvider(t, f)
	f.Enqueue(providertest.BedrockStreamCapture(t, "bedrock/stream_tool_use.json"))
	s, err := p.Chat(context.Background(), &llm.ChatRequest{Model: testModel, Stream: true, Messages: []llm.Message{user("weather?")}})
	require.NoError(t, err)
	cs, err := collect(t, s)
	require.NoError(t, err)
	assert.Equal(t, "/model/"+testModel+"/converse-stream", f.Requests()[0].Path)
	var acc llm.Accumulator
	for _, c := range cs {
		acc.Add(c)
	}
	got := acc.Response()
	m := got.Choices[0].Message
	assert.Equal(t, llm.RoleAssistant, cs[0].Choices[0].Message.Role)
	assert.Equal(t, "Let me look that up.", m.Text())
	require.Len(t, m.ToolCalls, 2)
	assert.Equal(t, "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", m.ToolCalls[0].ID)
	assert.Equal(t, `{"city": "Paris"}`, m.ToolCalls[0].Arguments)
	assert.Equal(t, `{"city": "Zürich"}`, m.ToolCalls[1].Arguments)
	var thinking, sig string
	for _, part := range m.Content {
		if part.Type == llm.PartThinking {
			thinking += part.Text
			sig += part.Signature
		}
	}
	assert.Equal(t, "The user wants the weather in two cities.", thinking)
	assert.Equal(t, "EqoBCkgIARABGAIiQL2f", sig)
	last := cs[len(cs)-1]
	assert.Equal(t, llm.FinishToolCalls, last.Choices[0].FinishReason)
	require.NotNil(t, last.Usage)
	assert.Equal(t, llm.Usage{PromptTokens: 420, CompletionTokens: 96, TotalTokens: 516}, *last.Usage)
	assert.Equal(t, *last.Usage, s.Usage())
}

// An exception event after the 200 status ends the stream with that
// exception as the upstream's error, after what came before it; a stream
// cut before messageStop is an error, never a complete answer.
func TestConverseStreamFailures(t *testing.T) {
	f := providertest.NewBedrock(t)
	p := newProvider(t, f)
	for _, tt := range []struct {
		name string
		resp providertest.Response
		kind llm.Kind
		msg  string
	}{
		{"model stream error", providertest.BedrockStreamCapture(t, "bedrock/stream_exception.json"), llm.KindUpstream, "the upstream provider failed"},
		{"throttling", providertest.BedrockStream(providertest.BedrockEvent("messageStart", map[string]any{"role": "assistant"}),
			providertest.BedrockException("throttlingException", "Too many tokens, please wait before trying again.")), llm.KindRateLimited, ""},
		{"validation", providertest.BedrockStream(providertest.BedrockException("validationException", "Input is too long for requested model.")), llm.KindContextLength, "Input is too long"},
		{"truncated", providertest.BedrockStreamCapture(t, "bedrock/stream_truncated.json"), llm.KindUpstream, "ended before completion"},
		{"no metadata", providertest.BedrockStream(providertest.BedrockEvent("messageStart", map[string]any{"role": "assistant"}),
			providertest.BedrockEvent("contentBlockDelta", map[string]any{"contentBlockIndex": 0, "delta": map[string]any{"text": "Hi"}}),
			providertest.BedrockEvent("messageStop", map[string]any{"stopReason": "end_turn"})), llm.KindUpstream, "ended before completion"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f.Enqueue(tt.resp)
			s, err := p.Chat(context.Background(), &llm.ChatRequest{Model: testModel, Stream: true, Messages: []llm.Message{user("story")}})
			require.NoError(t, err)
			_, err = collect(t, s)
			assertKind(t, err, tt.kind, tt.msg)
			_, again := s.Recv()
			assert.Error(t, again)
		})
	}
}

// An upstream that stops sending mid-stream is abandoned after the idle
// timeout; Close while Recv waits ends the Recv and the upstream request.
func TestConverseStreamIdleAndClose(t *testing.T) {
	f := providertest.NewBedrock(t)
	p := newProvider(t, f, func(c *Config) { c.StreamIdleTimeout = 100 * time.Millisecond })
	start := providertest.BedrockEvent("messageStart", map[string]any{"role": "assistant"})
	hold := make(chan struct{})
	defer close(hold)
	f.Enqueue(providertest.Response{SSE: start, Hold: hold, HoldAfter: len(start)})
	s, err := p.Chat(context.Background(), &llm.ChatRequest{Model: testModel, Stream: true, Messages: []llm.Message{user("hi")}})
	require.NoError(t, err)
	_, err = collect(t, s)
	assertKind(t, err, llm.KindUpstreamTimeout, "idle")

	p = newProvider(t, f)
	f.Enqueue(providertest.Response{SSE: start, Hold: hold, HoldAfter: len(start)})
	s, err = p.Chat(context.Background(), &llm.ChatRequest{Model: testModel, Stream: true, Messages: []llm.Message{user("hi")}})
	require.NoError(t, err)
	_, err = s.Recv()
	require.NoError(t, err)
	done := make(chan error)
	go func() {
		_, err := s.Recv()
		done <- err
	}()
	<-f.Canceled() // the first stream's cancellation
	require.NoError(t, s.Close())
	assert.ErrorIs(t, <-done, llm.ErrStreamClosed)
	<-f.Canceled()
}

// Exceptions answered with an error status take their kind from the one
// table of statuses; the message is relayed only for a refused request.
func TestErrors(t *testing.T) {
	f := providertest.NewBedrock(t)
	p := newProvider(t, f)
	for _, tt := range []struct {
		status          int
		exception, msg  string
		kind            llm.Kind
		public          string
		retryAfterIsSet bool
	}{
		{400, "ValidationException", "The provided model identifier is invalid.", llm.KindInvalidRequest, "The provided model identifier is invalid.", false},
		{400, "ValidationException", "Input is too long for requested model.", llm.KindContextLength, "Input is too long", false},
		{403, "AccessDeniedException", "You don't have access to the model with the specified model ID.", llm.KindUpstream, "rejected the gateway's credentials", false},
		{404, "ResourceNotFoundException", "Model not found.", llm.KindNotFound, "Model not found.", false},
		{408, "ModelTimeoutException", "Model has timed out in processing the request.", llm.KindUpstreamTimeout, "", false},
		{429, "ThrottlingException", "Too many requests, please wait before trying again.", llm.KindRateLimited, "", false},
		{400, "ServiceQuotaExceededException", "Your request exceeds the service quota for your account.", llm.KindRateLimited, "", false},
		{424, "ModelErrorException", "The model failed.", llm.KindUpstream, "", false},
		{500, "InternalServerException", "An internal server error occurred.", llm.KindUpstream, "", false},
		{503, "ServiceUnavailableException", "Bedrock is unable to process your request.", llm.KindUpstreamUnavailable, "", false},
	} {
		t.Run(tt.exception, func(t *testing.T) {
			f.Enqueue(providertest.BedrockError(tt.status, tt.exception, tt.msg))
			_, err := p.Chat(context.Background(), &llm.ChatRequest{Model: testModel, Messages: []llm.Message{user("hi")}})
			e := llm.AsError(err)
			require.NotNil(t, e, "%v", err)
			assert.Equal(t, tt.kind, e.Kind, "%v", err)
			assert.Equal(t, "bdr", e.Provider)
			assert.Contains(t, e.PublicMessage(), tt.public)
			if tt.kind != llm.KindContextLength {
				assert.Contains(t, e.Error(), tt.exception, "the exception is kept for the logs")
			}
		})
	}
}

// Bedrock model ids, inference profile ids and ARNs reach the upstream
// intact, the ARN's colons and slash escaped in one path segment.
func TestModelIDs(t *testing.T) {
	f := providertest.NewBedrock(t)
	p := newProvider(t, f)
	ids := []string{testModel, "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
		"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0",
		"arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0"}
	for _, id := range ids {
		s, err := p.Chat(context.Background(), &llm.ChatRequest{Model: id, Messages: []llm.Message{user("hi")}})
		require.NoError(t, err)
		_, err = collect(t, s)
		require.NoError(t, err)
	}
	assert.Equal(t, ids, f.Models())
	for _, r := range f.Requests() {
		assert.Equal(t, 3, strings.Count(r.Path, "/")-strings.Count(r.Path, "foundation-model/")-strings.Count(r.Path, "inference-profile/"), "path %s", r.Path)
	}
}

// Requests are signed with SigV4 for service bedrock in the region, with
// the session token of temporary credentials; a signature the service
// refuses is the gateway's credentials failing, not the client's fault.
func TestSigning(t *testing.T) {
	f := providertest.NewBedrock(t)
	p := newProvider(t, f, func(c *Config) { c.SessionToken = "FwoGZXIvYXdzEXAMPLETOKEN" })
	s, err := p.Chat(context.Background(), &llm.ChatRequest{Model: testModel, Messages: []llm.Message{user("hi")}})
	require.NoError(t, err)
	_, err = collect(t, s)
	require.NoError(t, err)
	h := f.Requests()[0].Header
	assert.Regexp(t, `^AWS4-HMAC-SHA256 Credential=`+testKeyID+`/\d{8}/us-east-1/bedrock/aws4_request, SignedHeaders=[a-z0-9;-]*x-amz-security-token[a-z0-9;-]*, Signature=[0-9a-f]{64}$`, h.Get("Authorization"))
	assert.Equal(t, "FwoGZXIvYXdzEXAMPLETOKEN", h.Get("X-Amz-Security-Token"))
	assert.NotEmpty(t, h.Get("X-Llmgw-Hop"), "the hop header goes too")

	wrong := newProvider(t, f, func(c *Config) { c.Region = "eu-west-1" })
	_, err = wrong.Chat(context.Background(), &llm.ChatRequest{Model: testModel, Messages: []llm.Message{user("hi")}})
	assertKind(t, err, llm.KindUpstream, "rejected the gateway's credentials")
}

// An upstream that echoes the gateway's credentials, in an answer, a
// stream or an error, never hands them to the client.
func TestSecretsRedacted(t *testing.T) {
	f := providertest.NewBedrock(t)
	p := newProvider(t, f, func(c *Config) { c.SessionToken = "FwoGZXIvYXdzEXAMPLETOKEN" })
	leak := "key " + testSecret + " token FwoGZXIvYXdzEXAMPLETOKEN id " + testKeyID
	f.Enqueue(providertest.Response{Body: providertest.BedrockConverseAnswer(leak, "end_turn", 1, 1)},
		providertest.BedrockConverseTextStream(leak, 1),
		providertest.BedrockError(400, "ValidationException", leak))
	for _, stream := range []bool{false, true} {
		s, err := p.Chat(context.Background(), &llm.ChatRequest{Model: testModel, Stream: stream, Messages: []llm.Message{user("hi")}})
		require.NoError(t, err)
		cs, err := collect(t, s)
		require.NoError(t, err)
		var acc llm.Accumulator
		for _, c := range cs {
			acc.Add(c)
		}
		text := acc.Response().Choices[0].Message.Text()
		assert.Contains(t, text, "[redacted]")
		for _, secret := range []string{testSecret, "FwoGZXIvYXdzEXAMPLETOKEN", testKeyID} {
			assert.NotContains(t, text, secret)
		}
	}
	_, err := p.Chat(context.Background(), &llm.ChatRequest{Model: testModel, Messages: []llm.Message{user("hi")}})
	require.Error(t, err)
	for _, secret := range []string{testSecret, "FwoGZXIvYXdzEXAMPLETOKEN", testKeyID} {
		assert.NotContains(t, err.Error(), secret)
		assert.NotContains(t, llm.AsError(err).PublicMessage(), secret)
	}
}

// An answer over the size limit is an upstream error, read no further.
func TestAnswerTooLarge(t *testing.T) {
	f := providertest.NewBedrock(t)
	p := newProvider(t, f)
	big := make([]byte, maxResponseBody+10)
	for i := range big {
		big[i] = ' '
	}
	copy(big, providertest.BedrockConverseAnswer("x", "end_turn", 1, 1))
	f.Enqueue(providertest.Response{Body: big})
	_, err := p.Chat(context.Background(), &llm.ChatRequest{Model: testModel, Messages: []llm.Message{user("hi")}})
	assertKind(t, err, llm.KindUpstream, "too large")
}

// A 200 answer that is not a Converse answer is a malformed answer, an
// upstream error, whatever its shape.
func TestMalformedAnswers(t *testing.T) {
	f := providertest.NewBedrock(t)
	p := newProvider(t, f)
	for _, body := range []string{`not json`, `{"output":{"message":{"role":"assistant","content":"text"}}}`, `[1,2]`, `{"output":{}}`,
		strings.Repeat(`{"a":`, 100000) + `1` + strings.Repeat(`}`, 100000)} {
		f.Enqueue(providertest.Response{Body: []byte(body)})
		_, err := p.Chat(context.Background(), &llm.ChatRequest{Model: testModel, Messages: []llm.Message{user("hi")}})
		e := llm.AsError(err)
		require.NotNil(t, e, "%v", err)
		assert.Equal(t, llm.KindUpstream, e.Kind, "%.80s: %v", body, err)
	}
}

// A stream that is not a well-formed event stream (a bad checksum, a
// message cut short, junk) ends with an upstream error.
func TestMalformedStreams(t *testing.T) {
	f := providertest.NewBedrock(t)
	p := newProvider(t, f)
	good := providertest.BedrockEvent("messageStart", map[string]any{"role": "assistant"})
	bad := append([]byte(nil), good...)
	bad[len(bad)-1] ^= 0xff // the message CRC
	for _, sse := range [][]byte{bad, good[:len(good)-5], []byte("data: {\"not\": \"an event stream\"}\n\n")} {
		f.Enqueue(providertest.Response{SSE: sse})
		s, err := p.Chat(context.Background(), &llm.ChatRequest{Model: testModel, Stream: true, Messages: []llm.Message{user("hi")}})
		if err == nil {
			_, err = collect(t, s)
		}
		e := llm.AsError(err)
		require.NotNil(t, e, "%v", err)
		assert.Equal(t, llm.KindUpstream, e.Kind, "%v", err)
	}
}

// Streams at once on one provider each read their own events: the
// SDK's client shares one event stream decoder between them unless each
// call has its own (ownCodec).
func TestConcurrentStreams(t *testing.T) {
	f := providertest.NewBedrock(t)
	for _, api := range []string{APIConverse, APIAnthropic} {
		p := newProvider(t, f, func(c *Config) { c.API = api })
		errs := make(chan error, 8)
		for i := range 8 {
			go func() {
				want := strings.Repeat(fmt.Sprintf("word%d ", i), 200) + "end"
				s, err := p.Chat(context.Background(), &llm.ChatRequest{Model: testModel, Stream: true, Messages: []llm.Message{user(want)}})
				if err != nil {
					errs <- err
					return
				}
				defer s.Close()
				var acc llm.Accumulator
				for {
					c, err := s.Recv()
					if err == io.EOF {
						break
					}
					if err != nil {
						errs <- err
						return
					}
					acc.Add(c)
				}
				if got := acc.Response().Choices[0].Message.Text(); got != want {
					errs <- fmt.Errorf("stream %d read another's events: %.60q", i, got)
					return
				}
				errs <- nil
			}()
		}
		for range 8 {
			assert.NoError(t, <-errs, api)
		}
	}
}

// A transport failure is a transport error: connection refused.
func TestUnreachable(t *testing.T) {
	f := providertest.NewBedrock(t)
	p := newProvider(t, f)
	f.Server.Close()
	_, err := p.Chat(context.Background(), &llm.ChatRequest{Model: testModel, Messages: []llm.Message{user("hi")}})
	e := llm.AsError(err)
	require.NotNil(t, e, "%v", err)
	assert.Contains(t, []llm.Kind{llm.KindUpstreamUnavailable, llm.KindUpstream}, e.Kind, "%v", err)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = p.Chat(ctx, &llm.ChatRequest{Model: testModel, Messages: []llm.Message{user("hi")}})
	assert.True(t, errors.Is(err, context.Canceled) || llm.AsError(err) != nil && llm.AsError(err).Kind == llm.KindCanceled, "%v", err)
	_ = http.StatusOK
}

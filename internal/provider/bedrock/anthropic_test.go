package bedrock

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/provider"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

func anthropicAPI(c *Config) { c.API = APIAnthropic }

// With api anthropic a chat goes to InvokeModel or
// InvokeModelWithResponseStream as an Anthropic Messages body: no model,
// no stream, anthropic_version bedrock-2023-05-31; the answer, and each
// stream chunk's Anthropic event, decoded by the Anthropic translation.
func TestAnthropicChat(t *testing.T) {
	f := providertest.NewBedrock(t)
	p := newProvider(t, f, anthropicAPI)
	for _, stream := range []bool{false, true} {
		s, err := p.Chat(context.Background(), &llm.ChatRequest{Model: testModel, Stream: stream, TopK: ptr(5),
			Messages: []llm.Message{{Role: llm.RoleSystem, Content: []llm.Part{llm.TextPart("Be brief.")}}, user("hello from the client")}})
		require.NoError(t, err)
		cs, err := collect(t, s)
		require.NoError(t, err)
		var acc llm.Accumulator
		for _, c := range cs {
			acc.Add(c)
		}
		r := acc.Response()
		assert.Equal(t, "hello from the client", r.Choices[0].Message.Text())
		assert.Equal(t, llm.FinishStop, r.Choices[0].FinishReason)
		u := s.Usage()
		assert.Equal(t, 4, u.CompletionTokens, "stream %v", stream)
		assert.Positive(t, u.PromptTokens)
	}
	reqs := f.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "/model/"+testModel+"/invoke", reqs[0].Path)
	assert.Equal(t, "/model/"+testModel+"/invoke-with-response-stream", reqs[1].Path)
	for _, r := range reqs {
		b := gjson.ParseBytes(r.Body)
		assert.Equal(t, AnthropicVersion, b.Get("anthropic_version").Str)
		assert.False(t, b.Get("model").Exists())
		assert.False(t, b.Get("stream").Exists())
		assert.Equal(t, "Be brief.", b.Get("system").String())
		assert.Equal(t, int64(5), b.Get("top_k").Int())
		assert.True(t, b.Get("max_tokens").Exists())
	}
}

// The fast path: an Anthropic client's body goes with only what Bedrock
// wants changed, the client's anthropic-beta list as anthropic_beta; the
// answer and the stream's events come back as Anthropic sent them, with
// their usage read.
func TestAnthropicForward(t *testing.T) {
	f := providertest.NewBedrock(t)
	var fw provider.Forwarder = Anthropic{newProvider(t, f, anthropicAPI)}
	assert.Equal(t, "anthropic", fw.Protocol())
	body := []byte(`{"model":"claude-sonnet-4","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"forward me"}],"metadata":{"user_id":"u1"}}`)
	ctx := provider.WithInbound(context.Background(), &provider.Inbound{AnthropicBeta: "interleaved-thinking-2025-05-14, context-1m-2025-08-07"})
	for _, stream := range []bool{false, true} {
		s, err := fw.Forward(ctx, &provider.Forward{Body: body, Model: testModel, Stream: stream})
		require.NoError(t, err)
		cs, err := collect(t, s)
		require.NoError(t, err)
		require.NotEmpty(t, cs)
		for _, c := range cs {
			assert.Equal(t, "anthropic", c.RawProtocol)
			assert.True(t, json.Valid(c.Raw), "%s", c.Raw)
		}
		if stream {
			assert.Equal(t, "message_start", gjson.GetBytes(cs[0].Raw, "type").Str)
			assert.Equal(t, "message_stop", gjson.GetBytes(cs[len(cs)-1].Raw, "type").Str)
		} else {
			assert.Equal(t, "forward me", gjson.GetBytes(cs[0].Raw, "content.0.text").Str)
		}
		assert.Equal(t, 2, s.Usage().CompletionTokens)
	}
	assert.Contains(t, string(body), `"model":"claude-sonnet-4"`, "the client's body was changed")
	for _, r := range f.Requests() {
		b := gjson.ParseBytes(r.Body)
		assert.Equal(t, []any{"interleaved-thinking-2025-05-14", "context-1m-2025-08-07"}, b.Get("anthropic_beta").Value())
		assert.Equal(t, "u1", b.Get("metadata.user_id").Str)
		assert.False(t, b.Get("model").Exists())
		assert.False(t, b.Get("stream").Exists())
	}
}

// An Anthropic error event inside the stream, and an exception event,
// end it with the upstream's error.
func TestAnthropicStreamErrors(t *testing.T) {
	f := providertest.NewBedrock(t)
	p := newProvider(t, f, anthropicAPI)
	start := providertest.BedrockChunk([]byte(`{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[],"stop_reason":null,"usage":{"input_tokens":3,"output_tokens":1}}}`))
	f.Enqueue(providertest.BedrockStream(start, providertest.BedrockChunk([]byte(`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`))),
		providertest.BedrockStream(start, providertest.BedrockException("throttlingException", "Too many tokens")),
		providertest.BedrockStream(start))
	for _, want := range []llm.Kind{llm.KindUpstreamUnavailable, llm.KindRateLimited, llm.KindUpstream} {
		s, err := p.Chat(context.Background(), &llm.ChatRequest{Model: testModel, Stream: true, Messages: []llm.Message{user("hi")}})
		require.NoError(t, err)
		_, err = collect(t, s)
		e := llm.AsError(err)
		require.NotNil(t, e, "%v", err)
		assert.Equal(t, want, e.Kind, "%v", err)
	}
}

// An error object in a 200 answer is the upstream's error; anything but
// a message is malformed.
func TestAnthropicUnaryErrors(t *testing.T) {
	f := providertest.NewBedrock(t)
	p := newProvider(t, f, anthropicAPI)
	f.Enqueue(providertest.Response{Body: []byte(`{"type":"error","error":{"type":"invalid_request_error","message":"messages: field required"}}`)},
		providertest.Response{Body: []byte(`{"type":"completion","completion":"x"}`)},
		providertest.BedrockError(400, "ValidationException", "Malformed input request: #: extraneous key [foo] is not permitted"))
	_, err := p.Chat(context.Background(), &llm.ChatRequest{Model: testModel, Messages: []llm.Message{user("hi")}})
	assertKind(t, err, llm.KindInvalidRequest, "messages: field required")
	_, err = p.Chat(context.Background(), &llm.ChatRequest{Model: testModel, Messages: []llm.Message{user("hi")}})
	assertKind(t, err, llm.KindUpstream, "malformed")
	_, err = p.Chat(context.Background(), &llm.ChatRequest{Model: testModel, Messages: []llm.Message{user("hi")}})
	assertKind(t, err, llm.KindInvalidRequest, "extraneous key [foo]")
}

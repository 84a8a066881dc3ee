package e2e

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	anthropic "github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/openai/openai-go/v3"
	ooption "github.com/openai/openai-go/v3/option"
	"github.com/tidwall/gjson"
	"go.uber.org/goleak"

	"github.com/llmgw/llmgw/internal/provider/providertest"
	"github.com/llmgw/llmgw/internal/provider/providertest/conformance"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
	)
}

// call is a tool call as an SDK hands it to its caller.
type call struct {
	ID, Name string
	Args     map[string]any
}

// wantCalls are the two parallel calls of the upstream captures, by upstream
// protocol: ids must survive translation exactly.
var wantCalls = map[string][]call{
	conformance.OpenAI: {
		{"call_7bnK1ZQ0mDd1rTfJ3bNvw0Ck", "get_weather", map[string]any{"location": "Paris, France", "unit": "celsius"}},
		{"call_Xq2Vb6Ln0sPq8YtR4mKd1EeZ", "get_weather", map[string]any{"location": "Zürich"}},
	},
	conformance.Anthropic: {
		{"toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather", map[string]any{"location": "Paris, France", "unit": "celsius"}},
		{"toolu_01B7sPqS8gXyJrTnVzWkD3mC", "get_weather", map[string]any{"location": "Zürich"}},
	},
}

func args(t *testing.T, raw string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatalf("arguments %q: %v", raw, err)
	}
	return m
}

// script queues the upstream's tool-call answer: the whole body, or the
// stream written a few bytes at a time.
func script(t *testing.T, h *conformance.Harness, upstream string, stream bool) {
	var r providertest.Response
	switch {
	case upstream == conformance.Anthropic && stream:
		r = providertest.Response{SSE: providertest.Load(t, "anthropic/stream_tool_use.sse"), Split: 7}
	case upstream == conformance.Anthropic:
		r = providertest.Response{Body: providertest.Load(t, "anthropic/message_tool_use.json")}
	case stream:
		r = providertest.Response{SSE: providertest.Load(t, "openai/stream_tool_calls.sse"), Split: 7}
	default:
		r = providertest.Response{Body: providertest.Load(t, "openai/chat_tool_calls.json")}
	}
	h.Fake(upstream).Enqueue(r)
}

func TestAnthropicSDK(t *testing.T) {
	for _, upstream := range conformance.Upstreams {
		for _, stream := range []bool{false, true} {
			name := "anthropic->" + upstream + map[bool]string{false: "/unary", true: "/stream"}[stream]
			t.Run(name, func(t *testing.T) {
				h := conformance.NewHarness(t)
				script(t, h, upstream, stream)
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				client := anthropic.NewClient(aoption.WithBaseURL(h.URL), aoption.WithAPIKey("sk-client"), aoption.WithMaxRetries(0))
				params := anthropic.MessageNewParams{
					Model:     anthropic.Model(conformance.ModelFor(upstream)),
					MaxTokens: 512,
					Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Weather in Paris and Zürich?"))},
					Tools: []anthropic.ToolUnionParam{{OfTool: &anthropic.ToolParam{
						Name:        "get_weather",
						Description: anthropic.String("Current weather in a city"),
						InputSchema: anthropic.ToolInputSchemaParam{
							Properties: map[string]any{"location": map[string]any{"type": "string"}, "unit": map[string]any{"type": "string"}},
							Required:   []string{"location"},
						},
					}}},
				}
				var msg *anthropic.Message
				if stream {
					s := client.Messages.NewStreaming(ctx, params)
					msg = &anthropic.Message{}
					events := 0
					for s.Next() {
						events++
						if err := msg.Accumulate(s.Current()); err != nil {
							t.Fatalf("accumulate: %v", err)
						}
					}
					if err := s.Err(); err != nil {
						t.Fatalf("stream: %v", err)
					}
					if events < 8 {
						t.Errorf("only %d events", events)
					}
				} else {
					var err error
					if msg, err = client.Messages.New(ctx, params); err != nil {
						t.Fatalf("messages.new: %v", err)
					}
				}
				var got []call
				for _, b := range msg.Content {
					if tu, ok := b.AsAny().(anthropic.ToolUseBlock); ok {
						got = append(got, call{tu.ID, tu.Name, args(t, string(tu.Input))})
					}
				}
				if !reflect.DeepEqual(got, wantCalls[upstream]) {
					t.Errorf("tool calls %+v, want %+v", got, wantCalls[upstream])
				}
				if msg.StopReason != anthropic.StopReasonToolUse || msg.Role != "assistant" || msg.ID == "" {
					t.Errorf("stop %q role %q id %q", msg.StopReason, msg.Role, msg.ID)
				}
				if msg.Usage.OutputTokens == 0 {
					t.Errorf("no output tokens in %+v", msg.Usage)
				}
				up := h.Fake(upstream).Requests()
				path := map[string]string{conformance.OpenAI: "tools.0.function.name", conformance.Anthropic: "tools.0.name"}[upstream]
				if len(up) != 1 || gjson.GetBytes(up[0].Body, path).String() != "get_weather" {
					t.Errorf("upstream got %d requests, the first with tools %s", len(up), gjson.GetBytes(up[0].Body, "tools").Raw)
				}
			})
		}
	}
}

func TestOpenAISDK(t *testing.T) {
	for _, upstream := range conformance.Upstreams {
		for _, stream := range []bool{false, true} {
			name := "openai->" + upstream + map[bool]string{false: "/unary", true: "/stream"}[stream]
			t.Run(name, func(t *testing.T) {
				h := conformance.NewHarness(t)
				script(t, h, upstream, stream)
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				client := openai.NewClient(ooption.WithBaseURL(h.URL+"/v1"), ooption.WithAPIKey("sk-client"), ooption.WithMaxRetries(0))
				params := openai.ChatCompletionNewParams{
					Model:    openai.ChatModel(conformance.ModelFor(upstream)),
					Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Weather in Paris and Zürich?")},
					Tools: []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{
						Name:        "get_weather",
						Description: openai.String("Current weather in a city"),
						Parameters: openai.FunctionParameters{
							"type":       "object",
							"properties": map[string]any{"location": map[string]any{"type": "string"}, "unit": map[string]any{"type": "string"}},
							"required":   []string{"location"},
						},
					})},
				}
				var choice openai.ChatCompletionChoice
				if stream {
					params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
					s := client.Chat.Completions.NewStreaming(ctx, params)
					acc := openai.ChatCompletionAccumulator{}
					finished := 0
					for s.Next() {
						if !acc.AddChunk(s.Current()) {
							t.Fatalf("the accumulator rejected chunk %s", s.Current().RawJSON())
						}
						if _, ok := acc.JustFinishedToolCall(); ok {
							finished++
						}
					}
					if err := s.Err(); err != nil {
						t.Fatalf("stream: %v", err)
					}
					if len(acc.Choices) != 1 {
						t.Fatalf("%d choices", len(acc.Choices))
					}
					choice = acc.Choices[0]
					if acc.Usage.CompletionTokens == 0 {
						t.Errorf("no usage: %+v", acc.Usage)
					}
					if finished == 0 {
						t.Error("the accumulator saw no tool call finish")
					}
				} else {
					resp, err := client.Chat.Completions.New(ctx, params)
					if err != nil {
						t.Fatalf("chat.completions.new: %v", err)
					}
					if len(resp.Choices) != 1 || resp.Usage.CompletionTokens == 0 {
						t.Fatalf("choices %d usage %+v", len(resp.Choices), resp.Usage)
					}
					choice = resp.Choices[0]
				}
				var got []call
				for _, tc := range choice.Message.ToolCalls {
					got = append(got, call{tc.ID, tc.Function.Name, args(t, tc.Function.Arguments)})
				}
				if !reflect.DeepEqual(got, wantCalls[upstream]) {
					t.Errorf("tool calls %+v, want %+v", got, wantCalls[upstream])
				}
				if choice.FinishReason != "tool_calls" {
					t.Errorf("finish_reason %q", choice.FinishReason)
				}
			})
		}
	}
}

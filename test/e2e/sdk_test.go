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

	"github.com/llmgw/llmgw/internal/conformance"
	"github.com/llmgw/llmgw/internal/provider/providertest"
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
// wire protocol: ids must survive translation exactly. Gemini and Ollama
// give their calls no id: the gateway makes them (see sameCalls).
var wantCalls = map[string][]call{
	conformance.OpenAI: {
		{"call_7bnK1ZQ0mDd1rTfJ3bNvw0Ck", "get_weather", map[string]any{"location": "Paris, France", "unit": "celsius"}},
		{"call_Xq2Vb6Ln0sPq8YtR4mKd1EeZ", "get_weather", map[string]any{"location": "Zürich"}},
	},
	conformance.Anthropic: {
		{"toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather", map[string]any{"location": "Paris, France", "unit": "celsius"}},
		{"toolu_01B7sPqS8gXyJrTnVzWkD3mC", "get_weather", map[string]any{"location": "Zürich"}},
	},
	conformance.Mistral: {
		{"D681PevKs", "get_weather", map[string]any{"location": "Paris, France", "unit": "celsius"}},
		{"q3Rz8LmWx", "get_weather", map[string]any{"location": "Zürich"}},
	},
	conformance.Cohere: {
		{"get_weather_k3xq8v2m7n1p", "get_weather", map[string]any{"location": "Paris, France", "unit": "celsius"}},
		{"get_weather_9wz4r6t0ybhs", "get_weather", map[string]any{"location": "Zürich"}},
	},
	conformance.Gemini: {
		{"", "get_weather", map[string]any{"location": "Paris, France", "unit": "celsius"}},
		{"", "get_weather", map[string]any{"location": "Zürich"}},
	},
	conformance.Ollama: {
		{"", "get_weather", map[string]any{"location": "Paris, France", "unit": "celsius"}},
		{"", "get_weather", map[string]any{"location": "Zürich"}},
	},
}

// sameCalls reports whether got are the calls of upstream u's capture: the
// same names and arguments in order, and the upstream's ids, or, where the
// upstream gives none, ids the gateway made, present and distinct.
func sameCalls(u string, got []call) bool {
	want := wantCalls[conformance.Wire(u)]
	if len(got) != len(want) {
		return false
	}
	seen := map[string]bool{}
	for i := range want {
		g, w := got[i], want[i]
		if w.ID == "" {
			if g.ID == "" || seen[g.ID] {
				return false
			}
			seen[g.ID] = true
			g.ID = ""
		}
		if !reflect.DeepEqual(g, w) {
			return false
		}
	}
	return true
}

func args(t *testing.T, raw string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatalf("arguments %q: %v", raw, err)
	}
	return m
}

// script queues the upstream's two answers: the tool calls, then the text
// that follows the tool results; each the whole body, or the stream written
// a few bytes at a time.
func script(t *testing.T, h *conformance.Harness, upstream string, stream bool) {
	var calls, text providertest.Response
	up := conformance.Wire(upstream)
	switch {
	case up == conformance.Anthropic && stream:
		calls = providertest.Response{SSE: providertest.Load(t, "anthropic/stream_tool_use.sse"), Split: 7}
		text = providertest.Response{SSE: providertest.Load(t, "anthropic/stream_text.sse"), Split: 7}
	case up == conformance.Anthropic:
		calls = providertest.Response{Body: providertest.Load(t, "anthropic/message_tool_use.json")}
		text = providertest.Response{Body: providertest.Load(t, "anthropic/message_text.json")}
	case stream:
		calls = providertest.Response{SSE: providertest.Load(t, conformance.StreamCapture(upstream, "stream_tool_calls.sse")), Split: 7}
		text = providertest.Response{SSE: providertest.Load(t, conformance.StreamCapture(upstream, "stream_text.sse")), Split: 7}
	default:
		calls = providertest.Response{Body: providertest.Load(t, up+"/chat_tool_calls.json")}
		text = providertest.Response{Body: providertest.Load(t, up+"/chat_text.json")}
	}
	h.Fake(upstream).Enqueue(calls, text)
}

// toolResults are the results the client sends back for the two calls, in
// order, and the question that follows them.
var toolResults = []string{"18 C, cloudy", "12 C, rain"}

const followUp = "Which one is warmer?"

func TestAnthropicSDK(t *testing.T) {
	for _, upstream := range sdkUpstreams {
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
				msg := anthropicTurn(ctx, t, client, params, stream)
				var got []call
				results := []anthropic.ContentBlockParamUnion{}
				for _, b := range msg.Content {
					if tu, ok := b.AsAny().(anthropic.ToolUseBlock); ok {
						got = append(got, call{tu.ID, tu.Name, args(t, string(tu.Input))})
						results = append(results, anthropic.NewToolResultBlock(tu.ID, toolResults[len(results)%len(toolResults)], false))
					}
				}
				if !sameCalls(upstream, got) {
					t.Fatalf("tool calls %+v, want %+v", got, wantCalls[conformance.Wire(upstream)])
				}
				if msg.StopReason != anthropic.StopReasonToolUse || msg.Role != "assistant" || msg.ID == "" {
					t.Errorf("stop %q role %q id %q", msg.StopReason, msg.Role, msg.ID)
				}
				if msg.Usage.OutputTokens == 0 {
					t.Errorf("no output tokens in %+v", msg.Usage)
				}
				up := h.Fake(upstream).Requests()
				if len(up) != 1 || gjson.GetBytes(up[0].Body, toolNamePath[conformance.Wire(upstream)]).String() != "get_weather" {
					t.Errorf("upstream got %d requests, the first with tools %s", len(up), gjson.GetBytes(up[0].Body, "tools").Raw)
				}

				// Second turn: the tool results go back with the call they
				// answer, and the text answer comes through.
				params.Messages = append(params.Messages, msg.ToParam(),
					anthropic.NewUserMessage(append(results, anthropic.NewTextBlock(followUp))...))
				final := anthropicTurn(ctx, t, client, params, stream)
				var text string
				for _, b := range final.Content {
					if tb, ok := b.AsAny().(anthropic.TextBlock); ok {
						text += tb.Text
					}
				}
				if text != conformance.CaptureText(upstream, stream) || final.StopReason != anthropic.StopReasonEndTurn {
					t.Errorf("second turn: text %q stop %q, want %q end_turn", text, final.StopReason, conformance.CaptureText(upstream, stream))
				}
				checkToolRoundTrip(t, h, upstream, got)
			})
		}
	}
}

// anthropicTurn sends params through the Anthropic SDK, streamed or not, and
// returns the message it assembles.
func anthropicTurn(ctx context.Context, t *testing.T, client anthropic.Client, params anthropic.MessageNewParams, stream bool) *anthropic.Message {
	t.Helper()
	if !stream {
		msg, err := client.Messages.New(ctx, params)
		if err != nil {
			t.Fatalf("messages.new: %v", err)
		}
		return msg
	}
	s := client.Messages.NewStreaming(ctx, params)
	msg := &anthropic.Message{}
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
	if events < 5 {
		t.Errorf("only %d events", events)
	}
	return msg
}

func TestOpenAISDK(t *testing.T) {
	for _, upstream := range sdkUpstreams {
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
				if stream {
					params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
				}
				choice := openaiTurn(ctx, t, client, params, stream)
				var got []call
				var results []openai.ChatCompletionMessageParamUnion
				for _, tc := range choice.Message.ToolCalls {
					got = append(got, call{tc.ID, tc.Function.Name, args(t, tc.Function.Arguments)})
					results = append(results, openai.ToolMessage(toolResults[len(results)%len(toolResults)], tc.ID))
				}
				if !sameCalls(upstream, got) {
					t.Fatalf("tool calls %+v, want %+v", got, wantCalls[conformance.Wire(upstream)])
				}
				if choice.FinishReason != "tool_calls" {
					t.Errorf("finish_reason %q", choice.FinishReason)
				}

				// Second turn: the assistant's calls, one tool message per
				// call, and a question; the text answer comes through.
				params.Messages = append(params.Messages, choice.Message.ToParam())
				params.Messages = append(params.Messages, results...)
				params.Messages = append(params.Messages, openai.UserMessage(followUp))
				final := openaiTurn(ctx, t, client, params, stream)
				if final.Message.Content != conformance.CaptureText(upstream, stream) || final.FinishReason != "stop" {
					t.Errorf("second turn: content %q finish %q, want %q stop", final.Message.Content, final.FinishReason, conformance.CaptureText(upstream, stream))
				}
				checkToolRoundTrip(t, h, upstream, got)
			})
		}
	}
}

// openaiTurn sends params through the OpenAI SDK, streamed or not, and
// returns the one choice it assembles; usage must be reported either way.
func openaiTurn(ctx context.Context, t *testing.T, client openai.Client, params openai.ChatCompletionNewParams, stream bool) openai.ChatCompletionChoice {
	t.Helper()
	if !stream {
		resp, err := client.Chat.Completions.New(ctx, params)
		if err != nil {
			t.Fatalf("chat.completions.new: %v", err)
		}
		if len(resp.Choices) != 1 || resp.Usage.CompletionTokens == 0 {
			t.Fatalf("choices %d usage %+v", len(resp.Choices), resp.Usage)
		}
		return resp.Choices[0]
	}
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
	if acc.Usage.CompletionTokens == 0 {
		t.Errorf("no usage: %+v", acc.Usage)
	}
	if len(acc.Choices[0].Message.ToolCalls) > 0 && finished == 0 {
		t.Error("the accumulator saw no tool call finish")
	}
	return acc.Choices[0]
}

// toolNamePath is where an upstream's request names its first tool, by
// wire protocol.
var toolNamePath = map[string]string{
	conformance.OpenAI: "tools.0.function.name", conformance.Anthropic: "tools.0.name",
	conformance.Mistral: "tools.0.function.name", conformance.Ollama: "tools.0.function.name",
	conformance.Cohere: "tools.0.function.name", conformance.Gemini: "tools.0.functionDeclarations.0.name",
}

// sdkUpstreams are the upstreams the official SDKs reach through the
// gateway: every provider of the conformance suite.
var sdkUpstreams = conformance.Upstreams

package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/shared"
	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/provider/providertest"
)

const responsesAnthropicConfig = `
providers:
  - {name: ant, type: anthropic, base_url: "${ANTHROPIC_URL}", api_key: "sk-ant-upstream"}
models:
  - name: claude
    targets: [{provider: ant, model: "claude-sonnet-4-5"}]
`

// responsesAnthropicGateway serves a model of an Anthropic upstream, the
// Responses API translated to Messages, and returns an SDK client of it.
func responsesAnthropicGateway(t *testing.T) (openai.Client, *providertest.Anthropic) {
	t.Helper()
	ant := providertest.NewAnthropic(t)
	return responsesClient(t, responsesAnthropicConfig, "ANTHROPIC_URL", ant.URL), ant
}

// The Responses client on a Claude model: a whole response and a stream,
// each stored and read back.
func TestOpenAISDKResponsesAnthropic(t *testing.T) {
	client, ant := responsesAnthropicGateway(t)
	ctx := sdkCtx(t)
	resp, err := client.Responses.New(ctx, responses.ResponseNewParams{
		Model: "claude", Instructions: openai.String("Be brief."), MaxOutputTokens: openai.Int(300),
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hello claude")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.OutputText() != "hello claude" || resp.Status != "completed" || resp.Usage.OutputTokens == 0 || !strings.HasPrefix(resp.ID, "resp_") {
		t.Fatalf("response %s", resp.RawJSON())
	}
	up := gjson.ParseBytes(ant.Requests()[0].Body)
	if up.Get("max_tokens").Int() != 300 || !strings.Contains(up.Get("system").Raw, "Be brief.") || up.Get("messages.0.role").Str != "user" {
		t.Errorf("upstream body %s", up.Raw)
	}
	if got, err := client.Responses.Get(ctx, resp.ID, responses.ResponseGetParams{}); err != nil || got.OutputText() != resp.OutputText() {
		t.Fatalf("get: %v", err)
	}

	stream := client.Responses.NewStreaming(ctx, responses.ResponseNewParams{
		Model: "claude", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("stream these words please")},
	})
	defer stream.Close()
	var text strings.Builder
	var final responses.Response
	for stream.Next() {
		switch ev := stream.Current(); ev.Type {
		case "response.output_text.delta":
			text.WriteString(ev.Delta)
		case "response.completed":
			final = ev.AsResponseCompleted().Response
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if text.String() != "stream these words please" || final.OutputText() != text.String() || final.Usage.OutputTokens == 0 {
		t.Fatalf("text %q, final %s", text.String(), final.RawJSON())
	}
	if got, err := client.Responses.Get(ctx, final.ID, responses.ResponseGetParams{}); err != nil || got.OutputText() != text.String() {
		t.Fatalf("get: %v", err)
	}
}

// A function round trip on a Claude model, continued with
// previous_response_id (the gateway holds the history) or with the whole
// history and store false: the second Messages request pairs each
// tool_result with its tool_use by the id the client was given.
func TestOpenAISDKResponsesAnthropicTools(t *testing.T) {
	for _, previous := range []bool{true, false} {
		t.Run(map[bool]string{true: "previous_response_id", false: "whole history"}[previous], func(t *testing.T) {
			client, ant := responsesAnthropicGateway(t)
			ant.Enqueue(providertest.Response{Body: providertest.Load(t, "anthropic/message_tool_use.json")},
				providertest.Response{Body: providertest.Load(t, "anthropic/message_text.json")})
			ctx := sdkCtx(t)
			input := responses.ResponseInputParam{responses.ResponseInputItemParamOfMessage("Weather in Paris and Zürich?", responses.EasyInputMessageRoleUser)}
			params := responses.ResponseNewParams{
				Model: "claude", Tools: []responses.ToolUnionParam{weatherTool}, Store: openai.Bool(previous),
				Input: responses.ResponseNewParamsInputUnion{OfInputItemList: input},
			}
			first, err := client.Responses.New(ctx, params)
			if err != nil {
				t.Fatal(err)
			}
			var calls []responses.ResponseFunctionToolCall
			for _, item := range first.Output {
				if item.Type == "function_call" {
					calls = append(calls, item.AsFunctionCall())
				}
			}
			if len(calls) != 2 || calls[0].CallID != "toolu_01T1x1fJ34qAmk2tNTrN7Up6" || calls[1].CallID != "toolu_01B7sPqS8gXyJrTnVzWkD3mC" ||
				!strings.Contains(calls[1].Arguments, "Zürich") {
				t.Fatalf("first turn %s", first.RawJSON())
			}
			outputs := responses.ResponseInputParam{callOutput(calls[0].CallID, "18 C"), callOutput(calls[1].CallID, "12 C")}
			if previous {
				params.PreviousResponseID = openai.String(first.ID)
				params.Input = responses.ResponseNewParamsInputUnion{OfInputItemList: outputs}
			} else {
				for _, item := range first.Output {
					input = append(input, asInput(t, item))
				}
				params.Input = responses.ResponseNewParamsInputUnion{OfInputItemList: append(input, outputs...)}
			}
			second, err := client.Responses.New(ctx, params)
			if err != nil {
				t.Fatal(err)
			}
			if second.OutputText() != "Hi! My name is Claude." || (previous && second.PreviousResponseID != first.ID) {
				t.Fatalf("second turn %s", second.RawJSON())
			}
			msgs := gjson.GetBytes(ant.Requests()[1].Body, "messages").Array()
			if len(msgs) != 3 || msgs[1].Get("role").Str != "assistant" || msgs[2].Get("role").Str != "user" {
				t.Fatalf("second upstream messages %s", ant.Requests()[1].Body)
			}
			var uses, results []string
			for _, b := range msgs[1].Get("content").Array() {
				if b.Get("type").Str == "tool_use" {
					uses = append(uses, b.Get("id").Str)
				}
			}
			for _, b := range msgs[2].Get("content").Array() {
				if b.Get("type").Str == "tool_result" {
					results = append(results, b.Get("tool_use_id").Str+"="+resultText(b.Get("content")))
				}
			}
			if strings.Join(uses, ",") != calls[0].CallID+","+calls[1].CallID ||
				strings.Join(results, ",") != calls[0].CallID+"=18 C,"+calls[1].CallID+"=12 C" {
				t.Errorf("tool_use %q, tool_result %q", uses, results)
			}
		})
	}
}

// The agent shape on a Claude model: streamed, store false, the encrypted
// reasoning asked for, function tools, and the whole history sent back
// each turn. Claude's thinking comes out as a reasoning item whose
// encrypted_content is its signature, and goes back to Claude as the same
// thinking block.
func TestOpenAISDKResponsesAnthropicAgent(t *testing.T) {
	client, ant := responsesAnthropicGateway(t)
	ant.Enqueue(providertest.Response{SSE: providertest.Load(t, "anthropic/stream_thinking.sse"), Split: 9})
	ctx := sdkCtx(t)
	input := responses.ResponseInputParam{responses.ResponseInputItemParamOfMessage("What is 27 * 453?", responses.EasyInputMessageRoleUser)}
	params := func() responses.ResponseNewParams {
		return responses.ResponseNewParams{
			Model: "claude", Store: openai.Bool(false), Tools: []responses.ToolUnionParam{weatherTool},
			Reasoning: shared.ReasoningParam{Effort: shared.ReasoningEffortMedium},
			Include:   []responses.ResponseIncludable{responses.ResponseIncludableReasoningEncryptedContent},
			Input:     responses.ResponseNewParamsInputUnion{OfInputItemList: input},
		}
	}
	stream := client.Responses.NewStreaming(ctx, params())
	var first responses.Response
	for stream.Next() {
		if ev := stream.Current(); ev.Type == "response.completed" {
			first = ev.AsResponseCompleted().Response
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	stream.Close()
	if len(first.Output) != 2 || first.Output[0].Type != "reasoning" || first.OutputText() != "27 * 453 = 12,231" {
		t.Fatalf("first turn %s", first.RawJSON())
	}
	reasoning := first.Output[0].AsReasoning()
	if !strings.HasPrefix(reasoning.EncryptedContent, "EqQBCgIYAhIM") || len(reasoning.Summary) == 0 {
		t.Fatalf("reasoning item %s", reasoning.RawJSON())
	}
	if up := gjson.GetBytes(ant.Requests()[0].Body, "thinking.type").Str; up != "enabled" {
		t.Errorf("reasoning.effort did not reach Claude as thinking: %s", ant.Requests()[0].Body)
	}
	for _, item := range first.Output {
		input = append(input, asInput(t, item))
	}
	input = append(input, responses.ResponseInputItemParamOfMessage("And times two?", responses.EasyInputMessageRoleUser))
	second := client.Responses.NewStreaming(ctx, params())
	for second.Next() {
	}
	if err := second.Err(); err != nil {
		t.Fatal(err)
	}
	second.Close()
	up := gjson.GetBytes(ant.Requests()[1].Body, "messages.1")
	block := up.Get("content.0")
	if up.Get("role").Str != "assistant" || block.Get("type").Str != "thinking" || block.Get("signature").Str != reasoning.EncryptedContent ||
		!strings.Contains(block.Get("thinking").Str, "453 = 400 + 50 + 3") {
		t.Errorf("the reasoning did not go back as Claude's thinking block: %s", ant.Requests()[1].Body)
	}
	if _, err := client.Responses.Get(ctx, first.ID, responses.ResponseGetParams{}); err == nil {
		t.Error("a store:false response was stored")
	}
}

// asInput is an output item sent back as an input item, as agents send
// their history.
func asInput(t *testing.T, item responses.ResponseOutputItemUnion) responses.ResponseInputItemUnionParam {
	t.Helper()
	switch item.Type {
	case "message":
		p := item.AsMessage().ToParam()
		return responses.ResponseInputItemUnionParam{OfOutputMessage: &p}
	case "function_call":
		p := item.AsFunctionCall().ToParam()
		return responses.ResponseInputItemUnionParam{OfFunctionCall: &p}
	case "reasoning":
		p := item.AsReasoning().ToParam()
		return responses.ResponseInputItemUnionParam{OfReasoning: &p}
	}
	t.Fatalf("output item of type %s", item.Type)
	return responses.ResponseInputItemUnionParam{}
}

// Structured output on a Claude model: text.format json_schema becomes
// Claude's output_config.format, and the JSON answer comes back.
func TestOpenAISDKResponsesAnthropicStructured(t *testing.T) {
	client, ant := responsesAnthropicGateway(t)
	ctx := sdkCtx(t)
	resp, err := client.Responses.New(ctx, responses.ResponseNewParams{
		Model: "claude", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String(`{"text":"structured please"}`)},
		Text: responses.ResponseTextConfigParam{Format: responses.ResponseFormatTextConfigParamOfJSONSchema("answer", map[string]any{
			"type": "object", "properties": map[string]any{"text": map[string]any{"type": "string"}}, "required": []string{"text"},
		})},
	})
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Text string }
	if err := json.Unmarshal([]byte(resp.OutputText()), &v); err != nil || v.Text != "structured please" {
		t.Fatalf("output %q: %v", resp.OutputText(), err)
	}
	up := gjson.GetBytes(ant.Requests()[0].Body, "output_config.format")
	if up.Get("type").Str != "json_schema" || up.Get("schema.properties.text.type").Str != "string" {
		t.Errorf("upstream body %s", ant.Requests()[0].Body)
	}
}

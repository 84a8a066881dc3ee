package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	ooption "github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/shared"
	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/provider/providertest"
	"github.com/llmgw/llmgw/internal/server"
	"github.com/llmgw/llmgw/internal/store/sqlite"
)

const responsesConfig = `
providers:
  - {name: oai, type: openai, base_url: "${OPENAI_URL}", api_key: "sk-upstream"}
models:
  - name: gpt
    targets: [{provider: oai, model: "gpt-4o-mini"}]
`

// responsesGateway serves responsesConfig in front of a fake OpenAI, its
// responses stored in a real SQLite store, and returns an SDK client of it.
func responsesGateway(t *testing.T) (openai.Client, *providertest.OpenAI) {
	t.Helper()
	oai := providertest.NewOpenAI(t)
	return responsesClient(t, responsesConfig, "OPENAI_URL", oai.URL), oai
}

// responsesClient serves yaml, whose variable name is url, with its
// responses in a real SQLite store, and returns an SDK client of it.
func responsesClient(t *testing.T, yaml, name, url string) openai.Client {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml), func(k string) (string, bool) { return url, k == name })
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "llmgw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	snap, err := gateway.Compile(cfg, gateway.Options{Responses: db.Responses()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(snap, slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(srv.Close)
	return openai.NewClient(ooption.WithBaseURL(srv.URL+"/v1"), ooption.WithAPIKey("sk-client"), ooption.WithMaxRetries(0))
}

func sdkCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// The SDK creates a response, reads it back, lists its input and deletes
// it; then the response is gone.
func TestOpenAISDKResponsesUnary(t *testing.T) {
	client, _ := responsesGateway(t)
	ctx := sdkCtx(t)
	resp, err := client.Responses.New(ctx, responses.ResponseNewParams{
		Model: "gpt", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hello through the gateway")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.OutputText() != "hello through the gateway" || resp.Usage.InputTokens == 0 || resp.Usage.InputTokensDetails.CachedTokens != 2 {
		t.Fatalf("response %s", resp.RawJSON())
	}
	got, err := client.Responses.Get(ctx, resp.ID, responses.ResponseGetParams{})
	if err != nil || got.ID != resp.ID || got.OutputText() != resp.OutputText() {
		t.Fatalf("get: %v %+v", err, got)
	}
	page, err := client.Responses.InputItems.List(ctx, resp.ID, responses.InputItemListParams{})
	if err != nil || len(page.Data) != 1 || page.Data[0].Type != "message" || page.Data[0].ID == "" || page.HasMore {
		t.Fatalf("input items: %v %s", err, page.RawJSON())
	}
	if err := client.Responses.Delete(ctx, resp.ID); err != nil {
		t.Fatal(err)
	}
	_, err = client.Responses.Get(ctx, resp.ID, responses.ResponseGetParams{})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
		t.Fatalf("get after delete: %v", err)
	}
}

// The SDK's stream iterates the events and accumulates the text; the
// completed response is stored.
func TestOpenAISDKResponsesStream(t *testing.T) {
	client, _ := responsesGateway(t)
	ctx := sdkCtx(t)
	stream := client.Responses.NewStreaming(ctx, responses.ResponseNewParams{
		Model: "gpt", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("stream me these words")},
	})
	defer stream.Close()
	var text strings.Builder
	var final responses.Response
	for stream.Next() {
		ev := stream.Current()
		switch ev.Type {
		case "response.output_text.delta":
			text.WriteString(ev.Delta)
		case "response.completed":
			final = ev.AsResponseCompleted().Response
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if text.String() != "stream me these words" || final.OutputText() != text.String() || final.Usage.OutputTokens != 4 {
		t.Fatalf("text %q, final %s", text.String(), final.RawJSON())
	}
	if got, err := client.Responses.Get(ctx, final.ID, responses.ResponseGetParams{}); err != nil || got.OutputText() != text.String() {
		t.Fatalf("get: %v", err)
	}
}

var weatherTool = responses.ToolParamOfFunction("get_weather", map[string]any{
	"type": "object", "properties": map[string]any{"input": map[string]any{"type": "string"}}, "required": []string{"input"},
}, false)

// A function call round trip continued with previous_response_id: the
// second turn sends only the call's output.
func TestOpenAISDKResponsesToolsWithPrevious(t *testing.T) {
	client, oai := responsesGateway(t)
	ctx := sdkCtx(t)
	first, err := client.Responses.New(ctx, responses.ResponseNewParams{
		Model: "gpt", Tools: []responses.ToolUnionParam{weatherTool},
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("weather in Paris")},
	})
	if err != nil {
		t.Fatal(err)
	}
	fc := first.Output[0].AsFunctionCall()
	if fc.Name != "get_weather" || !strings.Contains(fc.Arguments, "weather in Paris") {
		t.Fatalf("first turn %s", first.RawJSON())
	}
	second, err := client.Responses.New(ctx, responses.ResponseNewParams{
		Model: "gpt", Tools: []responses.ToolUnionParam{weatherTool}, PreviousResponseID: openai.String(first.ID),
		Input: responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
			callOutput(fc.CallID, "18 C and sunny"),
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if second.OutputText() != "18 C and sunny" || second.PreviousResponseID != first.ID {
		t.Fatalf("second turn %s", second.RawJSON())
	}
	up := oai.Requests()[1].Body
	if gjson.GetBytes(up, "previous_response_id").Exists() || gjson.GetBytes(up, "input.#").Int() != 3 ||
		gjson.GetBytes(up, "input.1.call_id").Str != fc.CallID {
		t.Errorf("upstream body of the second turn: %s", up)
	}
}

// The agent shape: no state at the gateway (store false), the whole
// history sent each turn with the encrypted reasoning asked for and sent
// back, as the upstream received it.
func TestOpenAISDKResponsesStatelessAgent(t *testing.T) {
	client, oai := responsesGateway(t)
	ctx := sdkCtx(t)
	input := responses.ResponseInputParam{responses.ResponseInputItemParamOfMessage("weather in Paris", responses.EasyInputMessageRoleUser)}
	params := func() responses.ResponseNewParams {
		return responses.ResponseNewParams{
			Model: "gpt", Store: openai.Bool(false), Tools: []responses.ToolUnionParam{weatherTool},
			Reasoning: shared.ReasoningParam{Effort: shared.ReasoningEffortLow},
			Include:   []responses.ResponseIncludable{responses.ResponseIncludableReasoningEncryptedContent},
			Input:     responses.ResponseNewParamsInputUnion{OfInputItemList: input},
		}
	}
	first, err := client.Responses.New(ctx, params())
	if err != nil {
		t.Fatal(err)
	}
	reasoning := first.Output[0].AsReasoning()
	fc := first.Output[1].AsFunctionCall()
	if reasoning.EncryptedContent == "" || fc.CallID == "" {
		t.Fatalf("first turn %s", first.RawJSON())
	}
	rp, fp := reasoning.ToParam(), fc.ToParam()
	input = append(input,
		responses.ResponseInputItemUnionParam{OfReasoning: &rp},
		responses.ResponseInputItemUnionParam{OfFunctionCall: &fp},
		callOutput(fc.CallID, "18 C"))
	second, err := client.Responses.New(ctx, params())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(second.OutputText(), "18 C") {
		t.Fatalf("second turn %s", second.RawJSON())
	}
	up := oai.Requests()[1].Body
	if gjson.GetBytes(up, "input.1.encrypted_content").Str != reasoning.EncryptedContent || gjson.GetBytes(up, "store").Bool() {
		t.Errorf("the history did not reach the upstream as sent: %s", up)
	}
	if _, err := client.Responses.Get(ctx, second.ID, responses.ResponseGetParams{}); err == nil {
		t.Error("a store:false response was stored")
	}
}

// Structured output: text.format json_schema reaches the upstream and the
// JSON answer comes back.
func TestOpenAISDKResponsesStructured(t *testing.T) {
	client, oai := responsesGateway(t)
	ctx := sdkCtx(t)
	resp, err := client.Responses.New(ctx, responses.ResponseNewParams{
		Model: "gpt", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String(`{"text":"structured please"}`)},
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
	if gjson.GetBytes(oai.Requests()[0].Body, "text.format.name").Str != "answer" {
		t.Errorf("upstream body %s", oai.Requests()[0].Body)
	}
}

// callOutput is the function_call_output item of a call.
func callOutput(callID, output string) responses.ResponseInputItemUnionParam {
	item := responses.ResponseInputItemParamOfFunctionCallOutput(output)
	item.OfFunctionCallOutput.CallID = openai.String(callID)
	return item
}

package e2e

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	anthropic "github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/conformance"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// A message thread continued toward a model served by OpenAI gets what
// Anthropic answers for a thread it cannot continue, a 404 not_found_error,
// as the Anthropic SDK sees it; the replay that follows, the whole
// conversation with a new thread, is served, and thread is named as
// dropped. (The SDK version here has no thread support of its own: the test
// sends the field the way the helpers do.)
func TestAnthropicSDKThreadTowardOpenAI(t *testing.T) {
	h := conformance.NewHarness(t)
	h.OpenAI.Enqueue(providertest.Response{Body: providertest.Load(t, "openai/chat_text.json")})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client := anthropic.NewClient(aoption.WithBaseURL(h.URL), aoption.WithAPIKey("sk-client"), aoption.WithMaxRetries(0))
	model := anthropic.Model(conformance.ModelFor(conformance.OpenAI))
	toolResult := anthropic.NewUserMessage(anthropic.NewToolResultBlock("toolu_01A09q90qw90lq917835lq9", "15 degrees", false))

	_, err := client.Messages.New(ctx, anthropic.MessageNewParams{
		Model: model, MaxTokens: 64, Messages: []anthropic.MessageParam{toolResult},
	}, aoption.WithJSONSet("thread", map[string]any{"type": "continue", "previous_message_id": "msg_013Zva2CMHLNnXjNJJKqJ2EF"}))
	var apiErr *anthropic.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v (%T), want an *anthropic.Error", err, err)
	}
	if apiErr.StatusCode != http.StatusNotFound || string(apiErr.Type()) != "not_found_error" {
		t.Fatalf("status %d type %q, want 404 not_found_error", apiErr.StatusCode, apiErr.Type())
	}
	if n := len(h.OpenAI.Requests()); n != 0 {
		t.Fatalf("the thread continuation reached the upstream %d times", n)
	}

	var resp *http.Response
	full := []anthropic.MessageParam{
		anthropic.NewUserMessage(anthropic.NewTextBlock("Weather in Paris?")),
		anthropic.NewAssistantMessage(anthropic.NewToolUseBlock("toolu_01A09q90qw90lq917835lq9", map[string]any{"location": "Paris"}, "get_weather")),
		toolResult,
	}
	msg, err := client.Messages.New(ctx, anthropic.MessageNewParams{
		Model: model, MaxTokens: 64, Messages: full,
		Tools: []anthropic.ToolUnionParam{{OfTool: &anthropic.ToolParam{Name: "get_weather", InputSchema: anthropic.ToolInputSchemaParam{
			Properties: map[string]any{"location": map[string]any{"type": "string"}}}}}},
	}, aoption.WithJSONSet("thread", map[string]any{"type": "create"}), aoption.WithResponseInto(&resp))
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	if len(msg.Content) == 0 {
		t.Fatal("replay answered no content")
	}
	if got := resp.Header.Get("x-llmgw-dropped-params"); got != "thread" {
		t.Errorf("x-llmgw-dropped-params %q, want thread", got)
	}
	reqs := h.OpenAI.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d upstream requests", len(reqs))
	}
	up := gjson.ParseBytes(reqs[0].Body)
	if up.Get("thread").Exists() || up.Get("messages.#").Int() != 3 {
		t.Errorf("upstream body %s, want the 3 messages of the conversation and no thread", up.Raw)
	}
}

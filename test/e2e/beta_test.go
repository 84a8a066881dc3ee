package e2e

import (
	"context"
	"testing"
	"time"

	anthropic "github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"

	"github.com/llmgw/llmgw/internal/conformance"
)

// The betas an Anthropic SDK asks for reach an Anthropic upstream through
// the gateway, with the SDK's anthropic-version.
func TestAnthropicSDKBetas(t *testing.T) {
	h := conformance.NewHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client := anthropic.NewClient(aoption.WithBaseURL(h.URL), aoption.WithAPIKey("sk-client"), aoption.WithMaxRetries(0))
	_, err := client.Beta.Messages.New(ctx, anthropic.BetaMessageNewParams{
		Model:     anthropic.Model(conformance.ModelFor(conformance.Anthropic)),
		MaxTokens: 16,
		Messages:  []anthropic.BetaMessageParam{anthropic.NewBetaUserMessage(anthropic.NewBetaTextBlock("hi"))},
		Betas:     []anthropic.AnthropicBeta{"interleaved-thinking-2025-05-14", "context-1m-2025-08-07"},
	})
	if err != nil {
		t.Fatal(err)
	}
	reqs := h.Anthropic.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d upstream requests", len(reqs))
	}
	if got, want := reqs[0].Header.Get("anthropic-beta"), "interleaved-thinking-2025-05-14,context-1m-2025-08-07"; got != want {
		t.Errorf("upstream anthropic-beta %q, want %q", got, want)
	}
	if got := reqs[0].Header.Get("anthropic-version"); got != "2023-06-01" {
		t.Errorf("upstream anthropic-version %q", got)
	}
}

package e2e

import (
	"context"
	"errors"
	"testing"
	"time"

	anthropic "github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/openai/openai-go/v3"
	ooption "github.com/openai/openai-go/v3/option"

	"github.com/llmgw/llmgw/internal/conformance"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// upstreamError queues status with the capture name of upstream's protocol,
// for every attempt the gateway may make.
func upstreamError(t *testing.T, h *conformance.Harness, upstream string, status int, name string) {
	r := providertest.Response{Status: status, Body: providertest.Load(t, upstream+"/"+name)}
	h.Fake(upstream).Enqueue(r, r, r, r)
}

// An upstream's 404 reaches the OpenAI SDK as a 404 (its NotFoundError)
// from either upstream, and an upstream 400's code and param survive when
// the upstream speaks OpenAI.
func TestOpenAISDKUpstreamErrors(t *testing.T) {
	for _, tc := range []struct {
		name, upstream, capture string
		status                  int
		code, param             string
	}{
		{"404 from openai", conformance.OpenAI, "error_404.json", 404, "model_not_found", ""},
		{"404 from anthropic", conformance.Anthropic, "error_404.json", 404, "model_not_found", ""},
		{"400 param from openai", conformance.OpenAI, "error_400_param.json", 400, "invalid_value", "temperature"},
		{"400 from anthropic", conformance.Anthropic, "error_400.json", 400, "invalid_request_error", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := conformance.NewHarness(t)
			upstreamError(t, h, tc.upstream, tc.status, tc.capture)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			client := openai.NewClient(ooption.WithBaseURL(h.URL+"/v1"), ooption.WithAPIKey("sk-client"), ooption.WithMaxRetries(0))
			_, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
				Model:    openai.ChatModel(conformance.ModelFor(tc.upstream)),
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
			})
			var apiErr *openai.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("error %v (%T), want an *openai.Error", err, err)
			}
			if apiErr.StatusCode != tc.status || apiErr.Code != tc.code || apiErr.Param != tc.param || apiErr.Type != "invalid_request_error" {
				t.Errorf("status %d type %q code %q param %q, want %d invalid_request_error %q %q",
					apiErr.StatusCode, apiErr.Type, apiErr.Code, apiErr.Param, tc.status, tc.code, tc.param)
			}
		})
	}
}

// An upstream's 404 reaches the Anthropic SDK as a 404 not_found_error from
// either upstream.
func TestAnthropicSDKUpstreamErrors(t *testing.T) {
	for _, tc := range []struct {
		name, upstream, capture string
		status                  int
		typ                     string
	}{
		{"404 from anthropic", conformance.Anthropic, "error_404.json", 404, "not_found_error"},
		{"404 from openai", conformance.OpenAI, "error_404.json", 404, "not_found_error"},
		{"400 from openai", conformance.OpenAI, "error_400_param.json", 400, "invalid_request_error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := conformance.NewHarness(t)
			upstreamError(t, h, tc.upstream, tc.status, tc.capture)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			client := anthropic.NewClient(aoption.WithBaseURL(h.URL), aoption.WithAPIKey("sk-client"), aoption.WithMaxRetries(0))
			_, err := client.Messages.New(ctx, anthropic.MessageNewParams{
				Model:     anthropic.Model(conformance.ModelFor(tc.upstream)),
				MaxTokens: 16,
				Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))},
			})
			var apiErr *anthropic.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("error %v (%T), want an *anthropic.Error", err, err)
			}
			if apiErr.StatusCode != tc.status || string(apiErr.Type()) != tc.typ {
				t.Errorf("status %d type %q, want %d %q", apiErr.StatusCode, apiErr.Type(), tc.status, tc.typ)
			}
		})
	}
}

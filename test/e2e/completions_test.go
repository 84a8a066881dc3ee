package e2e

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	ooption "github.com/openai/openai-go/v3/option"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/provider/providertest"
	"github.com/llmgw/llmgw/internal/server"
)

const completionsConfig = `
providers:
  - name: oai
    type: openai
    base_url: "${OPENAI_URL}"
    api_key: "sk-upstream-openai"
  - name: ant
    type: anthropic
    base_url: "${ANTHROPIC_URL}"
    api_key: "sk-ant-upstream"
models:
  - name: instruct
    targets: [{provider: oai, model: "gpt-3.5-turbo-instruct"}]
  - name: haiku
    targets: [{provider: ant, model: "claude-3-5-haiku-latest"}]
`

// completionsGateway serves completionsConfig in front of the fakes and
// returns its URL and the fake OpenAI.
func completionsGateway(t *testing.T) (string, *providertest.OpenAI) {
	t.Helper()
	oai, ant := providertest.NewOpenAI(t), providertest.NewAnthropic(t)
	env := map[string]string{"OPENAI_URL": oai.URL, "ANTHROPIC_URL": ant.URL}
	cfg, err := config.Parse([]byte(completionsConfig), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	snap, err := gateway.Compile(cfg, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(snap, slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1", oai
}

// The OpenAI SDK's legacy completions, unary and streamed, through the
// gateway to the OpenAI fake replaying the API reference's answers.
func TestOpenAISDKCompletions(t *testing.T) {
	url, oai := completionsGateway(t)
	client := openai.NewClient(ooption.WithBaseURL(url), ooption.WithAPIKey("sk-client"), ooption.WithMaxRetries(0))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	params := openai.CompletionNewParams{
		Model:     "instruct",
		Prompt:    openai.CompletionNewParamsPromptUnion{OfString: openai.String("Say this is a test")},
		MaxTokens: openai.Int(7),
	}

	oai.Enqueue(providertest.Response{Body: providertest.Load(t, "openai/completion_text.json")})
	c, err := client.Completions.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if c.Object != "text_completion" || len(c.Choices) != 1 || c.Choices[0].Text != "\n\nThis is indeed a test" ||
		c.Choices[0].FinishReason != "length" || c.Usage.TotalTokens != 12 {
		t.Errorf("completion %+v", c)
	}

	for _, includeUsage := range []bool{false, true} {
		oai.Enqueue(providertest.Response{SSE: providertest.Load(t, "openai/completion_stream_text.sse"), Split: 7})
		p := params
		if includeUsage {
			p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
		}
		stream := client.Completions.NewStreaming(ctx, p)
		var text strings.Builder
		var usage int64
		finish := ""
		for stream.Next() {
			ev := stream.Current()
			for _, ch := range ev.Choices {
				text.WriteString(ch.Text)
				if ch.FinishReason != "" {
					finish = string(ch.FinishReason)
				}
			}
			usage += ev.Usage.TotalTokens
		}
		if err := stream.Err(); err != nil {
			t.Fatalf("include_usage %v: %v", includeUsage, err)
		}
		_ = stream.Close()
		want := map[bool]int64{false: 0, true: 12}[includeUsage]
		if text.String() != "This is indeed a test" || finish != "length" || usage != want {
			t.Errorf("include_usage %v: text %q finish %q usage %d, want usage %d", includeUsage, text.String(), finish, usage, want)
		}
	}
}

// A model served by an upstream with no legacy completions endpoint is an
// invalid request the SDK reports, naming the model.
func TestOpenAISDKCompletionsRefused(t *testing.T) {
	url, _ := completionsGateway(t)
	client := openai.NewClient(ooption.WithBaseURL(url), ooption.WithAPIKey("sk-client"), ooption.WithMaxRetries(0))
	_, err := client.Completions.New(context.Background(), openai.CompletionNewParams{
		Model:  "haiku",
		Prompt: openai.CompletionNewParamsPromptUnion{OfArrayOfTokens: []int64{1212, 318}},
	})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Type != "invalid_request_error" || apiErr.Param != "model" ||
		!strings.Contains(apiErr.Message, `"haiku"`) {
		t.Fatalf("err = %v", err)
	}
}

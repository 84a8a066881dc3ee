package mock

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/openai"
	"github.com/llmgw/llmgw/internal/provider"
)

func forwardCompletion(t *testing.T, p *Provider, body string, stream bool) []string {
	t.Helper()
	s, err := p.Forward(context.Background(), &provider.Forward{Body: []byte(body), Model: "mock", Stream: stream, Protocol: openai.CompletionsProtocol})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out []string
	for {
		c, err := s.Recv()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if c.RawProtocol != openai.CompletionsProtocol || gjson.GetBytes(c.Raw, "object").Str != "text_completion" {
			t.Fatalf("chunk %q %s", c.RawProtocol, c.Raw)
		}
		if u, ok := openai.ScanUsage(c.Raw); ok != (c.Usage != nil) || ok && u != *c.Usage {
			t.Errorf("Usage %+v does not match the bytes %s", c.Usage, c.Raw)
		}
		out = append(out, string(c.Raw))
	}
}

func TestForwardCompletionUnary(t *testing.T) {
	p := New("mock", Options{})
	p.now = func() time.Time { return testTime }
	out := forwardCompletion(t, p, `{"model":"x","prompt":["one two three four","ignored"],"n":2}`, false)
	want := `{"id":"cmpl-mock-1","object":"text_completion","created":1700000000,"model":"mock","choices":[` +
		`{"text":"one two three four","index":0,"logprobs":null,"finish_reason":"stop"},` +
		`{"text":"one two three four","index":1,"logprobs":null,"finish_reason":"stop"}],` +
		`"usage":{"prompt_tokens":8,"completion_tokens":8,"total_tokens":16}}`
	if len(out) != 1 || out[0] != want {
		t.Fatalf("got %q\nwant %s", out, want)
	}
}

// max_tokens is 16 when absent, as in OpenAI's reference; the stream has
// no role-only opening event, and ends with its usage event.
func TestForwardCompletionStream(t *testing.T) {
	p := New("mock", Options{})
	words := "a b c d e f g h i j k l m n o p q r s t"
	out := forwardCompletion(t, p, `{"model":"x","prompt":"`+words+`","stream":true}`, true)
	if len(out) != 16+2 {
		t.Fatalf("%d events: %q", len(out), out)
	}
	if gjson.Get(out[0], "choices.0.text").Str != "a" || gjson.Get(out[16], "choices.0.finish_reason").Str != "length" {
		t.Errorf("events %q", out)
	}
	if last := out[17]; gjson.Get(last, "choices.#").Int() != 0 || gjson.Get(last, "usage.completion_tokens").Int() != 16 {
		t.Errorf("usage event %s", last)
	}
	// Token ids have no text: the fallback sentence answers.
	out = forwardCompletion(t, p, `{"model":"x","prompt":[1,2,3],"stop":["mock"]}`, false)
	if got := gjson.Get(out[0], "choices.0.text").Str; got != "Hello from the " {
		t.Errorf("text %q", got)
	}
}

func TestForwardOnlyCompletions(t *testing.T) {
	p := New("mock", Options{})
	if !p.ForwardsProtocol(openai.CompletionsProtocol) || p.ForwardsProtocol(openai.Protocol) || p.Protocol() == openai.Protocol {
		t.Fatal("the mock must forward legacy completions only")
	}
	_, err := p.Forward(context.Background(), &provider.Forward{Body: []byte(`{}`), Model: "mock"})
	if llm.AsError(err).Kind != llm.KindInternal {
		t.Fatalf("err = %v", err)
	}
}

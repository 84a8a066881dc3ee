package openai

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/responses"
	"github.com/llmgw/llmgw/internal/provider"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

func forwardResponses(t *testing.T, p *Provider, body string, stream bool) (llm.Stream, error) {
	t.Helper()
	return p.Forward(context.Background(), &provider.Forward{Body: []byte(body), Model: "gpt-4o-mini", Stream: stream, Protocol: responses.Protocol})
}

// Only type openai forwards Responses bodies; the others, and Azure's URL
// scheme, are translated.
func TestForwardsProtocol(t *testing.T) {
	f := providertest.NewOpenAI(t)
	cases := []struct {
		name string
		mod  func(*Config)
		want bool
	}{
		{"openai", nil, true},
		{"openai_compatible", func(c *Config) { c.Type = TypeOpenAICompatible }, false},
		{"vllm", func(c *Config) { c.Type = TypeVLLM }, false},
		{"own URLs", func(c *Config) { c.URL = func(op, model string) string { return f.URL + op } }, false},
	}
	for _, tc := range cases {
		p := newProvider(t, f, tc.mod)
		if got := p.ForwardsProtocol(responses.Protocol); got != tc.want {
			t.Errorf("%s: ForwardsProtocol(responses) = %v, want %v", tc.name, got, tc.want)
		}
		if p.ForwardsProtocol("openai.completions.unknown") {
			t.Errorf("%s: forwards an unknown protocol", tc.name)
		}
	}
}

// A whole answer goes to BaseURL/responses with the model swapped, comes
// back as it came, and its usage is scanned, cached and reasoning tokens
// included.
func TestForwardResponsesUnary(t *testing.T) {
	f := providertest.NewOpenAI(t)
	p := newProvider(t, f, nil)
	in := `{"model":"alias","input":"tell me a story","reasoning":{"effort":"low"},"vendor":1}`
	s, err := forwardResponses(t, p, in, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := s.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if c.RawProtocol != responses.Protocol || gjson.GetBytes(c.Raw, "object").Str != "response" {
		t.Fatalf("chunk = %s (%s)", c.Raw, c.RawProtocol)
	}
	req := f.Requests()[0]
	if req.Path != "/v1/responses" || gjson.GetBytes(req.Body, "model").Str != "gpt-4o-mini" || gjson.GetBytes(req.Body, "vendor").Int() != 1 {
		t.Errorf("upstream got %s %s", req.Path, req.Body)
	}
	if got := req.Header.Get("Authorization"); got != "Bearer "+testKey {
		t.Errorf("Authorization = %q", got)
	}
	want := llm.Usage{PromptTokens: 4, CompletionTokens: 12, TotalTokens: 16, CachedTokens: 2, ReasoningTokens: 8}
	if u := s.Usage(); u != want {
		t.Errorf("usage = %+v, want %+v", u, want)
	}
	if _, err := s.Recv(); err != io.EOF {
		t.Errorf("after the answer: %v", err)
	}
}

// A 200 that is not a response object, or a response that failed, is an
// upstream error; the key never shows.
func TestForwardResponsesUnaryRefused(t *testing.T) {
	cases := []struct {
		name, body, msg string
	}{
		{"chat completion", string(providertest.Load(t, "openai/chat_text.json")), malformedResponse},
		{"error object", `{"error":{"message":"bad ` + testKey + `","type":"server_error"}}`, "bad [redacted]"},
		{"failed response", string(providertest.Load(t, "openai/responses_failed.json")), "The model failed to generate a response."},
		{"not an object", `[1]`, malformedResponse},
		{"object without output", `{"object":"response","id":"resp_1"}`, malformedResponse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := providertest.NewOpenAI(t)
			f.Enqueue(providertest.Response{Body: []byte(tc.body)})
			p := newProvider(t, f, nil)
			_, err := forwardResponses(t, p, `{"model":"m","input":"hi"}`, false)
			var e *llm.Error
			if !errors.As(err, &e) || e.Kind != llm.KindUpstream {
				t.Fatalf("err = %v, want an upstream error", err)
			}
			if !strings.Contains(e.PublicMessage(), tc.msg) || strings.Contains(e.PublicMessage(), testKey) {
				t.Errorf("message = %q, want %q", e.PublicMessage(), tc.msg)
			}
		})
	}
}

// A stream passes each event's data as it came, ends after
// response.completed with its usage, and asks for nothing else.
func TestForwardResponsesStream(t *testing.T) {
	f := providertest.NewOpenAI(t)
	p := newProvider(t, f, nil)
	s, err := forwardResponses(t, p, `{"model":"alias","input":"one two three"}`, true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var types []string
	var text strings.Builder
	for {
		c, err := s.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if c.RawProtocol != responses.Protocol {
			t.Fatalf("chunk protocol %q", c.RawProtocol)
		}
		typ := gjson.GetBytes(c.Raw, "type").Str
		types = append(types, typ)
		if typ == "response.output_text.delta" {
			text.WriteString(gjson.GetBytes(c.Raw, "delta").Str)
		}
		if (c.Usage != nil) != (typ == "response.completed") {
			t.Errorf("%s: usage %v", typ, c.Usage)
		}
	}
	if text.String() != "one two three" || types[0] != "response.created" || types[len(types)-1] != "response.completed" {
		t.Errorf("text %q, events %v", text.String(), types)
	}
	body := f.Requests()[0].Body
	if !gjson.GetBytes(body, "stream").Bool() || gjson.GetBytes(body, "stream_options").Exists() {
		t.Errorf("upstream body %s", body)
	}
	if u := s.Usage(); u.PromptTokens == 0 || u.CompletionTokens != 3 || u.CachedTokens != 2 {
		t.Errorf("usage = %+v", u)
	}
}

// response.failed or an error event inside a stream ends it with the
// upstream's error; so does a body that ends before a terminal event. The
// events before are passed on.
func TestForwardResponsesStreamFailures(t *testing.T) {
	cases := []struct {
		capture, msg string
		usage        bool
	}{
		{"responses_stream_failed.sse", "The model failed to generate a response.", true},
		{"responses_stream_error.sse", "Something went wrong", false},
		{"responses_stream_truncated.sse", "upstream stream ended before completion", false},
	}
	for _, tc := range cases {
		t.Run(tc.capture, func(t *testing.T) {
			f := providertest.NewOpenAI(t)
			f.Enqueue(providertest.Response{SSE: providertest.Load(t, "openai/"+tc.capture), Split: 7})
			p := newProvider(t, f, nil)
			s, err := forwardResponses(t, p, `{"model":"m","input":"hi"}`, true)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			n := 0
			for {
				_, err = s.Recv()
				if err != nil {
					break
				}
				n++
			}
			var e *llm.Error
			if !errors.As(err, &e) || e.Kind != llm.KindUpstream || e.PublicMessage() != tc.msg {
				t.Fatalf("after %d events: err = %v, want upstream error %q", n, err, tc.msg)
			}
			if n < 3 {
				t.Errorf("%d events passed before the failure", n)
			}
			if got := s.Usage().PromptTokens > 0; got != tc.usage {
				t.Errorf("usage %+v", s.Usage())
			}
		})
	}
}

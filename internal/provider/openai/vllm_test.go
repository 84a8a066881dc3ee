package openai

import (
	"context"
	"io"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/llm"
	protocol "github.com/llmgw/llmgw/internal/protocol/openai"
	"github.com/llmgw/llmgw/internal/provider"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// vllmBody asks with vLLM's own sampling and decoding parameters beside
// OpenAI's.
const vllmBody = `{"model":"qwen","messages":[{"role":"user","content":"9.11 or 9.8?"}],"max_tokens":64,` +
	`"top_k":20,"min_p":0.05,"repetition_penalty":1.1,"guided_json":{"type":"object"},` +
	`"structured_outputs":{"choice":["9.11","9.8"]},"chat_template_kwargs":{"enable_thinking":true}}`

// vllmFields are the fields of vllmBody that are vLLM's, as sent.
var vllmFields = map[string]string{
	"top_k": `20`, "min_p": `0.05`, "repetition_penalty": `1.1`, "guided_json": `{"type":"object"}`,
	"structured_outputs": `{"choice":["9.11","9.8"]}`, "chat_template_kwargs": `{"enable_thinking":true}`,
}

// TestVLLMParamsPassThrough: vLLM's extra parameters reach it unchanged,
// whether the body is forwarded as it is or goes through the canonical
// request (a stage that reads it), and max_tokens stays max_tokens.
func TestVLLMParamsPassThrough(t *testing.T) {
	for _, forward := range []bool{false, true} {
		f := providertest.NewOpenAI(t)
		f.Enqueue(providertest.Response{Body: providertest.Load(t, "vllm/chat_reasoning.json")})
		p := newProvider(t, f, func(c *Config) { c.Type, c.APIKey = TypeVLLM, "" })
		var s llm.Stream
		var err error
		if forward {
			s, err = p.Forward(context.Background(), &provider.Forward{Body: []byte(vllmBody), Model: "Qwen/Qwen3-8B"})
		} else {
			req, derr := protocol.DecodeChatRequest([]byte(vllmBody))
			if derr != nil {
				t.Fatal(derr)
			}
			req.Model = "Qwen/Qwen3-8B"
			s, err = p.Chat(context.Background(), req)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := drain(t, s); err != io.EOF {
			t.Fatal(err)
		}
		s.Close()
		up := f.Requests()[0].Body
		for name, want := range vllmFields {
			if got := gjson.GetBytes(up, name).Raw; got != want {
				t.Errorf("forward=%v: upstream %s = %s, want %s", forward, name, got, want)
			}
		}
		if gjson.GetBytes(up, "max_tokens").Int() != 64 || gjson.GetBytes(up, "max_completion_tokens").Exists() {
			t.Errorf("forward=%v: output cap sent as %s", forward, up)
		}
	}
}

// TestVLLMReasoning: the reasoning text vLLM returns (its "reasoning"
// field, once "reasoning_content") is the answer's thinking, unary and
// streamed.
func TestVLLMReasoning(t *testing.T) {
	for _, stream := range []bool{false, true} {
		f := providertest.NewOpenAI(t)
		if stream {
			f.Enqueue(providertest.Response{SSE: providertest.Load(t, "vllm/stream_reasoning.sse"), Split: 5})
		} else {
			f.Enqueue(providertest.Response{Body: providertest.Load(t, "vllm/chat_reasoning.json")})
		}
		p := newProvider(t, f, func(c *Config) { c.Type, c.APIKey = TypeVLLM, "" })
		s, err := p.Chat(context.Background(), chatRequest(stream))
		if err != nil {
			t.Fatal(err)
		}
		chunks, err := drain(t, s)
		s.Close()
		if err != io.EOF {
			t.Fatal(err)
		}
		var thinking string
		for _, c := range chunks {
			for _, ch := range c.Choices {
				for _, part := range ch.Message.Content {
					if part.Type == llm.PartThinking {
						thinking += part.Text
					}
				}
			}
		}
		want := map[bool]string{false: "Compare the tenths: 8 is more than 1, so 9.8 is the larger number.", true: "Compare the tenths: 8 is more than 1."}[stream]
		if thinking != want {
			t.Errorf("stream=%v: thinking %q, want %q", stream, thinking, want)
		}
		if got := text(chunks); got == "" {
			t.Errorf("stream=%v: no answer text", stream)
		}
	}
}

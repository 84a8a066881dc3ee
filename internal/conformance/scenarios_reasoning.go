package conformance

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// Reasons a pair cannot express a reasoning scenario.
const (
	naEffortClient    = "An Anthropic client asks for reasoning with thinking, not reasoning_effort (the thinking rows)."
	naThinkingClient  = "An OpenAI client asks for reasoning with reasoning_effort, not thinking (the reasoning_effort row)."
	naReasoningField  = "Anthropic upstreams send reasoning as thinking blocks (the extended thinking rows)."
	naNonReasoning    = "Only OpenAI, Mistral, Ollama, Gemini and Cohere upstreams have models that take no thinking setting."
	naMistralEffort   = "Mistral's reasoning_effort takes only high and none; an Anthropic thinking budget goes to it as to a model without reasoning (the next row)."
	naMistralField    = "Mistral sends reasoning as thinking content chunks (the Mistral thinking chunks row)."
	naOllamaField     = "Ollama sends reasoning as message.thinking (the Ollama thinking row)."
	naOllamaThinks    = "Ollama has no reasoning models by name: thinking goes as think, its level from the budget, to any model (the next row)."
	naGeminiField     = "Gemini sends reasoning as thought parts (the Gemini thought parts row)."
	naGeminiThinks    = "Gemini has no reasoning models by name: thinking goes as thinkingConfig, the budget as it is, to any model (the next row)."
	naAzureDeployment = "An Azure deployment's name says nothing reliable of the model behind it: thinking is not turned into reasoning_effort (the next row drops it)."
	naCohereEffort    = "Cohere's thinking setting is not translated; an Anthropic thinking budget goes to it as to a model without reasoning (the next row)."
	naCohereField     = "Cohere sends reasoning as thinking content and tool_plan (the Cohere rows)."
)

// reasoningText and reasoningAnswer are what the OpenAI-compatible
// reasoning captures below say.
const (
	reasoningText   = "Nine is 4 * 2 + 1, so it is odd."
	reasoningAnswer = "Nine is odd."
)

// reasoningMessage is a DeepSeek-style chat.completion with reasoning_content.
const reasoningMessage = `{"id":"3f1c0c8e-5b1e-4a4e-9f0a-2d7c1f4f7b11","object":"chat.completion","created":1741570283,"model":"deepseek-reasoner",` +
	`"choices":[{"index":0,"message":{"role":"assistant","content":"` + reasoningAnswer + `","reasoning_content":"` + reasoningText + `"},` +
	`"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":14,"completion_tokens":30,"total_tokens":44,` +
	`"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":18}}}`

// reasoningStream is the same answer streamed: reasoning deltas first, with
// content null, then the content deltas with reasoning_content null.
const reasoningStream = `data: {"id":"3f1c0c8e","object":"chat.completion.chunk","created":1741570283,"model":"deepseek-reasoner","choices":[{"index":0,"delta":{"role":"assistant","content":null,"reasoning_content":""},"logprobs":null,"finish_reason":null}]}

data: {"id":"3f1c0c8e","object":"chat.completion.chunk","created":1741570283,"model":"deepseek-reasoner","choices":[{"index":0,"delta":{"content":null,"reasoning_content":"Nine is 4 * 2 + 1,"},"logprobs":null,"finish_reason":null}]}

data: {"id":"3f1c0c8e","object":"chat.completion.chunk","created":1741570283,"model":"deepseek-reasoner","choices":[{"index":0,"delta":{"content":null,"reasoning_content":" so it is odd."},"logprobs":null,"finish_reason":null}]}

data: {"id":"3f1c0c8e","object":"chat.completion.chunk","created":1741570283,"model":"deepseek-reasoner","choices":[{"index":0,"delta":{"content":"Nine is odd.","reasoning_content":null},"logprobs":null,"finish_reason":null}]}

data: {"id":"3f1c0c8e","object":"chat.completion.chunk","created":1741570283,"model":"deepseek-reasoner","choices":[{"index":0,"delta":{"content":""},"logprobs":null,"finish_reason":"stop"}]}

data: {"id":"3f1c0c8e","object":"chat.completion.chunk","created":1741570283,"model":"deepseek-reasoner","choices":[],"usage":{"prompt_tokens":14,"completion_tokens":30,"total_tokens":44,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":18}}}

data: [DONE]

`

// reasoningCapture returns the reasoning answer for the mode, its reasoning
// under field (reasoning_content, or reasoning as vLLM now names it).
func reasoningCapture(c *Case, field string) providertest.Response {
	if c.Streamed() {
		return providertest.Response{SSE: []byte(strings.ReplaceAll(reasoningStream, `"reasoning_content"`, `"`+field+`"`)), Split: 7}
	}
	return providertest.Response{Body: []byte(strings.ReplaceAll(reasoningMessage, `"reasoning_content"`, `"`+field+`"`))}
}

func reasoningScenarios() []Scenario {
	return []Scenario{
		{
			Name: "reasoning_effort to extended thinking", Modes: both,
			NA: func(p Pair, _ Mode) string {
				if vocab(p.Client) == Anthropic {
					return naEffortClient
				}
				return ""
			},
			Request: map[string]string{
				OpenAI: `{"reasoning_effort":"medium","temperature":0.3,"messages":[{"role":"user","content":"What is 27 * 453?"}]}`,
			},
			Script: func(t testing.TB, c *Case) []providertest.Response {
				if c.Up() != Anthropic {
					return nil
				}
				if c.Streamed() {
					return []providertest.Response{{SSE: providertest.Load(t, "anthropic/stream_thinking.sse"), Split: 5}}
				}
				return []providertest.Response{{Body: []byte(thinkingMessage)}}
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				expectOK(t, c, r)
				up := gjson.ParseBytes(c.LastUpstream(t))
				if c.Up() == OpenAI {
					expectEqual(t, "upstream reasoning_effort", up.Get("reasoning_effort").String(), "medium")
					return
				}
				if c.Up() == Mistral || c.Up() == Cohere {
					// Mistral's reasoning_effort is high or none, and
					// Cohere has none: medium is left out and named.
					expectEqual(t, "upstream reasoning_effort", up.Get("reasoning_effort").Exists(), false)
					expectEqual(t, DroppedHeader, r.Header.Get(DroppedHeader), "reasoning_effort")
					expectEqual(t, "upstream temperature", up.Get("temperature").Float(), 0.3)
					expectEqual(t, "text", r.Text, "What is 27 * 453?")
					return
				}
				if c.Up() == Gemini {
					// medium is a thinkingBudget of 8192, the thoughts
					// asked for; temperature stays.
					expectEqual(t, "upstream thinkingConfig", up.Get("generationConfig.thinkingConfig").Raw, `{"thinkingBudget":8192,"includeThoughts":true}`)
					expectEqual(t, "upstream temperature", up.Get("generationConfig.temperature").Float(), 0.3)
					expectEqual(t, DroppedHeader, r.Header.Get(DroppedHeader), "")
					expectEqual(t, "text", r.Text, "What is 27 * 453?")
					return
				}
				if c.Up() == Ollama {
					// think takes the level; temperature stays, in
					// options.
					expectEqual(t, "upstream think", up.Get("think").Raw, `"medium"`)
					expectEqual(t, "upstream temperature", up.Get("options.temperature").Float(), 0.3)
					expectEqual(t, DroppedHeader, r.Header.Get(DroppedHeader), "")
					expectEqual(t, "text", r.Text, "What is 27 * 453?")
					return
				}
				// medium is a budget of 8192; with no client limit,
				// max_tokens is raised above it; temperature is refused
				// with thinking and left out.
				expectEqual(t, "upstream thinking", up.Get("thinking").Raw, `{"type":"enabled","budget_tokens":8192}`)
				expectEqual(t, "upstream max_tokens", up.Get("max_tokens").Int(), int64(8192+4096))
				expectEqual(t, "upstream temperature", up.Get("temperature").Exists(), false)
				expectEqual(t, "reasoning_content", r.Thinking, "Let me solve this step by step:\n\n1. First break down 27 * 453\n2. 453 = 400 + 50 + 3")
				expectEqual(t, "text", r.Text, "27 * 453 = 12,231")
			},
		},
		{
			Name: "extended thinking to reasoning_effort (reasoning model)", Modes: []Mode{Unary},
			NA: func(p Pair, _ Mode) string {
				if vocab(p.Client) == OpenAI {
					return naThinkingClient
				}
				switch family(p.Upstream) {
				case Mistral:
					return naMistralEffort
				case Ollama:
					return naOllamaThinks
				case Gemini:
					return naGeminiThinks
				case Azure:
					return naAzureDeployment
				case VLLM:
					return naVLLMEffort
				case Cohere:
					return naCohereEffort
				}
				return ""
			},
			Model: func(p Pair) string {
				if family(p.Upstream) == OpenAI {
					return ReasoningModel
				}
				return ModelFor(p.Upstream)
			},
			Request: map[string]string{
				Anthropic: `{"max_tokens":16000,"thinking":{"type":"enabled","budget_tokens":10000},"messages":[{"role":"user","content":"think about it"}]}`,
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				expectOK(t, c, r)
				expectEqual(t, "x-llmgw-dropped-params", r.Header.Get(DroppedHeader), "")
				up := gjson.ParseBytes(c.LastUpstream(t))
				if c.Up() == Anthropic {
					expectEqual(t, "upstream thinking", up.Get("thinking").Raw, `{"type":"enabled","budget_tokens":10000}`)
					return
				}
				expectEqual(t, "upstream model", up.Get("model").String(), OpenAIReasoningUpstreamModel)
				expectEqual(t, "upstream reasoning_effort", up.Get("reasoning_effort").String(), "medium")
				expectEqual(t, "upstream max_completion_tokens", up.Get("max_completion_tokens").Int(), int64(16000))
			},
		},
		{
			Name: "extended thinking toward a non-reasoning model", Modes: both,
			NA: func(p Pair, _ Mode) string {
				if vocab(p.Client) != Anthropic || family(p.Upstream) == Anthropic {
					return naNonReasoning
				}
				if p.Upstream == Bedrock || p.Upstream == BedrockAnthropic {
					return naBedrockClaude
				}
				return ""
			},
			Script: func(t testing.TB, c *Case) []providertest.Response {
				if c.Up() != Ollama {
					return nil
				}
				// Ollama knows which models think, and refuses think
				// for the others.
				return []providertest.Response{providertest.OllamaError(400, `"llama3.2" does not support thinking`)}
			},
			Request: map[string]string{
				Anthropic: `{"max_tokens":16000,"thinking":{"type":"enabled","budget_tokens":10000},"messages":[{"role":"user","content":"hello thinker"}]}`,
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				expectOK(t, c, r)
				expectEqual(t, "text", r.Text, "hello thinker")
				up := gjson.ParseBytes(c.LastUpstream(t))
				if c.Up() == Ollama {
					// Ollama refused think for this model: asked again
					// without it. A budget of 10000 was the level medium.
					reqs := c.Fake().Requests()
					expectEqual(t, "upstream requests", len(reqs), 2)
					expectEqual(t, "first think", gjson.GetBytes(reqs[0].Body, "think").Raw, `"medium"`)
					expectEqual(t, "upstream think", up.Get("think").Exists(), false)
					expectEqual(t, "x-llmgw-dropped-params", r.Header.Get(DroppedHeader), "thinking")
					return
				}
				if family(c.Pair.Upstream) == Gemini {
					// The budget goes as it is, the thoughts asked for.
					expectEqual(t, "upstream thinkingConfig", up.Get("generationConfig.thinkingConfig").Raw, `{"thinkingBudget":10000,"includeThoughts":true}`)
					expectEqual(t, "x-llmgw-dropped-params", r.Header.Get(DroppedHeader), "")
					return
				}
				if up.Get("reasoning_effort").Exists() || up.Get("thinking").Exists() {
					t.Errorf("gpt-4o-mini was sent a reasoning setting it refuses: %s", up.Raw)
				}
				expectEqual(t, "x-llmgw-dropped-params", r.Header.Get(DroppedHeader), "thinking")
			},
		},
		reasoningFieldScenario("reasoning_content"),
		reasoningFieldScenario("reasoning"),
	}
}

// naVLLMEffort: vLLM's models think by their chat template.
const naVLLMEffort = "vLLM takes no reasoning_effort: whether its model thinks is its chat template's setting (chat_template_kwargs, passed through as sent), so an Anthropic client's thinking is dropped and named in x-llmgw-dropped-params."

// reasoningFieldScenario checks that an OpenAI-compatible upstream's
// reasoning, under field, reaches the client: as a thinking block for an
// Anthropic client, as reasoning text for an OpenAI one.
func reasoningFieldScenario(field string) Scenario {
	return Scenario{
		Name: "upstream reasoning as " + field, Modes: both,
		NA: func(p Pair, _ Mode) string {
			if family(p.Upstream) == Anthropic || p.Upstream == Bedrock || p.Upstream == BedrockAnthropic {
				return naReasoningField
			}
			if nativeResponsesPair(p) {
				return naResponsesReasoningField
			}
			switch family(p.Upstream) {
			case Mistral:
				return naMistralField
			case Ollama:
				return naOllamaField
			case Gemini:
				return naGeminiField
			case Cohere:
				return naCohereField
			}
			return ""
		},
		Request: map[string]string{
			OpenAI:    `{"messages":[{"role":"user","content":"Is nine odd?"}]}`,
			Anthropic: `{"max_tokens":1024,"messages":[{"role":"user","content":"Is nine odd?"}]}`,
		},
		Script: func(_ testing.TB, c *Case) []providertest.Response {
			return []providertest.Response{reasoningCapture(c, field)}
		},
		Check: func(t *testing.T, c *Case, r *Result) {
			expectOK(t, c, r)
			expectEqual(t, "thinking", r.Thinking, reasoningText)
			expectEqual(t, "text", r.Text, reasoningAnswer)
		},
	}
}

package conformance

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/provider/providertest"
)

var toolRequest = map[string]string{
	OpenAI:    `{"tools":[` + weatherToolOpenAI + `],"messages":[{"role":"user","content":"Weather in Paris and Zürich?"}]}`,
	Anthropic: `{"max_tokens":512,"tools":[` + weatherToolAnthropic + `],"messages":[{"role":"user","content":"Weather in Paris and Zürich?"}]}`,
}

func toolScenarios() []Scenario {
	return []Scenario{
		{
			// Streamed one byte at a time: every argument piece, event and
			// multi-byte character arrives split.
			Name: "parallel tool calls, arguments in many pieces", Modes: both, NA: always,
			Request: toolRequest,
			Script: func(t testing.TB, c *Case) []providertest.Response {
				return []providertest.Response{toolCapture(t, c, 1)}
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				expectOK(t, c, r)
				expectToolCalls(t, c, r.ToolCalls)
				expectEqual(t, "stop", r.Stop, stopFor(c.Client(), "tool_calls"))
				if c.Up() == Anthropic {
					expectEqual(t, "text", r.Text, "I'll check the weather in both cities.")
				}
			},
		},
		{
			Name: "tool definitions, forced tool, parallel off", Modes: []Mode{Unary}, NA: always,
			Request: map[string]string{
				OpenAI: `{"tools":[` + weatherToolOpenAI + `],"tool_choice":{"type":"function","function":{"name":"get_weather"}},` +
					`"parallel_tool_calls":false,"messages":[{"role":"user","content":"Weather?"}]}`,
				Anthropic: `{"max_tokens":512,"tools":[` + weatherToolAnthropic + `],` +
					`"tool_choice":{"type":"tool","name":"get_weather","disable_parallel_tool_use":true},"messages":[{"role":"user","content":"Weather?"}]}`,
			},
			Script: func(t testing.TB, c *Case) []providertest.Response {
				return []providertest.Response{toolCapture(t, c, 0)}
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				expectOK(t, c, r)
				expectToolCalls(t, c, r.ToolCalls)
				up := gjson.ParseBytes(c.LastUpstream(t))
				schema := `{"type":"object","properties":{"location":{"type":"string"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["location"]}`
				if c.Up() == Anthropic {
					expectEqual(t, "tool name", up.Get("tools.0.name").String(), "get_weather")
					expectEqual(t, "tool description", up.Get("tools.0.description").String(), "Current weather in a city")
					if !jsonEqual(up.Get("tools.0.input_schema").Raw, schema) {
						t.Errorf("input_schema %s", up.Get("tools.0.input_schema").Raw)
					}
					expectEqual(t, "tool_choice", up.Get("tool_choice.type").String()+":"+up.Get("tool_choice.name").String(), "tool:get_weather")
					if c.Converse() {
						// Converse cannot turn parallel calls off.
						want := map[string]string{OpenAI: "parallel_tool_calls", Anthropic: "tool_choice.disable_parallel_tool_use"}[c.Client()]
						expectEqual(t, DroppedHeader, r.Header.Get(DroppedHeader), want)
						return
					}
					expectEqual(t, "disable_parallel_tool_use", up.Get("tool_choice.disable_parallel_tool_use").Bool(), true)
					return
				}
				if family(c.Pair.Upstream) == Gemini {
					d := up.Get("tools.0.functionDeclarations.0")
					expectEqual(t, "tool name", d.Get("name").String(), "get_weather")
					expectEqual(t, "tool description", d.Get("description").String(), "Current weather in a city")
					if !jsonEqual(d.Get("parametersJsonSchema").Raw, schema) {
						t.Errorf("parametersJsonSchema %s", d.Get("parametersJsonSchema").Raw)
					}
					// A forced tool is mode ANY limited to it; Gemini
					// has no parallel setting.
					expectEqual(t, "functionCallingConfig", up.Get("toolConfig.functionCallingConfig").Raw, `{"mode":"ANY","allowedFunctionNames":["get_weather"]}`)
					expectEqual(t, DroppedHeader, r.Header.Get(DroppedHeader), "parallel_tool_calls")
					return
				}
				expectEqual(t, "tool name", up.Get("tools.0.function.name").String(), "get_weather")
				if !jsonEqual(up.Get("tools.0.function.parameters").Raw, schema) {
					t.Errorf("parameters %s", up.Get("tools.0.function.parameters").Raw)
				}
				if c.Up() == Ollama {
					// Ollama has neither: the model may answer without
					// the tool, or call it more than once.
					expectEqual(t, "upstream tool_choice", up.Get("tool_choice").Exists(), false)
					expectEqual(t, DroppedHeader, r.Header.Get(DroppedHeader), "tool_choice, parallel_tool_calls")
					return
				}
				if c.Up() == Cohere {
					// Cohere cannot name the tool: it must call one, and
					// is offered only that one. Parallel calls cannot be
					// turned off.
					expectEqual(t, "tool_choice", up.Get("tool_choice").String(), "REQUIRED")
					expectEqual(t, "tools", len(up.Get("tools").Array()), 1)
					want := map[string]string{OpenAI: "parallel_tool_calls", Anthropic: "disable_parallel_tool_use"}[c.Client()]
					expectEqual(t, DroppedHeader, r.Header.Get(DroppedHeader), want)
					return
				}
				expectEqual(t, "tool_choice", up.Get("tool_choice.function.name").String(), "get_weather")
				expectEqual(t, "parallel_tool_calls", up.Get("parallel_tool_calls").Raw, "false")
			},
		},
		toolChoiceScenario("tool_choice required / any", `"required"`, `{"type":"any"}`),
		toolChoiceScenario("tool_choice none", `"none"`, `{"type":"none"}`),
	}
}

// toolChoiceScenario checks that a tool_choice mode reaches the upstream in
// its own words.
func toolChoiceScenario(name, openai, anthropic string) Scenario {
	return Scenario{
		Name: name, Modes: []Mode{Unary}, NA: always,
		Request: map[string]string{
			OpenAI:    `{"tools":[` + weatherToolOpenAI + `],"tool_choice":` + openai + `,"messages":[{"role":"user","content":"choose"}]}`,
			Anthropic: `{"max_tokens":512,"tools":[` + weatherToolAnthropic + `],"tool_choice":` + anthropic + `,"messages":[{"role":"user","content":"choose"}]}`,
		},
		Check: func(t *testing.T, c *Case, r *Result) {
			expectOK(t, c, r)
			if c.Converse() {
				checkConverseToolChoice(t, c, r, openai)
				return
			}
			if c.Up() == Ollama {
				// Ollama has no tool_choice: none is sending no tools;
				// required is dropped and named.
				up := gjson.ParseBytes(c.LastUpstream(t))
				expectEqual(t, "upstream tool_choice", up.Get("tool_choice").Exists(), false)
				if openai == `"none"` {
					expectEqual(t, "upstream tools", up.Get("tools").Exists(), false)
					expectEqual(t, DroppedHeader, r.Header.Get(DroppedHeader), "")
				} else {
					expectEqual(t, "upstream tools", len(up.Get("tools").Array()), 1)
					expectEqual(t, DroppedHeader, r.Header.Get(DroppedHeader), "tool_choice")
				}
				return
			}
			if family(c.Pair.Upstream) == Gemini {
				// Gemini's words: required is ANY, none NONE.
				want := map[string]string{`"required"`: "ANY", `"none"`: "NONE"}[openai]
				expectEqual(t, "functionCallingConfig.mode", gjson.GetBytes(c.LastUpstream(t), "toolConfig.functionCallingConfig.mode").String(), want)
				return
			}
			// Mistral takes OpenAI's "required" and "none" as they are.
			// Cohere's are "REQUIRED" and "NONE".
			want := map[string]string{OpenAI: openai, Anthropic: anthropic, Mistral: openai, Cohere: strings.ToUpper(openai)}[c.Up()]
			if got := gjson.GetBytes(c.LastUpstream(t), "tool_choice").Raw; !jsonEqual(got, want) {
				t.Errorf("upstream tool_choice %s, want %s", got, want)
			}
		},
	}
}

func stopScenarios() []Scenario {
	stop := func(name, canonical, reason, seq, finish string, na func(Pair, Mode) string, req map[string]string) Scenario {
		return Scenario{
			Name: name, Modes: both, NA: na, Request: req,
			Script: func(t testing.TB, c *Case) []providertest.Response {
				if c.nativeResponses() {
					return []providertest.Response{responsesWithStop(textCapture(t, c, 0), canonical)}
				}
				return []providertest.Response{withStop(textCapture(t, c, 0), c.Up(), reason, seq, finish)}
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				expectOK(t, c, r)
				expectEqual(t, "text", r.Text, captureText[c.Up()][c.Mode])
				expectEqual(t, "stop", r.Stop, stopFor(c.Client(), canonical))
				if canonical == "stop_sequence" && c.Client() == Anthropic {
					expectEqual(t, "stop_sequence", r.StopSequence, seq)
				}
			},
		}
	}
	plain := map[string]string{
		OpenAI:    `{"messages":[{"role":"user","content":"Go on"}]}`,
		Anthropic: `{"max_tokens":256,"messages":[{"role":"user","content":"Go on"}]}`,
	}
	withStops := map[string]string{
		OpenAI:    `{"stop":["END"],"messages":[{"role":"user","content":"Go on"}]}`,
		Anthropic: `{"max_tokens":256,"stop_sequences":["END"],"messages":[{"role":"user","content":"Go on"}]}`,
	}
	return []Scenario{
		stop("stop reason: length / max_tokens", "length", "max_tokens", "", "length", always, plain),
		stop("stop reason: stop_sequence", "stop_sequence", "stop_sequence", "END", "stop",
			func(p Pair, _ Mode) string {
				if vocab(p.Client) == Anthropic && family(p.Upstream) != Anthropic && family(p.Upstream) != Cohere {
					return naStopSequence
				}
				return ""
			}, withStops),
		stop("stop reason: content_filter / refusal", "content_filter", "refusal", "", "content_filter",
			func(p Pair, _ Mode) string {
				switch family(p.Upstream) {
				case Mistral:
					return naMistralNoFilter
				case Ollama:
					return naOllamaNoFilter
				case Cohere:
					return naCohereNoFilter
				}
				return ""
			}, plain),
	}
}

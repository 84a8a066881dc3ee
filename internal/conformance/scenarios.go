package conformance

import (
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/provider/mistral"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// Reasons a pair cannot express a scenario.
const (
	naNoThinking     = "OpenAI Chat Completions has no thinking blocks, so there is nothing to carry."
	naNoCacheControl = "OpenAI caches prompts automatically; its protocol has no cache_control directive to pass."
	naStopSequence   = "OpenAI reports a matched stop sequence as a plain stop, without saying which one."
	naMaxTokens      = "Only an Anthropic upstream requires max_tokens, and an Anthropic client must send it."
	naCountTokens    = "Token counting is an Anthropic endpoint (/v1/messages/count_tokens); OpenAI has none."
	naUnaryStream    = "A non-streamed answer has no stream to break."
	naStartUsage     = "Only an Anthropic stream has a message_start whose usage clients read before the end."
)

const weatherToolOpenAI = `{"type":"function","function":{"name":"get_weather","description":"Current weather in a city","parameters":{"type":"object","properties":{"location":{"type":"string"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["location"]}}}`

const weatherToolAnthropic = `{"name":"get_weather","description":"Current weather in a city","input_schema":{"type":"object","properties":{"location":{"type":"string"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["location"]}}`

var both = []Mode{Unary, Stream}

func always(Pair, Mode) string { return "" }

// onlyAnthropic is n/a for every pair with an OpenAI side.
func onlyAnthropic(why string) func(Pair, Mode) string {
	return func(p Pair, _ Mode) string {
		if vocab(p.Client) != Anthropic || family(p.Upstream) != Anthropic {
			return why
		}
		return ""
	}
}

// Scenarios returns every scenario, in table order.
func Scenarios() []Scenario {
	var out []Scenario
	out = append(out, basicScenarios()...)
	out = append(out, toolScenarios()...)
	out = append(out, stopScenarios()...)
	out = append(out, mistralScenarios()...)
	out = append(out, ollamaScenarios()...)
	out = append(out, geminiScenarios()...)
	out = append(out, azureScenarios()...)
	out = append(out, cohereScenarios()...)
	out = append(out, bedrockScenarios()...)
	out = append(out, vertexScenarios()...)
	out = append(out, anthropicFeatureScenarios()...)
	out = append(out, translationScenarios()...)
	out = append(out, reasoningScenarios()...)
	out = append(out, fieldScenarios()...)
	out = append(out, failureScenarios()...)
	return out
}

func basicScenarios() []Scenario {
	return []Scenario{
		{
			Name: "text", Modes: both, NA: always,
			Request: map[string]string{
				OpenAI:    `{"messages":[{"role":"user","content":"Say hello"}]}`,
				Anthropic: `{"max_tokens":256,"messages":[{"role":"user","content":"Say hello"}]}`,
			},
			Script: func(t testing.TB, c *Case) []providertest.Response {
				return []providertest.Response{textCapture(t, c, 3)}
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				expectOK(t, c, r)
				expectEqual(t, "text", r.Text, captureText[c.Up()][c.Mode])
				expectEqual(t, "stop", r.Stop, stopFor(c.Client(), "stop"))
			},
		},
		{
			Name: "system prompt", Modes: both, NA: always,
			Request: map[string]string{
				OpenAI:    `{"messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"hello system"}]}`,
				Anthropic: `{"max_tokens":256,"system":[{"type":"text","text":"You are terse."}],"messages":[{"role":"user","content":"hello system"}]}`,
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				expectOK(t, c, r)
				expectEqual(t, "text", r.Text, "hello system")
				up := gjson.ParseBytes(c.LastUpstream(t))
				if c.Up() == Gemini {
					expectEqual(t, "upstream systemInstruction", up.Get("systemInstruction.parts.0.text").String(), "You are terse.")
					expectEqual(t, "upstream contents", len(up.Get("contents").Array()), 1)
					return
				}
				if c.Up() == Anthropic {
					expectEqual(t, "upstream system", contentText(up.Get("system")), "You are terse.")
					expectEqual(t, "upstream messages", len(up.Get("messages").Array()), 1)
					return
				}
				first := up.Get("messages.0")
				if role := first.Get("role").String(); role != "system" && role != "developer" {
					t.Errorf("upstream first message role %q", role)
				}
				expectEqual(t, "upstream system", contentText(first.Get("content")), "You are terse.")
			},
		},
		{
			Name: "multi-turn with tool results", Modes: both, NA: always,
			Request: map[string]string{
				OpenAI: `{"tools":[` + weatherToolOpenAI + `],"messages":[{"role":"user","content":"What is the weather in Paris?"},` +
					`{"role":"assistant","content":null,"tool_calls":[{"id":"call_abc123","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris\"}"}}]},` +
					`{"role":"tool","tool_call_id":"call_abc123","content":"18C and sunny"}]}`,
				Anthropic: `{"max_tokens":256,"tools":[` + weatherToolAnthropic + `],"messages":[{"role":"user","content":"What is the weather in Paris?"},` +
					`{"role":"assistant","content":[{"type":"text","text":"Let me check."},{"type":"tool_use","id":"toolu_abc123","name":"get_weather","input":{"location":"Paris"}}]},` +
					`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_abc123","content":"18C and sunny"}]}]}`,
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				expectOK(t, c, r)
				expectEqual(t, "text", r.Text, "18C and sunny")
				id := map[string]string{OpenAI: "call_abc123", Anthropic: "toolu_abc123"}[c.Client()]
				checkToolPairing(t, c, gjson.ParseBytes(c.LastUpstream(t)), id)
			},
		},
		{
			Name: "images, base64 and URL", Modes: []Mode{Unary}, NA: inlineImagesOnly,
			Request: map[string]string{
				OpenAI: `{"messages":[{"role":"user","content":[{"type":"text","text":"Describe these"},` +
					`{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},` +
					`{"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}}]}]}`,
				Anthropic: `{"max_tokens":256,"messages":[{"role":"user","content":[{"type":"text","text":"Describe these"},` +
					`{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},` +
					`{"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}}]}]}`,
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				expectOK(t, c, r)
				expectEqual(t, "text", r.Text, "Describe these")
				parts := gjson.GetBytes(c.LastUpstream(t), "messages.0.content").Array()
				var got []string
				for _, p := range parts {
					switch {
					case c.Up() == Anthropic && p.Get("type").String() == "image":
						src := p.Get("source")
						got = append(got, src.Get("type").String()+":"+src.Get("media_type").String()+src.Get("data").String()+src.Get("url").String())
					case c.Up() != Anthropic && p.Get("type").String() == "image_url":
						got = append(got, p.Get("image_url.url").String())
					}
				}
				want := map[string][]string{
					Anthropic: {"base64:image/pngiVBORw0KGgo=", "url:https://example.com/cat.jpg"},
					OpenAI:    {"data:image/png;base64,iVBORw0KGgo=", "https://example.com/cat.jpg"},
					Mistral:   {"data:image/png;base64,iVBORw0KGgo=", "https://example.com/cat.jpg"},
					Cohere:    {"data:image/png;base64,iVBORw0KGgo=", "https://example.com/cat.jpg"},
				}[c.Up()]
				expectEqual(t, "upstream images", got, want)
			},
		},
		{
			Name: "sampling parameters, stop sequences, user", Modes: []Mode{Unary}, NA: always,
			Request: map[string]string{
				OpenAI: `{"max_tokens":300,"temperature":0.2,"top_p":0.9,"stop":["END"],"user":"user-42",` +
					`"messages":[{"role":"user","content":"params"}]}`,
				Anthropic: `{"max_tokens":300,"temperature":0.2,"top_p":0.9,"top_k":40,"stop_sequences":["END"],` +
					`"metadata":{"user_id":"user-42"},"messages":[{"role":"user","content":"params"}]}`,
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				expectOK(t, c, r)
				up := gjson.ParseBytes(c.LastUpstream(t))
				if c.Up() == Gemini {
					// Sampling goes in generationConfig; Gemini has
					// topK, and no user.
					g := up.Get("generationConfig")
					expectEqual(t, "generationConfig.temperature", g.Get("temperature").Float(), 0.2)
					expectEqual(t, "generationConfig.topP", g.Get("topP").Float(), 0.9)
					expectEqual(t, "generationConfig.maxOutputTokens", g.Get("maxOutputTokens").Int(), int64(300))
					expectEqual(t, "generationConfig.stopSequences", g.Get("stopSequences").Raw, `["END"]`)
					if c.Client() == Anthropic {
						expectEqual(t, "generationConfig.topK", g.Get("topK").Int(), int64(40))
					}
					expectEqual(t, DroppedHeader, r.Header.Get(DroppedHeader), "user")
					return
				}
				if c.Up() == Ollama {
					// Sampling goes in options; Ollama has top_k, and no
					// user.
					o := up.Get("options")
					expectEqual(t, "options.temperature", o.Get("temperature").Float(), 0.2)
					expectEqual(t, "options.top_p", o.Get("top_p").Float(), 0.9)
					expectEqual(t, "options.num_predict", o.Get("num_predict").Int(), int64(300))
					expectEqual(t, "options.stop", o.Get("stop").Raw, `["END"]`)
					if c.Client() == Anthropic {
						expectEqual(t, "options.top_k", o.Get("top_k").Int(), int64(40))
					}
					expectEqual(t, "upstream user", up.Get("user").Exists(), false)
					expectEqual(t, DroppedHeader, r.Header.Get(DroppedHeader), "user")
					return
				}
				expectEqual(t, "temperature", up.Get("temperature").Float(), 0.2)
				if c.Up() == Cohere {
					// Cohere's names: p, k, stop_sequences; it has no
					// user field.
					expectEqual(t, "p", up.Get("p").Float(), 0.9)
					expectEqual(t, "max_tokens", up.Get("max_tokens").Int(), int64(300))
					expectEqual(t, "stop_sequences", up.Get("stop_sequences").Raw, `["END"]`)
					expectEqual(t, "upstream user", up.Get("user").Exists(), false)
					if c.Client() == Anthropic {
						expectEqual(t, "k", up.Get("k").Int(), int64(40))
					}
					expectEqual(t, DroppedHeader, r.Header.Get(DroppedHeader), "user")
					return
				}
				expectEqual(t, "top_p", up.Get("top_p").Float(), 0.9)
				if c.Up() == Anthropic {
					expectEqual(t, "max_tokens", up.Get("max_tokens").Int(), int64(300))
					expectEqual(t, "stop_sequences", up.Get("stop_sequences").Raw, `["END"]`)
					expectEqual(t, "metadata.user_id", up.Get("metadata.user_id").String(), "user-42")
					if c.Client() == Anthropic {
						expectEqual(t, "top_k", up.Get("top_k").Int(), int64(40))
					}
					return
				}
				if n := up.Get("max_tokens").Int() + up.Get("max_completion_tokens").Int(); n != 300 {
					t.Errorf("upstream max tokens %d, want 300: %s", n, up.Raw)
				}
				if s := up.Get("stop"); s.String() != "END" && s.Get("0").String() != "END" {
					t.Errorf("upstream stop %s", s.Raw)
				}
				if c.Up() == Mistral {
					// Mistral has no user field, and refuses any member
					// its schema does not list.
					expectEqual(t, "upstream user", up.Get("user").Exists(), false)
					// Nor top_k, which only an Anthropic client sends.
					want := map[string]string{OpenAI: "user", Anthropic: "top_k, user"}[c.Client()]
					expectEqual(t, DroppedHeader, r.Header.Get(DroppedHeader), want)
					return
				}
				if u := up.Get("user").String() + up.Get("safety_identifier").String(); u != "user-42" {
					t.Errorf("upstream user %q", u)
				}
			},
		},
		{
			Name: "max_tokens default", Modes: []Mode{Unary},
			NA: func(p Pair, _ Mode) string {
				if vocab(p.Client) == OpenAI && family(p.Upstream) == Anthropic {
					return ""
				}
				return naMaxTokens
			},
			Request: map[string]string{OpenAI: `{"messages":[{"role":"user","content":"no limit"}]}`},
			Check: func(t *testing.T, c *Case, r *Result) {
				expectOK(t, c, r)
				expectEqual(t, "upstream max_tokens", gjson.GetBytes(c.LastUpstream(t), "max_tokens").Int(), int64(4096))
			},
		},
	}
}

// checkToolPairing checks that the tool call and its result reached the
// upstream paired by the client's id.
func checkToolPairing(t *testing.T, c *Case, up gjson.Result, id string) {
	t.Helper()
	msgs := up.Get("messages").Array()
	if c.Up() == Mistral {
		// Mistral refuses ids that are not nine alphanumerics: the
		// call and its result get the same one, derived from the
		// client's.
		id = mistral.ToolCallID(id)
		if !mistral.ValidToolCallID(id) {
			t.Errorf("tool call id %q is not one Mistral takes", id)
		}
	}
	if c.Up() == Gemini {
		// Gemini pairs a result with its call by the function's name
		// and order: a functionCall part of a model turn, answered by
		// a functionResponse part of the next user turn, whose
		// response is an object.
		cs := up.Get("contents").Array()
		if len(cs) != 3 {
			t.Fatalf("upstream contents: %s", up.Get("contents").Raw)
		}
		var call gjson.Result
		for _, p := range cs[1].Get("parts").Array() {
			if p.Get("functionCall").Exists() {
				call = p.Get("functionCall")
			}
		}
		expectEqual(t, "upstream model turn role", cs[1].Get("role").String(), "model")
		expectEqual(t, "upstream functionCall name", call.Get("name").String(), "get_weather")
		if !jsonEqual(call.Get("args").Raw, `{"location":"Paris"}`) {
			t.Errorf("upstream args %s", call.Get("args").Raw)
		}
		res := cs[2].Get("parts.0.functionResponse")
		expectEqual(t, "upstream result turn role", cs[2].Get("role").String(), "user")
		expectEqual(t, "upstream functionResponse name", res.Get("name").String(), "get_weather")
		expectEqual(t, "upstream functionResponse", res.Get("response").Raw, `{"output":"18C and sunny"}`)
		return
	}
	if c.Up() == Ollama {
		// Ollama pairs a result with its call by the function's name
		// (tool_name); its calls have no id.
		var call, result gjson.Result
		for _, m := range msgs {
			if m.Get("role").String() == "assistant" && m.Get("tool_calls").Exists() {
				call = m.Get("tool_calls.0")
			}
			if m.Get("role").String() == "tool" {
				result = m
			}
		}
		expectEqual(t, "upstream tool call name", call.Get("function.name").String(), "get_weather")
		if !call.Get("function.arguments").IsObject() || !jsonEqual(call.Get("function.arguments").Raw, `{"location":"Paris"}`) {
			t.Errorf("upstream arguments %s, want an object", call.Get("function.arguments").Raw)
		}
		expectEqual(t, "upstream tool_name", result.Get("tool_name").String(), "get_weather")
		expectEqual(t, "upstream tool content", result.Get("content").String(), "18C and sunny")
		return
	}
	if c.Up() != Anthropic {
		var call, result gjson.Result
		for _, m := range msgs {
			if m.Get("role").String() == "assistant" && m.Get("tool_calls").Exists() {
				call = m.Get("tool_calls.0")
			}
			if m.Get("role").String() == "tool" {
				result = m
			}
		}
		expectEqual(t, "upstream tool call id", call.Get("id").String(), id)
		expectEqual(t, "upstream tool call name", call.Get("function.name").String(), "get_weather")
		if !jsonEqual(call.Get("function.arguments").String(), `{"location":"Paris"}`) {
			t.Errorf("upstream arguments %s", call.Get("function.arguments").Raw)
		}
		expectEqual(t, "upstream tool_call_id", result.Get("tool_call_id").String(), id)
		expectEqual(t, "upstream tool content", contentText(result.Get("content")), "18C and sunny")
		return
	}
	var use, res gjson.Result
	for _, m := range msgs {
		for _, b := range m.Get("content").Array() {
			switch b.Get("type").String() {
			case "tool_use":
				use = b
			case "tool_result":
				res = b
			}
		}
	}
	expectEqual(t, "upstream tool_use id", use.Get("id").String(), id)
	expectEqual(t, "upstream tool_use name", use.Get("name").String(), "get_weather")
	if !jsonEqual(use.Get("input").Raw, `{"location":"Paris"}`) {
		t.Errorf("upstream tool input %s", use.Get("input").Raw)
	}
	expectEqual(t, "upstream tool_use_id", res.Get("tool_use_id").String(), id)
	expectEqual(t, "upstream tool result", contentText(res.Get("content")), "18C and sunny")
	if n := len(msgs); n != 3 || msgs[2].Get("role").String() != "user" {
		t.Errorf("upstream messages: %s", up.Get("messages").Raw)
	}
}

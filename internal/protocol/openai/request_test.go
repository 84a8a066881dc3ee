package openai

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/llmgw/llmgw/internal/llm"
)

const user = `{"role":"user","content":"hi"}`

// wrap returns a valid request with fields added at the top level.
func wrap(fields string) string {
	return `{"model":"m","messages":[` + user + `]` + fields + `}`
}

// withMsg returns a request whose second message is msg.
func withMsg(msg string) string {
	return `{"model":"m","messages":[` + user + `,` + msg + `]}`
}

// chatRequestErrors are bad requests with the param and a piece of the
// message the client must get.
var chatRequestErrors = []struct {
	name, body, param, msg string
}{
	{"empty body", ``, "", "invalid JSON: the request body is empty"},
	{"malformed JSON", `{"model":"m",}`, "", "invalid JSON: invalid character '}'"},
	{"truncated JSON", `{"model":"m","messages":[`, "", "invalid JSON: unexpected end of JSON input"},
	{"not an object", `[1,2]`, "", "must be a JSON object"},
	{"null body", `null`, "", "must be a JSON object"},
	{"missing model", `{"messages":[` + user + `]}`, "model", "missing required parameter: 'model'"},
	{"model not a string", `{"model":4,"messages":[` + user + `]}`, "model", "expected a string, but got a number"},
	{"empty model", `{"model":"","messages":[` + user + `]}`, "model", "must not be empty"},
	{"missing messages", `{"model":"m"}`, "messages", "missing required parameter: 'messages'"},
	{"messages not an array", `{"model":"m","messages":{}}`, "messages", "expected an array, but got an object"},
	{"empty messages", `{"model":"m","messages":[]}`, "messages", "non-empty array"},
	{"message not an object", `{"model":"m","messages":["hi"]}`, "messages[0]", "expected an object, but got a string"},
	{"missing role", withMsg(`{"content":"x"}`), "messages[1].role", "missing required parameter"},
	{"unknown role", withMsg(`{"role":"robot","content":"x"}`), "messages[1].role", `"robot" is not one of`},
	{"function role", withMsg(`{"role":"function","name":"f","content":"x"}`), "messages[1].role", `"function" role is not supported`},
	{"content number", withMsg(`{"role":"user","content":5}`), "messages[1].content", "expected a string or an array of content parts, but got a number"},
	{"content missing", withMsg(`{"role":"user"}`), "messages[1].content", "missing required parameter"},
	{"content empty array", withMsg(`{"role":"user","content":[]}`), "messages[1].content", "non-empty array"},
	{"part without type", withMsg(`{"role":"user","content":[{"text":"x"}]}`), "messages[1].content[0].type", "missing required parameter"},
	{"text part without text", withMsg(`{"role":"user","content":[{"type":"text"}]}`), "messages[1].content[0].text", "missing required parameter"},
	{"text part text number", withMsg(`{"role":"user","content":[{"type":"text","text":1}]}`), "messages[1].content[0].text", "expected a string"},
	{"image without url", withMsg(`{"role":"user","content":[{"type":"image_url","image_url":{}}]}`), "messages[1].content[0].image_url.url", "missing required parameter"},
	{"image_url missing", withMsg(`{"role":"user","content":[{"type":"image_url"}]}`), "messages[1].content[0].image_url", "missing required parameter"},
	{"tool without tool_call_id", withMsg(`{"role":"tool","content":"x"}`), "messages[1].tool_call_id", "missing required parameter"},
	{"tool_call_id number", withMsg(`{"role":"tool","content":"x","tool_call_id":7}`), "messages[1].tool_call_id", "expected a string"},
	{"tool_calls on user", withMsg(`{"role":"user","content":"x","tool_calls":[]}`), "messages[1].tool_calls", "only assistant messages"},
	{"tool_calls not array", withMsg(`{"role":"assistant","tool_calls":{}}`), "messages[1].tool_calls", "expected an array"},
	{"tool call without id", withMsg(`{"role":"assistant","tool_calls":[{"type":"function","function":{"name":"f","arguments":"{}"}}]}`), "messages[1].tool_calls[0].id", "missing required parameter"},
	{"tool call without function", withMsg(`{"role":"assistant","tool_calls":[{"id":"c","type":"function"}]}`), "messages[1].tool_calls[0].function", "missing required parameter"},
	{"tool call arguments object", withMsg(`{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":{}}}]}`), "messages[1].tool_calls[0].function.arguments", "expected a string, but got an object"},
	{"tool call bad type", withMsg(`{"role":"assistant","tool_calls":[{"id":"c","type":"magic","function":{"name":"f","arguments":"{}"}}]}`), "messages[1].tool_calls[0].type", `"magic" is not one of`},
	{"name number", withMsg(`{"role":"user","content":"x","name":1}`), "messages[1].name", "expected a string"},
	{"temperature string", wrap(`,"temperature":"hot"`), "temperature", "invalid type for 'temperature': expected a number, but got a string"},
	{"temperature too high", wrap(`,"temperature":2.5`), "temperature", "not between 0 and 2"},
	{"top_p bool", wrap(`,"top_p":true`), "top_p", "expected a number, but got a boolean"},
	{"max_tokens float", wrap(`,"max_tokens":10.5`), "max_tokens", "expected an integer"},
	{"max_tokens zero", wrap(`,"max_tokens":0`), "max_tokens", "less than the minimum of 1"},
	{"max_completion_tokens string", wrap(`,"max_completion_tokens":"9"`), "max_completion_tokens", "expected an integer, but got a string"},
	{"n zero", wrap(`,"n":0`), "n", "less than the minimum of 1"},
	{"top_logprobs too high", wrap(`,"top_logprobs":21`), "top_logprobs", "greater than the maximum of 20"},
	{"seed too large", wrap(`,"seed":99999999999999999999`), "seed", "out of range"},
	{"presence_penalty range", wrap(`,"presence_penalty":-3`), "presence_penalty", "not between -2 and 2"},
	{"stream string", wrap(`,"stream":"yes"`), "stream", "expected a boolean, but got a string"},
	{"stream_options include_usage", wrap(`,"stream_options":{"include_usage":1}`), "stream_options.include_usage", "expected a boolean"},
	{"stop number", wrap(`,"stop":5`), "stop", "expected a string or an array of strings"},
	{"stop element number", wrap(`,"stop":["a",5]`), "stop[1]", "expected a string"},
	{"logit_bias string value", wrap(`,"logit_bias":{"50256":"ban"}`), "logit_bias.50256", "expected a number"},
	{"logit_bias out of range", wrap(`,"logit_bias":{"50256":-101}`), "logit_bias.50256", "not between -100 and 100"},
	{"metadata number value", wrap(`,"metadata":{"a":1}`), "metadata.a", "expected a string"},
	{"user number", wrap(`,"user":1`), "user", "expected a string"},
	{"tools not array", wrap(`,"tools":{}`), "tools", "expected an array"},
	{"tool without type", wrap(`,"tools":[{"function":{"name":"f"}}]`), "tools[0].type", "missing required parameter"},
	{"tool without function", wrap(`,"tools":[{"type":"function"}]`), "tools[0].function", "missing required parameter"},
	{"tool without name", wrap(`,"tools":[{"type":"function","function":{}}]`), "tools[0].function.name", "missing required parameter"},
	{"tool parameters array", wrap(`,"tools":[{"type":"function","function":{"name":"f","parameters":[]}}]`), "tools[0].function.parameters", "expected an object"},
	{"tool strict string", wrap(`,"tools":[{"type":"function","function":{"name":"f","strict":"yes"}}]`), "tools[0].function.strict", "expected a boolean"},
	{"tool_choice bad string", wrap(`,"tool_choice":"always"`), "tool_choice", `"always" is not one of none, auto, required`},
	{"tool_choice number", wrap(`,"tool_choice":1`), "tool_choice", "expected a string or an object"},
	{"tool_choice without name", wrap(`,"tool_choice":{"type":"function","function":{}}`), "tool_choice.function.name", "missing required parameter"},
	{"response_format bad type", wrap(`,"response_format":{"type":"yaml"}`), "response_format.type", `"yaml" is not one of`},
	{"response_format without json_schema", wrap(`,"response_format":{"type":"json_schema"}`), "response_format.json_schema", "missing required parameter"},
	{"json_schema without name", wrap(`,"response_format":{"type":"json_schema","json_schema":{"schema":{}}}`), "response_format.json_schema.name", "missing required parameter"},
	{"json_schema schema string", wrap(`,"response_format":{"type":"json_schema","json_schema":{"name":"n","schema":"x"}}`), "response_format.json_schema.schema", "expected an object"},
}

func TestDecodeChatRequestErrors(t *testing.T) {
	for _, tc := range chatRequestErrors {
		t.Run(tc.name, func(t *testing.T) {
			req, err := DecodeChatRequest([]byte(tc.body))
			if err == nil {
				t.Fatalf("decoded %s without error: %+v", tc.body, req)
			}
			var e *llm.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *llm.Error", err)
			}
			if e.Kind != llm.KindInvalidRequest {
				t.Errorf("kind = %v, want InvalidRequest", e.Kind)
			}
			if e.Param != tc.param {
				t.Errorf("param = %q, want %q", e.Param, tc.param)
			}
			if !strings.Contains(e.PublicMessage(), tc.msg) {
				t.Errorf("message %q does not contain %q", e.PublicMessage(), tc.msg)
			}
			if len(e.PublicMessage()) > 200 {
				t.Errorf("message is too long for a client (%d bytes): %q", len(e.PublicMessage()), e.PublicMessage())
			}
		})
	}
}

func TestDecodeChatRequestValues(t *testing.T) {
	cases := []struct {
		name  string
		body  string
		check func(t *testing.T, r *llm.ChatRequest)
	}{
		{"nulls are absent", `{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":null,"stop":null,"tools":null,"stream":null,"user":null}`,
			func(t *testing.T, r *llm.ChatRequest) {
				if r.Temperature != nil || r.Stop != nil || r.Tools != nil || r.Stream || r.User != "" || r.Extra != nil {
					t.Errorf("null fields were not treated as absent: %+v", r)
				}
			}},
		{"escaped text", `{"model":"m","messages":[{"role":"user","content":"a\"b\\c\n\u00e9\ud83d\ude00"}]}`,
			func(t *testing.T, r *llm.ChatRequest) {
				if got, want := r.Messages[0].Text(), "a\"b\\c\né😀"; got != want {
					t.Errorf("text = %q, want %q", got, want)
				}
			}},
		{"assistant without content", `{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":""}}]}]}`,
			func(t *testing.T, r *llm.ChatRequest) {
				m := r.Messages[0]
				if m.Content != nil || len(m.ToolCalls) != 1 || m.ToolCalls[0].Name != "f" {
					t.Errorf("message = %+v", m)
				}
			}},
		{"custom tool call", `{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"custom","custom":{"name":"run","input":"print(1)"}}]}]}`,
			func(t *testing.T, r *llm.ChatRequest) {
				tc := r.Messages[0].ToolCalls[0]
				if tc.Type != "custom" || tc.Name != "run" || tc.Arguments != "print(1)" {
					t.Errorf("tool call = %+v", tc)
				}
			}},
		{"cache_control kept on text part", `{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"long","cache_control":{"type":"ephemeral"}}]}]}`,
			func(t *testing.T, r *llm.ChatRequest) {
				if string(r.Messages[0].Content[0].CacheControl) != `{"type":"ephemeral"}` {
					t.Errorf("cache_control = %s", r.Messages[0].Content[0].CacheControl)
				}
			}},
		{"non-base64 data URL stays a URL", `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/svg+xml,<svg/>"}}]}]}`,
			func(t *testing.T, r *llm.ChatRequest) {
				img := r.Messages[0].Content[0].Image
				if img.URL != "data:image/svg+xml,<svg/>" || img.Data != "" {
					t.Errorf("image = %+v", img)
				}
			}},
		{"image_url as bare string", `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":"https://x/y.png"}]}]}`,
			func(t *testing.T, r *llm.ChatRequest) {
				if img := r.Messages[0].Content[0].Image; img.URL != "https://x/y.png" {
					t.Errorf("image = %+v", img)
				}
			}},
		{"stream options", `{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":true}}`,
			func(t *testing.T, r *llm.ChatRequest) {
				if !r.Stream || !r.IncludeUsage {
					t.Errorf("stream = %v, include_usage = %v", r.Stream, r.IncludeUsage)
				}
			}},
		{"reasoning_content in a request is passed through", `{"model":"m","messages":[{"role":"assistant","content":"a","reasoning_content":"r"}]}`,
			func(t *testing.T, r *llm.ChatRequest) {
				m := r.Messages[0]
				if len(m.Content) != 1 || string(m.Extra["reasoning_content"]) != `"r"` {
					t.Errorf("message = %+v", m)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := DecodeChatRequest([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, r)
		})
	}
}

func TestEncodeChatRequest(t *testing.T) {
	f := 0.5
	no := false
	cases := []struct {
		name string
		req  *llm.ChatRequest
		want string
	}{
		{"thinking dropped, cached text as parts",
			&llm.ChatRequest{Model: "m", Messages: []llm.Message{
				{Role: llm.RoleUser, ExtraProtocol: Protocol, Content: []llm.Part{{Type: llm.PartText, Text: "long", CacheControl: []byte(`{"type": "ephemeral"}`)}}},
				{Role: llm.RoleAssistant, Content: []llm.Part{{Type: llm.PartThinking, Text: "hmm", Signature: "sig"}, {Type: llm.PartRedactedThinking, Data: "x"}, llm.TextPart("ok")}},
				{Role: llm.RoleAssistant, Content: []llm.Part{{Type: llm.PartThinking, Text: "t"}}, ToolCalls: []llm.ToolCall{{ID: "c", Name: "f", Arguments: "{}"}}},
			}},
			`{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"long","cache_control":{"type":"ephemeral"}}]},{"role":"assistant","content":"ok"},{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]}]}`},
		{"another protocol's cache_control is not sent",
			&llm.ChatRequest{Model: "m", Messages: []llm.Message{
				{Role: llm.RoleUser, ExtraProtocol: "anthropic", Content: []llm.Part{{Type: llm.PartText, Text: "long", CacheControl: []byte(`{"type": "ephemeral"}`)}}},
			}},
			`{"model":"m","messages":[{"role":"user","content":"long"}]}`},
		{"inline image and empty user content",
			&llm.ChatRequest{Model: "m", Messages: []llm.Message{
				{Role: llm.RoleUser, Content: []llm.Part{{Type: llm.PartImage, Image: &llm.Image{MediaType: "image/jpeg", Data: "AAAA", Detail: "low"}}}},
				{Role: llm.RoleUser},
			}},
			`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/jpeg;base64,AAAA","detail":"low"}}]},{"role":"user","content":""}]}`},
		{"stream always asks for usage; extra never overrides",
			&llm.ChatRequest{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart("hi")}}},
				Stream: true, Temperature: &f, ExtraProtocol: Protocol,
				Extra: map[string]json.RawMessage{"model": json.RawMessage(`"evil"`), "temperature": json.RawMessage(`2`), "stream_options": json.RawMessage(`{}`), "store": json.RawMessage(`true`)}},
			`{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.5,"stream":true,"stream_options":{"include_usage":true},"store":true}`},
		{"another protocol's extra fields, blocks and server tools are left out",
			&llm.ChatRequest{Model: "m", ExtraProtocol: "anthropic",
				Messages: []llm.Message{{Role: llm.RoleUser, ExtraProtocol: "anthropic",
					Content: []llm.Part{llm.TextPart("hi"), {Type: llm.PartOther, Raw: []byte(`{"type":"document","source":{"type":"text","media_type":"text/plain","data":"x"}}`)}},
					Extra:   map[string]json.RawMessage{"cache": json.RawMessage(`1`)}}},
				Tools: []llm.Tool{{Type: "web_search_20250305", Name: "web_search", Raw: []byte(`{"type":"web_search_20250305","name":"web_search"}`)}},
				Extra: map[string]json.RawMessage{"service_tier": json.RawMessage(`"auto"`), "container": json.RawMessage(`"c"`)}},
			`{"model":"m","messages":[{"role":"user","content":"hi"}]}`},
		{"anthropic tool choice",
			&llm.ChatRequest{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart("hi")}}},
				Tools:      []llm.Tool{{Name: "f", Parameters: []byte(`{"type":"object"}`)}, {Type: "bash_20250124", Name: "bash"}},
				ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceRequired, DisableParallel: true}},
			`{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"tool_choice":"required","parallel_tool_calls":false}`},
		{"explicit parallel wins",
			&llm.ChatRequest{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart("hi")}}},
				ParallelToolCalls: &no, ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceFunction, Name: "f", DisableParallel: true}},
			`{"model":"m","messages":[{"role":"user","content":"hi"}],"tool_choice":{"type":"function","function":{"name":"f"}},"parallel_tool_calls":false}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EncodeChatRequest(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			validateAgainst(t, "CreateChatCompletionRequest", got)
		})
	}
}

func TestEncodeChatRequestRejectsNaN(t *testing.T) {
	nan := 0.0
	nan /= nan
	req := &llm.ChatRequest{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart("hi")}}}, Temperature: &nan}
	if _, err := EncodeChatRequest(req); err == nil {
		t.Error("NaN temperature encoded without error")
	}
}

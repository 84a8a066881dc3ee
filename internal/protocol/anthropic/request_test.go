package anthropic

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/openai"
)

func TestDecodeMessagesRequestErrors(t *testing.T) {
	const msgs = `"messages":[{"role":"user","content":"hi"}]`
	cases := []struct {
		name, body, param, msg string
	}{
		{"empty body", ``, "", "invalid JSON"},
		{"syntax", `{"model":`, "", "invalid JSON"},
		{"not an object", `[1]`, "", "must be a JSON object"},
		{"no model", `{"max_tokens":1,` + msgs + `}`, "model", "missing required parameter"},
		{"model type", `{"model":1,"max_tokens":1,` + msgs + `}`, "model", "expected a string"},
		{"no max_tokens", `{"model":"m",` + msgs + `}`, "max_tokens", "missing required parameter"},
		{"max_tokens zero", `{"model":"m","max_tokens":0,` + msgs + `}`, "max_tokens", "less than the minimum"},
		{"max_tokens type", `{"model":"m","max_tokens":"9",` + msgs + `}`, "max_tokens", "expected an integer"},
		{"no messages", `{"model":"m","max_tokens":1}`, "messages", "missing required parameter"},
		{"empty messages", `{"model":"m","max_tokens":1,"messages":[]}`, "messages", "at least one message"},
		{"system role", `{"model":"m","max_tokens":1,"messages":[{"role":"system","content":"x"}]}`, "messages[0].role", "top-level system"},
		{"no content", `{"model":"m","max_tokens":1,"messages":[{"role":"user"}]}`, "messages[0].content", "missing required parameter"},
		{"content type", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":5}]}`, "messages[0].content", "a string or an array"},
		{"block type missing", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"text":"x"}]}]}`, "messages[0].content[0].type", "missing"},
		{"text missing", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"text"}]}]}`, "messages[0].content[0].text", "missing"},
		{"tool_use in user", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_use","id":"a","name":"f","input":{}}]}]}`, "messages[0].content[0].type", "assistant messages"},
		{"tool_result in assistant", `{"model":"m","max_tokens":1,"messages":[{"role":"assistant","content":[{"type":"tool_result","tool_use_id":"a"}]}]}`, "messages[0].content[0].type", "user messages"},
		{"tool_use without id", `{"model":"m","max_tokens":1,"messages":[{"role":"assistant","content":[{"type":"tool_use","name":"f","input":{}}]}]}`, "messages[0].content[0].id", "missing"},
		{"tool_use input not object", `{"model":"m","max_tokens":1,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"a","name":"f","input":"x"}]}]}`, "messages[0].content[0].input", "expected an object"},
		{"tool_result without id", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_result","content":"x"}]}]}`, "messages[0].content[0].tool_use_id", "missing"},
		{"tool_result is_error type", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"a","is_error":"yes"}]}]}`, "messages[0].content[0].is_error", "expected a boolean"},
		{"tool_result nested tool_use", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"a","content":[{"type":"tool_use","id":"b","name":"f"}]}]}]}`, "messages[0].content[0].content[0].type", "not allowed"},
		{"image without source", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"image"}]}]}`, "messages[0].content[0].source", "missing"},
		{"image base64 without data", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png"}}]}]}`, "messages[0].content[0].source.data", "missing"},
		{"redacted without data", `{"model":"m","max_tokens":1,"messages":[{"role":"assistant","content":[{"type":"redacted_thinking"}]}]}`, "messages[0].content[0].data", "missing"},
		{"system type", `{"model":"m","max_tokens":1,"system":5,` + msgs + `}`, "system", "a string or an array of text blocks"},
		{"system image", `{"model":"m","max_tokens":1,"system":[{"type":"image","source":{"type":"url","url":"u"}}],` + msgs + `}`, "system[0].type", "text blocks"},
		{"temperature range", `{"model":"m","max_tokens":1,"temperature":1.5,` + msgs + `}`, "temperature", "not between 0 and 1"},
		{"top_k negative", `{"model":"m","max_tokens":1,"top_k":-1,` + msgs + `}`, "top_k", "less than the minimum"},
		{"stop_sequences type", `{"model":"m","max_tokens":1,"stop_sequences":[1],` + msgs + `}`, "stop_sequences[0]", "expected a string"},
		{"metadata unknown", `{"model":"m","max_tokens":1,"metadata":{"session":"x"},` + msgs + `}`, "metadata.session", "only user_id"},
		{"metadata user_id type", `{"model":"m","max_tokens":1,"metadata":{"user_id":5},` + msgs + `}`, "metadata.user_id", "expected a string"},
		{"tool without schema", `{"model":"m","max_tokens":1,"tools":[{"name":"f"}],` + msgs + `}`, "tools[0].input_schema", "missing"},
		{"tool schema type", `{"model":"m","max_tokens":1,"tools":[{"name":"f","input_schema":"x"}],` + msgs + `}`, "tools[0].input_schema", "expected an object"},
		{"server tool without name", `{"model":"m","max_tokens":1,"tools":[{"type":"bash_20250124"}],` + msgs + `}`, "tools[0].name", "missing"},
		{"tool_choice type", `{"model":"m","max_tokens":1,"tool_choice":{"type":"required"},` + msgs + `}`, "tool_choice.type", "not one of auto, any, tool, none"},
		{"tool_choice tool without name", `{"model":"m","max_tokens":1,"tool_choice":{"type":"tool"},` + msgs + `}`, "tool_choice.name", "missing"},
		{"tool_choice string", `{"model":"m","max_tokens":1,"tool_choice":"auto",` + msgs + `}`, "tool_choice", "expected an object"},
		{"thinking without budget", `{"model":"m","max_tokens":1,"thinking":{"type":"enabled"},` + msgs + `}`, "thinking.budget_tokens", "missing"},
		{"thinking type", `{"model":"m","max_tokens":1,"thinking":true,` + msgs + `}`, "thinking", "expected an object"},
		{"stream type", `{"model":"m","max_tokens":1,"stream":"yes",` + msgs + `}`, "stream", "expected a boolean"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeMessagesRequest([]byte(tc.body))
			var e *llm.Error
			if !errors.As(err, &e) {
				t.Fatalf("error = %v, want an *llm.Error", err)
			}
			if e.Kind != llm.KindInvalidRequest || e.Param != tc.param || !strings.Contains(e.Message, tc.msg) {
				t.Errorf("error = kind %v, param %q, message %q; want param %q, message containing %q", e.Kind, e.Param, e.Message, tc.param, tc.msg)
			}
		})
	}
}

func TestDecodeUserMessageSplitsToolResults(t *testing.T) {
	body := `{"model":"m","max_tokens":5,"messages":[
	  {"role":"user","content":[
	    {"type":"text","text":"before"},
	    {"type":"tool_result","tool_use_id":"a","content":"ra"},
	    {"type":"tool_result","tool_use_id":"b","content":[{"type":"text","text":"rb"},{"type":"image","source":{"type":"url","url":"https://x/y.png"}}],"is_error":true},
	    {"type":"text","text":"after"},
	    {"type":"text","text":"more"}
	  ],"x_note":1}
	]}`
	req, err := DecodeMessagesRequest([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := []llm.Message{
		{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart("before")}, Extra: map[string]json.RawMessage{"x_note": json.RawMessage(`1`)}, ExtraProtocol: Protocol},
		{Role: llm.RoleTool, ToolCallID: "a", Content: []llm.Part{llm.TextPart("ra")}, ExtraProtocol: Protocol},
		{Role: llm.RoleTool, ToolCallID: "b", Content: []llm.Part{llm.TextPart("rb"), {Type: llm.PartImage, Image: &llm.Image{URL: "https://x/y.png"}}},
			Extra: map[string]json.RawMessage{"is_error": json.RawMessage(`true`)}, ExtraProtocol: Protocol},
		{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart("after"), llm.TextPart("more")}, ExtraProtocol: Protocol},
	}
	if diff := cmp.Diff(want, req.Messages, rawJSONEqual); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
	// Back to Anthropic: one user message, tool results first.
	enc, err := EncodeMessagesRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	const wantMsgs = `"messages":[{"role":"user","content":[` +
		`{"type":"tool_result","tool_use_id":"a","content":"ra"},` +
		`{"type":"tool_result","tool_use_id":"b","content":[{"type":"text","text":"rb"},{"type":"image","source":{"type":"url","url":"https://x/y.png"}}],"is_error":true},` +
		`{"type":"text","text":"before"},{"type":"text","text":"after"},{"type":"text","text":"more"}]}]`
	if !strings.Contains(string(enc), wantMsgs) {
		t.Errorf("encoded\n%s\nwant it to contain\n%s", enc, wantMsgs)
	}
}

func TestEncodeMessagesRequest(t *testing.T) {
	user := func(s string) llm.Message {
		return llm.Message{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart(s)}}
	}
	no, ten := false, 10
	cases := []struct {
		name string
		req  *llm.ChatRequest
		want string
	}{
		{"default max_tokens",
			&llm.ChatRequest{Model: "m", Messages: []llm.Message{user("hi")}},
			`{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":"hi"}]}`},
		{"max_tokens above the thinking budget",
			&llm.ChatRequest{Model: "m", Messages: []llm.Message{user("hi")}, Thinking: json.RawMessage(`{"type":"enabled","budget_tokens":8000}`)},
			`{"model":"m","max_tokens":12096,"messages":[{"role":"user","content":"hi"}],"thinking":{"type":"enabled","budget_tokens":8000}}`},
		{"max_completion_tokens wins",
			&llm.ChatRequest{Model: "m", Messages: []llm.Message{user("hi")}, MaxCompletionTokens: &ten},
			`{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`},
		{"reasoning effort turns thinking on, max_tokens raised above the budget",
			&llm.ChatRequest{Model: "m", Messages: []llm.Message{user("hi")}, ReasoningEffort: "high"},
			`{"model":"m","max_tokens":20480,"messages":[{"role":"user","content":"hi"}],"thinking":{"type":"enabled","budget_tokens":16384}}`},
		{"reasoning effort budget shrunk to half the client's limit, sampling left out",
			&llm.ChatRequest{Model: "m", Messages: []llm.Message{user("hi")}, ReasoningEffort: "medium", MaxTokens: ptr(5000),
				Temperature: ptr(0.2), TopP: ptr(0.5), TopK: ptr(5), Stop: []string{"END"}, User: "u"},
			`{"model":"m","max_tokens":5000,"messages":[{"role":"user","content":"hi"}],"thinking":{"type":"enabled","budget_tokens":2500},` +
				`"stop_sequences":["END"],"metadata":{"user_id":"u"}}`},
		{"reasoning effort with too small a limit: no thinking",
			&llm.ChatRequest{Model: "m", Messages: []llm.Message{user("hi")}, ReasoningEffort: "high", MaxTokens: ptr(2000), Temperature: ptr(0.2)},
			`{"model":"m","max_tokens":2000,"messages":[{"role":"user","content":"hi"}],"temperature":0.2}`},
		{"reasoning effort none or unknown: no thinking",
			&llm.ChatRequest{Model: "m", Messages: []llm.Message{user("hi")}, ReasoningEffort: "none"},
			`{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":"hi"}]}`},
		{"reasoning effort with a forced tool: no thinking",
			&llm.ChatRequest{Model: "m", Messages: []llm.Message{user("hi")}, ReasoningEffort: "low",
				Tools: []llm.Tool{{Type: "function", Name: "f"}}, ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceRequired}},
			`{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"f","input_schema":{"type":"object","properties":{}}}],"tool_choice":{"type":"any"}}`},
		{"reasoning effort while answering a tool call made without thinking: no thinking",
			&llm.ChatRequest{Model: "m", ReasoningEffort: "low", Messages: []llm.Message{user("q"),
				{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "c", Name: "f", Arguments: "{}"}}},
				{Role: llm.RoleTool, ToolCallID: "c", Content: []llm.Part{llm.TextPart("r")}}}},
			`{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":"q"},{"role":"assistant","content":[{"type":"tool_use","id":"c","name":"f","input":{}}]},` +
				`{"role":"user","content":[{"type":"tool_result","tool_use_id":"c","content":"r"}]}]}`},
		{"reasoning effort after a finished tool turn: thinking",
			&llm.ChatRequest{Model: "m", ReasoningEffort: "low", Messages: []llm.Message{user("q"),
				{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "c", Name: "f", Arguments: "{}"}}},
				{Role: llm.RoleTool, ToolCallID: "c", Content: []llm.Part{llm.TextPart("r")}},
				{Role: llm.RoleAssistant, Content: []llm.Part{llm.TextPart("done")}}, user("next")}},
			`{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":"q"},{"role":"assistant","content":[{"type":"tool_use","id":"c","name":"f","input":{}}]},` +
				`{"role":"user","content":[{"type":"tool_result","tool_use_id":"c","content":"r"}]},{"role":"assistant","content":"done"},{"role":"user","content":"next"}],` +
				`"thinking":{"type":"enabled","budget_tokens":2048}}`},
		{"the client's own thinking wins over reasoning effort",
			&llm.ChatRequest{Model: "m", Messages: []llm.Message{user("hi")}, ReasoningEffort: "high",
				Thinking: json.RawMessage(`{"type":"enabled","budget_tokens":1024}`), Temperature: ptr(1.0)},
			`{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":"hi"}],"thinking":{"type":"enabled","budget_tokens":1024},"temperature":1}`},
		{"consecutive users merged, empty assistant dropped",
			&llm.ChatRequest{Model: "m", Messages: []llm.Message{user("a"), {Role: llm.RoleAssistant, Content: []llm.Part{llm.TextPart("")}}, user("b")}},
			`{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]}`},
		{"unsigned thinking dropped, signed kept first",
			&llm.ChatRequest{Model: "m", Messages: []llm.Message{user("q"), {Role: llm.RoleAssistant, Content: []llm.Part{
				llm.TextPart("answer"), {Type: llm.PartThinking, Text: "r1"}, {Type: llm.PartThinking, Text: "r2", Signature: "s"}}}}},
			`{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":"q"},{"role":"assistant","content":[{"type":"thinking","thinking":"r2","signature":"s"},{"type":"text","text":"answer"}]}]}`},
		{"refusal as text, empty arguments as {}",
			&llm.ChatRequest{Model: "m", Messages: []llm.Message{user("q"), {Role: llm.RoleAssistant, Refusal: "no", ToolCalls: []llm.ToolCall{{ID: "c", Name: "f", Arguments: " "}}}}},
			`{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":"q"},{"role":"assistant","content":[{"type":"text","text":"no"},{"type":"tool_use","id":"c","name":"f","input":{}}]}]}`},
		{"parallel_tool_calls false without tool choice",
			&llm.ChatRequest{Model: "m", Messages: []llm.Message{user("q")}, ParallelToolCalls: &no, Tools: []llm.Tool{{Type: "function", Name: "f"}}},
			`{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":"q"}],"tools":[{"name":"f","input_schema":{"type":"object","properties":{}}}],"tool_choice":{"type":"auto","disable_parallel_tool_use":true}}`},
		{"tool choice without tools left out; foreign server tool left out",
			&llm.ChatRequest{Model: "m", Messages: []llm.Message{user("q")}, ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceRequired},
				Tools: []llm.Tool{{Type: "custom", Name: "x", Raw: json.RawMessage(`{"type":"custom","custom":{"name":"x"}}`)}}, ExtraProtocol: "openai"},
			`{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":"q"}]}`},
		{"extra of this protocol never overrides",
			&llm.ChatRequest{Model: "m", Messages: []llm.Message{user("q")}, ExtraProtocol: Protocol,
				Extra: map[string]json.RawMessage{"model": json.RawMessage(`"evil"`), "max_tokens": json.RawMessage(`1`), "service_tier": json.RawMessage(`"auto"`)}},
			`{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":"q"}],"service_tier":"auto"}`},
		{"extra of another protocol left out",
			&llm.ChatRequest{Model: "m", ExtraProtocol: "openai",
				Messages: []llm.Message{{Role: llm.RoleUser, ExtraProtocol: "openai", Content: []llm.Part{llm.TextPart("q"), {Type: llm.PartOther, Raw: json.RawMessage(`{"type":"input_audio"}`)}},
					Extra: map[string]json.RawMessage{"name": json.RawMessage(`"bob"`)}}},
				Extra: map[string]json.RawMessage{"store": json.RawMessage(`true`), "service_tier": json.RawMessage(`"flex"`)}},
			`{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":"q"}]}`},
		{"cache_control of a tool result's part moves to the block",
			&llm.ChatRequest{Model: "m", Messages: []llm.Message{user("q"),
				{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "c", Name: "f", Arguments: "{}"}, {ID: "d", Name: "f", Arguments: "{}"}}},
				{Role: llm.RoleTool, ToolCallID: "c", Content: []llm.Part{{Type: llm.PartText, Text: "r", CacheControl: json.RawMessage(`{"type":"ephemeral"}`)}}},
				{Role: llm.RoleTool, ToolCallID: "d", Content: []llm.Part{llm.TextPart("a"), {Type: llm.PartText, Text: "b", CacheControl: json.RawMessage(`{"type":"ephemeral"}`)}}}}},
			`{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":"q"},{"role":"assistant","content":[{"type":"tool_use","id":"c","name":"f","input":{}},{"type":"tool_use","id":"d","name":"f","input":{}}]},` +
				`{"role":"user","content":[{"type":"tool_result","tool_use_id":"c","content":"r","cache_control":{"type":"ephemeral"}},` +
				`{"type":"tool_result","tool_use_id":"d","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}],"cache_control":{"type":"ephemeral"}}]}]}`},
		{"tool ids made acceptable to Anthropic, pairs kept",
			&llm.ChatRequest{Model: "m", Messages: []llm.Message{user("q"),
				{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "functions.get_weather:0", Name: "f", Arguments: "{}"}}},
				{Role: llm.RoleTool, ToolCallID: "functions.get_weather:0", Content: []llm.Part{llm.TextPart("r")}}}},
			`{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":"q"},{"role":"assistant","content":[{"type":"tool_use","id":"functions_get_weather_0","name":"f","input":{}}]},` +
				`{"role":"user","content":[{"type":"tool_result","tool_use_id":"functions_get_weather_0","content":"r"}]}]}`},
		{"temperature clamped",
			&llm.ChatRequest{Model: "m", Messages: []llm.Message{user("q")}, Temperature: ptr(1.7), TopP: ptr(0.5)},
			`{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":"q"}],"temperature":1,"top_p":0.5}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EncodeMessagesRequest(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestEncodeRejectsArgumentsThatAreNoObject(t *testing.T) {
	for _, args := range []string{`[1]`, `{"a":`, `"s"`} {
		req := &llm.ChatRequest{Model: "m", Messages: []llm.Message{
			{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart("q")}},
			{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "c", Name: "f", Arguments: args}}},
		}}
		_, err := EncodeMessagesRequest(req)
		var e *llm.Error
		if !errors.As(err, &e) || e.Kind != llm.KindInvalidRequest || e.Param != "messages[1].tool_calls[0].function.arguments" {
			t.Errorf("arguments %s: error = %v, want an invalid request naming the arguments", args, err)
		}
	}
}

// TestExtraStaysInItsProtocol checks both encoders: an Anthropic request's
// unknown fields reach an Anthropic upstream and never an OpenAI one, and
// the other way round.
func TestExtraStaysInItsProtocol(t *testing.T) {
	fromAnthropic, err := DecodeMessagesRequest([]byte(`{"model":"m","max_tokens":9,"service_tier":"auto","messages":[{"role":"user","content":"hi","x_msg":1}]}`))
	if err != nil {
		t.Fatal(err)
	}
	fromOpenAI, err := openai.DecodeChatRequest([]byte(`{"model":"m","store":true,"messages":[{"role":"user","content":"hi","x_msg":2}]}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		encode func(*llm.ChatRequest) ([]byte, error)
		req    *llm.ChatRequest
		want   string
	}{
		{"anthropic to anthropic", EncodeMessagesRequest, fromAnthropic, `{"model":"m","max_tokens":9,"messages":[{"role":"user","content":"hi"}],"service_tier":"auto"}`},
		{"anthropic to openai", openai.EncodeChatRequest, fromAnthropic, `{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":9}`},
		{"openai to anthropic", EncodeMessagesRequest, fromOpenAI, `{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":"hi"}]}`},
		{"openai to openai", openai.EncodeChatRequest, fromOpenAI, `{"model":"m","messages":[{"role":"user","content":"hi","x_msg":2}],"store":true}`},
	} {
		got, err := tc.encode(tc.req)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tc.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

func TestCountTokens(t *testing.T) {
	req, err := DecodeCountTokensRequest([]byte(`{"model":"m","system":"be brief","messages":[{"role":"user","content":"Hello, world"}],"tools":[{"name":"f","input_schema":{"type":"object"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if req.MaxTokens != nil {
		t.Errorf("count_tokens request has max_tokens %d", *req.MaxTokens)
	}
	body, err := EncodeCountTokensRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"model":"m","system":"be brief","messages":[{"role":"user","content":"Hello, world"}],"tools":[{"name":"f","input_schema":{"type":"object"}}]}`
	if string(body) != want {
		t.Errorf("got  %s\nwant %s", body, want)
	}
	if got := string(EncodeCountTokensResponse(2095)); got != `{"input_tokens":2095}` {
		t.Errorf("response = %s", got)
	}
}

func TestEstimateTokens(t *testing.T) {
	text := strings.Repeat("abcd", 100) // 400 bytes: 100 tokens
	cases := []struct {
		name string
		req  *llm.ChatRequest
		want int
	}{
		{"empty", &llm.ChatRequest{}, 3},
		{"one message", &llm.ChatRequest{Messages: []llm.Message{{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart(text)}}}}, 3 + 4 + 100},
		{"rounds up", &llm.ChatRequest{Messages: []llm.Message{{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart("abcde")}}}}, 3 + 4 + 2},
		{"image and tool", &llm.ChatRequest{
			Messages: []llm.Message{{Role: llm.RoleUser, Content: []llm.Part{{Type: llm.PartImage, Image: &llm.Image{URL: "u"}}}},
				{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{Name: "fn", Arguments: `{"a":1}`}}}},
			Tools: []llm.Tool{{Name: "fn", Description: "does", Parameters: json.RawMessage(`{"type":"object"}`)}},
		}, 3 + 4 + 1600 + 4 + 8 + (2+7+2+4+17+3)/4},
	}
	for _, tc := range cases {
		if got := EstimateTokens(tc.req); got != tc.want {
			t.Errorf("%s: EstimateTokens = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestOutputSchemaEdges(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`{"type":"object"}`, `{"type":"object","properties":{},"additionalProperties":false}`},
		{`{"type":"object","properties":{"a":true},"additionalProperties":{"type":"string"}}`,
			`{"type":"object","properties":{"a":true},"additionalProperties":false}`},
		{`{"$ref":"#/$defs/a","description":"x"}`, `{"$ref":"#/$defs/a"}`},
		{`{"type":"string","format":"binary","description":7}`, `{"type":"string","description":"{format: \"binary\", description: 7}"}`},
	} {
		got, err := OutputSchema([]byte(tt.in))
		if err != nil || string(got) != tt.want {
			t.Errorf("OutputSchema(%s) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	deep := `{"type":"string"}`
	for range maxSchemaDepth + 2 {
		deep = `{"type":"array","items":` + deep + `}`
	}
	if _, err := OutputSchema([]byte(deep)); err == nil {
		t.Error("no error for a schema nested too deeply")
	}
}

// output_config.format and output_format must be a json_schema format with
// an object schema.
func TestDecodeOutputFormatErrors(t *testing.T) {
	for _, tt := range []struct{ field, param string }{
		{`"output_config":{"format":{"type":"json_object"}}`, "output_config.format.type"},
		{`"output_config":{"format":{"type":"json_schema"}}`, "output_config.format.schema"},
		{`"output_config":{"format":{"type":"json_schema","schema":[]}}`, "output_config.format.schema"},
		{`"output_format":{"type":"json_schema","schema":"x"}`, "output_format.schema"},
		{`"output_config":[]`, "output_config"},
	} {
		_, err := DecodeMessagesRequest([]byte(`{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],` + tt.field + `}`))
		var e *llm.Error
		if !errors.As(err, &e) || e.Param != tt.param {
			t.Errorf("%s: error %v, want one about %s", tt.field, err, tt.param)
		}
	}
	req, err := DecodeMessagesRequest([]byte(`{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"output_config":{"effort":"low"}}`))
	if err != nil || req.ResponseFormat != nil || req.Extra["output_config"] == nil {
		t.Errorf("output_config without format: %v %+v", err, req)
	}
}

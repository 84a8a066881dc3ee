package responses

import (
	"errors"
	"strings"
	"testing"

	"github.com/llmgw/llmgw/internal/llm"
)

func TestDecodeRequestRefuses(t *testing.T) {
	const msg = `"input":"hi"`
	cases := []struct {
		name, body, param, says string
	}{
		{"not JSON", `{"model":`, "", "invalid JSON"},
		{"not an object", `[1]`, "", "JSON object"},
		{"duplicate key", `{"model":"m","model":"n",` + msg + `}`, "model", "duplicate key"},
		{"invalid UTF-8", "{\"model\":\"m\xff\"," + msg + "}", "", "UTF-8"},
		{"too deep", `{"model":"m",` + msg + `,"metadata":` + strings.Repeat(`[`, 200) + strings.Repeat(`]`, 200) + `}`, "", "nest"},
		{"no model", `{` + msg + `}`, "model", "missing required parameter"},
		{"no input", `{"model":"m"}`, "input", "missing required parameter"},
		{"input number", `{"model":"m","input":5}`, "input", "invalid type"},
		{"empty input", `{"model":"m","input":[]}`, "input", "non-empty"},
		{"unknown field", `{"model":"m",` + msg + `,"frobnicate":1}`, "frobnicate", "unrecognized request argument"},
		{"background", `{"model":"m",` + msg + `,"background":true}`, "background", "not supported"},
		{"conversation", `{"model":"m",` + msg + `,"conversation":"conv_1"}`, "conversation", "previous_response_id"},
		{"prompt", `{"model":"m",` + msg + `,"prompt":{"id":"pmpt_1"}}`, "prompt", "not supported"},
		{"built-in tool", `{"model":"m",` + msg + `,"tools":[{"type":"function","name":"f"},{"type":"web_search"}]}`, "tools[1].type", "only function tools"},
		{"tool without name", `{"model":"m",` + msg + `,"tools":[{"type":"function"}]}`, "tools[0].name", "missing"},
		{"tool unknown key", `{"model":"m",` + msg + `,"tools":[{"type":"function","name":"f","function":{}}]}`, "tools[0].function", "unrecognized"},
		{"tool_choice built-in", `{"model":"m",` + msg + `,"tool_choice":{"type":"web_search_preview"}}`, "tool_choice.type", "not supported"},
		{"tool_choice bad mode", `{"model":"m",` + msg + `,"tool_choice":"any"}`, "tool_choice", "not one of"},
		{"item_reference", `{"model":"m","input":[{"role":"user","content":"a"},{"type":"item_reference","id":"msg_1"}]}`, "input[1].type", "previous_response_id"},
		{"unknown item", `{"model":"m","input":[{"type":"computer_call_output","call_id":"c"}]}`, "input[0].type", "not an input item"},
		{"item without type or role", `{"model":"m","input":[{"content":"a"}]}`, "input[0].type", "missing"},
		{"bad role", `{"model":"m","input":[{"role":"tool","content":"a"}]}`, "input[0].role", "not one of"},
		{"content number", `{"model":"m","input":[{"role":"user","content":1}]}`, "input[0].content", "invalid type"},
		{"image file_id", `{"model":"m","input":[{"role":"user","content":[{"type":"input_image","file_id":"file-1","detail":"auto"}]}]}`, "input[0].content[0].file_id", "image_url"},
		{"image data URL not base64", `{"model":"m","input":[{"role":"user","content":[{"type":"input_image","image_url":"data:image/png,abc"}]}]}`, "input[0].content[0].image_url", "base64"},
		{"input_file", `{"model":"m","input":[{"role":"user","content":[{"type":"input_file","file_id":"file-1"}]}]}`, "input[0].content[0].type", "input_file"},
		{"output_text from user", `{"model":"m","input":[{"role":"user","content":[{"type":"output_text","text":"a"}]}]}`, "input[0].content[0].type", "assistant"},
		{"function_call without call_id", `{"model":"m","input":[{"type":"function_call","name":"f","arguments":"{}"}]}`, "input[0].call_id", "missing"},
		{"function_call_output without output", `{"model":"m","input":[{"type":"function_call_output","call_id":"c"}]}`, "input[0].output", "missing"},
		{"reasoning without summary", `{"model":"m","input":[{"type":"reasoning","id":"rs_1"}]}`, "input[0].summary", "missing"},
		{"reasoning bad summary", `{"model":"m","input":[{"type":"reasoning","summary":[{"type":"text","text":"a"}]}]}`, "input[0].summary[0].type", "summary_text"},
		{"metadata too many", `{"model":"m",` + msg + `,"metadata":{` + manyPairs(17) + `}}`, "metadata", "maximum of 16"},
		{"metadata number", `{"model":"m",` + msg + `,"metadata":{"a":1}}`, "metadata.a", "a string"},
		{"metadata long value", `{"model":"m",` + msg + `,"metadata":{"a":"` + strings.Repeat("x", 513) + `"}}`, "metadata.a", "512"},
		{"text format bad", `{"model":"m",` + msg + `,"text":{"format":{"type":"xml"}}}`, "text.format.type", "not one of"},
		{"json_schema without schema", `{"model":"m",` + msg + `,"text":{"format":{"type":"json_schema","name":"s"}}}`, "text.format.schema", "missing"},
		{"verbosity bad", `{"model":"m",` + msg + `,"text":{"verbosity":"loud"}}`, "text.verbosity", "not one of"},
		{"max_output_tokens small", `{"model":"m",` + msg + `,"max_output_tokens":5}`, "max_output_tokens", "minimum of 16"},
		{"temperature high", `{"model":"m",` + msg + `,"temperature":3}`, "temperature", "between"},
		{"top_logprobs high", `{"model":"m",` + msg + `,"top_logprobs":21}`, "top_logprobs", "maximum of 20"},
		{"include unknown", `{"model":"m",` + msg + `,"include":["output.secrets"]}`, "include[0]", "not one of"},
		{"reasoning effort bad", `{"model":"m",` + msg + `,"reasoning":{"effort":"max"}}`, "reasoning.effort", "not one of"},
		{"truncation bad", `{"model":"m",` + msg + `,"truncation":"middle"}`, "truncation", "not one of"},
		{"safety_identifier long", `{"model":"m",` + msg + `,"safety_identifier":"` + strings.Repeat("x", 65) + `"}`, "safety_identifier", "64"},
		{"store string", `{"model":"m",` + msg + `,"store":"yes"}`, "store", "a boolean"},
		{"stream_options unknown", `{"model":"m",` + msg + `,"stream_options":{"include_usage":true}}`, "stream_options.include_usage", "unrecognized"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := DecodeRequest([]byte(tc.body))
			if err == nil {
				t.Fatalf("accepted: %+v", req)
			}
			var e *llm.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *llm.Error", err)
			}
			if e.Status() != 400 || e.Param != tc.param {
				t.Errorf("status %d param %q, want 400 and %q (%v)", e.Status(), e.Param, tc.param, err)
			}
			if !strings.Contains(e.PublicMessage(), tc.says) {
				t.Errorf("message %q does not say %q", e.PublicMessage(), tc.says)
			}
		})
	}
}

func manyPairs(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"k`)
		b.WriteByte(byte('a' + i))
		b.WriteString(`":"v"`)
	}
	return b.String()
}

func TestDecodeRequestStringInput(t *testing.T) {
	req, err := DecodeRequest([]byte(`{"model":"m","input":"Say \"hi\"\n","instructions":"Be brief."}`))
	if err != nil {
		t.Fatal(err)
	}
	const want = `[{"type":"message","role":"user","content":[{"type":"input_text","text":"Say \"hi\"\n"}]}]`
	if string(req.Input) != want {
		t.Errorf("Input = %s, want %s", req.Input, want)
	}
	msgs := req.Chat.Messages
	if len(msgs) != 2 || msgs[0].Role != llm.RoleDeveloper || msgs[0].Text() != "Be brief." || msgs[1].Role != llm.RoleUser || msgs[1].Text() != "Say \"hi\"\n" {
		t.Errorf("messages = %+v", msgs)
	}
	if !req.Store || req.Instructions != "Be brief." || req.Chat.ExtraProtocol != Protocol {
		t.Errorf("store %v instructions %q protocol %q", req.Store, req.Instructions, req.Chat.ExtraProtocol)
	}
}

func TestDecodeRequestFields(t *testing.T) {
	body := `{"model":"m","input":[{"role":"user","content":[{"type":"input_image","image_url":"data:image/png;base64,iVBO","detail":"low"}]}],
		"store":false,"include":["message.output_text.logprobs"],"max_output_tokens":100,"reasoning":{"effort":"high","summary":"auto"},
		"tool_choice":"required","parallel_tool_calls":false,"background":false,"user":"u","text":{"format":{"type":"json_object"},"verbosity":"low"}}`
	req, err := DecodeRequest([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	c := req.Chat
	img := c.Messages[0].Content[0].Image
	if img == nil || img.MediaType != "image/png" || img.Data != "iVBO" || img.URL != "" || img.Detail != "low" {
		t.Errorf("image = %+v", img)
	}
	if req.Store || c.Logprobs == nil || !*c.Logprobs || *c.MaxCompletionTokens != 100 || c.ReasoningEffort != "high" {
		t.Errorf("store %v logprobs %v max %v effort %q", req.Store, c.Logprobs, c.MaxCompletionTokens, c.ReasoningEffort)
	}
	if c.ToolChoice.Mode != llm.ToolChoiceRequired || *c.ParallelToolCalls || c.User != "u" || c.ResponseFormat.Type != "json_object" {
		t.Errorf("tool choice %+v parallel %v user %q format %+v", c.ToolChoice, *c.ParallelToolCalls, c.User, c.ResponseFormat)
	}
	for _, k := range []string{"reasoning", "text", "tool_choice", "max_output_tokens", "background", "user", "model", "parallel_tool_calls"} {
		if _, ok := req.Echo[k]; !ok {
			t.Errorf("Echo lacks %s", k)
		}
	}
	if _, ok := req.Echo["store"]; ok {
		t.Error("Echo holds store, which Request.Store carries")
	}
}

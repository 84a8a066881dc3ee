package tokens

import (
	"testing"

	"github.com/llmgw/llmgw/internal/llm"
)

// FuzzCount builds a request from arbitrary text, names, tool schemas,
// arguments and image data: Count must not panic and must count at least
// the reply priming, for every kind of target.
func FuzzCount(f *testing.F) {
	f.Add("Let's circle back when we have more bandwidth.", "example_user",
		[]byte(`{"type":"object","properties":{"unit":{"type":"string","description":"The unit.","enum":["celsius","fahrenheit"]}},"required":["unit"]}`),
		`{"location":"Paris"}`, pngHeader(1024, 1024), "high")
	f.Add("today\n \n", "", []byte(`{"type":["object","null"],"properties":{"a":{"items":{"type":"array"},"enum":[1,null]}}}`), "", "", "low")
	f.Add("\xff\xfe invalid \xc3", "\x00", []byte(`{"properties":[`), "\xff", "%%%", "auto")
	f.Add("お誕生日おめでとう 👍🏽", "名前", []byte(`null`), "{}", pngHeader(0, 5), "")
	f.Add("", "", []byte(`{"properties":{"x":{"type":"object","properties":{"y":{"type":"object"}}}},"additionalProperties":false}`), "", "iVBORw0KGgo", "")
	f.Fuzz(func(t *testing.T, text, name string, params []byte, args, imageData, detail string) {
		req := &llm.ChatRequest{
			Messages: []llm.Message{
				{Role: llm.RoleUser, Name: name, Content: []llm.Part{
					llm.TextPart(text),
					{Type: llm.PartImage, Image: &llm.Image{Data: imageData, Detail: detail}},
					{Type: llm.PartOther, Raw: params},
				}},
				{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: name, Name: name, Arguments: args}}},
				{Role: llm.RoleTool, ToolCallID: name, Content: []llm.Part{llm.TextPart(args)}},
			},
			Tools:          []llm.Tool{{Type: "function", Name: name, Description: text, Parameters: params}},
			ResponseFormat: &llm.ResponseFormat{Type: "json_schema", JSONSchema: &llm.JSONSchema{Name: name, Schema: params}},
		}
		for _, target := range [][2]string{{"openai", "gpt-4o"}, {"azure_openai", "gpt-4"}, {"anthropic", "claude-sonnet-4-5"}} {
			n, _ := Count(req, target[0], target[1])
			if n < replyPriming {
				t.Fatalf("%s: Count = %d", target[1], n)
			}
		}
		if n, _ := CountText(text, "openai", "text-embedding-3-small"); n < 0 {
			t.Fatalf("CountText = %d", n)
		}
	})
}

package openai

import (
	"strings"
	"testing"

	"github.com/llmgw/llmgw/internal/llm"
)

func TestStrictSchema(t *testing.T) {
	closed := func(props, required string) string {
		return `{"type":"object","properties":{` + props + `},"required":[` + required + `],"additionalProperties":false}`
	}
	deep := `{"type":"string"}`
	for range 11 {
		deep = closed(`"a":`+deep, `"a"`)
	}
	tests := []struct {
		name, schema string
		want         bool
	}{
		{"closed, all required", closed(`"a":{"type":"string"},"b":{"type":["integer","null"]}`, `"a","b"`), true},
		{"nested and $defs", `{"type":"object","properties":{"a":{"type":"array","items":{"$ref":"#/$defs/x"}}},"required":["a"],"additionalProperties":false,` +
			`"$defs":{"x":` + closed(`"b":{"type":"string"}`, `"b"`) + `}}`, true},
		{"anyOf of closed objects", closed(`"a":{"anyOf":[`+closed(`"b":{"type":"string"}`, `"b"`)+`,{"type":"null"}]}`, `"a"`), true},
		{"optional property", closed(`"a":{"type":"string"},"b":{"type":"string"}`, `"a"`), false},
		{"open object", `{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}`, false},
		{"open nested object", closed(`"a":{"type":"object","properties":{},"required":[]}`, `"a"`), false},
		{"$defs entry open", `{"type":"object","properties":{},"required":[],"additionalProperties":false,"$defs":{"x":{"type":"object","properties":{}}}}`, false},
		{"allOf", closed(`"a":{"allOf":[{"type":"string"}]}`, `"a"`), false},
		{"root not an object", `{"type":"array","items":{"type":"string"}}`, false},
		{"too deep", deep, false},
		{"not JSON object", `[]`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StrictSchema([]byte(tt.schema)); got != tt.want {
				t.Errorf("StrictSchema(%s) = %v, want %v", tt.schema, got, tt.want)
			}
		})
	}
}

// A strict schema of another protocol is sent strict only inside OpenAI's
// strict subset, with a name; an OpenAI client's own is sent as it asked.
func TestEncodeForeignStrictSchema(t *testing.T) {
	yes := true
	optional := `{"type":"object","properties":{"a":{"type":"string"}},"required":[],"additionalProperties":false}`
	for _, tt := range []struct {
		protocol, want string
	}{
		{"anthropic", `"response_format":{"type":"json_schema","json_schema":{"name":"response","schema":` + optional + `,"strict":false}}`},
		{Protocol, `"response_format":{"type":"json_schema","json_schema":{"name":"response","schema":` + optional + `,"strict":true}}`},
	} {
		req := &llm.ChatRequest{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart("x")}}},
			ResponseFormat: &llm.ResponseFormat{Type: "json_schema", JSONSchema: &llm.JSONSchema{Schema: []byte(optional), Strict: &yes}},
			ExtraProtocol:  tt.protocol}
		b, err := EncodeChatRequest(req)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), tt.want) {
			t.Errorf("%s: %s\nwant %s", tt.protocol, b, tt.want)
		}
	}
}

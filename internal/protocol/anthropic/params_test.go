package anthropic

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/openai"
)

func TestCheckParams(t *testing.T) {
	base := `{"model":"m","messages":[{"role":"user","content":"hi"}]`
	tests := []struct {
		name    string
		fields  string
		refuse  bool
		dropped string
		param   string // the field refused, "" when none
	}{
		{"nothing", ``, false, "", ""},
		{"n 1", `,"n":1`, false, "", ""},
		{"n 2", `,"n":2`, false, "", "n"},
		{"logprobs false", `,"logprobs":false`, false, "", ""},
		{"logprobs true", `,"logprobs":true`, false, "", "logprobs"},
		{"top_logprobs", `,"top_logprobs":3`, false, "", "top_logprobs"},
		{"logit_bias", `,"logit_bias":{"50256":-100}`, false, "", "logit_bias"},
		{"audio", `,"audio":{"voice":"alloy","format":"wav"}`, false, "", "audio"},
		{"modalities audio", `,"modalities":["text","audio"]`, false, "", "modalities"},
		{"modalities text", `,"modalities":["text"]`, false, "modalities", ""},
		{"functions", `,"functions":[{"name":"f","parameters":{}}]`, false, "", "functions"},
		{"web search", `,"web_search_options":{}`, false, "", "web_search_options"},
		{"web search null", `,"web_search_options":null`, false, "", ""},
		{"web search asked", `,"web_search_options":{"search_context_size":"low"}`, false, "", "web_search_options"},
		{"penalties zero", `,"presence_penalty":0,"frequency_penalty":0`, false, "", ""},
		{"harmless", `,"presence_penalty":0.5,"frequency_penalty":-1,"seed":4,"store":true,"service_tier":"auto","metadata":{"a":"b"}`,
			false, "presence_penalty,frequency_penalty,seed,metadata,service_tier,store", ""},
		{"store false", `,"store":false`, false, "", ""},
		{"json_object", `,"response_format":{"type":"json_object"}`, false, "response_format", ""},
		{"unknown field", `,"new_thing":1`, false, "new_thing", ""},
		{"refuse harmless", `,"seed":4`, true, "", "seed"},
		{"refuse nothing asked", `,"store":false`, true, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := openai.DecodeChatRequest([]byte(base + tt.fields + `}`))
			if err != nil {
				t.Fatal(err)
			}
			dropped, err := CheckParams(req, tt.refuse)
			if tt.param != "" {
				e := llm.AsError(err)
				if err == nil || e.Kind != llm.KindInvalidRequest || e.Param != tt.param || !strings.HasPrefix(e.Message, tt.param+":") {
					t.Fatalf("err %v, want a 400 naming %s", err, tt.param)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(dropped, ","); got != tt.dropped {
				t.Errorf("dropped %q, want %q", got, tt.dropped)
			}
		})
	}
}

// Requests of Anthropic's own protocol lose nothing.
func TestCheckParamsOwnProtocol(t *testing.T) {
	req := &llm.ChatRequest{ExtraProtocol: Protocol, Extra: map[string]json.RawMessage{"service_tier": json.RawMessage(`"auto"`)}}
	if dropped, err := CheckParams(req, true); err != nil || dropped != nil {
		t.Errorf("dropped %v, err %v", dropped, err)
	}
}

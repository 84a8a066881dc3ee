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

// A content part the Messages API cannot carry, in the client's own turn,
// is refused with its path; in an assistant turn it is history, left out.
func TestCheckParamsParts(t *testing.T) {
	body := `{"model":"m","messages":[{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"listen"},` +
		`{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}]}`
	req, err := openai.DecodeChatRequest([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	_, err = CheckParams(req, false)
	if e := llm.AsError(err); err == nil || e.Param != "messages[1].content[1]" || !strings.Contains(e.Message, `"input_audio"`) {
		t.Fatalf("err %v, want a 400 naming messages[1].content[1]", err)
	}
	req.Messages[1].Role = llm.RoleAssistant
	if _, err := CheckParams(req, false); err != nil {
		t.Errorf("assistant history: %v", err)
	}
}

// Requests of Anthropic's own protocol lose nothing.
func TestCheckParamsOwnProtocol(t *testing.T) {
	req := &llm.ChatRequest{ExtraProtocol: Protocol, Extra: map[string]json.RawMessage{"service_tier": json.RawMessage(`"auto"`)}}
	if dropped, err := CheckParams(req, true); err != nil || dropped != nil {
		t.Errorf("dropped %v, err %v", dropped, err)
	}
}

// Every row of OpenAIParams is what CheckParams does: the table is the
// documentation, and must not drift from the code.
func TestOpenAIParamsTableMatchesCheck(t *testing.T) {
	asks := map[string]string{
		"n": `2`, "logprobs": `true`, "top_logprobs": `2`, "logit_bias": `{"1":1}`, "audio": `{"voice":"alloy","format":"wav"}`,
		"modalities": `["audio"]`, "functions": `[{"name":"f"}]`, "function_call": `"auto"`, "web_search_options": `{}`,
		"presence_penalty": `1`, "frequency_penalty": `1`, "seed": `1`, "metadata": `{"a":"b"}`, "store": `true`,
		"service_tier": `"flex"`, "prediction": `{"type":"content","content":"x"}`, "verbosity": `"low"`,
		"prompt_cache_key": `"k"`, "prompt_cache_retention": `"24h"`, "safety_identifier": `"u"`,
		"response_format": `{"type":"json_object"}`,
	}
	for _, r := range OpenAIParams {
		t.Run(r.Name, func(t *testing.T) {
			body := `{"model":"m","messages":[{"role":"user","content":"hi"}],"` + r.Name + `":` + asks[r.Name] + `}`
			if r.Name == "messages[].content" {
				body = `{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"f"}}]}]}`
			}
			req, err := openai.DecodeChatRequest([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			dropped, err := CheckParams(req, false)
			switch r.Policy {
			case llm.ParamRefused:
				if err == nil {
					t.Errorf("not refused; dropped %v", dropped)
				}
			case llm.ParamDropped:
				if err != nil || len(dropped) != 1 || dropped[0] != r.Name {
					t.Errorf("dropped %v, err %v", dropped, err)
				}
			}
		})
	}
}

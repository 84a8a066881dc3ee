package openai

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/llmgw/llmgw/internal/llm"
)

func TestCheckParams(t *testing.T) {
	tests := []struct {
		name         string
		extra        map[string]string
		thinking     string
		tools        []llm.Tool
		thinkingSent bool
		refuse       bool
		dropped      string
		kind         llm.Kind // of the refusal; 0 (internal) when none
		param        string
	}{
		{name: "nothing"},
		{name: "translated", extra: map[string]string{"output_config": `{"format":{"type":"json_schema","schema":{}}}`}},
		{name: "thinking dropped", thinking: `{"type":"enabled","budget_tokens":2048}`, dropped: "thinking"},
		{name: "thinking sent", thinking: `{"type":"enabled","budget_tokens":2048}`, thinkingSent: true},
		{name: "thinking disabled", thinking: `{"type":"disabled"}`},
		{name: "thinking adaptive", thinking: `{"type":"adaptive"}`, dropped: "thinking"},
		{name: "harmless sorted", extra: map[string]string{"service_tier": `"auto"`, "container": `"c1"`, "context_management": `{}`},
			dropped: "container,context_management,service_tier"},
		{name: "thread create", extra: map[string]string{"thread": `{"type":"create"}`}, dropped: "thread"},
		{name: "thread continue", extra: map[string]string{"thread": `{"type":"continue","previous_message_id":"msg_1"}`}, kind: llm.KindNotFound, param: "thread"},
		{name: "thread continue, refuse", extra: map[string]string{"thread": `{"type":"continue"}`}, refuse: true, kind: llm.KindNotFound, param: "thread"},
		{name: "thread create, refuse", extra: map[string]string{"thread": `{"type":"create"}`}, refuse: true, kind: llm.KindInvalidRequest, param: "thread"},
		{name: "mcp servers", extra: map[string]string{"mcp_servers": `[{"type":"url","url":"https://x","name":"x"}]`}, kind: llm.KindInvalidRequest, param: "mcp_servers"},
		{name: "server tool", tools: []llm.Tool{{Type: "function", Name: "f"}, {Type: "web_search_20250305", Name: "web_search"}}, kind: llm.KindInvalidRequest, param: "tools"},
		{name: "refuse thinking", thinking: `{"type":"enabled","budget_tokens":2048}`, refuse: true, kind: llm.KindInvalidRequest, param: "thinking"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &llm.ChatRequest{ExtraProtocol: anthropicProtocol, Tools: tt.tools}
			if tt.thinking != "" {
				req.Thinking = []byte(tt.thinking)
			}
			for k, v := range tt.extra {
				if req.Extra == nil {
					req.Extra = map[string]json.RawMessage{}
				}
				req.Extra[k] = []byte(v)
			}
			dropped, err := CheckParams(req, tt.thinkingSent, tt.refuse)
			if tt.param != "" {
				e := llm.AsError(err)
				if err == nil || e.Kind != tt.kind || e.Param != tt.param || !strings.HasPrefix(e.Message, tt.param) {
					t.Fatalf("err %v, want kind %v naming %s", err, tt.kind, tt.param)
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

// A content block Chat Completions cannot carry, in the client's own turn,
// is refused; in an assistant turn (server tool history) it is left out.
func TestCheckParamsBlocks(t *testing.T) {
	doc := llm.Part{Type: llm.PartOther, Raw: json.RawMessage(`{"type":"document","source":{"type":"text","media_type":"text/plain","data":"x"}}`)}
	req := &llm.ChatRequest{ExtraProtocol: anthropicProtocol, Messages: []llm.Message{
		{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart("read this"), doc}, ExtraProtocol: anthropicProtocol},
	}}
	_, err := CheckParams(req, false, false)
	if e := llm.AsError(err); err == nil || e.Kind != llm.KindInvalidRequest || !strings.Contains(e.Message, `"document"`) {
		t.Fatalf("err %v, want a 400 naming the document block", err)
	}
	req.Messages[0].Role = llm.RoleAssistant
	if _, err := CheckParams(req, false, false); err != nil {
		t.Errorf("assistant history: %v", err)
	}
}

// Requests of OpenAI's own protocol lose nothing.
func TestCheckParamsOwnProtocol(t *testing.T) {
	req := &llm.ChatRequest{ExtraProtocol: Protocol, Thinking: []byte(`{"type":"enabled","budget_tokens":2048}`)}
	if dropped, err := CheckParams(req, false, true); err != nil || dropped != nil {
		t.Errorf("dropped %v, err %v", dropped, err)
	}
}

// Every row of AnthropicParams is what CheckParams does: the table is the
// documentation, and must not drift from the code.
func TestAnthropicParamsTableMatchesCheck(t *testing.T) {
	asks := map[string]string{
		"thread": `{"type":"continue","previous_message_id":"msg_1"}`, "mcp_servers": `[{"type":"url","url":"https://x","name":"x"}]`,
		"container": `"c"`, "context_management": `{"edits":[]}`, "service_tier": `"auto"`, "inference_geo": `"us"`,
		"cache_control": `{"type":"ephemeral"}`, "fallbacks": `"default"`,
	}
	for _, r := range AnthropicParams {
		t.Run(r.Name, func(t *testing.T) {
			req := &llm.ChatRequest{ExtraProtocol: anthropicProtocol}
			switch r.Name {
			case "thinking":
				req.Thinking = json.RawMessage(`{"type":"enabled","budget_tokens":2048}`)
			case "tools":
				req.Tools = []llm.Tool{{Type: "code_execution_20250825", Name: "code_execution"}}
			case "messages[].content":
				req.Messages = []llm.Message{{Role: llm.RoleUser, Content: []llm.Part{{Type: llm.PartOther, Raw: json.RawMessage(`{"type":"search_result"}`)}}}}
			default:
				req.Extra = map[string]json.RawMessage{r.Name: json.RawMessage(asks[r.Name])}
			}
			dropped, err := CheckParams(req, false, false)
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

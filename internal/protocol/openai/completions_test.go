package openai

import (
	"runtime"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/llm"
)

func TestCheckCompletionRequestPromptForms(t *testing.T) {
	tests := []struct {
		name         string
		body         string
		text         string
		ids, prompts int
		maxOut       int
		includeUsage bool
	}{
		{"string", `{"prompt":"Say this is a test"}`, "Say this is a test", 0, 1, 16, false},
		{"strings", `{"prompt":["a b","c"],"max_tokens":10}`, "a b\nc", 0, 2, 20, false},
		{"token ids", `{"prompt":[1212,318,257],"max_tokens":5,"n":3}`, "", 3, 1, 15, false},
		{"token arrays", `{"prompt":[[1212,318],[13]],"max_tokens":4,"best_of":3,"n":2}`, "", 3, 2, 24, false},
		{"null prompt is the separator", `{"prompt":null,"max_tokens":null}`, "", 1, 1, 16, false},
		{"include usage", `{"prompt":"x","stream_options":{"include_usage":true}}`, "x", 0, 1, 16, true},
		{"zero max_tokens", `{"prompt":"x","max_tokens":0,"echo":true}`, "x", 0, 1, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := CheckCompletionRequest(gjson.Parse(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if req.PromptText != tt.text || req.PromptTokenIDs != tt.ids || req.Prompts != tt.prompts {
				t.Errorf("prompt = %q ids %d prompts %d, want %q %d %d", req.PromptText, req.PromptTokenIDs, req.Prompts, tt.text, tt.ids, tt.prompts)
			}
			if got := req.MaxOutputTokens(); got != tt.maxOut {
				t.Errorf("MaxOutputTokens = %d, want %d", got, tt.maxOut)
			}
			if req.IncludeUsage != tt.includeUsage {
				t.Errorf("IncludeUsage = %v", req.IncludeUsage)
			}
		})
	}
}

func TestCheckCompletionRequestRefuses(t *testing.T) {
	tests := []struct{ name, body, param string }{
		{"missing prompt", `{"max_tokens":5}`, "prompt"},
		{"number prompt", `{"prompt":5}`, "prompt"},
		{"object prompt", `{"prompt":{"text":"x"}}`, "prompt"},
		{"bool prompt", `{"prompt":true}`, "prompt"},
		{"mixed array", `{"prompt":["a",1]}`, "prompt"},
		{"ids then string", `{"prompt":[1,"a"]}`, "prompt"},
		{"fractional id", `{"prompt":[1.5]}`, "prompt"},
		{"negative id", `{"prompt":[-1]}`, "prompt"},
		{"empty token array", `{"prompt":[[]]}`, "prompt"},
		{"nested strings", `{"prompt":[["a"]]}`, "prompt"},
		{"array then id", `{"prompt":[[1],2]}`, "prompt"},
		{"max_tokens string", `{"prompt":"x","max_tokens":"5"}`, "max_tokens"},
		{"max_tokens negative", `{"prompt":"x","max_tokens":-1}`, "max_tokens"},
		{"max_tokens fraction", `{"prompt":"x","max_tokens":1.5}`, "max_tokens"},
		{"max_tokens huge", `{"prompt":"x","max_tokens":1e300}`, "max_tokens"},
		{"n zero", `{"prompt":"x","n":0}`, "n"},
		{"n too many", `{"prompt":"x","n":129}`, "n"},
		{"best_of too many", `{"prompt":"x","best_of":21}`, "best_of"},
		{"stream_options string", `{"prompt":"x","stream_options":"yes"}`, "stream_options"},
		{"include_usage string", `{"prompt":"x","stream_options":{"include_usage":"yes"}}`, "stream_options.include_usage"},
		{"temperature string", `{"prompt":"x","temperature":"hot"}`, "temperature"},
		{"echo number", `{"prompt":"x","echo":1}`, "echo"},
		{"suffix number", `{"prompt":"x","suffix":1}`, "suffix"},
		{"stop number", `{"prompt":"x","stop":1}`, "stop"},
		{"logit_bias array", `{"prompt":"x","logit_bias":[]}`, "logit_bias"},
		{"logprobs fraction", `{"prompt":"x","logprobs":0.5}`, "logprobs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CheckCompletionRequest(gjson.Parse(tt.body))
			e := llm.AsError(err)
			if err == nil || e.Kind != llm.KindInvalidRequest || e.Param != tt.param {
				t.Fatalf("err = %v (param %q), want invalid_request_error on %q", err, e.Param, tt.param)
			}
		})
	}
}

// Many prompts, many choices and a large max_tokens reserve a bounded
// number, not an overflowed one.
func TestCompletionMaxOutputIsBounded(t *testing.T) {
	r := &CompletionRequest{MaxTokens: 1<<31 - 1, Choices: 128, Prompts: 1 << 20}
	if got := r.MaxOutputTokens(); got != maxOutputBound {
		t.Fatalf("MaxOutputTokens = %d, want the bound %d", got, maxOutputBound)
	}
}

func TestCompletionTextAndIdentity(t *testing.T) {
	ev := []byte(`{"id":"cmpl-1","object":"text_completion","created":1690759702,"model":"m","choices":[{"text":"a","index":0},{"text":"b","index":1}]}`)
	if got := CompletionText(ev); got != "ab" {
		t.Errorf("CompletionText = %q", got)
	}
	if id, model, created := CompletionIdentity(ev); id != "cmpl-1" || model != "m" || created != 1690759702 {
		t.Errorf("CompletionIdentity = %q %q %d", id, model, created)
	}
}

// The usage event the gateway writes for a stream whose upstream sent
// none is a CreateCompletionResponse of OpenAI's spec.
func TestCompletionUsageChunkMatchesSpec(t *testing.T) {
	u := llm.Usage{PromptTokens: 5, CompletionTokens: 7}
	b := AppendCompletionUsageChunk(nil, "cmpl-1", "gpt-3.5-turbo-instruct", 1690759702, &u)
	validateAgainst(t, "CreateCompletionResponse", b)
	if got, ok := ScanUsage(b); !ok || got.PromptTokens != 5 || got.CompletionTokens != 7 || got.TotalTokens != 12 {
		t.Errorf("usage = %+v %v", got, ok)
	}
	if !IsUsageOnlyChunk(b) || gjson.GetBytes(b, "object").Str != CompletionObject {
		t.Errorf("not a usage-only text_completion: %s", b)
	}
}

// A prompt of a million strings costs about its size, not a slice entry
// per string on top of it.
func TestCompletionManyPromptsBounded(t *testing.T) {
	body := `{"prompt":[` + strings.Repeat(`"a",`, 1<<20) + `"a"]}`
	root := gjson.Parse(body)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	req, err := CheckCompletionRequest(root)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if req.Prompts != 1<<20+1 || len(req.PromptText) != 2*(1<<20)+1 {
		t.Fatalf("prompts %d, text %d bytes", req.Prompts, len(req.PromptText))
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(3*len(body)) {
		t.Errorf("allocated %d bytes for a %d-byte body", alloc, len(body))
	}
}

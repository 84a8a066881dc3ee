package mistral

import (
	"crypto/sha256"
	"encoding/json"
	"maps"
	"slices"

	"github.com/tidwall/sjson"

	"github.com/llmgw/llmgw/internal/llm"
	protocol "github.com/llmgw/llmgw/internal/protocol/openai"
)

// extraKeys are the members of Mistral's ChatCompletionRequest that the
// canonical request has no field for: an OpenAI client's extra members of
// these names go upstream as they are, any other is left out, since the
// schema takes no other member (additionalProperties: false).
var extraKeys = map[string]bool{
	"safe_prompt": true, "random_seed": true, "prompt_mode": true, "prediction": true,
	"guardrails": true, "prompt_cache_key": true,
}

// reasoningEfforts are the reasoning_effort values Mistral takes.
var reasoningEfforts = map[string]bool{"high": true, "none": true}

// adapt returns req as Mistral takes it, and the names of the fields left
// out; req itself is not modified. With refuse set, a field that would be
// left out is an error naming it instead.
func adapt(req *llm.ChatRequest, refuse bool) (*llm.ChatRequest, []string, error) {
	r := *req
	var dropped []string
	drop := func(name string) error {
		if refuse {
			return llm.InvalidRequest(name, "%s: the upstream of this model has no equivalent for this field", name)
		}
		dropped = append(dropped, name)
		return nil
	}
	// One output cap, max_tokens: Mistral has no max_completion_tokens.
	if r.MaxCompletionTokens != nil {
		r.MaxTokens, r.MaxCompletionTokens = r.MaxCompletionTokens, nil
	}
	for _, f := range [...]struct {
		name string
		set  bool
		zero func()
	}{
		{"top_k", r.TopK != nil, func() { r.TopK = nil }},
		{"logit_bias", len(r.LogitBias) > 0, func() { r.LogitBias = nil }},
		{"logprobs", r.Logprobs != nil, func() { r.Logprobs = nil }},
		{"top_logprobs", r.TopLogprobs != nil, func() { r.TopLogprobs = nil }},
		{"user", r.User != "", func() { r.User = "" }},
		{"reasoning_effort", r.ReasoningEffort != "" && !reasoningEfforts[r.ReasoningEffort], func() { r.ReasoningEffort = "" }},
	} {
		if f.set {
			if err := drop(f.name); err != nil {
				return nil, nil, err
			}
			f.zero()
		}
	}
	if r.ExtraProtocol == protocol.Protocol && len(r.Extra) > 0 {
		var keep map[string]json.RawMessage
		for _, k := range slices.Sorted(maps.Keys(r.Extra)) {
			if extraKeys[k] {
				if keep == nil {
					keep = make(map[string]json.RawMessage, len(r.Extra))
				}
				keep[k] = r.Extra[k]
				continue
			}
			if err := drop(k); err != nil {
				return nil, nil, err
			}
		}
		r.Extra = keep
	}
	r.Messages = toolCallIDs(r.Messages)
	return &r, dropped, nil
}

// encode returns the request body for r, as adapt returned it: the OpenAI
// encoding with the seed named random_seed, and no stream_options, which
// Mistral does not take (a stream's last chunk always carries the usage).
func encode(r *llm.ChatRequest) ([]byte, error) {
	seed := r.Seed
	if seed != nil {
		c := *r
		c.Seed = nil
		r = &c
	}
	body, err := protocol.EncodeChatRequest(r)
	if err != nil {
		return nil, err
	}
	if seed != nil {
		if body, err = sjson.SetBytes(body, "random_seed", *seed); err != nil {
			return nil, err
		}
	}
	if r.Stream {
		if body, err = sjson.DeleteBytes(body, "stream_options"); err != nil {
			return nil, err
		}
	}
	return body, nil
}

// idLen is the length of a tool call id Mistral takes: it refuses any id
// that is not nine characters of a-z, A-Z and 0-9.
const idLen = 9

// ValidToolCallID reports whether id is a tool call id Mistral takes.
func ValidToolCallID(id string) bool {
	if len(id) != idLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// ToolCallID returns the id Mistral is sent for a client's tool call id:
// the id itself when Mistral takes it (those Mistral gave come back as they
// are), else nine characters derived from a SHA-256 of it, so that a call
// and its result, which carry the same id, still pair, and different ids
// stay different.
func ToolCallID(id string) string {
	if ValidToolCallID(id) {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	b := make([]byte, idLen)
	for i := range b {
		b[i] = idAlphabet[int(sum[i])%len(idAlphabet)]
	}
	return string(b)
}

// toolCallIDs returns msgs with every tool call id and tool result id
// Mistral would refuse replaced by ToolCallID's; msgs itself is not
// modified, and is returned as it is when nothing needs replacing.
func toolCallIDs(msgs []llm.Message) []llm.Message {
	need := false
	for i := range msgs {
		m := &msgs[i]
		if m.ToolCallID != "" && !ValidToolCallID(m.ToolCallID) {
			need = true
		}
		for j := range m.ToolCalls {
			if !ValidToolCallID(m.ToolCalls[j].ID) {
				need = true
			}
		}
	}
	if !need {
		return msgs
	}
	out := slices.Clone(msgs)
	for i := range out {
		m := &out[i]
		if m.ToolCallID != "" {
			m.ToolCallID = ToolCallID(m.ToolCallID)
		}
		if len(m.ToolCalls) > 0 {
			m.ToolCalls = slices.Clone(m.ToolCalls)
			for j := range m.ToolCalls {
				m.ToolCalls[j].ID = ToolCallID(m.ToolCalls[j].ID)
			}
		}
	}
	return out
}

package openai

import (
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
	"github.com/tidwall/gjson"
)

// wireUsage is CompletionUsage as it arrives. Details may be null.
type wireUsage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	TotalTokens         int `json:"total_tokens"`
	PromptTokensDetails *struct {
		CachedTokens     int `json:"cached_tokens"`
		CacheWriteTokens int `json:"cache_write_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails *struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
}

func (w *wireUsage) canonical() *llm.Usage {
	if w == nil {
		return nil
	}
	u := &llm.Usage{
		PromptTokens:     w.PromptTokens,
		CompletionTokens: w.CompletionTokens,
		TotalTokens:      w.TotalTokens,
	}
	if d := w.PromptTokensDetails; d != nil {
		u.CachedTokens = d.CachedTokens
		u.CacheCreationTokens = d.CacheWriteTokens
	}
	if d := w.CompletionTokensDetails; d != nil {
		u.ReasoningTokens = d.ReasoningTokens
	}
	return u
}

// appendUsage writes u as CompletionUsage, with the details objects OpenAI
// always sends.
func appendUsage(b []byte, u *llm.Usage) []byte {
	b = append(b, '{')
	b = jsonwire.AppendIntField(b, "prompt_tokens", int64(u.PromptTokens))
	b = jsonwire.AppendIntField(b, "completion_tokens", int64(u.CompletionTokens))
	b = jsonwire.AppendIntField(b, "total_tokens", int64(u.Total()))
	b = append(b, `,"prompt_tokens_details":{`...)
	b = jsonwire.AppendIntField(b, "cached_tokens", int64(u.CachedTokens))
	if u.CacheCreationTokens != 0 {
		b = jsonwire.AppendIntField(b, "cache_write_tokens", int64(u.CacheCreationTokens))
	}
	b = append(b, `},"completion_tokens_details":{`...)
	b = jsonwire.AppendIntField(b, "reasoning_tokens", int64(u.ReasoningTokens))
	return append(b, '}', '}')
}

// ScanUsage reads the usage of a response body or chunk payload without
// decoding the rest; ok is false when usage is absent or null. It is the
// fast path of a body forwarded unchanged.
func ScanUsage(data []byte) (llm.Usage, bool) {
	r := gjson.GetBytes(data, "usage")
	if !r.IsObject() {
		return llm.Usage{}, false
	}
	var u llm.Usage
	r.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "prompt_tokens":
			u.PromptTokens = int(v.Int())
		case "completion_tokens":
			u.CompletionTokens = int(v.Int())
		case "total_tokens":
			u.TotalTokens = int(v.Int())
		case "prompt_tokens_details":
			v.ForEach(func(k, v gjson.Result) bool {
				switch k.Str {
				case "cached_tokens":
					u.CachedTokens = int(v.Int())
				case "cache_write_tokens":
					u.CacheCreationTokens = int(v.Int())
				}
				return true
			})
		case "completion_tokens_details":
			if d := v.Get("reasoning_tokens"); d.Exists() {
				u.ReasoningTokens = int(d.Int())
			}
		}
		return true
	})
	return u, true
}

// IsUsageOnlyChunk reports whether a chunk payload is the usage chunk of a
// stream: no choices and a usage object. It is the chunk to leave out when
// the client did not ask for usage.
func IsUsageOnlyChunk(data []byte) bool {
	res := gjson.GetManyBytes(data, "choices", "usage")
	choices, usage := res[0], res[1]
	if !usage.IsObject() {
		return false
	}
	if !choices.Exists() || choices.Type == gjson.Null {
		return true
	}
	return choices.IsArray() && len(choices.Raw) >= 2 && isEmptyArray(choices.Raw)
}

func isEmptyArray(raw string) bool {
	for i := 1; i < len(raw)-1; i++ {
		switch raw[i] {
		case ' ', '\t', '\n', '\r':
		default:
			return false
		}
	}
	return raw[0] == '[' && raw[len(raw)-1] == ']'
}

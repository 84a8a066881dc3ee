package llm

import "encoding/json"

// FinishReason says why the model stopped.
type FinishReason string

// Finish reasons, in OpenAI's vocabulary.
const (
	FinishStop          FinishReason = "stop"
	FinishLength        FinishReason = "length"
	FinishToolCalls     FinishReason = "tool_calls"
	FinishContentFilter FinishReason = "content_filter"
)

// Chunk is one piece of a response. A streamed response yields many chunks
// whose choices carry deltas; a non-streamed one yields one chunk whose
// choices carry whole messages.
type Chunk struct {
	ID                string
	Model             string
	Created           int64
	SystemFingerprint string
	ServiceTier       string
	Choices           []Choice
	// Usage is set on the chunk that reports token usage.
	Usage *Usage

	// Raw, when set, is this chunk exactly as the upstream sent it in
	// protocol RawProtocol (one SSE data payload, or a whole response body).
	// A client speaking that protocol is sent Raw unchanged; the other fields
	// may then be left empty, except Usage.
	Raw         []byte
	RawProtocol string
}

// Choice is one of the response's alternatives.
type Choice struct {
	Index int
	// Message is the delta (streamed) or the whole message (not streamed).
	// Its Role may be empty on deltas after the first.
	Message      Message
	FinishReason FinishReason
	// StopSequence is the custom stop sequence that ended the output, when
	// the upstream reports which one (Anthropic's stop_sequence).
	StopSequence string
	// Logprobs is the choice's log probabilities, passed through as sent.
	Logprobs json.RawMessage
}

// Usage counts tokens. PromptTokens includes cached and cache-creation tokens.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
	TotalTokens      int
	// CachedTokens are prompt tokens read from the provider's prompt cache.
	CachedTokens int
	// CacheCreationTokens are prompt tokens written to the prompt cache.
	CacheCreationTokens int
	// CacheCreation1hTokens are the part of CacheCreationTokens written
	// with a one-hour lifetime (Anthropic's ephemeral_1h_input_tokens),
	// which is priced above the default five-minute one; zero when the
	// upstream does not tell them apart.
	CacheCreation1hTokens int
	// ReasoningTokens are completion tokens spent on reasoning.
	ReasoningTokens int
}

// IsZero reports whether no token was counted.
func (u Usage) IsZero() bool { return u == Usage{} }

// Total returns TotalTokens, or the sum of prompt and completion tokens when
// the upstream did not report a total.
func (u Usage) Total() int {
	if u.TotalTokens != 0 {
		return u.TotalTokens
	}
	return u.PromptTokens + u.CompletionTokens
}

// EmbedRequest asks for embeddings of one or more inputs.
type EmbedRequest struct {
	Model string
	// Input is the input as sent: a string, an array of strings, or arrays of
	// token ids.
	Input          json.RawMessage
	EncodingFormat string
	Dimensions     *int
	User           string
	Extra          map[string]json.RawMessage
}

// EmbedResponse is the embeddings of an EmbedRequest.
type EmbedResponse struct {
	Model string
	Data  []Embedding
	Usage Usage
	// Raw, when set, is the upstream body in protocol RawProtocol.
	Raw         []byte
	RawProtocol string
}

// Embedding is one input's vector, as sent: an array of floats, or a base64
// string when the encoding format was base64.
type Embedding struct {
	Index     int
	Embedding json.RawMessage
}

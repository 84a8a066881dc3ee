package llm

import "encoding/json"

// Role is the author of a message.
type Role string

// Message roles.
const (
	RoleSystem    Role = "system"
	RoleDeveloper Role = "developer"
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleTool      Role = "tool"
)

// ChatRequest is a chat completion request in canonical form. Pointer fields
// are nil when the client did not send them, so that an upstream receives only
// what was asked for.
type ChatRequest struct {
	// Model is the model name the client asked for (a gateway model name on
	// the inbound side, the upstream's own id once routed).
	Model    string
	Messages []Message

	Tools             []Tool
	ToolChoice        *ToolChoice
	ParallelToolCalls *bool
	ResponseFormat    *ResponseFormat

	MaxTokens           *int // legacy max_tokens
	MaxCompletionTokens *int
	Temperature         *float64
	TopP                *float64
	TopK                *int // Anthropic, and some OpenAI-compatible servers
	PresencePenalty     *float64
	FrequencyPenalty    *float64
	LogitBias           map[string]float64
	Stop                []string
	Seed                *int64
	N                   *int
	Logprobs            *bool
	TopLogprobs         *int
	User                string
	Metadata            map[string]string
	ReasoningEffort     string
	// Thinking is Anthropic's extended-thinking setting, kept as sent.
	Thinking json.RawMessage

	Stream bool
	// IncludeUsage reports whether the client asked for a usage chunk at the
	// end of a stream (stream_options.include_usage).
	IncludeUsage bool

	// Extra holds top-level fields the canonical model does not know, keyed
	// by their wire name, so they reach upstreams of the same protocol
	// unchanged instead of being dropped.
	Extra map[string]json.RawMessage
	// ExtraProtocol names the wire protocol the request was decoded from:
	// the vocabulary of Extra and of the Raw of non-function Tools. An
	// encoder writes them only when it is its own protocol, so one
	// protocol's fields never leak into another's upstream body.
	ExtraProtocol string
}

// MaxOutputTokens returns the output token cap the client set, preferring
// max_completion_tokens over the legacy max_tokens, and 0 when neither is set.
func (r *ChatRequest) MaxOutputTokens() int {
	switch {
	case r.MaxCompletionTokens != nil:
		return *r.MaxCompletionTokens
	case r.MaxTokens != nil:
		return *r.MaxTokens
	}
	return 0
}

// Message is one turn of a conversation.
type Message struct {
	Role Role
	// Content is the message's parts. A plain string content is one text part.
	Content []Part
	Name    string
	// ToolCalls are the calls an assistant message makes.
	ToolCalls []ToolCall
	// ToolCallID links a tool message to the call it answers.
	ToolCallID string
	Refusal    string
	// Extra holds message fields the canonical model does not know.
	Extra map[string]json.RawMessage
	// ExtraProtocol names the wire protocol of Extra and of the Raw of the
	// message's PartOther parts; encoders of another protocol leave them out.
	ExtraProtocol string
}

// Text returns the concatenated text of the message's text parts.
func (m *Message) Text() string {
	if len(m.Content) == 1 && m.Content[0].Type == PartText {
		return m.Content[0].Text
	}
	var n int
	for i := range m.Content {
		if m.Content[i].Type == PartText {
			n += len(m.Content[i].Text)
		}
	}
	b := make([]byte, 0, n)
	for i := range m.Content {
		if m.Content[i].Type == PartText {
			b = append(b, m.Content[i].Text...)
		}
	}
	return string(b)
}

// PartType names the kind of a content part.
type PartType string

// Content part types.
const (
	PartText             PartType = "text"
	PartImage            PartType = "image"
	PartThinking         PartType = "thinking"
	PartRedactedThinking PartType = "redacted_thinking"
	// PartOther is a part the canonical model does not know; Raw holds it.
	PartOther PartType = "other"
)

// Part is one piece of message content.
type Part struct {
	Type PartType
	// Text is the text of a text or thinking part.
	Text string
	// Image is set on image parts.
	Image *Image
	// Signature authenticates a thinking part across turns; Data holds the
	// opaque payload of a redacted thinking part.
	Signature string
	Data      string
	// CacheControl is a prompt-caching directive, passed through as sent.
	CacheControl json.RawMessage
	// Raw is the part as it arrived, for PartOther.
	Raw json.RawMessage
}

// TextPart returns a text part.
func TextPart(s string) Part { return Part{Type: PartText, Text: s} }

// Image is an image given by URL or inline as base64 data.
type Image struct {
	// URL is an http(s) URL, or empty when Data is set.
	URL string
	// MediaType and Data hold an inline image (base64, without a data: prefix).
	MediaType string
	Data      string
	// Detail is OpenAI's detail hint (auto, low, high).
	Detail string
}

// Tool is a function the model may call.
type Tool struct {
	// Type is "function" for function tools; other types are kept in Raw.
	Type        string
	Name        string
	Description string
	// Parameters is the JSON Schema of the arguments, as sent.
	Parameters   json.RawMessage
	Strict       *bool
	CacheControl json.RawMessage
	// Raw is the whole tool as sent, for types other than function.
	Raw json.RawMessage
}

// ToolChoiceMode says how the model may use tools.
type ToolChoiceMode string

// Tool choice modes. ToolChoiceRequired is OpenAI's "required" and
// Anthropic's "any".
const (
	ToolChoiceAuto     ToolChoiceMode = "auto"
	ToolChoiceNone     ToolChoiceMode = "none"
	ToolChoiceRequired ToolChoiceMode = "required"
	ToolChoiceFunction ToolChoiceMode = "function"
)

// ToolChoice constrains tool use.
type ToolChoice struct {
	Mode ToolChoiceMode
	// Name is the forced function when Mode is ToolChoiceFunction.
	Name string
	// DisableParallel is Anthropic's disable_parallel_tool_use.
	DisableParallel bool
}

// ToolCall is a call of a function by the model. In a streamed delta, Index
// identifies the call across chunks and Arguments is a fragment to append.
type ToolCall struct {
	Index     int
	ID        string
	Type      string
	Name      string
	Arguments string
}

// ResponseFormat constrains the shape of the output.
type ResponseFormat struct {
	// Type is text, json_object or json_schema.
	Type       string
	JSONSchema *JSONSchema
}

// JSONSchema is a named schema for structured output.
type JSONSchema struct {
	Name        string
	Description string
	Schema      json.RawMessage
	Strict      *bool
}

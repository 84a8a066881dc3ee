package openai

import (
	"math"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
)

// CompletionsProtocol is the wire protocol of OpenAI's legacy text
// completions (POST /v1/completions). It has no canonical form: a body of
// it is only ever forwarded, to an upstream that serves the endpoint
// itself.
const CompletionsProtocol = "openai.completions"

// CompletionObject is the object type of a legacy completion, streamed or
// not: both share one shape.
const CompletionObject = "text_completion"

// Legacy completions' defaults and bounds, from the API reference.
const (
	// DefaultCompletionMaxTokens is max_tokens when a request leaves it
	// out or sends null.
	DefaultCompletionMaxTokens = 16
	maxCompletionN             = 128
	maxCompletionBestOf        = 20
)

// maxOutputBound caps the output a completion request may reserve, so that
// the product of its prompts, choices and max_tokens cannot overflow.
const maxOutputBound = 1 << 40

// CompletionRequest is what the gateway reads of a legacy completion
// request: the prompt, to count its tokens, and the largest answer it
// allows.
type CompletionRequest struct {
	// PromptText is the prompt's text: a string, or an array's strings
	// joined by newlines, so that it costs no more than the body whatever
	// the number of prompts.
	PromptText string
	// PromptTokenIDs is the number of token ids in a prompt sent as tokens
	// (an array of ids, or an array of arrays of ids).
	PromptTokenIDs int
	// Prompts is the number of prompts: each gets its own completions.
	Prompts int
	// MaxTokens is the request's max_tokens, or its default.
	MaxTokens int
	// Choices is the number of completions generated per prompt: the
	// larger of n and best_of (best_of candidates are generated and
	// billed, n returned).
	Choices int
	// IncludeUsage is stream_options.include_usage.
	IncludeUsage bool
}

// MaxOutputTokens is the largest number of tokens the request may
// generate: every choice of every prompt at max_tokens, bounded.
func (r *CompletionRequest) MaxOutputTokens() int {
	n := int64(r.MaxTokens) * int64(max(r.Choices, 1))
	if n > maxOutputBound/int64(max(r.Prompts, 1)) {
		return maxOutputBound
	}
	return int(n * int64(max(r.Prompts, 1)))
}

// CheckCompletionRequest checks the fields of a legacy completion request
// (root, a JSON object whose model and stream the caller has read) that the
// gateway reads or that a client gets wrong most, with the offending field
// in param, and returns what it read. prompt is required (null is the
// reference's document separator) and is a string, an array of strings, an
// array of token ids or an array of arrays of token ids. Anything it lets
// through the upstream still validates.
func CheckCompletionRequest(root gjson.Result) (*CompletionRequest, error) {
	req := &CompletionRequest{MaxTokens: DefaultCompletionMaxTokens, Choices: 1}
	var prompt, maxTokens, n, bestOf, options gjson.Result
	var err error
	root.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "prompt":
			prompt = v
		case "max_tokens":
			maxTokens = v
		case "n":
			n = v
		case "best_of":
			bestOf = v
		case "stream_options":
			options = v
		case "echo", "logprobs", "temperature", "top_p", "presence_penalty", "frequency_penalty",
			"suffix", "user", "seed", "stop", "logit_bias":
			err = checkCompletionField(k.Str, v)
		}
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	if !prompt.Exists() {
		return nil, llm.InvalidRequest("prompt", "missing required parameter: 'prompt'")
	}
	if err := req.readPrompt(prompt); err != nil {
		return nil, err
	}
	if req.MaxTokens, err = intField("max_tokens", maxTokens, 0, math.MaxInt32, DefaultCompletionMaxTokens); err != nil {
		return nil, err
	}
	choices, err := intField("n", n, 1, maxCompletionN, 1)
	if err != nil {
		return nil, err
	}
	best, err := intField("best_of", bestOf, 0, maxCompletionBestOf, 1)
	if err != nil {
		return nil, err
	}
	req.Choices = max(choices, best)
	switch {
	case !options.Exists() || options.Type == gjson.Null:
	case !options.IsObject():
		return nil, llm.InvalidRequest("stream_options", "invalid type for 'stream_options': expected an object")
	default:
		iu := options.Get("include_usage")
		if iu.Exists() && iu.Type != gjson.True && iu.Type != gjson.False && iu.Type != gjson.Null {
			return nil, llm.InvalidRequest("stream_options.include_usage", "invalid type for 'stream_options.include_usage': expected a boolean")
		}
		req.IncludeUsage = iu.Type == gjson.True
	}
	return req, nil
}

// readPrompt reads the prompt in one of its four forms.
func (r *CompletionRequest) readPrompt(p gjson.Result) error {
	const wrong = "invalid type for 'prompt': expected a string, an array of strings, an array of token ids or an array of arrays of token ids"
	switch {
	case p.Type == gjson.Null:
		// The reference's default: the document separator, one token.
		r.Prompts, r.PromptTokenIDs = 1, 1
		return nil
	case p.Type == gjson.String:
		r.Prompts, r.PromptText = 1, p.Str
		return nil
	case !p.IsArray():
		return llm.InvalidRequest("prompt", wrong)
	}
	var form gjson.Type // of the first element; every other must match
	formArray, first := false, true
	var err error
	var text strings.Builder
	defer func() { r.PromptText = text.String() }()
	p.ForEach(func(_, v gjson.Result) bool {
		if first {
			form, formArray, first = v.Type, v.IsArray(), false
		}
		switch {
		case v.Type == gjson.String && form == gjson.String:
			if r.Prompts > 0 {
				text.WriteByte('\n')
			}
			text.WriteString(v.Str)
			r.Prompts++
		case v.Type == gjson.Number && form == gjson.Number && isPromptTokenID(v):
			r.PromptTokenIDs++
			r.Prompts = 1
		case v.IsArray() && formArray:
			var ids int
			if ids, err = tokenArray(v); err == nil {
				r.PromptTokenIDs += ids
				r.Prompts++
			}
		default:
			err = llm.InvalidRequest("prompt", wrong)
		}
		return err == nil
	})
	return err
}

// tokenArray counts the ids of one prompt of an array of arrays of token
// ids: at least one, each a non-negative integer.
func tokenArray(a gjson.Result) (int, error) {
	n := 0
	ok := true
	a.ForEach(func(_, v gjson.Result) bool {
		ok = v.Type == gjson.Number && isPromptTokenID(v)
		n++
		return ok
	})
	if !ok || n == 0 {
		return 0, llm.InvalidRequest("prompt", "invalid value for 'prompt': each array of token ids must hold at least one non-negative integer")
	}
	return n, nil
}

func isPromptTokenID(v gjson.Result) bool {
	return v.Num >= 0 && v.Num == math.Trunc(v.Num) && v.Num <= math.MaxInt32
}

// intField reads an optional integer field within [lo, hi]; def when it is
// absent or null.
func intField(name string, v gjson.Result, lo, hi, def int) (int, error) {
	if !v.Exists() || v.Type == gjson.Null {
		return def, nil
	}
	if v.Type != gjson.Number || v.Num != math.Trunc(v.Num) {
		return 0, llm.InvalidRequest(name, "invalid type for '%s': expected an integer", name)
	}
	if v.Num < float64(lo) || v.Num > float64(hi) {
		return 0, llm.InvalidRequest(name, "invalid value for '%s': expected an integer from %d to %d", name, lo, hi)
	}
	return int(v.Num), nil
}

// checkCompletionField checks the type of one optional field.
func checkCompletionField(name string, v gjson.Result) error {
	if v.Type == gjson.Null {
		return nil
	}
	var ok bool
	want := ""
	switch name {
	case "echo":
		ok, want = v.Type == gjson.True || v.Type == gjson.False, "a boolean"
	case "logprobs", "seed":
		ok, want = v.Type == gjson.Number && v.Num == math.Trunc(v.Num), "an integer"
	case "temperature", "top_p", "presence_penalty", "frequency_penalty":
		ok, want = v.Type == gjson.Number, "a number"
	case "suffix", "user":
		ok, want = v.Type == gjson.String, "a string"
	case "stop":
		ok, want = v.Type == gjson.String || v.IsArray(), "a string or an array of strings"
	case "logit_bias":
		ok, want = v.IsObject(), "an object"
	}
	if !ok {
		return llm.InvalidRequest(name, "invalid type for '%s': expected %s", name, want)
	}
	return nil
}

// CompletionText returns the texts of the choices of a legacy completion
// or of one of its stream events, joined: what the model generated.
func CompletionText(data []byte) string {
	var out []byte
	gjson.GetBytes(data, "choices").ForEach(func(_, c gjson.Result) bool {
		out = append(out, c.Get("text").Str...)
		return true
	})
	return string(out)
}

// CompletionIdentity reads the id, model and created time of a legacy
// completion or one of its stream events.
func CompletionIdentity(data []byte) (id, model string, created int64) {
	r := gjson.GetManyBytes(data, "id", "model", "created")
	return r[0].Str, r[1].Str, r[2].Int()
}

// AppendCompletionUsageChunk appends the usage event of a legacy
// completion stream, as OpenAI sends it when asked
// (stream_options.include_usage): no choices, and the usage of the whole
// stream.
func AppendCompletionUsageChunk(b []byte, id, model string, created int64, u *llm.Usage) []byte {
	b = append(b, '{')
	b = jsonwire.AppendStringField(b, "id", id)
	b = jsonwire.AppendStringField(b, "object", CompletionObject)
	b = jsonwire.AppendIntField(b, "created", created)
	b = jsonwire.AppendStringField(b, "model", model)
	b = append(b, `,"choices":[],"usage":`...)
	b = appendUsage(b, u)
	return append(b, '}')
}

package mistral

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/llmgw/llmgw/internal/llm"
	protocol "github.com/llmgw/llmgw/internal/protocol/openai"
)

// Finish reasons of Mistral's that OpenAI's protocol has no word for.
const (
	// finishModelLength: the context window was full, as OpenAI's length.
	finishModelLength = "model_length"
	// finishError: generation failed; the answer is incomplete.
	finishError = "error"
)

// errGeneration is the public message of a finish reason "error".
const errGeneration = "the upstream failed while generating the answer"

// normalize rewrites a chat completion (message is "message") or a stream
// chunk (message is "delta") into the OpenAI form the decoder takes, where
// Mistral's differs: content given as an array of chunks becomes its text
// (thinking chunks become reasoning_content), function arguments given as
// an object become their JSON text, and finish reason model_length becomes
// length. A finish reason "error" is returned as an upstream error. b is
// returned as it is when nothing needs rewriting, the common case.
func normalize(b []byte, message string) ([]byte, error) {
	choices := gjson.GetBytes(b, "choices")
	if !choices.IsArray() {
		return b, nil
	}
	var err error
	for i, ch := range choices.Array() {
		prefix := "choices." + strconv.Itoa(i) + "."
		switch ch.Get("finish_reason").Str {
		case finishModelLength:
			if b, err = sjson.SetBytes(b, prefix+"finish_reason", "length"); err != nil {
				return nil, err
			}
		case finishError:
			return nil, &llm.Error{Kind: llm.KindUpstream, UpstreamStatus: http.StatusOK, Message: errGeneration,
				Err: fmt.Errorf("mistral: finish_reason %q", finishError)}
		}
		m := ch.Get(message)
		if c := m.Get("content"); c.IsArray() {
			text, thinking := chunkText(c)
			if b, err = sjson.SetBytes(b, prefix+message+".content", text); err != nil {
				return nil, err
			}
			if thinking != "" {
				if b, err = sjson.SetBytes(b, prefix+message+".reasoning_content", thinking); err != nil {
					return nil, err
				}
			}
		}
		for j, tc := range m.Get("tool_calls").Array() {
			if a := tc.Get("function.arguments"); a.IsObject() {
				path := prefix + message + ".tool_calls." + strconv.Itoa(j) + ".function.arguments"
				if b, err = sjson.SetBytes(b, path, a.Raw); err != nil {
					return nil, err
				}
			}
		}
	}
	return b, nil
}

// chunkText returns the text of an array of content chunks: that of its
// text chunks, and that of the text chunks inside its thinking chunks.
// Other chunks (references, images) carry no text of the answer.
func chunkText(c gjson.Result) (text, thinking string) {
	var t, th strings.Builder
	for _, p := range c.Array() {
		switch p.Get("type").Str {
		case "text":
			t.WriteString(p.Get("text").Str)
		case "thinking":
			for _, q := range p.Get("thinking").Array() {
				if q.Get("type").Str == "text" {
					th.WriteString(q.Get("text").Str)
				}
			}
		}
	}
	return t.String(), th.String()
}

// needsNormalize reports whether data may hold something normalize
// rewrites, without parsing it: most stream chunks hold none.
func needsNormalize(data []byte) bool {
	s := string(data)
	return strings.Contains(s, `"`+finishModelLength+`"`) || strings.Contains(s, `"`+finishError+`"`) ||
		strings.Contains(s, `"content":[`) || strings.Contains(s, `"content": [`) ||
		strings.Contains(s, `"arguments":{`) || strings.Contains(s, `"arguments": {`)
}

// decodeErrorMessage reads the message and code of a Mistral error body.
// Mistral answers {"object":"error","message","type","param","code"}, and a
// request its schema refuses with 422 {"detail":[{"loc","msg","type"}]}:
// the message of the latter is its first item's msg, with the location.
func decodeErrorMessage(body []byte) (message, code string) {
	if !gjson.ValidBytes(body) {
		return "", ""
	}
	root := gjson.ParseBytes(body)
	if d := root.Get("detail"); d.IsArray() {
		first := d.Get("0")
		msg := first.Get("msg").Str
		var loc []string
		for _, l := range first.Get("loc").Array() {
			loc = append(loc, l.String())
		}
		if len(loc) > 0 {
			msg = strings.Join(loc, ".") + ": " + msg
		}
		return msg, first.Get("type").Str
	}
	if root.Get("error").Exists() {
		return protocolErrorMessage(body)
	}
	code = stringOf(root.Get("code"))
	if code == "" {
		code = root.Get("type").Str
	}
	return root.Get("message").Str, code
}

// decodeErrorFields reads the type, code and param of a Mistral error body.
func decodeErrorFields(body []byte) (typ, code, param string) {
	if !gjson.ValidBytes(body) {
		return "", "", ""
	}
	root := gjson.ParseBytes(body)
	if root.Get("error").IsObject() {
		return protocolErrorFields(body)
	}
	if root.Get("object").Str != "error" {
		return "", "", ""
	}
	return root.Get("type").Str, stringOf(root.Get("code")), stringOf(root.Get("param"))
}

// stringOf returns a string or number value as text, and "" otherwise.
func stringOf(r gjson.Result) string {
	switch r.Type {
	case gjson.String:
		return r.Str
	case gjson.Number:
		return r.Raw
	}
	return ""
}

// The OpenAI shapes, {"error":{...}}, which a proxy in front of Mistral may
// answer with.
var (
	protocolErrorMessage = protocol.DecodeErrorMessage
	protocolErrorFields  = protocol.DecodeErrorFields
)

package openai

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
)

// DecodeEmbedRequest decodes an Embeddings request body. The input is kept
// as sent but must be a string, an array of strings, an array of token ids
// or an array of such arrays. Unknown fields go to Extra.
func DecodeEmbedRequest(body []byte) (*llm.EmbedRequest, error) {
	body, err := jsonwire.OwnBody(body)
	if err != nil {
		return nil, err
	}
	obj := jsonwire.SplitObject(body)
	req := &llm.EmbedRequest{}
	if req.Model, err = jsonwire.RequireString(obj, "model", "model"); err != nil {
		return nil, err
	}
	if err := checkEmbedInput(obj.Get("input")); err != nil {
		return nil, err
	}
	req.Input = obj.Get("input")
	for _, m := range obj {
		key, raw := string(m.Key), m.Val
		switch key {
		case "model", "input":
		case "encoding_format":
			req.EncodingFormat, err = jsonwire.DecodeString(raw, key)
			if err == nil && req.EncodingFormat != "" && req.EncodingFormat != "float" && req.EncodingFormat != "base64" {
				err = jsonwire.InvalidValue(key, "%q is not one of float, base64", req.EncodingFormat)
			}
		case "dimensions":
			req.Dimensions, err = jsonwire.DecodeInt(raw, key, 1)
		case "user":
			req.User, err = jsonwire.DecodeString(raw, key)
		default:
			if req.Extra == nil {
				req.Extra = make(map[string]json.RawMessage)
			}
			req.Extra[key] = raw
		}
		if err != nil {
			return nil, err
		}
	}
	return req, nil
}

// Limits of one embeddings request, OpenAI's own: at most 2,048 inputs, and
// an input given as token ids at most 8,192 of them (the longest input any
// of its embedding models takes).
const (
	MaxEmbedInputs = 2048
	MaxEmbedTokens = 8192
)

// checkEmbedInput accepts a string, []string, []int or [][]int, within
// MaxEmbedInputs and MaxEmbedTokens.
func checkEmbedInput(raw json.RawMessage) error {
	const p = "input"
	const want = "a string, an array of strings, an array of token ids or an array of token id arrays"
	if jsonwire.IsNull(raw) {
		return jsonwire.Missing(p)
	}
	if raw[0] == '"' {
		if string(raw) == `""` {
			return jsonwire.InvalidValue(p, "must not be an empty string")
		}
		return nil
	}
	if raw[0] != '[' {
		return jsonwire.TypeError(p, want, raw)
	}
	// Counted before the array is split: a body of millions of tiny
	// elements must not cost memory in proportion to them.
	n := jsonwire.CountArray(raw, MaxEmbedInputs+1)
	if n == 0 {
		return jsonwire.InvalidValue(p, "expected a non-empty array")
	}
	first := jsonwire.Kind(jsonwire.FirstElem(raw))
	if first == "a number" {
		if jsonwire.CountArray(raw, MaxEmbedTokens+1) > MaxEmbedTokens {
			return jsonwire.InvalidValue(p, "an input may have at most %d token ids", MaxEmbedTokens)
		}
	} else if n > MaxEmbedInputs {
		return jsonwire.InvalidValue(p, "at most %d inputs may be embedded in one request", MaxEmbedInputs)
	}
	arr, err := jsonwire.DecodeArray(raw, p)
	if err != nil {
		return jsonwire.TypeError(p, want, raw)
	}
	for i, r := range arr {
		if jsonwire.Kind(r) != first {
			return jsonwire.TypeError(jsonwire.Elem(p, i), first+" like the first element", r)
		}
		switch first {
		case "a string":
			if string(r) == `""` {
				return jsonwire.InvalidValue(jsonwire.Elem(p, i), "must not be an empty string")
			}
		case "a number":
			if !isTokenID(r) {
				return jsonwire.TypeError(jsonwire.Elem(p, i), "an integer token id", r)
			}
		case "an array":
			if err := checkTokenArray(r, jsonwire.Elem(p, i)); err != nil {
				return err
			}
		default:
			return jsonwire.TypeError(jsonwire.Elem(p, i), "a string, a token id or an array of token ids", r)
		}
	}
	return nil
}

func checkTokenArray(raw json.RawMessage, p string) error {
	if len(raw) > 0 && raw[0] == '[' && jsonwire.CountArray(raw, MaxEmbedTokens+1) > MaxEmbedTokens {
		return jsonwire.InvalidValue(p, "an input may have at most %d token ids", MaxEmbedTokens)
	}
	arr, err := jsonwire.DecodeArray(raw, p)
	if err != nil {
		return err
	}
	if len(arr) == 0 {
		return jsonwire.InvalidValue(p, "expected a non-empty array of token ids")
	}
	for i, r := range arr {
		if !isTokenID(r) {
			return jsonwire.TypeError(jsonwire.Elem(p, i), "an integer token id", r)
		}
	}
	return nil
}

func isTokenID(raw json.RawMessage) bool {
	n, err := strconv.ParseInt(string(raw), 10, 64)
	return err == nil && n >= 0
}

// EncodeEmbedRequest encodes req as the body of an upstream Embeddings call.
func EncodeEmbedRequest(req *llm.EmbedRequest) ([]byte, error) {
	b := make([]byte, 0, 64+len(req.Input))
	b = append(b, '{')
	b = jsonwire.AppendStringField(b, "model", req.Model)
	var err error
	if b, err = jsonwire.AppendRawField(b, "input", req.Input); err != nil {
		return nil, fmt.Errorf("openai: encode embeddings input: %w", err)
	}
	if req.EncodingFormat != "" {
		b = jsonwire.AppendStringField(b, "encoding_format", req.EncodingFormat)
	}
	if req.Dimensions != nil {
		b = jsonwire.AppendIntField(b, "dimensions", int64(*req.Dimensions))
	}
	if req.User != "" {
		b = jsonwire.AppendStringField(b, "user", req.User)
	}
	b, err = jsonwire.AppendExtra(b, req.Extra, func(k string) bool {
		switch k {
		case "model", "input", "encoding_format", "dimensions", "user":
			return true
		}
		return false
	})
	if err != nil {
		return nil, fmt.Errorf("openai: encode embeddings extra fields: %w", err)
	}
	return append(b, '}'), nil
}

type wireEmbedResponse struct {
	Object string          `json:"object"`
	Data   []wireEmbedding `json:"data"`
	Model  string          `json:"model"`
	Usage  struct {
		PromptTokens int `json:"prompt_tokens"`
		TotalTokens  int `json:"total_tokens"`
	} `json:"usage"`
}

type wireEmbedding struct {
	Object    string          `json:"object"`
	Index     int             `json:"index"`
	Embedding json.RawMessage `json:"embedding"`
}

// DecodeEmbedResponse decodes an upstream Embeddings response body.
func DecodeEmbedResponse(body []byte) (*llm.EmbedResponse, error) {
	var w wireEmbedResponse
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("openai: decode embeddings response: %w", err)
	}
	r := &llm.EmbedResponse{
		Model: w.Model,
		Data:  make([]llm.Embedding, len(w.Data)),
		Usage: llm.Usage{PromptTokens: w.Usage.PromptTokens, TotalTokens: w.Usage.TotalTokens},
	}
	for i, d := range w.Data {
		r.Data[i] = llm.Embedding{Index: d.Index, Embedding: d.Embedding}
	}
	return r, nil
}

// EncodeEmbedResponse encodes r as an Embeddings response body. A response
// that carries the upstream's own OpenAI body in Raw is returned as it is.
func EncodeEmbedResponse(r *llm.EmbedResponse) ([]byte, error) {
	if len(r.Raw) > 0 && r.RawProtocol == Protocol {
		return r.Raw, nil
	}
	b := make([]byte, 0, 128)
	b = append(b, `{"object":"list","data":[`...)
	var err error
	for i := range r.Data {
		d := &r.Data[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"object":"embedding","index":`...)
		b = strconv.AppendInt(b, int64(d.Index), 10)
		b = append(b, `,"embedding":`...)
		if len(d.Embedding) == 0 {
			b = append(b, "[]"...)
		} else if b, err = jsonwire.AppendRaw(b, d.Embedding); err != nil {
			return nil, fmt.Errorf("openai: encode embeddings: %w", err)
		}
		b = append(b, '}')
	}
	b = append(b, `],"model":`...)
	b = jsonwire.AppendString(b, r.Model)
	b = append(b, `,"usage":{"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(r.Usage.PromptTokens), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(r.Usage.Total()), 10)
	return append(b, '}', '}'), nil
}

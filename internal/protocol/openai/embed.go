package openai

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/llmgw/llmgw/internal/llm"
)

// DecodeEmbedRequest decodes an Embeddings request body. The input is kept
// as sent but must be a string, an array of strings, an array of token ids
// or an array of such arrays. Unknown fields go to Extra.
func DecodeEmbedRequest(body []byte) (*llm.EmbedRequest, error) {
	body, err := ownBody(body)
	if err != nil {
		return nil, err
	}
	obj := splitObject(body)
	req := &llm.EmbedRequest{}
	if req.Model, err = requireString(obj, "model", "model"); err != nil {
		return nil, err
	}
	if err := checkEmbedInput(obj.get("input")); err != nil {
		return nil, err
	}
	req.Input = obj.get("input")
	for _, m := range obj {
		key, raw := string(m.key), m.val
		switch key {
		case "model", "input":
		case "encoding_format":
			req.EncodingFormat, err = decodeString(raw, key)
			if err == nil && req.EncodingFormat != "" && req.EncodingFormat != "float" && req.EncodingFormat != "base64" {
				err = invalidValue(key, "%q is not one of float, base64", req.EncodingFormat)
			}
		case "dimensions":
			req.Dimensions, err = decodeInt(raw, key, 1)
		case "user":
			req.User, err = decodeString(raw, key)
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

// checkEmbedInput accepts a string, []string, []int or [][]int.
func checkEmbedInput(raw json.RawMessage) error {
	const p = "input"
	const want = "a string, an array of strings, an array of token ids or an array of token id arrays"
	if isNull(raw) {
		return missing(p)
	}
	if raw[0] == '"' {
		if string(raw) == `""` {
			return invalidValue(p, "must not be an empty string")
		}
		return nil
	}
	arr, err := decodeArray(raw, p)
	if err != nil {
		return typeError(p, want, raw)
	}
	if len(arr) == 0 {
		return invalidValue(p, "expected a non-empty array")
	}
	first := kind(arr[0])
	for i, r := range arr {
		if kind(r) != first {
			return typeError(elem(p, i), first+" like the first element", r)
		}
		switch first {
		case "a string":
			if string(r) == `""` {
				return invalidValue(elem(p, i), "must not be an empty string")
			}
		case "a number":
			if !isTokenID(r) {
				return typeError(elem(p, i), "an integer token id", r)
			}
		case "an array":
			if err := checkTokenArray(r, elem(p, i)); err != nil {
				return err
			}
		default:
			return typeError(elem(p, i), "a string, a token id or an array of token ids", r)
		}
	}
	return nil
}

func checkTokenArray(raw json.RawMessage, p string) error {
	arr, err := decodeArray(raw, p)
	if err != nil {
		return err
	}
	if len(arr) == 0 {
		return invalidValue(p, "expected a non-empty array of token ids")
	}
	for i, r := range arr {
		if !isTokenID(r) {
			return typeError(elem(p, i), "an integer token id", r)
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
	b = appendStringField(b, "model", req.Model)
	var err error
	if b, err = appendRawField(b, "input", req.Input); err != nil {
		return nil, fmt.Errorf("openai: encode embeddings input: %w", err)
	}
	if req.EncodingFormat != "" {
		b = appendStringField(b, "encoding_format", req.EncodingFormat)
	}
	if req.Dimensions != nil {
		b = appendIntField(b, "dimensions", int64(*req.Dimensions))
	}
	if req.User != "" {
		b = appendStringField(b, "user", req.User)
	}
	b, err = appendExtra(b, req.Extra, func(k string) bool {
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
		} else if b, err = appendRaw(b, d.Embedding); err != nil {
			return nil, fmt.Errorf("openai: encode embeddings: %w", err)
		}
		b = append(b, '}')
	}
	b = append(b, `],"model":`...)
	b = appendString(b, r.Model)
	b = append(b, `,"usage":{"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(r.Usage.PromptTokens), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(r.Usage.Total()), 10)
	return append(b, '}', '}'), nil
}

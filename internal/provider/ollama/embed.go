package ollama

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
)

type wireEmbedRequest struct {
	Model      string          `json:"model"`
	Input      json.RawMessage `json:"input"`
	Dimensions *int            `json:"dimensions,omitempty"`
	Truncate   json.RawMessage `json:"truncate,omitempty"`
	KeepAlive  json.RawMessage `json:"keep_alive,omitempty"`
	Options    json.RawMessage `json:"options,omitempty"`
}

type wireEmbedResponse struct {
	Model           string            `json:"model"`
	Embeddings      []json.RawMessage `json:"embeddings"`
	PromptEvalCount int               `json:"prompt_eval_count"`
}

// Embed implements provider.Embedder through POST /api/embed, which takes
// a string or an array of strings (not token ids) and answers
// {"embeddings": [[...], ...], "prompt_eval_count": N}. OpenAI's base64
// encoding is made here from the floats, as little-endian float32.
func (p *Provider) Embed(ctx context.Context, req *llm.EmbedRequest) (*llm.EmbedResponse, error) {
	rep := llm.ParamReportFrom(ctx)
	if !stringInput(req.Input) {
		return nil, llm.InvalidRequest("input", "input: the upstream of this model takes text only, a string or an array of strings")
	}
	w := wireEmbedRequest{Model: req.Model, Input: req.Input, Dimensions: req.Dimensions}
	drop := func(name string) error {
		if rep.Refuse() {
			return llm.InvalidRequest(name, "%s: the upstream of this model has no equivalent for this field", name)
		}
		rep.Drop(name)
		return nil
	}
	if req.User != "" {
		if err := drop("user"); err != nil {
			return nil, err
		}
	}
	for k, v := range req.Extra {
		switch k {
		case "truncate":
			w.Truncate = v
		case "keep_alive":
			w.KeepAlive = v
		case "options":
			w.Options = v
		default:
			if err := drop(k); err != nil {
				return nil, err
			}
		}
	}
	base64Out := false
	switch req.EncodingFormat {
	case "", "float":
	case "base64":
		base64Out = true
	default:
		return nil, llm.InvalidRequest("encoding_format", "encoding_format: must be float or base64")
	}
	body, err := json.Marshal(&w)
	if err != nil {
		return nil, fmt.Errorf("ollama: encode embeddings request: %w", err)
	}
	b, err := p.up.PostRead(ctx, p.embedURL, body, maxEmbedBody)
	if err != nil {
		return nil, err
	}
	if err := p.checkAnswer(b, "embeddings", malformedEmbed); err != nil {
		return nil, err
	}
	var r wireEmbedResponse
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, p.up.Malformed(err, malformedEmbed)
	}
	out := &llm.EmbedResponse{Model: r.Model, Data: make([]llm.Embedding, len(r.Embeddings)),
		Usage: llm.Usage{PromptTokens: r.PromptEvalCount, TotalTokens: r.PromptEvalCount}}
	for i, e := range r.Embeddings {
		var fs []float64
		if err := json.Unmarshal(e, &fs); err != nil || jsonwire.Kind(e) != "an array" {
			return nil, p.up.Malformed(fmt.Errorf("ollama: embedding %d is not an array of numbers", i), malformedEmbed)
		}
		if base64Out {
			e = toBase64(fs)
		}
		out.Data[i] = llm.Embedding{Index: i, Embedding: e}
	}
	return out, nil
}

// stringInput reports whether input is a string or an array of strings.
func stringInput(input json.RawMessage) bool {
	if jsonwire.Kind(input) == "a string" {
		return true
	}
	var list []json.RawMessage
	if json.Unmarshal(input, &list) != nil || len(list) == 0 {
		return false
	}
	for _, v := range list {
		if jsonwire.Kind(v) != "a string" {
			return false
		}
	}
	return true
}

// toBase64 returns a vector as OpenAI's base64 embedding: the floats as
// little-endian float32, base64 encoded, as a JSON string.
func toBase64(fs []float64) json.RawMessage {
	raw := make([]byte, 4*len(fs))
	for i, f := range fs {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(float32(f)))
	}
	return json.RawMessage(strconv.Quote(base64.StdEncoding.EncodeToString(raw)))
}

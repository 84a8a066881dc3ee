package mock

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"math"
	"math/rand/v2"

	"github.com/llmgw/llmgw/internal/llm"
)

// DefaultDimensions is the length of an embedding when the request does not
// set dimensions.
const DefaultDimensions = 16

// maxDimensions bounds the requested dimensions.
const maxDimensions = 4096

// Embed returns deterministic pseudo-embeddings of req's inputs: the same
// input always gets the same unit-length vector. Latency and ErrorRate apply
// as they do to Chat.
func (p *Provider) Embed(ctx context.Context, req *llm.EmbedRequest) (*llm.EmbedResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dims := DefaultDimensions
	if req.Dimensions != nil {
		dims = *req.Dimensions
	}
	if dims < 1 || dims > maxDimensions {
		return nil, llm.InvalidRequest("dimensions", "dimensions must be between 1 and %d", maxDimensions)
	}
	b64 := false
	switch req.EncodingFormat {
	case "", "float":
	case "base64":
		b64 = true
	default:
		return nil, llm.InvalidRequest("encoding_format", "encoding_format must be float or base64")
	}
	inputs, err := parseInputs(req.Input)
	if err != nil {
		return nil, err
	}
	failed := p.fails()
	if err := p.wait(ctx, p.opts.Latency); err != nil {
		return nil, err
	}
	if failed {
		return nil, p.upstreamError()
	}
	resp := &llm.EmbedResponse{Model: req.Model, Data: make([]llm.Embedding, len(inputs))}
	vec := make([]float32, dims)
	for i, in := range inputs {
		embed(vec, in.key)
		resp.Data[i] = llm.Embedding{Index: i, Embedding: encodeVector(vec, b64)}
		resp.Usage.PromptTokens += in.tokens
	}
	resp.Usage.TotalTokens = resp.Usage.PromptTokens
	return resp, nil
}

// embedInput is one input: the bytes its vector derives from, and its tokens.
type embedInput struct {
	key    []byte
	tokens int
}

// parseInputs splits an OpenAI embeddings input: a string, an array of
// strings, an array of token ids, or an array of arrays of token ids.
func parseInputs(raw json.RawMessage) ([]embedInput, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, badInput()
		}
		return []embedInput{stringInput(s)}, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil || len(items) == 0 {
		return nil, badInput()
	}
	var ids []int64
	if json.Unmarshal(raw, &ids) == nil {
		return []embedInput{tokenInput(ids)}, nil
	}
	inputs := make([]embedInput, len(items))
	for i, item := range items {
		var s string
		if json.Unmarshal(item, &s) == nil {
			inputs[i] = stringInput(s)
			continue
		}
		if json.Unmarshal(item, &ids) != nil || len(ids) == 0 {
			return nil, badInput()
		}
		inputs[i] = tokenInput(ids)
	}
	return inputs, nil
}

func badInput() error {
	return llm.InvalidRequest("input", "input must be a string, an array of strings, or token ids")
}

func stringInput(s string) embedInput {
	return embedInput{key: append([]byte{'s'}, s...), tokens: countWords(s)}
}

// tokenInput keys token ids apart from strings by a leading byte, so the text
// "1" and the token id 1 get different vectors.
func tokenInput(ids []int64) embedInput {
	key := make([]byte, 1, 1+8*len(ids))
	key[0] = 't'
	for _, id := range ids {
		key = binary.LittleEndian.AppendUint64(key, uint64(id))
	}
	return embedInput{key: key, tokens: len(ids)}
}

// embed fills vec with a unit vector derived from an FNV-1a hash of key.
func embed(vec []float32, key []byte) {
	h := fnv.New64a()
	h.Write(key)
	sum := h.Sum64()
	rng := rand.New(rand.NewPCG(sum, sum^0x9e3779b97f4a7c15))
	var norm float64
	for i := range vec {
		v := rng.Float64()*2 - 1
		vec[i] = float32(v)
		norm += float64(vec[i]) * float64(vec[i])
	}
	if norm == 0 {
		vec[0], norm = 1, 1
	}
	scale := 1 / math.Sqrt(norm)
	for i := range vec {
		vec[i] = float32(float64(vec[i]) * scale)
	}
}

// encodeVector returns vec as a JSON array of numbers, or, when b64, as a JSON
// string holding base64 of its little-endian float32 values, as OpenAI sends.
func encodeVector(vec []float32, b64 bool) json.RawMessage {
	if !b64 {
		out, _ := json.Marshal(vec)
		return out
	}
	bin := make([]byte, 0, 4*len(vec))
	for _, v := range vec {
		bin = binary.LittleEndian.AppendUint32(bin, math.Float32bits(v))
	}
	out, _ := json.Marshal(base64.StdEncoding.EncodeToString(bin))
	return out
}

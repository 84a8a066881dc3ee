package gemini

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

// wireEmbedRequest is an EmbedContentRequest, alone or one of a batch's.
type wireEmbedRequest struct {
	Model                string          `json:"model,omitempty"`
	Content              wireContent     `json:"content"`
	TaskType             json.RawMessage `json:"taskType,omitempty"`
	OutputDimensionality *int            `json:"outputDimensionality,omitempty"`
}

type wireEmbedding struct {
	Values []float64 `json:"values"`
}

// embedParams are what an embeddings request asks, checked.
type embedParams struct {
	inputs    []string
	taskType  json.RawMessage
	base64Out bool
}

// embedParamsOf checks req: text inputs only; user and extra members other
// than taskType are dropped and reported, or refused; the encoding is
// float or base64.
func embedParamsOf(ctx context.Context, req *llm.EmbedRequest) (*embedParams, error) {
	rep := llm.ParamReportFrom(ctx)
	inputs, ok := stringInputs(req.Input)
	if !ok {
		return nil, llm.InvalidRequest("input", "input: the upstream of this model takes text only, a string or an array of strings")
	}
	e := &embedParams{inputs: inputs}
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
		if k == "taskType" {
			e.taskType = v
			continue
		}
		if err := drop(k); err != nil {
			return nil, err
		}
	}
	switch req.EncodingFormat {
	case "", "float":
	case "base64":
		e.base64Out = true
	default:
		return nil, llm.InvalidRequest("encoding_format", "encoding_format: must be float or base64")
	}
	return e, nil
}

// response returns the vectors as the answer to the request for model,
// one per input.
func (e *embedParams) response(model string, vecs [][]float64) *llm.EmbedResponse {
	out := &llm.EmbedResponse{Model: model, Data: make([]llm.Embedding, len(vecs))}
	for i, v := range vecs {
		b, _ := json.Marshal(v)
		if v == nil {
			b = json.RawMessage(`[]`)
		}
		if e.base64Out {
			b = toBase64(v)
		}
		out.Data[i] = llm.Embedding{Index: i, Embedding: b}
	}
	return out
}

// Embed implements provider.Embedder: one input through
// models/{model}:embedContent, answered {"embedding":{"values":[...]}},
// several in one models/{model}:batchEmbedContents, answered
// {"embeddings":[{"values":[...]}, ...]}. Text only. Neither answer
// carries a token count. OpenAI's base64 encoding is made here from the
// floats, as little-endian float32. With Config.PredictEmbeddings the
// inputs go to Vertex AI's :predict instead (see predict).
func (p *Provider) Embed(ctx context.Context, req *llm.EmbedRequest) (*llm.EmbedResponse, error) {
	e, err := embedParamsOf(ctx, req)
	if err != nil {
		return nil, err
	}
	if p.predict {
		return p.predictEmbed(ctx, req, e)
	}
	inputs := e.inputs
	model := "models/" + trimModels(req.Model)
	one := func(s string) wireEmbedRequest {
		return wireEmbedRequest{Content: wireContent{Parts: []wirePart{textPart(s)}}, TaskType: e.taskType, OutputDimensionality: req.Dimensions}
	}
	var body []byte
	url, list := p.methodURL(req.Model, "embedContent"), "embedding"
	if len(inputs) == 1 {
		body, err = json.Marshal(one(inputs[0]))
	} else {
		reqs := make([]wireEmbedRequest, len(inputs))
		for i, s := range inputs {
			reqs[i] = one(s)
			reqs[i].Model = model
		}
		body, err = json.Marshal(map[string]any{"requests": reqs})
		url, list = p.methodURL(req.Model, "batchEmbedContents"), "embeddings"
	}
	if err != nil {
		return nil, fmt.Errorf("gemini: encode embeddings request: %w", err)
	}
	b, err := p.up.PostRead(ctx, url, body, maxEmbedBody)
	if err != nil {
		return nil, err
	}
	if err := p.checkAnswer(b, malformedEmbed); err != nil {
		return nil, err
	}
	var r struct {
		Embedding  *wireEmbedding  `json:"embedding"`
		Embeddings []wireEmbedding `json:"embeddings"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, p.up.Malformed(err, malformedEmbed)
	}
	vecs := r.Embeddings
	if list == "embedding" {
		if r.Embedding == nil {
			return nil, p.up.Malformed(fmt.Errorf("gemini: answer has no %q", list), malformedEmbed)
		}
		vecs = []wireEmbedding{*r.Embedding}
	}
	if len(vecs) != len(inputs) {
		return nil, p.up.Malformed(fmt.Errorf("gemini: %d embeddings for %d inputs", len(vecs), len(inputs)), malformedEmbed)
	}
	values := make([][]float64, len(vecs))
	for i := range vecs {
		values[i] = vecs[i].Values
	}
	return e.response(req.Model, values), nil
}

func trimModels(m string) string {
	if len(m) > 7 && m[:7] == "models/" {
		return m[7:]
	}
	return m
}

// stringInputs returns input's strings when it is a string or a non-empty
// array of strings.
func stringInputs(input json.RawMessage) ([]string, bool) {
	if jsonwire.Kind(input) == "a string" {
		var s string
		if json.Unmarshal(input, &s) != nil {
			return nil, false
		}
		return []string{s}, true
	}
	var list []json.RawMessage
	if json.Unmarshal(input, &list) != nil || len(list) == 0 {
		return nil, false
	}
	out := make([]string, len(list))
	for i, v := range list {
		if jsonwire.Kind(v) != "a string" || json.Unmarshal(v, &out[i]) != nil {
			return nil, false
		}
	}
	return out, true
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

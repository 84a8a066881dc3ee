package gemini

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/llmgw/llmgw/internal/llm"
)

// maxPredictInputs is the most inputs one :predict call takes (Vertex AI's
// text embeddings API: 250 input texts a request).
const maxPredictInputs = 250

// wirePredictInstance is one input of Vertex AI's text embeddings API.
type wirePredictInstance struct {
	Content  string          `json:"content"`
	TaskType json.RawMessage `json:"task_type,omitempty"`
}

type wirePredictParameters struct {
	OutputDimensionality *int `json:"outputDimensionality,omitempty"`
}

type wirePredictRequest struct {
	Instances  []wirePredictInstance  `json:"instances"`
	Parameters *wirePredictParameters `json:"parameters,omitempty"`
}

type wirePredictResponse struct {
	Predictions []struct {
		Embeddings *struct {
			Values     []float64 `json:"values"`
			Statistics struct {
				TokenCount float64 `json:"token_count"`
			} `json:"statistics"`
		} `json:"embeddings"`
	} `json:"predictions"`
}

// predictEmbed is Embed through Vertex AI's text embeddings API:
// publishers/google/models/{model}:predict with {"instances": [{"content",
// "task_type"}], "parameters": {"outputDimensionality"}}, answered
// {"predictions": [{"embeddings": {"values", "statistics":
// {"token_count"}}}]}, whose token counts are the prompt's. At most
// maxPredictInputs inputs; gemini-embedding models take one instance a
// request, so their inputs go one request each, in order.
func (p *Provider) predictEmbed(ctx context.Context, req *llm.EmbedRequest, e *embedParams) (*llm.EmbedResponse, error) {
	if len(e.inputs) > maxPredictInputs {
		return nil, llm.InvalidRequest("input", "input: the upstream of this model takes at most %d inputs a request", maxPredictInputs)
	}
	var params *wirePredictParameters
	if req.Dimensions != nil {
		params = &wirePredictParameters{OutputDimensionality: req.Dimensions}
	}
	batch := len(e.inputs)
	if strings.HasPrefix(trimModels(req.Model), "gemini-embedding") {
		batch = 1
	}
	url := p.methodURL(req.Model, "predict")
	vecs := make([][]float64, 0, len(e.inputs))
	tokens := 0
	for start := 0; start < len(e.inputs); start += batch {
		w := wirePredictRequest{Parameters: params}
		for _, s := range e.inputs[start:min(start+batch, len(e.inputs))] {
			w.Instances = append(w.Instances, wirePredictInstance{Content: s, TaskType: e.taskType})
		}
		body, err := json.Marshal(&w)
		if err != nil {
			return nil, fmt.Errorf("gemini: encode predict request: %w", err)
		}
		b, err := p.up.PostRead(ctx, url, body, maxEmbedBody)
		if err != nil {
			return nil, err
		}
		if err := p.checkAnswer(b, malformedEmbed); err != nil {
			return nil, err
		}
		var r wirePredictResponse
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, p.up.Malformed(err, malformedEmbed)
		}
		if len(r.Predictions) != len(w.Instances) {
			return nil, p.up.Malformed(fmt.Errorf("gemini: %d predictions for %d instances", len(r.Predictions), len(w.Instances)), malformedEmbed)
		}
		for _, pr := range r.Predictions {
			if pr.Embeddings == nil {
				return nil, p.up.Malformed(fmt.Errorf("gemini: prediction without embeddings"), malformedEmbed)
			}
			vecs = append(vecs, pr.Embeddings.Values)
			tokens += int(pr.Embeddings.Statistics.TokenCount)
		}
	}
	out := e.response(req.Model, vecs)
	out.Usage = llm.Usage{PromptTokens: tokens, TotalTokens: tokens}
	return out, nil
}

package bedrock

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"golang.org/x/sync/errgroup"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
)

const (
	// maxEmbedInputs caps the inputs of one embeddings request: Titan
	// takes one text per InvokeModel call, so each input is a call.
	maxEmbedInputs = 128
	// embedParallel is how many of those calls run at once.
	embedParallel = 4
	// maxCohereBatch is how many texts Cohere's embed on Bedrock takes in
	// one call.
	maxCohereBatch = 96
)

const malformedEmbed = "the upstream sent a malformed embeddings response"

// titanDimensions are the output sizes Titan Text Embeddings v2 offers.
var titanDimensions = map[int]bool{256: true, 512: true, 1024: true}

// Embed implements provider.Embedder with InvokeModel: Amazon Titan Text
// Embeddings (amazon.titan-embed-text-*), one input per call, or Cohere
// Embed (cohere.embed-*), up to 96 inputs per call. The body is chosen by
// the model id, which may carry an inference profile's region prefix
// ("us.cohere.embed-v4:0") or be an ARN naming the model.
func (p *Provider) Embed(ctx context.Context, req *llm.EmbedRequest) (*llm.EmbedResponse, error) {
	inputs, ok := stringInputs(req.Input)
	if !ok {
		return nil, llm.InvalidRequest("input", "input: the upstream of this model takes text only, a string or an array of strings")
	}
	if len(inputs) > maxEmbedInputs {
		return nil, llm.InvalidRequest("input", "input: at most %d inputs per request on this model's upstream", maxEmbedInputs)
	}
	base64Out := false
	switch req.EncodingFormat {
	case "", "float":
	case "base64":
		base64Out = true
	default:
		return nil, llm.InvalidRequest("encoding_format", "encoding_format: must be float or base64")
	}
	cohere := strings.Contains(req.Model, "cohere.embed")
	rep := llm.ParamReportFrom(ctx)
	var unknown []string
	if req.User != "" {
		unknown = append(unknown, "user")
	}
	for _, k := range slices.Sorted(maps.Keys(req.Extra)) {
		if (cohere && k != "input_type") || (!cohere && k != "normalize") {
			unknown = append(unknown, k)
		}
	}
	for _, k := range unknown {
		if rep.Refuse() {
			return nil, llm.InvalidRequest(k, "%s: the upstream of this model has no equivalent for this field", k)
		}
		rep.Drop(k)
	}
	var vecs [][]float64
	var tokens int
	var err error
	if cohere {
		vecs, err = p.embedCohere(ctx, req, inputs)
	} else {
		vecs, tokens, err = p.embedTitan(ctx, req, inputs)
	}
	if err != nil {
		return nil, err
	}
	out := &llm.EmbedResponse{Model: req.Model, Data: make([]llm.Embedding, len(vecs)),
		Usage: llm.Usage{PromptTokens: tokens, TotalTokens: tokens}}
	for i, v := range vecs {
		e, _ := json.Marshal(v)
		if v == nil {
			e = json.RawMessage(`[]`)
		}
		if base64Out {
			e = toBase64(v)
		}
		out.Data[i] = llm.Embedding{Index: i, Embedding: e}
	}
	return out, nil
}

// titanRequest is Titan Text Embeddings v2's body.
type titanRequest struct {
	InputText  string `json:"inputText"`
	Dimensions *int   `json:"dimensions,omitempty"`
	Normalize  *bool  `json:"normalize,omitempty"`
}

// embedTitan makes one call per input, embedParallel at a time; the first
// failure cancels the rest.
func (p *Provider) embedTitan(ctx context.Context, req *llm.EmbedRequest, inputs []string) ([][]float64, int, error) {
	if d := req.Dimensions; d != nil && !titanDimensions[*d] {
		return nil, 0, llm.InvalidRequest("dimensions", "dimensions: this model offers 256, 512 or 1024")
	}
	var normalize *bool
	if v, ok := req.Extra["normalize"]; ok {
		var b bool
		if json.Unmarshal(v, &b) != nil {
			return nil, 0, llm.InvalidRequest("normalize", "normalize: must be true or false")
		}
		normalize = &b
	}
	vecs := make([][]float64, len(inputs))
	counts := make([]int, len(inputs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(embedParallel)
	for i, s := range inputs {
		g.Go(func() error {
			body, err := json.Marshal(titanRequest{InputText: s, Dimensions: req.Dimensions, Normalize: normalize})
			if err != nil {
				return fmt.Errorf("bedrock: encode embeddings request: %w", err)
			}
			b, err := p.invokeJSON(gctx, req.Model, body)
			if err != nil {
				return err
			}
			var r struct {
				Embedding           []float64 `json:"embedding"`
				InputTextTokenCount int       `json:"inputTextTokenCount"`
			}
			if err := json.Unmarshal(b, &r); err != nil || r.Embedding == nil {
				return p.up.Malformed(fmt.Errorf("bedrock: titan answer without an embedding: %v", err), malformedEmbed)
			}
			vecs[i], counts[i] = r.Embedding, r.InputTextTokenCount
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, 0, err
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	return vecs, total, nil
}

// embedCohere sends the inputs in batches of 96 as search documents
// (input_type, which Cohere requires; an OpenAI client may send its own
// as an extra member). Cohere's answer on Bedrock counts no tokens.
func (p *Provider) embedCohere(ctx context.Context, req *llm.EmbedRequest, inputs []string) ([][]float64, error) {
	if req.Dimensions != nil {
		return nil, llm.InvalidRequest("dimensions", "dimensions: not available on this model's upstream")
	}
	inputType := json.RawMessage(`"search_document"`)
	if v, ok := req.Extra["input_type"]; ok {
		inputType = v
	}
	var vecs [][]float64
	for start := 0; start < len(inputs); start += maxCohereBatch {
		batch := inputs[start:min(start+maxCohereBatch, len(inputs))]
		body, err := json.Marshal(map[string]any{"texts": batch, "input_type": inputType})
		if err != nil {
			return nil, fmt.Errorf("bedrock: encode embeddings request: %w", err)
		}
		b, err := p.invokeJSON(ctx, req.Model, body)
		if err != nil {
			return nil, err
		}
		var r struct {
			Embeddings json.RawMessage `json:"embeddings"`
		}
		var got [][]float64
		if err := json.Unmarshal(b, &r); err == nil {
			// embeddings is a list of vectors, or {"float": [...]} when
			// embedding_types was given.
			if err = json.Unmarshal(r.Embeddings, &got); err != nil {
				var typed struct {
					Float [][]float64 `json:"float"`
				}
				if json.Unmarshal(r.Embeddings, &typed) == nil {
					got = typed.Float
				}
			}
		}
		if len(got) != len(batch) {
			return nil, p.up.Malformed(fmt.Errorf("bedrock: %d embeddings for %d inputs", len(got), len(batch)), malformedEmbed)
		}
		vecs = append(vecs, got...)
	}
	return vecs, nil
}

// invokeJSON calls InvokeModel with a JSON body and returns the answer's
// body (read bounded and redacted by httpDoer).
func (p *Provider) invokeJSON(ctx context.Context, model string, body []byte) ([]byte, error) {
	out, err := p.client.InvokeModel(ctx, &bedrockruntime.InvokeModelInput{ModelId: aws.String(model), Body: body,
		ContentType: aws.String("application/json"), Accept: aws.String("application/json")})
	if err != nil {
		return nil, p.apiError(err)
	}
	return out.Body, nil
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

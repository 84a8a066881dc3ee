package bedrock

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

const titanModel = "amazon.titan-embed-text-v2:0"

// Titan takes one text per InvokeModel call: an array makes one call per
// input, the vectors in input order, the token counts summed; dimensions
// and normalize go in the body.
func TestEmbedTitan(t *testing.T) {
	f := providertest.NewBedrock(t)
	p := newProvider(t, f)
	inputs := []string{"a", "bb", "ccc", "dddd", "eeeee", "ffffff"}
	raw, _ := json.Marshal(inputs)
	r, err := p.Embed(context.Background(), &llm.EmbedRequest{Model: titanModel, Input: raw, Dimensions: ptr(256),
		Extra: map[string]json.RawMessage{"normalize": json.RawMessage(`false`)}})
	require.NoError(t, err)
	require.Len(t, r.Data, len(inputs))
	for i, d := range r.Data {
		var v []float64
		require.NoError(t, json.Unmarshal(d.Embedding, &v))
		assert.Len(t, v, 256)
		assert.Equal(t, float64(len(inputs[i])), v[0], "vector %d out of order", i)
		assert.Equal(t, i, d.Index)
	}
	assert.Equal(t, 6, r.Usage.PromptTokens)
	reqs := f.Requests()
	require.Len(t, reqs, len(inputs))
	for _, q := range reqs {
		assert.Equal(t, "/model/"+titanModel+"/invoke", q.Path)
		b := gjson.ParseBytes(q.Body)
		assert.Equal(t, int64(256), b.Get("dimensions").Int())
		assert.Equal(t, false, b.Get("normalize").Value())
		assert.True(t, b.Get("inputText").Exists())
	}

	r, err = p.Embed(context.Background(), &llm.EmbedRequest{Model: titanModel, Input: json.RawMessage(`"one"`), EncodingFormat: "base64"})
	require.NoError(t, err)
	assert.Equal(t, byte('"'), r.Data[0].Embedding[0], "base64 is a JSON string")
}

// What Titan cannot take is refused before any call: dimensions it does
// not offer, token arrays, more inputs than the bound.
func TestEmbedRefused(t *testing.T) {
	f := providertest.NewBedrock(t)
	p := newProvider(t, f)
	_, err := p.Embed(context.Background(), &llm.EmbedRequest{Model: titanModel, Input: json.RawMessage(`"x"`), Dimensions: ptr(300)})
	assertKind(t, err, llm.KindInvalidRequest, "256, 512 or 1024")
	_, err = p.Embed(context.Background(), &llm.EmbedRequest{Model: titanModel, Input: json.RawMessage(`[1,2,3]`)})
	assertKind(t, err, llm.KindInvalidRequest, "text only")
	many := make([]string, maxEmbedInputs+1)
	raw, _ := json.Marshal(many)
	_, err = p.Embed(context.Background(), &llm.EmbedRequest{Model: titanModel, Input: raw})
	assertKind(t, err, llm.KindInvalidRequest, fmt.Sprintf("at most %d", maxEmbedInputs))
	assert.Empty(t, f.Requests())
}

// Members Titan has no place for are dropped and reported, or refused
// when the operator says so.
func TestEmbedDropped(t *testing.T) {
	f := providertest.NewBedrock(t)
	p := newProvider(t, f)
	rep := llm.NewParamReport(false)
	_, err := p.Embed(llm.WithParamReport(context.Background(), rep), &llm.EmbedRequest{Model: titanModel, Input: json.RawMessage(`"x"`),
		User: "u", Extra: map[string]json.RawMessage{"input_type": json.RawMessage(`"query"`)}})
	require.NoError(t, err)
	assert.Equal(t, []string{"user", "input_type"}, rep.Dropped())
	assert.False(t, gjson.GetBytes(f.Requests()[0].Body, "input_type").Exists())
	_, err = p.Embed(llm.WithParamReport(context.Background(), llm.NewParamReport(true)), &llm.EmbedRequest{Model: titanModel, Input: json.RawMessage(`"x"`), User: "u"})
	assertKind(t, err, llm.KindInvalidRequest, "user")
}

// One failing call fails the request with that call's error.
func TestEmbedTitanFailure(t *testing.T) {
	f := providertest.NewBedrock(t)
	p := newProvider(t, f)
	f.Enqueue(providertest.BedrockError(429, "ThrottlingException", "Too many requests"))
	_, err := p.Embed(context.Background(), &llm.EmbedRequest{Model: titanModel, Input: json.RawMessage(`["a","b","c"]`)})
	assertKind(t, err, llm.KindRateLimited, "")
}

// Cohere Embed on Bedrock takes the texts in batches of 96, with an
// input_type.
func TestEmbedCohere(t *testing.T) {
	f := providertest.NewBedrock(t)
	p := newProvider(t, f)
	inputs := make([]string, 100)
	for i := range inputs {
		inputs[i] = fmt.Sprint(i)
	}
	raw, _ := json.Marshal(inputs)
	r, err := p.Embed(context.Background(), &llm.EmbedRequest{Model: "cohere.embed-english-v3", Input: raw})
	require.NoError(t, err)
	require.Len(t, r.Data, 100)
	var last []float64
	require.NoError(t, json.Unmarshal(r.Data[99].Embedding, &last))
	assert.Equal(t, []float64{2, 3, 0.5}, last, "the 4th of the second batch")
	reqs := f.Requests()
	require.Len(t, reqs, 2)
	assert.Len(t, gjson.GetBytes(reqs[0].Body, "texts").Array(), 96)
	assert.Equal(t, "search_document", gjson.GetBytes(reqs[0].Body, "input_type").Str)
}

package mock

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/llmgw/llmgw/internal/llm"
)

func embedReq(input string) *llm.EmbedRequest {
	return &llm.EmbedRequest{Model: "mock-embed", Input: json.RawMessage(input)}
}

// floats decodes an embedding in either encoding.
func floats(t *testing.T, e llm.Embedding, b64 bool) []float32 {
	t.Helper()
	if !b64 {
		var v []float32
		if err := json.Unmarshal(e.Embedding, &v); err != nil {
			t.Fatalf("decode float embedding %s: %v", e.Embedding, err)
		}
		return v
	}
	var s string
	if err := json.Unmarshal(e.Embedding, &s); err != nil {
		t.Fatalf("decode base64 embedding %s: %v", e.Embedding, err)
	}
	bin, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(bin)%4 != 0 {
		t.Fatalf("base64 embedding: %v (%d bytes)", err, len(bin))
	}
	v := make([]float32, len(bin)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(bin[4*i:]))
	}
	return v
}

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func TestEmbed(t *testing.T) {
	tests := []struct {
		name       string
		input      string
		dims       *int
		wantN      int
		wantDims   int
		wantTokens int
	}{
		{name: "string", input: `"hello world"`, wantN: 1, wantDims: DefaultDimensions, wantTokens: 2},
		{name: "strings", input: `["hello world", "a b c", ""]`, wantN: 3, wantDims: DefaultDimensions, wantTokens: 5},
		{name: "token ids", input: `[1, 2, 3]`, wantN: 1, wantDims: DefaultDimensions, wantTokens: 3},
		{name: "token id arrays", input: ` [[1, 2], [3]] `, wantN: 2, wantDims: DefaultDimensions, wantTokens: 3},
		{name: "dimensions", input: `"x"`, dims: ptr(256), wantN: 1, wantDims: 256, wantTokens: 1},
	}
	for _, tt := range tests {
		for _, format := range []string{"", "float", "base64"} {
			t.Run(tt.name+"/"+format, func(t *testing.T) {
				p, _ := newTest(Options{})
				req := embedReq(tt.input)
				req.Dimensions, req.EncodingFormat = tt.dims, format
				resp, err := p.Embed(context.Background(), req)
				if err != nil {
					t.Fatal(err)
				}
				if resp.Model != "mock-embed" || len(resp.Data) != tt.wantN {
					t.Fatalf("model %q, %d embeddings; want mock-embed, %d", resp.Model, len(resp.Data), tt.wantN)
				}
				want := llm.Usage{PromptTokens: tt.wantTokens, TotalTokens: tt.wantTokens}
				if diff := cmp.Diff(want, resp.Usage); diff != "" {
					t.Errorf("usage (-want +got):\n%s", diff)
				}
				again, err := p.Embed(context.Background(), req)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(resp, again); diff != "" {
					t.Errorf("second call differs (-first +second):\n%s", diff)
				}
				for i, e := range resp.Data {
					v := floats(t, e, format == "base64")
					if e.Index != i || len(v) != tt.wantDims {
						t.Errorf("embedding %d: index %d, %d dims; want %d dims", i, e.Index, len(v), tt.wantDims)
					}
					if n := norm(v); math.Abs(n-1) > 1e-5 {
						t.Errorf("embedding %d: norm %v, want 1", i, n)
					}
				}
			})
		}
	}
}

func TestEmbedEncodingsAgree(t *testing.T) {
	p, _ := newTest(Options{})
	f, err := p.Embed(context.Background(), embedReq(`"same input"`))
	if err != nil {
		t.Fatal(err)
	}
	req := embedReq(`"same input"`)
	req.EncodingFormat = "base64"
	b, err := p.Embed(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(floats(t, f.Data[0], false), floats(t, b.Data[0], true)); diff != "" {
		t.Errorf("float and base64 vectors differ (-float +base64):\n%s", diff)
	}
}

func TestEmbedDistinctInputs(t *testing.T) {
	p, _ := newTest(Options{})
	resp, err := p.Embed(context.Background(), embedReq(`["a", "b", "1"]`))
	if err != nil {
		t.Fatal(err)
	}
	ids, err := p.Embed(context.Background(), embedReq(`[[1]]`))
	if err != nil {
		t.Fatal(err)
	}
	vecs := [][]float32{floats(t, resp.Data[0], false), floats(t, resp.Data[1], false), floats(t, resp.Data[2], false), floats(t, ids.Data[0], false)}
	for i := range vecs {
		for j := i + 1; j < len(vecs); j++ {
			if cmp.Equal(vecs[i], vecs[j]) {
				t.Errorf("inputs %d and %d got the same vector", i, j)
			}
		}
	}
}

func TestEmbedInvalid(t *testing.T) {
	tests := []struct {
		name      string
		req       *llm.EmbedRequest
		wantParam string
	}{
		{"empty array", embedReq(`[]`), "input"},
		{"missing", embedReq(``), "input"},
		{"null", embedReq(`null`), "input"},
		{"number", embedReq(`3`), "input"},
		{"mixed", embedReq(`["a", 1]`), "input"},
		{"empty token array", embedReq(`[[]]`), "input"},
		{"fractional id", embedReq(`[1.5]`), "input"},
		{"zero dimensions", &llm.EmbedRequest{Input: json.RawMessage(`"a"`), Dimensions: ptr(0)}, "dimensions"},
		{"too many dimensions", &llm.EmbedRequest{Input: json.RawMessage(`"a"`), Dimensions: ptr(maxDimensions + 1)}, "dimensions"},
		{"unknown format", &llm.EmbedRequest{Input: json.RawMessage(`"a"`), EncodingFormat: "int8"}, "encoding_format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := newTest(Options{})
			_, err := p.Embed(context.Background(), tt.req)
			var e *llm.Error
			if !errors.As(err, &e) || e.Kind != llm.KindInvalidRequest || e.Param != tt.wantParam {
				t.Fatalf("err = %v, want invalid request on %q", err, tt.wantParam)
			}
		})
	}
}

func TestEmbedFailsAndWaits(t *testing.T) {
	p, clock := newTest(Options{Latency: 7, ErrorRate: 1})
	_, err := p.Embed(context.Background(), embedReq(`"a"`))
	var e *llm.Error
	if !errors.As(err, &e) || e.Kind != llm.KindUpstreamUnavailable {
		t.Errorf("err = %v, want upstream unavailable", err)
	}
	if diff := cmp.Diff([]time.Duration{7}, clock.waits()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
}

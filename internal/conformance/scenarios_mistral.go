package conformance

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// Reasons a pair cannot express a Mistral scenario.
const (
	naMistralOnly     = "Only Mistral has this in its protocol."
	naEmbedClient     = "Embeddings are their own endpoint, POST /v1/embeddings in OpenAI's protocol; the Messages API and the Responses API have none."
	naEmbedAnthropic  = "Anthropic's API has no embeddings."
	naMistralNoFilter = "Mistral has no content_filter finish reason."
)

// onlyMistral is n/a for every pair whose upstream is not Mistral.
func onlyMistral(p Pair, _ Mode) string {
	if family(p.Upstream) != Mistral {
		return naMistralOnly
	}
	return ""
}

// mistralScenarios are the places where Mistral's protocol says what
// OpenAI's does not: a full context window, a failed generation reported as
// a finish reason, reasoning as thinking chunks; and embeddings, which
// Mistral names in its own words.
func mistralScenarios() []Scenario {
	plain := goOn
	return []Scenario{
		{
			Name: "stop reason: model_length (Mistral)", Modes: both, NA: onlyMistral, Request: plain,
			Script: func(t testing.TB, c *Case) []providertest.Response {
				return []providertest.Response{withStop(textCapture(t, c, 0), c.Up(), "", "", "model_length")}
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				expectOK(t, c, r)
				expectEqual(t, "text", r.Text, captureText[c.Up()][c.Mode])
				expectEqual(t, "stop", r.Stop, stopFor(c.Client(), "length"))
			},
		},
		{
			// A generation that failed is an error, never a short
			// answer passed off as complete (streamed: the error event
			// row).
			Name: "stop reason: error (Mistral)", Modes: []Mode{Unary}, NA: onlyMistral, Request: plain,
			Script: func(t testing.TB, c *Case) []providertest.Response {
				return repeat(withStop(textCapture(t, c, 0), c.Up(), "", "", "error"), 4)
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				if r.Status != http.StatusBadGateway {
					t.Fatalf("status %d, want 502: %s", r.Status, r.Body)
				}
				expectEqual(t, "error type", r.ErrType, errorTypes["upstream"][c.Client()])
			},
		},
		{
			Name: "upstream reasoning as thinking chunks (Mistral)", Modes: both, NA: onlyMistral,
			Request: map[string]string{
				OpenAI:    `{"messages":[{"role":"user","content":"Is nine odd?"}]}`,
				Anthropic: `{"max_tokens":1024,"messages":[{"role":"user","content":"Is nine odd?"}]}`,
			},
			Script: func(t testing.TB, c *Case) []providertest.Response {
				if c.Streamed() {
					return []providertest.Response{{SSE: providertest.Load(t, "mistral/stream_thinking.sse"), Split: 7}}
				}
				return []providertest.Response{{Body: providertest.Load(t, "mistral/chat_thinking.json")}}
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				expectOK(t, c, r)
				expectEqual(t, "thinking", r.Thinking, reasoningText)
				expectEqual(t, "text", r.Text, reasoningAnswer)
			},
		},
		{Name: "embeddings", Modes: []Mode{Unary}, NA: embedNA, Run: runEmbeddings},
	}
}

func embedNA(p Pair, _ Mode) string {
	switch {
	case p.Client != OpenAI:
		// Embeddings are their own endpoint, /v1/embeddings.
		return naEmbedClient
	case family(p.Upstream) == Anthropic:
		return naEmbedAnthropic
	case p.Upstream == BedrockAnthropic:
		return naBedrockEmbed
	}
	return ""
}

// runEmbeddings asks for two embeddings of 5 dimensions: the client gets
// the upstream's vectors in OpenAI's list, and the upstream was asked in its
// own words (Mistral: output_dimension, and no user; Cohere: texts, the
// default input_type, output_dimension, and no user).
func runEmbeddings(t *testing.T, c *Case) {
	if c.Pair.Upstream == Bedrock {
		runBedrockEmbeddings(t, c)
		return
	}
	captureName := c.Up() + "/embeddings.json"
	if c.Pair.Upstream == Vertex {
		captureName = "vertex/predict.json"
	}
	c.Fake().Enqueue(providertest.Response{Body: providertest.Load(t, captureName)})
	model := ModelFor(c.Pair.Upstream)
	body := `{"model":"` + model + `","input":["Embed this sentence.","As well as this one."],"dimensions":5,"user":"user-42"}`
	resp, err := http.Post(c.H.URL+"/v1/embeddings", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	capture := providertest.Load(t, captureName)
	want := gjson.GetBytes(capture, "data")
	if c.Up() == Ollama {
		// Ollama's answer is {"embeddings": [[...], ...]}.
		want = gjson.GetBytes(capture, `embeddings.#.{embedding:@this}`)
	}
	if c.Pair.Upstream == Vertex {
		// :predict answers {"predictions": [{"embeddings": {"values": [...]}}, ...]}.
		want = gjson.GetBytes(capture, `predictions.#.{embedding:embeddings.values}`)
	} else if c.Up() == Gemini {
		// batchEmbedContents answers {"embeddings": [{"values": [...]}, ...]}.
		want = gjson.GetBytes(capture, `embeddings.#.{embedding:values}`)
	}
	if c.Up() == Cohere {
		// Cohere's answer holds the vectors by type:
		// {"embeddings": {"float": [[...], ...]}}.
		want = gjson.GetBytes(capture, `embeddings.float.#.{embedding:@this}`)
	}
	got := gjson.GetBytes(b, "data")
	if len(got.Array()) != len(want.Array()) || len(got.Array()) == 0 {
		t.Fatalf("data %s, want %s", got.Raw, want.Raw)
	}
	for i, w := range want.Array() {
		if !jsonEqual(got.Get(itoa(i)+".embedding").Raw, w.Get("embedding").Raw) {
			t.Errorf("embedding %d = %s, want %s", i, got.Get(itoa(i)+".embedding").Raw, w.Get("embedding").Raw)
		}
	}
	up := gjson.ParseBytes(c.LastUpstream(t))
	if c.Pair.Upstream == Vertex {
		checkVertexEmbeddings(t, c, up, b)
		return
	}
	switch c.Up() {
	case Cohere:
		// Cohere takes texts, requires an input_type and names the
		// dimensions output_dimension.
		expectEqual(t, "upstream texts", up.Get("texts.1").String(), "As well as this one.")
		expectEqual(t, "upstream input_type", up.Get("input_type").String(), "search_document")
		expectEqual(t, "upstream embedding_types", up.Get("embedding_types").Raw, `["float"]`)
		expectEqual(t, "upstream output_dimension", up.Get("output_dimension").Int(), int64(5))
		expectEqual(t, "upstream user", up.Get("user").Exists(), false)
	case Mistral:
		expectEqual(t, "upstream output_dimension", up.Get("output_dimension").Int(), int64(5))
		expectEqual(t, "upstream dimensions", up.Get("dimensions").Exists(), false)
		expectEqual(t, "upstream user", up.Get("user").Exists(), false)
	case Gemini:
		// Several inputs are one batchEmbedContents request, each with
		// its outputDimensionality; Gemini has no user.
		expectEqual(t, "upstream outputDimensionality", up.Get("requests.#.outputDimensionality").Raw, `[5,5]`)
		expectEqual(t, "upstream requests", up.Get("requests.#.content.parts.0.text").Raw, `["Embed this sentence.","As well as this one."]`)
		expectEqual(t, "upstream user", bytes.Contains(c.LastUpstream(t), []byte("user-42")), false)
	default:
		expectEqual(t, "upstream dimensions", up.Get("dimensions").Int(), int64(5))
	}
	if c.Up() == Ollama {
		// Ollama has no user; usage is prompt_eval_count.
		expectEqual(t, "upstream user", up.Get("user").Exists(), false)
		expectEqual(t, "usage.prompt_tokens", gjson.GetBytes(b, "usage.prompt_tokens").Int(), int64(8))
	}
	if !bytes.Contains(c.LastUpstream(t), []byte(`"Embed this sentence."`)) {
		t.Errorf("upstream input: %s", up.Raw)
	}
}

func itoa(i int) string { return string(rune('0' + i)) }

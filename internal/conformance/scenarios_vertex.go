package conformance

import (
	"bytes"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// naVertexOnly is why a pair cannot express a Vertex AI scenario.
const naVertexOnly = "Only Vertex AI has this in its protocol."

// onlyVertex is n/a for every pair whose upstream is not Vertex AI.
func onlyVertex(p Pair, _ Mode) string {
	if p.Upstream != Vertex && p.Upstream != VertexAnthropic {
		return naVertexOnly
	}
	return ""
}

// vertexScenarios are what Vertex AI adds to the protocols it serves: the
// publisher's URL, the OAuth token, and for Claude the body's
// anthropic_version in place of the model.
func vertexScenarios() []Scenario {
	plain := map[string]string{
		OpenAI:    `{"messages":[{"role":"user","content":"Say hello"}]}`,
		Anthropic: `{"max_tokens":256,"messages":[{"role":"user","content":"Say hello"}]}`,
	}
	return []Scenario{{
		Name: "publisher URL, OAuth token, Claude's anthropic_version (Vertex)", Modes: both, NA: onlyVertex, Request: plain,
		Check: func(t *testing.T, c *Case, r *Result) {
			expectOK(t, c, r)
			reqs := c.Fake().Requests()
			last := reqs[len(reqs)-1]
			path := vertexRoot + "/publishers/google/models/" + VertexUpstreamModel + ":generateContent"
			if c.Streamed() {
				path = vertexRoot + "/publishers/google/models/" + VertexUpstreamModel + ":streamGenerateContent"
			}
			if c.Pair.Upstream == VertexAnthropic {
				path = vertexRoot + "/publishers/anthropic/models/" + VertexAnthropicUpstreamModel + ":rawPredict"
				if c.Streamed() {
					path = vertexRoot + "/publishers/anthropic/models/" + VertexAnthropicUpstreamModel + ":streamRawPredict"
				}
				body := gjson.ParseBytes(last.Body)
				expectEqual(t, "anthropic_version", body.Get("anthropic_version").String(), providertest.VertexAnthropicVersion)
				expectEqual(t, "model in the body", body.Get("model").Exists(), false)
			}
			expectEqual(t, "path", last.Path, path)
			expectEqual(t, "Authorization", last.Header.Get("Authorization"), "Bearer ya29.fake-1")
			expectEqual(t, "x-goog-api-key", last.Header.Get("x-goog-api-key"), "")
			expectEqual(t, "x-api-key", last.Header.Get("x-api-key"), "")
		},
	}}
}

// checkVertexEmbeddings checks what Vertex AI was asked for embeddings and
// the usage it answered: the inputs as instances of one :predict, the
// dimensions as parameters.outputDimensionality, no user; the prompt
// tokens are the sum of the instances' token counts.
func checkVertexEmbeddings(t *testing.T, c *Case, up gjson.Result, answer []byte) {
	t.Helper()
	reqs := c.Fake().Requests()
	expectEqual(t, "upstream path", reqs[len(reqs)-1].Path, vertexRoot+"/publishers/google/models/"+VertexUpstreamModel+":predict")
	expectEqual(t, "upstream instances", up.Get("instances.#.content").Raw, `["Embed this sentence.","As well as this one."]`)
	expectEqual(t, "upstream outputDimensionality", up.Get("parameters.outputDimensionality").Int(), int64(5))
	expectEqual(t, "upstream user", bytes.Contains(c.LastUpstream(t), []byte("user-42")), false)
	expectEqual(t, "usage.prompt_tokens", gjson.GetBytes(answer, "usage.prompt_tokens").Int(), int64(9))
}

// vertexRoot is the path under which the fake Vertex AI serves.
const vertexRoot = "/v1/projects/" + VertexProject + "/locations/" + VertexLocation

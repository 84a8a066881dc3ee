package conformance

import (
	"net/http"
	"testing"

	"github.com/tidwall/gjson"
)

// naBedrockOnly: the row is Converse's own.
const naBedrockOnly = "Converse's own way with images: the other upstreams have their rows above."

// onlyConverse is n/a for every upstream but Bedrock's Converse.
func onlyConverse(p Pair, _ Mode) string {
	if p.Upstream != Bedrock {
		return naBedrockOnly
	}
	return ""
}

// bedrockScenarios are the places where Converse says what the others do
// not: an image is its bytes, never a URL.
func bedrockScenarios() []Scenario {
	return []Scenario{{
		Name: "images, base64 as image bytes, URL refused (Bedrock Converse)", Modes: []Mode{Unary}, NA: onlyConverse,
		Request: map[string]string{
			OpenAI: `{"messages":[{"role":"user","content":[{"type":"text","text":"Describe this"},` +
				`{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}]}`,
			Anthropic: `{"max_tokens":256,"messages":[{"role":"user","content":[{"type":"text","text":"Describe this"},` +
				`{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]}]}`,
		},
		Check: func(t *testing.T, c *Case, r *Result) {
			expectOK(t, c, r)
			// The Converse body, read back in Anthropic's terms: the
			// image block of the user's turn, its bytes as sent.
			up := gjson.ParseBytes(c.LastUpstream(t))
			img := up.Get(`messages.0.content.#(type=="image")`)
			expectEqual(t, "upstream image", img.Get("source.media_type").Str+" "+img.Get("source.data").Str, "image/png iVBORw0KGgo=")
			n := len(c.Fake().Requests())
			body := map[string]string{
				OpenAI:    `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}}]}]}`,
				Anthropic: `{"max_tokens":256,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}}]}]}`,
			}[c.Client()]
			r = c.Send(t, body)
			expectEqual(t, "status of an image by URL", r.Status, http.StatusBadRequest)
			expectEqual(t, "upstream requests", len(c.Fake().Requests()), n)
		},
	}}
}

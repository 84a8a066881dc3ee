package conformance

import (
	"net/http"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// Reasons a pair cannot express an Ollama scenario.
const (
	naOllamaOnly     = "Only Ollama has this in its protocol."
	naOllamaImageURL = "Ollama takes images only inline, as base64: an image by URL is refused (the Ollama images row)."
	naOllamaNoFilter = "Ollama has no content filter: done_reason is stop or length."
	naOllamaExtra    = "Members the Messages API does not know reach no upstream of another protocol: only an OpenAI client's reach Ollama."
)

// notOllama is n/a, for why, for every pair whose upstream is Ollama.
func notOllama(why string) func(Pair, Mode) string {
	return func(p Pair, _ Mode) string {
		if family(p.Upstream) == Ollama {
			return why
		}
		return ""
	}
}

// inlineImagesOnly is n/a for the pairs whose upstream takes images only
// inline: Ollama and Gemini.
func inlineImagesOnly(p Pair, m Mode) string {
	if family(p.Upstream) == Gemini {
		return naGeminiImageURL
	}
	if p.Upstream == Bedrock {
		return naBedrockImageURL
	}
	return notOllama(naOllamaImageURL)(p, m)
}

// onlyOllama is n/a for every pair whose upstream is not Ollama.
func onlyOllama(p Pair, _ Mode) string {
	if family(p.Upstream) != Ollama {
		return naOllamaOnly
	}
	return ""
}

// ollamaScenarios are the places where Ollama's native API says what the
// others do not: images only inline, done_reason load, usage as
// prompt_eval_count and eval_count.
func ollamaScenarios() []Scenario {
	plain := map[string]string{
		OpenAI:    `{"messages":[{"role":"user","content":"Say hello"}]}`,
		Anthropic: `{"max_tokens":256,"messages":[{"role":"user","content":"Say hello"}]}`,
	}
	return []Scenario{
		{
			Name: "images, base64 as images, URL refused (Ollama)", Modes: []Mode{Unary}, NA: onlyOllama,
			Request: map[string]string{
				OpenAI: `{"messages":[{"role":"user","content":[{"type":"text","text":"Describe this"},` +
					`{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}]}`,
				Anthropic: `{"max_tokens":256,"messages":[{"role":"user","content":[{"type":"text","text":"Describe this"},` +
					`{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]}]}`,
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				expectOK(t, c, r)
				expectEqual(t, "text", r.Text, "Describe this")
				up := gjson.ParseBytes(c.LastUpstream(t))
				expectEqual(t, "upstream images", up.Get("messages.0.images").Raw, `["iVBORw0KGgo="]`)
				// An image by URL would be answered without being
				// seen: refused, and Ollama never asked.
				n := len(c.Fake().Requests())
				body := map[string]string{
					OpenAI:    `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}}]}]}`,
					Anthropic: `{"max_tokens":256,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}}]}]}`,
				}[c.Client()]
				r = c.Send(t, body)
				expectEqual(t, "status of an image by URL", r.Status, http.StatusBadRequest)
				expectEqual(t, "upstream requests", len(c.Fake().Requests()), n)
			},
		},
		{
			// Ollama answers a request with no messages with done_reason
			// load, having generated nothing: never passed off as an
			// answer.
			Name: "done_reason load / unload (Ollama)", Modes: both, NA: onlyOllama, Request: plain,
			Script: func(t testing.TB, c *Case) []providertest.Response {
				return repeat(withStop(textCapture(t, c, 0), Ollama, "", "", "load"), 4)
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				if !c.Streamed() {
					if r.Status != http.StatusBadGateway {
						t.Fatalf("status %d, want 502: %s", r.Status, r.Body)
					}
					expectEqual(t, "error type", r.ErrType, errorTypes["upstream"][c.Client()])
					return
				}
				if r.Terminated || r.StreamError == "" {
					t.Errorf("stream ended as complete (terminated %v, error %q)", r.Terminated, r.StreamError)
				}
			},
		},
		{
			Name: "upstream reasoning as message.thinking (Ollama)", Modes: both, NA: onlyOllama,
			Request: map[string]string{
				OpenAI:    `{"messages":[{"role":"user","content":"Is nine odd?"}]}`,
				Anthropic: `{"max_tokens":1024,"messages":[{"role":"user","content":"Is nine odd?"}]}`,
			},
			Script: func(t testing.TB, c *Case) []providertest.Response {
				if c.Streamed() {
					return []providertest.Response{{SSE: providertest.Load(t, "ollama/stream_thinking.ndjson"), Split: 7}}
				}
				return []providertest.Response{{Body: providertest.Load(t, "ollama/chat_thinking.json")}}
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				expectOK(t, c, r)
				expectEqual(t, "thinking", r.Thinking, "Nine divided by two leaves one.")
				expectEqual(t, "text", r.Text, "Yes: nine is odd.")
			},
		},
		{
			Name: "usage from prompt_eval_count and eval_count (Ollama)", Modes: both, NA: onlyOllama, Request: plain,
			Script: func(t testing.TB, c *Case) []providertest.Response {
				return []providertest.Response{textCapture(t, c, 0)}
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				expectOK(t, c, r)
				want := map[Mode]Usage{Unary: {Input: 26, Output: 298}, Stream: {Input: 26, Output: 282}}[c.Mode]
				expectEqual(t, "usage", r.Usage, want)
			},
		},
		{
			Name: "Ollama options, keep_alive and think passed through (Ollama)", Modes: []Mode{Unary}, NA: func(p Pair, m Mode) string {
				if vocab(p.Client) != OpenAI {
					return naOllamaExtra
				}
				return onlyOllama(p, m)
			},
			Request: map[string]string{
				OpenAI: `{"temperature":0.5,"options":{"num_ctx":8192,"temperature":1},"keep_alive":"10m","think":true,"messages":[{"role":"user","content":"options"}]}`,
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				expectOK(t, c, r)
				up := gjson.ParseBytes(c.LastUpstream(t))
				expectEqual(t, "options.num_ctx", up.Get("options.num_ctx").Int(), int64(8192))
				expectEqual(t, "options.temperature", up.Get("options.temperature").Float(), 0.5)
				expectEqual(t, "keep_alive", up.Get("keep_alive").String(), "10m")
				expectEqual(t, "think", up.Get("think").Raw, "true")
				expectEqual(t, DroppedHeader, r.Header.Get(DroppedHeader), "")
			},
		},
	}
}

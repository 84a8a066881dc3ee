package conformance

import (
	"net/http"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// Reasons a pair cannot express a Gemini scenario.
const (
	naGeminiOnly     = "Only Gemini has this in its protocol."
	naGeminiImageURL = "Gemini takes images only inline (inlineData; fileData only for files uploaded to Google): an image by URL is refused (the Gemini images row)."
)

// onlyGemini is n/a for every pair whose upstream is not Gemini.
func onlyGemini(p Pair, _ Mode) string {
	if family(p.Upstream) != Gemini {
		return naGeminiOnly
	}
	return ""
}

// geminiScenarios are the places where the Gemini API says what the others
// do not: images inline only, the finish reasons of a block or a failure,
// a blocked prompt, thought parts and thought tokens.
func geminiScenarios() []Scenario {
	plain := map[string]string{
		OpenAI:    `{"messages":[{"role":"user","content":"Say hello"}]}`,
		Anthropic: `{"max_tokens":256,"messages":[{"role":"user","content":"Say hello"}]}`,
	}
	out := []Scenario{
		{
			Name: "images, base64 as inlineData, URL refused (Gemini)", Modes: []Mode{Unary}, NA: onlyGemini,
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
				expectEqual(t, "upstream inlineData", up.Get("contents.0.parts.1.inlineData").Raw, `{"mimeType":"image/png","data":"iVBORw0KGgo="}`)
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
			// A prompt blocked is answered with no candidates and
			// promptFeedback.blockReason: an empty answer stopped by the
			// content filter.
			Name: "prompt blocked: promptFeedback.blockReason (Gemini)", Modes: both, NA: onlyGemini, Request: plain,
			Script: func(t testing.TB, c *Case) []providertest.Response {
				b := providertest.Load(t, "gemini/chat_blocked.json")
				if c.Streamed() {
					return []providertest.Response{{SSE: []byte("data: " + gjson.ParseBytes(b).Get("@ugly").Raw + "\r\n\r\n")}}
				}
				return []providertest.Response{{Body: b}}
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				expectOK(t, c, r)
				expectEqual(t, "text", r.Text, "")
				expectEqual(t, "stop", r.Stop, stopFor(c.Client(), "content_filter"))
				expectEqual(t, "usage", r.Usage, Usage{Input: 7})
			},
		},
		{
			Name: "upstream reasoning as thought parts (Gemini)", Modes: both, NA: onlyGemini,
			Request: map[string]string{
				OpenAI:    `{"messages":[{"role":"user","content":"Is nine odd?"}]}`,
				Anthropic: `{"max_tokens":1024,"messages":[{"role":"user","content":"Is nine odd?"}]}`,
			},
			Script: func(t testing.TB, c *Case) []providertest.Response {
				if c.Streamed() {
					return []providertest.Response{{SSE: providertest.Load(t, "gemini/stream_thinking.sse"), Split: 7}}
				}
				return []providertest.Response{{Body: providertest.Load(t, "gemini/chat_thinking.json")}}
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				expectOK(t, c, r)
				expectEqual(t, "thinking", r.Thinking, "**Checking parity**\n\nNine divided by two leaves one.")
				expectEqual(t, "text", r.Text, "Yes: nine is odd.")
				// The thoughts are output: 6 candidates + 98 thoughts.
				expectEqual(t, "usage", r.Usage, Usage{Input: 6, Output: 104})
			},
		},
	}
	// Every finish reason of a block is the content filter; every one of a
	// failed generation an upstream error, never a complete answer.
	for _, reason := range []string{"RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII"} {
		out = append(out, Scenario{
			Name: "stop reason: " + reason + " (Gemini)", Modes: both, NA: onlyGemini, Request: plain,
			Script: func(t testing.TB, c *Case) []providertest.Response {
				return []providertest.Response{withStop(textCapture(t, c, 0), Gemini, "", "", reason)}
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				expectOK(t, c, r)
				expectEqual(t, "stop", r.Stop, stopFor(c.Client(), "content_filter"))
			},
		})
	}
	for _, reason := range []string{"MALFORMED_FUNCTION_CALL", "OTHER"} {
		out = append(out, Scenario{
			Name: "stop reason: " + reason + " (Gemini)", Modes: both, NA: onlyGemini, Request: plain,
			Script: func(t testing.TB, c *Case) []providertest.Response {
				return repeat(withStop(textCapture(t, c, 0), Gemini, "", "", reason), 4)
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
		})
	}
	return out
}

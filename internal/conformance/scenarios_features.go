package conformance

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/provider/providertest"
)

const thinkingMessage = `{"id":"msg_01XAgR7XWn6sD1bqFtmkNYWp","type":"message","role":"assistant","model":"claude-sonnet-4-20250514",` +
	`"content":[{"type":"thinking","thinking":"Let me solve this step by step:\n\n1. First break down 27 * 453\n2. 453 = 400 + 50 + 3",` +
	`"signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds7ryzJcnUpi3uIyH/UWPZsSAcjQ8nBYtN+ZvgTKm3cbhHiCrJDbqkPKqZ/y0eSIUSIRAmlTfyxp4A7S0aQFd9j7UkC/mU8HqGwmNGK6A=="},` +
	`{"type":"text","text":"27 * 453 = 12,231"}],"stop_reason":"end_turn","stop_sequence":null,` +
	`"usage":{"input_tokens":45,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":98}}`

const thinkingSignature = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds7ryzJcnUpi3uIyH/UWPZsSAcjQ8nBYtN+ZvgTKm3cbhHiCrJDbqkPKqZ/y0eSIUSIRAmlTfyxp4A7S0aQFd9j7UkC/mU8HqGwmNGK6A=="

func anthropicFeatureScenarios() []Scenario {
	return []Scenario{
		{
			Name: "extended thinking with signature", Modes: both, NA: onlyAnthropic(naNoThinking),
			Request: map[string]string{
				Anthropic: `{"max_tokens":2048,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[{"role":"user","content":"What is 27 * 453?"}]}`,
			},
			Script: func(t testing.TB, c *Case) []providertest.Response {
				if c.Streamed() {
					return []providertest.Response{{SSE: providertest.Load(t, "anthropic/stream_thinking.sse"), Split: 5}}
				}
				return []providertest.Response{{Body: []byte(thinkingMessage)}}
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				expectOK(t, c, r)
				expectEqual(t, "thinking", r.Thinking, "Let me solve this step by step:\n\n1. First break down 27 * 453\n2. 453 = 400 + 50 + 3")
				expectEqual(t, "signature", r.Signature, thinkingSignature)
				expectEqual(t, "text", r.Text, "27 * 453 = 12,231")
				expectEqual(t, "upstream budget", gjson.GetBytes(c.LastUpstream(t), "thinking.budget_tokens").Int(), int64(1024))
			},
		},
		{
			Name: "thinking blocks kept across turns", Modes: []Mode{Unary}, NA: onlyAnthropic(naNoThinking),
			Request: map[string]string{
				Anthropic: `{"max_tokens":2048,"thinking":{"type":"enabled","budget_tokens":1024},"tools":[` + weatherToolAnthropic + `],"messages":[` +
					`{"role":"user","content":"Weather in Paris?"},` +
					`{"role":"assistant","content":[{"type":"thinking","thinking":"I should call the tool.","signature":"` + thinkingSignature + `"},` +
					`{"type":"redacted_thinking","data":"EmwKAhgBEgy3va3pzix/LafPsn4a"},` +
					`{"type":"tool_use","id":"toolu_abc123","name":"get_weather","input":{"location":"Paris"}}]},` +
					`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_abc123","content":"18C and sunny"}]}]}`,
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				expectOK(t, c, r)
				blocks := gjson.GetBytes(c.LastUpstream(t), "messages.1.content")
				expectEqual(t, "thinking signature", blocks.Get("0.signature").String(), thinkingSignature)
				expectEqual(t, "thinking text", blocks.Get("0.thinking").String(), "I should call the tool.")
				expectEqual(t, "redacted thinking", blocks.Get("1.type").String()+":"+blocks.Get("1.data").String(), "redacted_thinking:EmwKAhgBEgy3va3pzix/LafPsn4a")
			},
		},
		{
			Name: "prompt caching cache_control", Modes: []Mode{Unary}, NA: onlyAnthropic(naNoCacheControl),
			Request: map[string]string{
				Anthropic: `{"max_tokens":256,"system":[{"type":"text","text":"A long shared prefix.","cache_control":{"type":"ephemeral"}}],` +
					`"messages":[{"role":"user","content":[{"type":"text","text":"cached question","cache_control":{"type":"ephemeral","ttl":"1h"}}]}]}`,
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				expectOK(t, c, r)
				up := gjson.ParseBytes(c.LastUpstream(t))
				expectEqual(t, "system cache_control", up.Get("system.0.cache_control").Raw, `{"type":"ephemeral"}`)
				if !jsonEqual(up.Get("messages.0.content.0.cache_control").Raw, `{"type":"ephemeral","ttl":"1h"}`) {
					t.Errorf("message cache_control %s", up.Get("messages.0.content.0.cache_control").Raw)
				}
			},
		},
		{
			Name: "usage with cache tokens", Modes: both, NA: always,
			Request: toolRequest,
			Script: func(t testing.TB, c *Case) []providertest.Response {
				return []providertest.Response{toolCapture(t, c, 0)}
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				expectOK(t, c, r)
				expectEqual(t, "usage", r.Usage, captureUsage[[2]string{c.Client(), c.Up()}])
			},
		},
		{
			Name: "count_tokens", Modes: []Mode{Unary},
			NA: func(p Pair, _ Mode) string {
				if vocab(p.Client) == OpenAI {
					return naCountTokens
				}
				return ""
			},
			Run: runCountTokens,
		},
	}
}

// runCountTokens asks /v1/messages/count_tokens: an Anthropic upstream's own
// count is relayed; any other upstream gets an estimate and no request.
func runCountTokens(t *testing.T, c *Case) {
	if c.Up() == Anthropic && !c.OnBedrock() {
		c.Fake().Enqueue(providertest.Response{Body: providertest.Load(t, "anthropic/count_tokens.json")})
	}
	body := `{"model":"` + ModelFor(c.Pair.Upstream) + `","system":"Be brief.","messages":[{"role":"user","content":"How many tokens is this?"}]}`
	resp, err := http.Post(c.H.URL+"/v1/messages/count_tokens", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	n := gjson.GetBytes(b, "input_tokens").Int()
	reqs := c.Fake().Requests()
	if c.Up() == Anthropic && !c.OnBedrock() {
		expectEqual(t, "input_tokens", n, int64(2095))
		path, model := "/v1/messages/count_tokens", AnthropicUpstreamModel
		if c.Pair.Upstream == VertexAnthropic {
			// Vertex AI counts with a model of its own, the counted
			// model in the body with anthropic_version.
			path, model = vertexRoot+"/publishers/anthropic/models/count-tokens:rawPredict", VertexAnthropicUpstreamModel
		}
		if len(reqs) != 1 || reqs[0].Path != path || gjson.GetBytes(reqs[0].Body, "model").String() != model {
			t.Errorf("upstream requests %+v", reqs)
		}
		return
	}
	if n <= 0 {
		t.Errorf("estimate %d: %s", n, b)
	}
	if len(reqs) != 0 {
		t.Errorf("the OpenAI upstream was asked: %+v", reqs)
	}
}

// runCancel starts a stream the upstream holds after its first text, reads
// until the gateway has sent an event, then goes away: the upstream must see
// the cancellation after the client's and within a second of it, with the
// gateway's stream idle timeout (StreamIdleTimeout of the scenario) far
// longer, so that nothing but the client going away can have ended it.
func runCancel(t *testing.T, c *Case) {
	hold := make(chan struct{})
	defer close(hold)
	var sse []byte
	var after int
	switch up := c.Up(); {
	case up == Anthropic:
		sse = providertest.Load(t, "anthropic/stream_text.sse")
		after = nthEventEnd(sse, 4)
	case up == Ollama:
		sse = providertest.Load(t, "ollama/stream_text.ndjson")
		after = nthLineEnd(sse, 2)
	case up == Cohere:
		// message-start and an empty content-start come first.
		sse = providertest.Load(t, "cohere/stream_text.sse")
		after = nthEventEnd(sse, 3)
	case c.nativeResponses():
		// created, in_progress, the item, its part and the first delta.
		sse = providertest.Load(t, "openai/responses_stream_text.sse")
		after = nthEventEnd(sse, 5)
	default:
		sse = providertest.Load(t, streamCapture(c.Up(), "stream_text.sse"))
		after = nthEventEnd(sse, 2)
	}
	c.Fake().Enqueue(providertest.Response{SSE: sse, Hold: hold, HoldAfter: after})
	body := map[string]string{
		OpenAI:    `{"messages":[{"role":"user","content":"Go on"}]}`,
		Anthropic: `{"max_tokens":256,"messages":[{"role":"user","content":"Go on"}]}`,
	}[c.Client()]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp, err := http.DefaultClient.Do(c.Request(ctx, t, body))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	buf := make([]byte, 1)
	var got []byte
	for !strings.Contains(string(got), "\n\n") {
		if _, err := resp.Body.Read(buf); err != nil {
			t.Fatalf("stream ended before its first event: %v", err)
		}
		got = append(got, buf[0])
	}
	if c.H.Options.StreamIdleTimeout < time.Minute {
		t.Fatalf("stream idle timeout %s: it could end the upstream request itself", c.H.Options.StreamIdleTimeout)
	}
	canceledAt := time.Now()
	cancel()
	resp.Body.Close()
	// The upstream request stays open until the client goes away or the
	// idle timeout, a minute off, ends it: only the client's cancel can
	// end it within the second.
	var seen time.Time
	select {
	case seen = <-c.Fake().Canceled():
	case <-time.After(10 * time.Second):
		t.Fatal("the upstream never saw the cancellation")
	}
	if seen.Before(canceledAt) {
		t.Fatalf("the upstream request ended %s before the client went away", canceledAt.Sub(seen))
	}
	if d := seen.Sub(canceledAt); d > time.Second {
		t.Errorf("the upstream saw the cancellation %s after the client went away, want within 1s", d)
	}
}

// nthEventEnd returns the offset just after the n-th event of a capture.
func nthEventEnd(sse []byte, n int) int {
	off := 0
	for range n {
		i := strings.Index(string(sse[off:]), "\n\n")
		if i < 0 {
			return len(sse)
		}
		off += i + 2
	}
	return off
}

// nthLineEnd returns the offset just after the n-th line of a
// newline-delimited JSON capture.
func nthLineEnd(b []byte, n int) int {
	off := 0
	for range n {
		i := strings.IndexByte(string(b[off:]), '\n')
		if i < 0 {
			return len(b)
		}
		off += i + 1
	}
	return off
}

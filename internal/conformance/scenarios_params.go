package conformance

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// DroppedHeader is the response header naming the request fields the
// upstream did not receive.
const DroppedHeader = "X-Llmgw-Dropped-Params"

// naThreadClient: only Anthropic's Messages API has message threads.
const naThreadClient = "Message threads are a field of Anthropic's Messages API; an OpenAI client has none to send."

// fieldScenarios check the policy for fields with no equivalent in the
// upstream's protocol (OpenAIParams and AnthropicParams): dropped ones are
// named in a header, refused ones answered with an error naming them, and
// a message thread to continue gets the error on which Anthropic's SDKs send
// the whole conversation again. A same-protocol pair passes every field on.
func fieldScenarios() []Scenario {
	text := func(t testing.TB, c *Case) []providertest.Response {
		return []providertest.Response{textCapture(t, c, 7)}
	}
	return []Scenario{
		{
			Name: "fields without equivalent dropped and named", Modes: both, NA: always, Script: text,
			Request: map[string]string{
				OpenAI:    `{"messages":[{"role":"user","content":"Say hello"}],"seed":7,"presence_penalty":0.5,"frequency_penalty":0,"store":true}`,
				Anthropic: `{"max_tokens":256,"messages":[{"role":"user","content":"Say hello"}],"service_tier":"auto","context_management":{"edits":[]}}`,
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				expectOK(t, c, r)
				up := gjson.ParseBytes(c.LastUpstream(t))
				if c.Client() == c.Up() && !c.Converse() {
					expectEqual(t, DroppedHeader, r.Header.Get(DroppedHeader), "")
					return
				}
				want := map[string]string{OpenAI: "presence_penalty, seed, store", Anthropic: "context_management, service_tier"}[c.Client()]
				if c.Client() == OpenAI && c.Up() == Mistral {
					// Mistral has the penalties, and the seed as
					// random_seed.
					want = "store"
					expectEqual(t, "upstream random_seed", up.Get("random_seed").Int(), int64(7))
					expectEqual(t, "upstream seed", up.Get("seed").Exists(), false)
					expectEqual(t, "upstream presence_penalty", up.Get("presence_penalty").Float(), 0.5)
				}
				if c.Client() == OpenAI && c.Up() == Gemini {
					// Gemini has the penalties and the seed, in
					// generationConfig.
					want = "store"
					expectEqual(t, "upstream generationConfig.seed", up.Get("generationConfig.seed").Int(), int64(7))
					expectEqual(t, "upstream generationConfig.presencePenalty", up.Get("generationConfig.presencePenalty").Float(), 0.5)
				}
				if c.Client() == OpenAI && c.Up() == Ollama {
					// Ollama has the penalty and the seed, in options.
					want = "store"
					expectEqual(t, "upstream options.seed", up.Get("options.seed").Int(), int64(7))
					expectEqual(t, "upstream options.presence_penalty", up.Get("options.presence_penalty").Float(), 0.5)
				}
				if c.Client() == OpenAI && c.Up() == Cohere {
					// Cohere has the penalties and the seed.
					want = "store"
					expectEqual(t, "upstream seed", up.Get("seed").Int(), int64(7))
					expectEqual(t, "upstream presence_penalty", up.Get("presence_penalty").Float(), 0.5)
				}
				expectEqual(t, DroppedHeader, r.Header.Get(DroppedHeader), want)
				for name := range strings.SplitSeq(want, ", ") {
					if up.Get(name).Exists() {
						t.Errorf("upstream received dropped field %s: %s", name, up.Raw)
					}
				}
			},
		},
		{
			Name: "fields whose absence changes the answer refused", Modes: []Mode{Unary}, NA: always, Script: text,
			Request: map[string]string{
				OpenAI:    `{"messages":[{"role":"user","content":"Say hello"}],"n":2}`,
				Anthropic: `{"max_tokens":256,"messages":[{"role":"user","content":"Say hello"}],"mcp_servers":[{"type":"url","url":"https://mcp.example.com/sse","name":"example"}]}`,
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				if c.Client() == c.Up() && !c.Converse() {
					expectOK(t, c, r)
					return
				}
				if c.Client() == OpenAI && c.Up() == Gemini {
					// Gemini has n, as candidateCount.
					expectOK(t, c, r)
					expectEqual(t, "upstream candidateCount", gjson.GetBytes(c.LastUpstream(t), "generationConfig.candidateCount").Int(), int64(2))
					return
				}
				if c.Client() == OpenAI && c.Up() == Mistral {
					// Mistral has n.
					expectOK(t, c, r)
					expectEqual(t, "upstream n", gjson.GetBytes(c.LastUpstream(t), "n").Int(), int64(2))
					return
				}
				if r.Status != 400 {
					t.Fatalf("status %d, want 400: %s", r.Status, r.Body)
				}
				expectEqual(t, "error type", r.ErrType, "invalid_request_error")
				field := map[string]string{OpenAI: "n", Anthropic: "mcp_servers"}[c.Client()]
				if c.Client() == OpenAI {
					expectEqual(t, "error param", gjson.GetBytes(r.Body, "error.param").String(), field)
				} else if msg := gjson.GetBytes(r.Body, "error.message").String(); !strings.HasPrefix(msg, field+":") {
					t.Errorf("error message %q does not name %s", msg, field)
				}
				if n := len(c.Fake().Requests()); n != 0 {
					t.Errorf("a refused request reached the upstream %d times", n)
				}
			},
		},
		{
			Name: "message thread to continue", Modes: both, Script: text,
			NA: func(p Pair, _ Mode) string {
				if vocab(p.Client) != Anthropic {
					return naThreadClient
				}
				return ""
			},
			Request: map[string]string{
				Anthropic: `{"max_tokens":256,"thread":{"type":"continue","previous_message_id":"msg_013Zva2CMHLNnXjNJJKqJ2EF"},` +
					`"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01A09q90qw90lq917835lq9","content":"15 degrees"}]}]}`,
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				if c.Up() == Anthropic && !c.Converse() {
					expectOK(t, c, r)
					expectEqual(t, "upstream thread", gjson.GetBytes(c.LastUpstream(t), "thread.type").String(), "continue")
					return
				}
				// Anthropic's answer to a thread it cannot continue, on
				// which its SDKs replay the whole conversation.
				if r.Status != 404 {
					t.Fatalf("status %d, want 404: %s", r.Status, r.Body)
				}
				expectEqual(t, "error type", r.ErrType, "not_found_error")
				if msg := gjson.GetBytes(r.Body, "error.message").String(); !strings.HasPrefix(msg, "thread:") {
					t.Errorf("error message %q does not name thread", msg)
				}
			},
		},
		{
			Name: "message thread created", Modes: both, Script: text,
			NA: func(p Pair, _ Mode) string {
				if vocab(p.Client) != Anthropic {
					return naThreadClient
				}
				return ""
			},
			Request: map[string]string{
				Anthropic: `{"max_tokens":256,"thread":{"type":"create"},"messages":[{"role":"user","content":"Say hello"}]}`,
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				expectOK(t, c, r)
				if c.Up() == Anthropic && !c.Converse() {
					expectEqual(t, "upstream thread", gjson.GetBytes(c.LastUpstream(t), "thread.type").String(), "create")
					return
				}
				expectEqual(t, DroppedHeader, r.Header.Get(DroppedHeader), "thread")
			},
		},
	}
}

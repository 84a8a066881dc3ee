package conformance

import (
	"net/http"
	"testing"

	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// Reasons a pair cannot express a Cohere scenario.
const (
	naCohereOnly     = "Only Cohere has this in its protocol."
	naCohereNoFilter = "Cohere has no content filter finish reason."
)

// onlyCohere is n/a for every pair whose upstream is not Cohere.
func onlyCohere(p Pair, _ Mode) string {
	if family(p.Upstream) != Cohere {
		return naCohereOnly
	}
	return ""
}

// cohereScenarios are the places where Cohere's protocol says what
// OpenAI's does not: a generation that failed or timed out reported as a
// finish reason, the plan before tool calls, reasoning as thinking content.
func cohereScenarios() []Scenario {
	plain := goOn
	failed := func(name, reason string, status int, kind string) Scenario {
		return Scenario{
			// A generation that failed is an error, never a short
			// answer passed off as complete (streamed: the error event
			// row).
			Name: name, Modes: []Mode{Unary}, NA: onlyCohere, Request: plain,
			Script: func(t testing.TB, c *Case) []providertest.Response {
				return repeat(withStop(textCapture(t, c, 0), c.Up(), "", "", reason), 4)
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				if r.Status != status {
					t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
				}
				if kind != "" {
					expectEqual(t, "error type", r.ErrType, errorTypes[kind][c.Client()])
				}
			},
		}
	}
	return []Scenario{
		failed("stop reason: ERROR (Cohere)", "ERROR", http.StatusBadGateway, "upstream"),
		failed("stop reason: TIMEOUT (Cohere)", "TIMEOUT", http.StatusGatewayTimeout, ""),
		{
			// The plan Cohere writes before its tool calls is the
			// model's reasoning: a thinking block, or reasoning text.
			Name: "tool_plan as reasoning (Cohere)", Modes: both, NA: onlyCohere, Request: toolRequest,
			Script: func(t testing.TB, c *Case) []providertest.Response {
				return []providertest.Response{toolCapture(t, c, 3)}
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				expectOK(t, c, r)
				expectEqual(t, "thinking", r.Thinking, "I will look up the weather in Paris and in Zürich.")
				expectEqual(t, "tool calls", r.ToolCalls, captureTools[Cohere])
			},
		},
		{
			Name: "upstream reasoning as thinking content (Cohere)", Modes: []Mode{Unary}, NA: onlyCohere,
			Request: map[string]string{
				OpenAI:    `{"messages":[{"role":"user","content":"Is nine odd?"}]}`,
				Anthropic: `{"max_tokens":1024,"messages":[{"role":"user","content":"Is nine odd?"}]}`,
			},
			Script: func(t testing.TB, _ *Case) []providertest.Response {
				return []providertest.Response{{Body: providertest.Load(t, "cohere/chat_thinking.json")}}
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				expectOK(t, c, r)
				expectEqual(t, "thinking", r.Thinking, "Nine divided by two leaves a remainder of one.")
				expectEqual(t, "text", r.Text, "Yes, nine is odd.")
			},
		},
	}
}

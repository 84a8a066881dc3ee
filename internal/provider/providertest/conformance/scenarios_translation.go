package conformance

import (
	"testing"

	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// translationScenarios are the behaviours real client libraries rely on
// where the two protocols say the same thing differently: usage before the
// end of a stream, structured output, reasoning.
func translationScenarios() []Scenario {
	return []Scenario{
		{
			Name: "input tokens in message_start", Modes: []Mode{Stream},
			NA: func(p Pair, _ Mode) string {
				if p.Client != Anthropic {
					return naStartUsage
				}
				return ""
			},
			Request: map[string]string{
				Anthropic: `{"max_tokens":256,"messages":[{"role":"user","content":"Say hello"}]}`,
			},
			Script: func(t testing.TB, c *Case) []providertest.Response {
				return []providertest.Response{textCapture(t, c, 3)}
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				expectOK(t, c, r)
				// The Anthropic capture states 25 input tokens at the
				// start; an OpenAI stream states its 12 only at the end,
				// so message_start carries an estimate and message_delta
				// the exact count.
				final := map[string]int{Anthropic: 25, OpenAI: 12}[c.Pair.Upstream]
				if c.Pair.Upstream == Anthropic {
					expectEqual(t, "message_start input_tokens", r.StartInput, final)
				} else if r.StartInput <= 0 {
					t.Errorf("message_start input_tokens %d, want an estimate above 0", r.StartInput)
				}
				expectEqual(t, "final input_tokens", r.Usage.Input, final)
			},
		},
	}
}

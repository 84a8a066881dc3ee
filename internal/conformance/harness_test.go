package conformance

import (
	"bytes"
	"strings"
	"testing"

	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// TestTranslateOption checks that Options.Translate is what sets the
// translated columns apart: a same-protocol call forwards the client's bytes
// and the upstream's answer as they are, and a translated one re-encodes
// both.
func TestTranslateOption(t *testing.T) {
	// The odd spacing survives only a byte-forwarding path.
	const marker = `"content":   "Hi there"`
	bodies := map[string]string{
		OpenAI:    `{"messages":[{"role":"user",` + marker + `}]}`,
		Anthropic: `{"max_tokens":64,"messages":[{"role":"user",` + marker + `}]}`,
	}
	answers := map[string]string{OpenAI: "openai/chat_text.json", Anthropic: "anthropic/message_text.json"}
	for _, p := range []string{OpenAI, Anthropic} {
		for _, translate := range []bool{false, true} {
			pair := Pair{Client: p, Upstream: p, Translated: translate}
			t.Run(pair.String(), func(t *testing.T) {
				c := &Case{Pair: pair, Mode: Unary, H: NewHarnessWith(t, Options{Translate: translate})}
				answer := providertest.Load(t, answers[p])
				c.Fake().Enqueue(providertest.Response{Body: answer})
				r := c.Send(t, bodies[p])
				if r.Status != 200 {
					t.Fatalf("status %d: %s", r.Status, r.Body)
				}
				forwarded := strings.Contains(string(c.LastUpstream(t)), marker)
				if forwarded == translate {
					t.Errorf("request bytes forwarded = %v with Translate %v:\n%s", forwarded, translate, c.LastUpstream(t))
				}
				relayed := bytes.Equal(bytes.TrimSpace(r.Body), bytes.TrimSpace(answer))
				if relayed == translate {
					t.Errorf("answer bytes relayed = %v with Translate %v:\n%s", relayed, translate, r.Body)
				}
			})
		}
	}
}

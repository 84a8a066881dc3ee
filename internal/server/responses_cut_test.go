package server

import (
	"fmt"
	"strings"
	"testing"

	"github.com/llmgw/llmgw/internal/provider/providertest"
	"github.com/llmgw/llmgw/internal/tokens"
)

// cutResponsesSSE is a Responses stream of cutWords and the offset after
// its first shown deltas.
func cutResponsesSSE(shown int) ([]byte, int) {
	var b strings.Builder
	const obj = `{"id":"resp_cut","object":"response","created_at":1764000000,"status":"in_progress","model":"gpt-4o-mini","output":[],"usage":null}`
	fmt.Fprintf(&b, "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":%s}\n\n", obj)
	after := 0
	for i, w := range cutWords {
		if i == shown {
			after = b.Len()
		}
		fmt.Fprintf(&b, "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":%d,\"item_id\":\"msg_cut\",\"output_index\":0,\"content_index\":0,\"delta\":\"%s \"}\n\n", i+1, w)
	}
	return []byte(b.String()), after
}

// A Responses stream cut short upstream is billed for what the client was
// sent, as a chat stream is, and ends with response.failed.
func TestResponsesCutStreamBilled(t *testing.T) {
	const shown = 6
	sse, after := cutResponsesSSE(shown)
	delivered := strings.Join(cutWords[:shown], " ") + " "
	wantOut, _ := tokens.CountText(delivered, "openai", "gpt-4o-mini")
	g, st := ledgerGateway(t)
	g.up.Enqueue(providertest.Response{SSE: sse[:after], HangUp: true})
	resp, body := g.do("POST", "/v1/responses", `{"model":"gpt","stream":true,"input":"Tell me about a fox."}`)
	if resp.StatusCode != 200 || !strings.Contains(body, "event: response.failed") || strings.Contains(body, "response.completed") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	u := oneRecord(t, st)
	if !u.UsageEstimated || u.OutputTokens != int64(wantOut) || wantOut == 0 || u.Status != 200 {
		t.Fatalf("record %+v, want %d output tokens, estimated", u, wantOut)
	}
}

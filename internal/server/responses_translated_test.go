package server

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/protocol/responses"
	"github.com/llmgw/llmgw/internal/provider/providertest"
	"github.com/llmgw/llmgw/internal/tokens"
)

// These tests cover the Responses API served by upstreams that do not
// speak it: the request goes through the translation of package responses
// (DecodeRequest, EncodeResponse, the StreamEncoder) and back.

// budgetedResponses adds a priced mock and a key with a budget and a
// tokens-per-minute limit, whose admission counts the request's tokens.
var budgetedResponses = strings.Replace(responsesConfig, "pricing:\n", "pricing:\n  - {provider: mock, model: mock, input_per_mtok: 1, output_per_mtok: 2}\n", 1) +
	`  - {name: capped, key: "sk-capped", tenant: one, limits: {tpm: 100000}, budget: {usd: 5, period: daily}}
`

// A whole response from a translated upstream is a response object made
// by the gateway, stored and read back as it was sent.
func TestResponsesTranslatedUnary(t *testing.T) {
	g := newRespGateway(t, responsesConfig)
	status, out, h := g.post("sk-tenant-one", `{"model":"mock","input":"hello from the other side","metadata":{"k":"v"}}`)
	if status != 200 || h["x-llmgw-provider"] != "mock" {
		t.Fatalf("%d %v %s", status, h, out)
	}
	if gjson.Get(out, "object").Str != "response" || !strings.HasPrefix(gjson.Get(out, "id").Str, "resp_") ||
		gjson.Get(out, "status").Str != "completed" || !strings.Contains(gjson.Get(out, "output.#(type==\"message\").content.0.text").Str, "hello from the other side") ||
		gjson.Get(out, "usage.output_tokens").Int() == 0 || gjson.Get(out, "metadata.k").Str != "v" ||
		gjson.Get(out, "completed_at").Type != gjson.Number || gjson.Get(out, "completed_at").Int() < gjson.Get(out, "created_at").Int() {
		t.Errorf("response %s", out)
	}
	resp, got := g.do("GET", "/v1/responses/"+gjson.Get(out, "id").Str, "", bearer("sk-tenant-one")...)
	if resp.StatusCode != 200 || got != out {
		t.Errorf("GET %d %s", resp.StatusCode, got)
	}
}

// A stream from a translated upstream is the typed events of the
// reference, ending with response.completed, whose response is stored.
func TestResponsesTranslatedStream(t *testing.T) {
	g := newRespGateway(t, responsesConfig)
	status, out, _ := g.post("sk-tenant-one", `{"model":"mock","input":"one two three","stream":true}`)
	if status != 200 {
		t.Fatalf("%d %s", status, out)
	}
	evs := responseEvents(t, out)
	var text strings.Builder
	for _, ev := range evs {
		if ev.Type == "response.output_text.delta" {
			text.WriteString(gjson.GetBytes(ev.Data, "delta").Str)
		}
	}
	last := evs[len(evs)-1]
	if evs[0].Type != "response.created" || last.Type != "response.completed" || !strings.Contains(text.String(), "one two three") {
		t.Fatalf("events %v text %q", evs, text.String())
	}
	if at := gjson.GetBytes(last.Data, "response.completed_at"); at.Type != gjson.Number || at.Int() < gjson.GetBytes(last.Data, "response.created_at").Int() {
		t.Errorf("completed response without its completion time: %s", last.Data)
	}
	id := gjson.GetBytes(last.Data, "response.id").Str
	resp, got := g.do("GET", "/v1/responses/"+id, "", bearer("sk-tenant-one")...)
	if resp.StatusCode != 200 || got != gjson.GetBytes(last.Data, "response").Raw {
		t.Errorf("GET %d %s", resp.StatusCode, got)
	}
}

// A conversation begun on an OpenAI account continues on a translated
// upstream: the history is the translation's input, and the response says
// what it continued.
func TestResponsesTranslatedContinuation(t *testing.T) {
	g := newRespGateway(t, responsesConfig)
	_, first, _ := g.post("sk-tenant-one", `{"model":"gpt-a","input":"first"}`)
	status, second, _ := g.post("sk-tenant-one", `{"model":"mock","previous_response_id":"`+gjson.Get(first, "id").Str+`","input":"second"}`)
	if status != 200 || gjson.Get(second, "previous_response_id").Str != gjson.Get(first, "id").Str {
		t.Fatalf("%d %s", status, second)
	}
	if !strings.Contains(gjson.Get(second, "output.#(type==\"message\").content.0.text").Str, "second") {
		t.Errorf("the mock did not answer the last message: %s", second)
	}
}

// Budgets and tokens-per-minute limits admit Responses requests as they
// admit chat requests, counting the request's tokens.
func TestResponsesBudgetAdmits(t *testing.T) {
	g := newRespGateway(t, budgetedResponses)
	status, out, h := g.post("sk-capped", `{"model":"mock","input":"within budget"}`)
	if status != 200 || h["x-ratelimit-limit-tokens"] != "100000" {
		t.Fatalf("%d %v %s", status, h, out)
	}
}

// A Responses stream cut short is billed with the prompt counted as
// admission counts it.
func TestResponsesCutStreamPromptCounted(t *testing.T) {
	sse, after := cutResponsesSSE(4)
	g, st := ledgerGateway(t)
	g.up.Enqueue(providertest.Response{SSE: sse[:after], HangUp: true})
	body := `{"model":"gpt","stream":true,"input":"Tell me about a fox."}`
	if resp, b := g.do("POST", "/v1/responses", body); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	req, err := responses.DecodeRequest([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := tokens.Count(req.Chat, "openai", "gpt-4o-mini")
	if u := oneRecord(t, st); u.InputTokens != int64(want) || want == 0 {
		t.Errorf("input tokens %d, want %d", u.InputTokens, want)
	}
}

package server

import (
	"fmt"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/provider/providertest"
	"github.com/llmgw/llmgw/internal/store"
	"github.com/llmgw/llmgw/internal/store/sqlite"
)

// responsesConfig has two OpenAI accounts, each behind its own model, a
// mock model, and keys of two tenants (two of tenant one).
const responsesConfig = `
server:
  stream_idle_timeout: "2s"
providers:
  - {name: acct-a, type: openai, base_url: "${UPSTREAM}", api_key: "sk-account-a-secret"}
  - {name: acct-b, type: openai, base_url: "${UPSTREAM2}", api_key: "sk-account-b-secret"}
  - {name: mock, type: mock}
models:
  - name: gpt-a
    targets: [{provider: acct-a, model: "gpt-4o-mini"}]
  - name: gpt-b
    targets: [{provider: acct-b, model: "gpt-4o"}]
  - name: mock
    targets: [{provider: mock, model: mock}]
pricing:
  - {provider: acct-a, model: "gpt-4o-mini", input_per_mtok: 0.15, output_per_mtok: 0.6, cached_input_per_mtok: 0.075}
keys:
  - {name: one, key: "sk-tenant-one", tenant: one}
  - {name: one-b, key: "sk-tenant-one-b", tenant: one}
  - {name: two, key: "sk-tenant-two", tenant: two}
`

// respGateway is a gateway with two OpenAI upstream fakes (two accounts)
// and its stored responses in a real SQLite store.
type respGateway struct {
	*testGateway
	up2 *providertest.OpenAI
	st  *sqlite.Store
	led *sink
}

func newRespGateway(t *testing.T, yaml string) *respGateway {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "llmgw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return newRespGatewayOn(t, yaml, db.Responses(), db)
}

func newRespGatewayOn(t *testing.T, yaml string, rs store.Responses, db *sqlite.Store) *respGateway {
	t.Helper()
	up, up2 := providertest.NewOpenAI(t), providertest.NewOpenAI(t)
	vars := map[string]string{"UPSTREAM": up.URL, "UPSTREAM2": up2.URL}
	cfg, err := config.Parse([]byte(yaml), func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	led := &sink{}
	snap, err := gateway.Compile(cfg, gateway.Options{Responses: rs, Ledger: led})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	srv := New(snap, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &respGateway{testGateway: &testGateway{t: t, srv: srv, http: ts, up: up, logs: logs}, up2: up2, st: db, led: led}
}

func (g *respGateway) post(key, body string) (int, string, map[string]string) {
	g.t.Helper()
	resp, b := g.do("POST", "/v1/responses", body, bearer(key)...)
	h := map[string]string{}
	for k := range resp.Header {
		h[strings.ToLower(k)] = resp.Header.Get(k)
	}
	return resp.StatusCode, b, h
}

// responseEvents parses a Responses stream into its events, checking that
// each event line names its data's type.
func responseEvents(t *testing.T, body string) []providertest.Event {
	t.Helper()
	evs := providertest.Events([]byte(body))
	for _, ev := range evs {
		if got := gjson.GetBytes(ev.Data, "type").Str; got != ev.Type {
			t.Errorf("event %q carries data of type %q", ev.Type, got)
		}
	}
	return evs
}

// A whole response from an OpenAI upstream reaches the client as the
// upstream sent it, with the gateway's headers; the upstream got the body
// with only the model swapped; usage is billed.
func TestResponsesNativeUnary(t *testing.T) {
	g := newRespGateway(t, responsesConfig)
	body := `{"model":"gpt-a","input":"hello gateway","instructions":"be brief","store":false,"vendor_knob":{"x":[1,2.50]}}`
	status, out, h := g.post("sk-tenant-one", body)
	if status != 200 {
		t.Fatalf("status %d: %s", status, out)
	}
	if gjson.Get(out, "object").Str != "response" || gjson.Get(out, "output.0.content.0.text").Str != "hello gateway" {
		t.Errorf("answer %s", out)
	}
	if h["x-llmgw-provider"] != "acct-a" || h["x-llmgw-attempts"] != "1" || h["x-llmgw-cost-usd"] == "" {
		t.Errorf("headers %v", h)
	}
	up := g.up.Requests()[0]
	want := strings.Replace(body, `"gpt-a"`, `"gpt-4o-mini"`, 1)
	if up.Path != "/v1/responses" || string(up.Body) != want {
		t.Errorf("upstream got %s %s\nwant %s", up.Path, up.Body, want)
	}
	recs := g.led.all()
	if len(recs) != 1 || recs[0].Provider != "acct-a" || recs[0].InputTokens == 0 || recs[0].CachedTokens != 2 || recs[0].OutputTokens != 2 || !recs[0].CostKnown {
		t.Errorf("usage records %+v", recs)
	}
	if strings.Contains(out, "sk-account-a-secret") {
		t.Error("the answer holds the upstream key")
	}
}

// A stream from an OpenAI upstream is relayed event by event, event lines
// and all, and its usage billed.
func TestResponsesNativeStream(t *testing.T) {
	g := newRespGateway(t, responsesConfig)
	status, out, h := g.post("sk-tenant-one", `{"model":"gpt-a","input":"one two three","stream":true}`)
	if status != 200 || !strings.HasPrefix(h["content-type"], "text/event-stream") {
		t.Fatalf("status %d %v: %s", status, h, out)
	}
	evs := responseEvents(t, out)
	var text strings.Builder
	for _, ev := range evs {
		if ev.Type == "response.output_text.delta" {
			text.WriteString(gjson.GetBytes(ev.Data, "delta").Str)
		}
	}
	if evs[0].Type != "response.created" || evs[len(evs)-1].Type != "response.completed" || text.String() != "one two three" {
		t.Errorf("events %v, text %q", evs, text.String())
	}
	if strings.Contains(out, "[DONE]") {
		t.Error("a Responses stream has no [DONE]")
	}
	if recs := g.led.all(); len(recs) != 1 || recs[0].OutputTokens != 3 || !recs[0].Stream || recs[0].UsageEstimated {
		t.Errorf("usage records %+v", recs)
	}
}

// A failure inside an upstream stream ends the client's with
// response.failed (never a completion), its error code one of the
// reference's (server_error); nothing is stored.
func TestResponsesNativeStreamFailure(t *testing.T) {
	for _, capture := range []string{"responses_stream_failed.sse", "responses_stream_error.sse", "responses_stream_truncated.sse"} {
		t.Run(capture, func(t *testing.T) {
			g := newRespGateway(t, responsesConfig)
			g.up.Enqueue(providertest.Response{SSE: providertest.Load(t, "openai/"+capture)})
			status, out, _ := g.post("sk-tenant-one", `{"model":"gpt-a","input":"hi","stream":true}`)
			if status != 200 {
				t.Fatalf("status %d: %s", status, out)
			}
			evs := responseEvents(t, out)
			last := evs[len(evs)-1]
			if last.Type != "response.failed" || gjson.GetBytes(last.Data, "response.status").Str != "failed" ||
				gjson.GetBytes(last.Data, "response.error.code").Str != "server_error" {
				t.Fatalf("last event %s %s", last.Type, last.Data)
			}
			for _, ev := range evs {
				if ev.Type == "response.completed" {
					t.Error("a failed stream was completed")
				}
			}
			id := gjson.GetBytes(evs[0].Data, "response.id").Str
			if resp, _ := g.do("GET", "/v1/responses/"+id, "", bearer("sk-tenant-one")...); resp.StatusCode != 404 {
				t.Errorf("a failed response was stored: GET %d", resp.StatusCode)
			}
		})
	}
}

// Stored responses are read, listed and deleted by their tenant only, in
// OpenAI's shapes; store false stores nothing.
func TestResponsesStoredPerTenant(t *testing.T) {
	g := newRespGateway(t, responsesConfig)
	status, out, _ := g.post("sk-tenant-one", `{"model":"gpt-a","input":[{"role":"user","content":"first"},{"type":"message","role":"user","content":[{"type":"input_text","text":"second"}]}]}`)
	if status != 200 {
		t.Fatalf("status %d: %s", status, out)
	}
	id := gjson.Get(out, "id").Str
	// Another key of the same tenant reads it, as it was sent.
	resp, got := g.do("GET", "/v1/responses/"+id, "", bearer("sk-tenant-one-b")...)
	if resp.StatusCode != 200 || got != out {
		t.Fatalf("GET %d: %s\nwant %s", resp.StatusCode, got, out)
	}
	// Another tenant does not see it, in any route.
	for _, rq := range [][2]string{{"GET", "/v1/responses/" + id}, {"GET", "/v1/responses/" + id + "/input_items"}, {"DELETE", "/v1/responses/" + id}} {
		resp, b := g.do(rq[0], rq[1], "", bearer("sk-tenant-two")...)
		if resp.StatusCode != 404 || gjson.Get(b, "error.message").Str != "Response with id '"+id+"' not found." {
			t.Errorf("%s %s as tenant two: %d %s", rq[0], rq[1], resp.StatusCode, b)
		}
	}
	resp, list := g.do("GET", "/v1/responses/"+id+"/input_items", "", bearer("sk-tenant-one")...)
	data := gjson.Get(list, "data").Array()
	if resp.StatusCode != 200 || gjson.Get(list, "object").Str != "list" || len(data) != 2 || gjson.Get(list, "has_more").Bool() ||
		data[0].Get("content.0.text").Str != "second" || data[1].Get("content").Str != "first" || data[1].Get("type").Str != "message" ||
		!strings.HasPrefix(data[0].Get("id").Str, "msg_") || gjson.Get(list, "first_id").Str != data[0].Get("id").Str {
		t.Errorf("input items %d: %s", resp.StatusCode, list)
	}
	_, asc := g.do("GET", "/v1/responses/"+id+"/input_items?order=asc&limit=1", "", bearer("sk-tenant-one")...)
	if gjson.Get(asc, "data.0.content").Str != "first" || !gjson.Get(asc, "has_more").Bool() {
		t.Errorf("asc, limit 1: %s", asc)
	}
	_, after := g.do("GET", "/v1/responses/"+id+"/input_items?order=asc&after="+gjson.Get(asc, "last_id").Str, "", bearer("sk-tenant-one")...)
	if gjson.Get(after, "data.#").Int() != 1 || gjson.Get(after, "data.0.content.0.text").Str != "second" {
		t.Errorf("after: %s", after)
	}
	for _, q := range []string{"limit=0", "limit=101", "limit=x", "order=up", "after=nope"} {
		if resp, b := g.do("GET", "/v1/responses/"+id+"/input_items?"+q, "", bearer("sk-tenant-one")...); resp.StatusCode != 400 {
			t.Errorf("%s: %d %s", q, resp.StatusCode, b)
		}
	}
	resp, del := g.do("DELETE", "/v1/responses/"+id, "", bearer("sk-tenant-one-b")...)
	if resp.StatusCode != 200 || del != `{"id":"`+id+`","object":"response","deleted":true}` {
		t.Errorf("DELETE %d: %s", resp.StatusCode, del)
	}
	if resp, _ := g.do("GET", "/v1/responses/"+id, "", bearer("sk-tenant-one")...); resp.StatusCode != 404 {
		t.Errorf("GET after DELETE: %d", resp.StatusCode)
	}
	// store false: nothing kept.
	_, out, _ = g.post("sk-tenant-one", `{"model":"gpt-a","input":"not kept","store":false}`)
	if resp, b := g.do("GET", "/v1/responses/"+gjson.Get(out, "id").Str, "", bearer("sk-tenant-one")...); resp.StatusCode != 404 || gjson.Get(b, "error.type").Str != "invalid_request_error" {
		t.Errorf("GET of a store:false response: %d %s", resp.StatusCode, b)
	}
	if resp, b := g.do("GET", "/v1/responses/resp_unknown", "", bearer("sk-tenant-one")...); resp.StatusCode != 404 || gjson.Get(b, "error.code").Str != "not_found" {
		t.Errorf("GET unknown: %d %s", resp.StatusCode, b)
	}
}

// previous_response_id continues a conversation whatever serves the next
// turn: the second turn goes to another account, whose upstream gets the
// whole history as input and no previous_response_id, and no
// instructions of the first turn.
func TestResponsesContinueAcrossAccounts(t *testing.T) {
	g := newRespGateway(t, responsesConfig)
	status, first, _ := g.post("sk-tenant-one", `{"model":"gpt-a","instructions":"be a pirate","input":"first question","reasoning":{"effort":"low"},"include":["reasoning.encrypted_content"]}`)
	if status != 200 {
		t.Fatalf("first turn %d: %s", status, first)
	}
	id := gjson.Get(first, "id").Str
	if gjson.Get(first, "output.0.type").Str != "reasoning" || gjson.Get(first, "output.0.encrypted_content").Str == "" {
		t.Fatalf("first turn has no encrypted reasoning: %s", first)
	}
	status, second, _ := g.post("sk-tenant-one-b", `{"model":"gpt-b","previous_response_id":"`+id+`","input":"second question","stream":true}`)
	if status != 200 {
		t.Fatalf("second turn %d: %s", status, second)
	}
	if len(g.up2.Requests()) != 1 {
		t.Fatalf("account b got %d requests", len(g.up2.Requests()))
	}
	up := g.up2.Requests()[0].Body
	if gjson.GetBytes(up, "previous_response_id").Exists() || gjson.GetBytes(up, "instructions").Exists() {
		t.Errorf("account b got state it cannot hold: %s", up)
	}
	in := gjson.GetBytes(up, "input").Array()
	if len(in) != 3 || in[0].Get("content.0.text").Str != "first question" || in[1].Get("role").Str != "assistant" ||
		in[1].Get("content.0.text").Str != "first question" || in[1].Get("id").Exists() || in[1].Get("status").Exists() ||
		in[2].Get("content.0.text").Str != "second question" {
		t.Errorf("account b's input: %s", gjson.GetBytes(up, "input").Raw)
	}
	if strings.Contains(string(up), "encrypted_content") || strings.Contains(string(up), `"reasoning"`) {
		t.Errorf("a reasoning item of account a reached account b: %s", up)
	}
	evs := responseEvents(t, second)
	last := evs[len(evs)-1]
	if gjson.GetBytes(last.Data, "response.previous_response_id").Str != id || gjson.GetBytes(evs[0].Data, "response.previous_response_id").Str != id {
		t.Errorf("the second response does not say what it continued: %s", last.Data)
	}
	// The third turn, unary, on account a again: two turns of history.
	secondID := gjson.GetBytes(last.Data, "response.id").Str
	status, third, _ := g.post("sk-tenant-one", `{"model":"gpt-a","previous_response_id":"`+secondID+`","input":[{"role":"user","content":"third question"}]}`)
	if status != 200 || gjson.Get(third, "previous_response_id").Str != secondID {
		t.Fatalf("third turn %d: %s", status, third)
	}
	in = gjson.GetBytes(g.up.Requests()[1].Body, "input").Array()
	if len(in) != 5 || in[2].Get("content.0.text").Str != "second question" || in[4].Get("content").Str != "third question" {
		t.Errorf("third turn's input: %s", gjson.GetBytes(g.up.Requests()[1].Body, "input").Raw)
	}
	// Another tenant cannot continue it, as OpenAI answers an unknown one.
	status, out, _ := g.post("sk-tenant-two", `{"model":"gpt-a","previous_response_id":"`+id+`","input":"steal"}`)
	if status != 400 || gjson.Get(out, "error.code").Str != "previous_response_not_found" || gjson.Get(out, "error.param").Str != "previous_response_id" {
		t.Errorf("another tenant's continuation: %d %s", status, out)
	}
	if len(g.up.Requests()) != 2 {
		t.Error("a refused continuation reached the upstream")
	}
}

// A function call round trip through previous_response_id: the call's
// output follows the call in the history.
func TestResponsesFunctionCallRoundTrip(t *testing.T) {
	g := newRespGateway(t, responsesConfig)
	tools := `"tools":[{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"input":{"type":"string"}}}}]`
	_, first, _ := g.post("sk-tenant-one", `{"model":"gpt-a","input":"weather in Paris",`+tools+`}`)
	call := gjson.Get(first, "output.0")
	if call.Get("type").Str != "function_call" || call.Get("name").Str != "get_weather" {
		t.Fatalf("no function call: %s", first)
	}
	body := fmt.Sprintf(`{"model":"gpt-a","previous_response_id":%q,"input":[{"type":"function_call_output","call_id":%q,"output":"sunny"}],%s}`,
		gjson.Get(first, "id").Str, call.Get("call_id").Str, tools)
	status, second, _ := g.post("sk-tenant-one", body)
	if status != 200 || gjson.Get(second, "output.0.content.0.text").Str != "sunny" {
		t.Fatalf("second turn %d: %s", status, second)
	}
	in := gjson.GetBytes(g.up.Requests()[1].Body, "input").Array()
	if len(in) != 3 || in[1].Get("type").Str != "function_call" || in[1].Get("call_id").Str != call.Get("call_id").Str ||
		in[2].Get("type").Str != "function_call_output" {
		t.Errorf("history: %s", gjson.GetBytes(g.up.Requests()[1].Body, "input").Raw)
	}
}

// Malformed requests are refused before any upstream call, in OpenAI's
// shape, with the field in param; so are continuations with no state and
// input too large to store.
func TestResponsesRefused(t *testing.T) {
	g := newRespGateway(t, responsesConfig+"responses: {max_stored_bytes: 1024}\n")
	cases := []struct{ body, param string }{
		{`{"input":"hi"}`, "model"},
		{`{"model":"gpt-a","input":5}`, "input"},
		{`{"model":"gpt-a","input":[1]}`, "input[0]"},
		{`{"model":"gpt-a","input":"hi","store":"yes"}`, "store"},
		{`{"model":"gpt-a","input":"hi","previous_response_id":7}`, "previous_response_id"},
		{`{"model":"gpt-a","input":"hi","previous_response_id":""}`, "previous_response_id"},
		{`{"model":"gpt-a","input":"hi","include":[1]}`, "include[0]"},
		{`{"model":"gpt-a","input":"hi","background":true}`, "background"},
		{`{"model":"gpt-a","input":"hi","conversation":"conv_1"}`, "conversation"},
		{`{"model":"gpt-a","input":"hi","max_output_tokens":1.5}`, "max_output_tokens"},
		{`{"model":"gpt-a","input":"hi","previous_response_id":"resp_nope"}`, "previous_response_id"},
		{`{"model":"gpt-a","input":"` + strings.Repeat("x", 2000) + `"}`, "store"},
	}
	for _, tc := range cases {
		status, out, _ := g.post("sk-tenant-one", tc.body)
		if status != 400 || gjson.Get(out, "error.param").Str != tc.param || gjson.Get(out, "error.type").Str != "invalid_request_error" {
			t.Errorf("%.80s: %d %s", tc.body, status, out)
		}
	}
	if n := len(g.up.Requests()); n != 0 {
		t.Errorf("%d refused requests reached the upstream", n)
	}
	// The same large input is fine when not stored.
	if status, out, _ := g.post("sk-tenant-one", `{"model":"gpt-a","store":false,"input":"`+strings.Repeat("x", 2000)+`"}`); status != 200 {
		t.Errorf("store false, large input: %d %s", status, out)
	}
	// An answer that takes a response over the bound is delivered, not
	// stored.
	status, out, _ := g.post("sk-tenant-one", `{"model":"gpt-a","input":"`+strings.Repeat("y ", 300)+`"}`)
	if status != 200 {
		t.Fatalf("%d %s", status, out)
	}
	if resp, _ := g.do("GET", "/v1/responses/"+gjson.Get(out, "id").Str, "", bearer("sk-tenant-one")...); resp.StatusCode != 404 {
		t.Errorf("a response over max_stored_bytes was stored: %d", resp.StatusCode)
	}
	if status, out, _ := g.post("wrong-key", `{"model":"gpt-a","input":"hi"}`); status != 401 || gjson.Get(out, "error.code").Str != "invalid_api_key" {
		t.Errorf("no key: %d %s", status, out)
	}
}

// A continuation whose history is larger than a request may be is
// refused before the upstream.
func TestResponsesHistoryBound(t *testing.T) {
	g := newRespGateway(t, strings.Replace(responsesConfig, `stream_idle_timeout: "2s"`, `stream_idle_timeout: "2s"
  max_body_bytes: 3000`, 1))
	long := strings.Repeat("word ", 400)
	_, first, _ := g.post("sk-tenant-one", `{"model":"gpt-a","input":"`+long+`"}`)
	status, out, _ := g.post("sk-tenant-one", `{"model":"gpt-a","input":"more","previous_response_id":"`+gjson.Get(first, "id").Str+`"}`)
	if status != 400 || gjson.Get(out, "error.param").Str != "previous_response_id" || !strings.Contains(gjson.Get(out, "error.message").Str, "server.max_body_bytes") {
		t.Errorf("a history over the body limit: %d %s", status, out)
	}
	if n := len(g.up.Requests()); n != 1 {
		t.Errorf("the upstream got %d requests, want 1", n)
	}
}

// Without a store, nothing is kept and nothing can be continued.
func TestResponsesWithoutStore(t *testing.T) {
	g := newRespGatewayOn(t, responsesConfig, nil, nil)
	status, out, _ := g.post("sk-tenant-one", `{"model":"gpt-a","input":"hi"}`)
	if status != 200 {
		t.Fatalf("%d %s", status, out)
	}
	if resp, _ := g.do("GET", "/v1/responses/"+gjson.Get(out, "id").Str, "", bearer("sk-tenant-one")...); resp.StatusCode != 404 {
		t.Errorf("GET without a store: %d", resp.StatusCode)
	}
	if status, out, _ := g.post("sk-tenant-one", `{"model":"gpt-a","input":"hi","previous_response_id":"`+gjson.Get(out, "id").Str+`"}`); status != 400 {
		t.Errorf("continuation without a store: %d %s", status, out)
	}
}

// An expired response is neither read nor continued.
func TestResponsesExpire(t *testing.T) {
	g := newRespGateway(t, responsesConfig+"responses: {retention: 1m}\n")
	_, out, _ := g.post("sk-tenant-one", `{"model":"gpt-a","input":"hi"}`)
	id := gjson.Get(out, "id").Str
	rec, err := g.st.Responses().Get(t.Context(), "one", id, time.Now())
	if err != nil || rec.ExpiresAt.Sub(rec.CreatedAt) != time.Minute || rec.KeyID != "one" || rec.Model != "gpt-a" {
		t.Fatalf("stored %+v, %v", rec, err)
	}
	if n, err := g.st.Responses().Purge(t.Context(), rec.ExpiresAt, 0); n != 1 || err != nil {
		t.Fatalf("purge %d, %v", n, err)
	}
	if resp, _ := g.do("GET", "/v1/responses/"+id, "", bearer("sk-tenant-one")...); resp.StatusCode != 404 {
		t.Errorf("GET after expiry: %d", resp.StatusCode)
	}
}

package providertest

import (
	"io"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// The Responses captures are events whose event line names their data's
// type, with sequence numbers in order; the failure captures end without
// response.completed.
func TestResponsesCaptures(t *testing.T) {
	for _, name := range []string{"responses_stream_failed.sse", "responses_stream_error.sse", "responses_stream_truncated.sse"} {
		evs := Events(Load(t, "openai/"+name))
		if len(evs) < 3 {
			t.Fatalf("%s: %d events", name, len(evs))
		}
		for i, ev := range evs {
			if !gjson.ValidBytes(ev.Data) || gjson.GetBytes(ev.Data, "type").Str != ev.Type || gjson.GetBytes(ev.Data, "sequence_number").Int() != int64(i) {
				t.Errorf("%s: event %d %s %s", name, i, ev.Type, ev.Data)
			}
			if ev.Type == "response.completed" {
				t.Errorf("%s completes", name)
			}
		}
	}
	if b := Load(t, "openai/responses_failed.json"); gjson.GetBytes(b, "status").Str != "failed" || !gjson.GetBytes(b, "error").IsObject() {
		t.Errorf("responses_failed.json: %s", b)
	}
}

// The fake answers /responses from the request: a message echoing the last
// user text, a function call when tools are given, reasoning with
// encrypted content when asked, and the stream's events in the reference's
// order.
func TestFakeResponses(t *testing.T) {
	f := NewOpenAI(t)
	resp := post(t, f.URL+"/responses", `{"model":"m","input":"hi there","reasoning":{"effort":"low"},"include":["reasoning.encrypted_content"]}`)
	b, _ := io.ReadAll(resp.Body)
	r := gjson.ParseBytes(b)
	if r.Get("object").Str != "response" || r.Get("output.0.type").Str != "reasoning" || !strings.HasPrefix(r.Get("output.0.encrypted_content").Str, "gAAAA") ||
		r.Get("output.1.content.0.text").Str != "hi there" || r.Get("usage.output_tokens_details.reasoning_tokens").Int() != 8 {
		t.Errorf("unary %s", b)
	}
	resp = post(t, f.URL+"/responses", `{"model":"m","input":[{"role":"user","content":"call it"}],"tools":[{"type":"function","name":"fn"}]}`)
	b, _ = io.ReadAll(resp.Body)
	if fc := gjson.GetBytes(b, "output.0"); fc.Get("type").Str != "function_call" || fc.Get("name").Str != "fn" || fc.Get("arguments").Str != `{"input":"call it"}` {
		t.Errorf("function call %s", b)
	}
	resp = post(t, f.URL+"/responses", `{"model":"m","input":"a b","stream":true}`)
	b, _ = io.ReadAll(resp.Body)
	var types []string
	for i, ev := range Events(b) {
		types = append(types, ev.Type)
		if gjson.GetBytes(ev.Data, "type").Str != ev.Type || gjson.GetBytes(ev.Data, "sequence_number").Int() != int64(i) {
			t.Errorf("event %d: %s %s", i, ev.Type, ev.Data)
		}
	}
	want := "response.created response.in_progress response.output_item.added response.content_part.added response.output_text.delta response.output_text.delta response.output_text.done response.content_part.done response.output_item.done response.completed"
	if strings.Join(types, " ") != want {
		t.Errorf("events\n got %v\nwant %s", types, want)
	}
}

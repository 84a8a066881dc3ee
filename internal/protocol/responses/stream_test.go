package responses

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/llmgw/llmgw/internal/llm"
)

func textChunk(s string) *llm.Chunk {
	return &llm.Chunk{Choices: []llm.Choice{{Message: llm.Message{Content: []llm.Part{llm.TextPart(s)}}}}}
}

func collect(events *[]event) Emit {
	return func(typ string, data []byte) error {
		*events = append(*events, event{typ, append([]byte(nil), data...)})
		return nil
	}
}

func TestStreamEndsOnce(t *testing.T) {
	var events []event
	enc := NewStreamEncoder(&Meta{ID: "resp_1"})
	if enc.Response() != nil {
		t.Error("Response() before the end is not nil")
	}
	if err := enc.Finish(collect(&events)); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, ev := range events {
		types = append(types, ev.Event)
		validateEvent(t, ev.Event, ev.Data)
	}
	if got := strings.Join(types, " "); got != "response.created response.in_progress response.completed" {
		t.Errorf("events of an empty response: %s", got)
	}
	if !strings.Contains(string(enc.Response()), `"output":[]`) {
		t.Errorf("empty response: %s", enc.Response())
	}
	for name, call := range map[string]func() error{
		"Encode": func() error { return enc.Encode(textChunk("x"), collect(&events)) },
		"Finish": func() error { return enc.Finish(collect(&events)) },
		"Fail":   func() error { return enc.Fail(nil, collect(&events)) },
	} {
		if err := call(); !errors.Is(err, errEnded) {
			t.Errorf("%s after the end: %v", name, err)
		}
	}
}

func TestStreamEmitError(t *testing.T) {
	boom := errors.New("client gone")
	var n int
	emit := func(string, []byte) error {
		if n++; n == 6 {
			return boom
		}
		return nil
	}
	enc := NewStreamEncoder(&Meta{ID: "resp_1"})
	if err := enc.Encode(textChunk("a"), emit); err != nil {
		t.Fatal(err) // created, in_progress, item added, part added, delta
	}
	if err := enc.Encode(textChunk("b"), emit); !errors.Is(err, boom) {
		t.Errorf("Encode returned %v, want the emitter's error", err)
	}
}

func TestEncryptedContentOnlyWhenIncluded(t *testing.T) {
	c := &llm.Chunk{Choices: []llm.Choice{{Message: llm.Message{Content: []llm.Part{{Type: llm.PartThinking, Text: "hmm", Signature: "SIG"}}}}}}
	for _, include := range []bool{false, true} {
		req, err := DecodeRequest([]byte(`{"model":"m","input":"x"` + map[bool]string{true: `,"include":["reasoning.encrypted_content"]`}[include] + `}`))
		if err != nil {
			t.Fatal(err)
		}
		out, err := EncodeResponse(c, &Meta{ID: "resp_1", Request: req})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(string(out), `"encrypted_content":"SIG"`); got != include {
			t.Errorf("include %v: encrypted_content written %v\n%s", include, got, out)
		}
	}
}

func TestEncodeResponseRawPassThrough(t *testing.T) {
	raw := []byte(`{"id":"resp_upstream","object":"response"}`)
	out, err := EncodeResponse(&llm.Chunk{Raw: raw, RawProtocol: Protocol}, &Meta{ID: "resp_1"})
	if err != nil || string(out) != string(raw) {
		t.Errorf("got %s, %v; want the upstream's body", out, err)
	}
	out, err = EncodeResponse(&llm.Chunk{Raw: []byte(`{"id":"chatcmpl"}`), RawProtocol: "openai"}, &Meta{ID: "resp_1"})
	if err != nil || !strings.Contains(string(out), `"id":"resp_1"`) {
		t.Errorf("another protocol's body was passed through: %s, %v", out, err)
	}
}

func TestToolCallWithoutID(t *testing.T) {
	c := &llm.Chunk{Choices: []llm.Choice{{Message: llm.Message{ToolCalls: []llm.ToolCall{{Name: "f", Arguments: "{}"}}}, FinishReason: llm.FinishToolCalls}}}
	out, err := EncodeResponse(c, &Meta{ID: "resp_abc"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"call_id":"call_abc_0"`) || !strings.Contains(string(out), `"id":"fc_abc_0"`) {
		t.Errorf("no call_id made for a call without one: %s", out)
	}
	validateAgainst(t, "Response", out)
}

func TestFailErrorCodes(t *testing.T) {
	cases := []struct {
		err  *llm.Error
		code string
	}{
		{&llm.Error{Kind: llm.KindRateLimited}, "rate_limit_exceeded"},
		{&llm.Error{Kind: llm.KindBudgetExceeded}, "rate_limit_exceeded"},
		{&llm.Error{Kind: llm.KindContextLength}, "invalid_prompt"},
		{&llm.Error{Kind: llm.KindUpstreamTimeout, Err: errors.New("dial 10.0.0.7: token=sk-secret")}, "server_error"},
		{nil, "server_error"},
	}
	for _, tc := range cases {
		var events []event
		enc := NewStreamEncoder(&Meta{ID: "resp_1"})
		if err := enc.Fail(tc.err, collect(&events)); err != nil {
			t.Fatal(err)
		}
		last := events[len(events)-1]
		validateEvent(t, last.Event, last.Data)
		if last.Event != "response.failed" || !strings.Contains(string(last.Data), `"error":{"code":"`+tc.code+`"`) {
			t.Errorf("%v: %s %s", tc.err, last.Event, last.Data)
		}
		if strings.Contains(string(last.Data), "sk-secret") || strings.Contains(string(last.Data), "10.0.0.7") {
			t.Errorf("the error's cause reached the client: %s", last.Data)
		}
	}
}

// TestRedactedThinkingRoundTrip encodes Anthropic's thinking and redacted
// thinking blocks as reasoning items and decodes them back as the same
// canonical parts, which is what an Anthropic upstream needs to be sent on
// the next turn.
func TestRedactedThinkingRoundTrip(t *testing.T) {
	parts := []llm.Part{
		{Type: llm.PartThinking, Text: "Let me think.", Signature: "SIG1"},
		{Type: llm.PartRedactedThinking, Data: "REDACTED1"},
		{Type: llm.PartThinking, Text: "More.", Signature: "SIG2"},
	}
	req, err := DecodeRequest([]byte(`{"model":"m","input":"x","include":["reasoning.encrypted_content"]}`))
	if err != nil {
		t.Fatal(err)
	}
	c := &llm.Chunk{Choices: []llm.Choice{{Message: llm.Message{Content: parts}}}}
	out, err := EncodeResponse(c, &Meta{ID: "resp_1", Request: req})
	if err != nil {
		t.Fatal(err)
	}
	validateAgainst(t, "Response", out)
	var r struct {
		Output []json.RawMessage `json:"output"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"model":"m","input":[{"role":"user","content":"x"},` + string(bytes.Join(asBytes(r.Output), []byte(","))) + `]}`)
	back, err := DecodeRequest(body)
	if err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	got := back.Chat.Messages[1].Content
	if diff := cmp.Diff(parts, got); diff != "" {
		t.Errorf("round trip changed the parts (-want +got):\n%s", diff)
	}
}

func asBytes(raws []json.RawMessage) [][]byte {
	out := make([][]byte, len(raws))
	for i, r := range raws {
		out[i] = r
	}
	return out
}

// TestLogprobsFromUpstream keeps the log probability entries an upstream
// sent and drops values that are not entries, so the output stays in the
// spec's shape.
func TestLogprobsFromUpstream(t *testing.T) {
	c := textChunk("Yes")
	c.Choices[0].Logprobs = json.RawMessage(`{"content":[{"token":"Yes","logprob":-0.1,"bytes":[89,101,115],"top_logprobs":[]},7,"x",null]}`)
	out, err := EncodeResponse(c, &Meta{ID: "resp_1"})
	if err != nil {
		t.Fatal(err)
	}
	validateAgainst(t, "Response", out)
	if !strings.Contains(string(out), `"logprobs":[{"token":"Yes","logprob":-0.1,"bytes":[89,101,115],"top_logprobs":[]}]`) {
		t.Errorf("log probabilities not kept as entries: %s", out)
	}
}

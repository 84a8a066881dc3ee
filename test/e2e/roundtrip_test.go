package e2e

import (
	"slices"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/conformance"
)

// checkToolRoundTrip checks the second request the upstream received, in
// its own protocol: the assistant's calls carry the ids the client got for
// them (got), each tool result answers its call by that id (or, where the
// upstream has no ids, by name and order), in order, and the follow-up
// question comes after the results.
func checkToolRoundTrip(t *testing.T, h *conformance.Harness, upstream string, got []call) {
	t.Helper()
	reqs := h.Fake(upstream).Requests()
	if len(reqs) != 2 {
		t.Fatalf("the upstream received %d requests, want 2", len(reqs))
	}
	var ids []string
	for _, c := range got {
		ids = append(ids, c.ID)
	}
	body := gjson.ParseBytes(reqs[1].Body)
	msgs := body.Get("messages").Array()
	switch conformance.Wire(upstream) {
	case conformance.Anthropic:
		checkAnthropicRoundTrip(t, msgs, ids)
	case conformance.Gemini:
		checkGeminiRoundTrip(t, body.Get("contents").Array())
	case conformance.Ollama:
		checkOllamaRoundTrip(t, msgs)
	default: // OpenAI's shape: OpenAI, Azure, Mistral, Cohere
		checkOpenAIRoundTrip(t, msgs, ids)
	}
	if t.Failed() {
		t.Logf("second upstream request:\n%s", reqs[1].Body)
	}
}

// checkGeminiRoundTrip: the model turn holds the two functionCall parts,
// and the next user turn answers each with a functionResponse part of the
// same name, in order, the question after them.
func checkGeminiRoundTrip(t *testing.T, cs []gjson.Result) {
	t.Helper()
	at := -1
	for i, c := range cs {
		n := 0
		for _, p := range c.Get("parts").Array() {
			if p.Get("functionCall").Exists() {
				n++
			}
		}
		if n > 0 {
			at = i
			if n != len(toolResults) || c.Get("role").String() != "model" {
				t.Fatalf("turn %d (%s) has %d functionCall parts, want %d in a model turn", i, c.Get("role"), n, len(toolResults))
			}
		}
	}
	if at < 0 || at+1 >= len(cs) {
		t.Fatalf("no turn after the calls (turns %d, calls in %d)", len(cs), at)
	}
	var results []string
	var texts []string
	for _, c := range cs[at+1:] {
		if c.Get("role").String() != "user" {
			t.Errorf("a %s turn after the calls", c.Get("role"))
		}
		for _, p := range c.Get("parts").Array() {
			if fr := p.Get("functionResponse"); fr.Exists() {
				if fr.Get("name").String() != "get_weather" {
					t.Errorf("functionResponse for %q", fr.Get("name"))
				}
				results = append(results, fr.Get("response.output").String())
			} else if p.Get("text").Exists() {
				texts = append(texts, p.Get("text").String())
			}
		}
	}
	if !slices.Equal(results, toolResults) {
		t.Errorf("functionResponse outputs %q, want %q", results, toolResults)
	}
	if len(texts) != 1 || texts[0] != followUp {
		t.Errorf("texts after the calls %q, want the question", texts)
	}
}

// checkOllamaRoundTrip: the assistant message holds the two tool_calls,
// followed by one tool message per call naming its function (Ollama's
// calls have no id), in order, then the question.
func checkOllamaRoundTrip(t *testing.T, msgs []gjson.Result) {
	t.Helper()
	at := -1
	for i, m := range msgs {
		if tc := m.Get("tool_calls").Array(); len(tc) > 0 {
			at = i
			if len(tc) != len(toolResults) || m.Get("role").String() != "assistant" {
				t.Fatalf("message %d (%s) has %d tool_calls", i, m.Get("role"), len(tc))
			}
		}
	}
	if at < 0 || len(msgs) != at+1+len(toolResults)+1 {
		t.Fatalf("%d messages, calls in %d: want %d tool messages and the question after them", len(msgs), at, len(toolResults))
	}
	for i, want := range toolResults {
		m := msgs[at+1+i]
		if m.Get("role").String() != "tool" || m.Get("tool_name").String() != "get_weather" || m.Get("content").String() != want {
			t.Errorf("message %d is %s, want the tool message %q for get_weather", at+1+i, m.Raw, want)
		}
	}
	q := msgs[len(msgs)-1]
	if q.Get("role").String() != "user" || q.Get("content").String() != followUp {
		t.Errorf("last message %s, want the question", q.Raw)
	}
}

// checkAnthropicRoundTrip: the assistant message holds the tool_use blocks,
// and the next user message opens with one tool_result per call, paired by
// tool_use_id, before any text.
func checkAnthropicRoundTrip(t *testing.T, msgs []gjson.Result, ids []string) {
	t.Helper()
	at := -1
	var uses []string
	for i, m := range msgs {
		for _, b := range m.Get("content").Array() {
			if b.Get("type").String() == "tool_use" {
				at = i
				uses = append(uses, b.Get("id").String())
				if m.Get("role").String() != "assistant" {
					t.Errorf("tool_use in a %s message", m.Get("role"))
				}
			}
		}
	}
	if !slices.Equal(uses, ids) {
		t.Fatalf("tool_use ids %q, want %q", uses, ids)
	}
	if at+1 >= len(msgs) || msgs[at+1].Get("role").String() != "user" {
		t.Fatalf("no user message after the tool calls (messages %d, calls in %d)", len(msgs), at)
	}
	blocks := msgs[at+1].Get("content").Array()
	if len(blocks) != len(ids)+1 {
		t.Fatalf("user message after the calls has %d blocks, want %d results and the question", len(blocks), len(ids))
	}
	for i, id := range ids {
		b := blocks[i]
		if b.Get("type").String() != "tool_result" || b.Get("tool_use_id").String() != id {
			t.Errorf("block %d is %s for %q, want the tool_result for %q", i, b.Get("type"), b.Get("tool_use_id"), id)
		}
		if got := resultText(b.Get("content")); got != toolResults[i] {
			t.Errorf("tool_result %d says %q, want %q", i, got, toolResults[i])
		}
	}
	last := blocks[len(ids)]
	if last.Get("type").String() != "text" || last.Get("text").String() != followUp {
		t.Errorf("the question after the results is %s", last.Raw)
	}
}

// resultText reads a tool_result's content, a string or text blocks.
func resultText(c gjson.Result) string {
	if c.Type == gjson.String {
		return c.String()
	}
	var s string
	for _, b := range c.Array() {
		s += b.Get("text").String()
	}
	return s
}

// checkOpenAIRoundTrip: the assistant message holds tool_calls, and is
// followed by one tool message per call whose tool_call_id is that call's
// id, in order, then the question.
func checkOpenAIRoundTrip(t *testing.T, msgs []gjson.Result, ids []string) {
	t.Helper()
	at := -1
	var calls []string
	for i, m := range msgs {
		if tc := m.Get("tool_calls").Array(); len(tc) > 0 {
			at = i
			if m.Get("role").String() != "assistant" {
				t.Errorf("tool_calls in a %s message", m.Get("role"))
			}
			for _, c := range tc {
				calls = append(calls, c.Get("id").String())
			}
		}
	}
	if !slices.Equal(calls, ids) {
		t.Fatalf("assistant tool_calls ids %q, want %q", calls, ids)
	}
	if len(msgs) != at+1+len(ids)+1 {
		t.Fatalf("%d messages after the tool calls, want %d tool messages and the question", len(msgs)-at-1, len(ids))
	}
	for i, id := range ids {
		m := msgs[at+1+i]
		if m.Get("role").String() != "tool" || m.Get("tool_call_id").String() != id {
			t.Errorf("message %d is %s with tool_call_id %q, want the tool message for %q", at+1+i, m.Get("role"), m.Get("tool_call_id"), id)
		}
		if got := resultText(m.Get("content")); got != toolResults[i] {
			t.Errorf("tool message %d says %q, want %q", i, got, toolResults[i])
		}
	}
	q := msgs[len(msgs)-1]
	if q.Get("role").String() != "user" || resultText(q.Get("content")) != followUp {
		t.Errorf("last message %s, want the question", q.Raw)
	}
}

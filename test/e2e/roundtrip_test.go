package e2e

import (
	"slices"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/conformance"
)

// checkToolRoundTrip checks the second request the upstream received, in
// its own protocol: the assistant's calls carry the ids the upstream gave
// them, each tool result answers its call by that id, in order, and the
// follow-up question comes after the results.
func checkToolRoundTrip(t *testing.T, h *conformance.Harness, upstream string) {
	t.Helper()
	reqs := h.Fake(upstream).Requests()
	if len(reqs) != 2 {
		t.Fatalf("the upstream received %d requests, want 2", len(reqs))
	}
	var ids []string
	for _, c := range wantCalls[upstream] {
		ids = append(ids, c.ID)
	}
	msgs := gjson.GetBytes(reqs[1].Body, "messages").Array()
	if upstream == conformance.Anthropic {
		checkAnthropicRoundTrip(t, msgs, ids)
	} else {
		checkOpenAIRoundTrip(t, msgs, ids)
	}
	if t.Failed() {
		t.Logf("second upstream request:\n%s", reqs[1].Body)
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

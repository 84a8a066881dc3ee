package server

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/llm"
)

// A client-supplied value reflected in an error message or a log line is
// clipped: a 1 MiB model name costs neither a 1 MiB answer nor a 1 MiB log
// line, on any route or error that names it.
func TestHugeValuesAreClippedInErrorsAndLogs(t *testing.T) {
	g := newGateway(t, keysConfig, nil)
	huge := strings.Repeat("M", 1<<20)
	bad := strings.Repeat("\xffa", 300) // invalid UTF-8, long enough to clip
	cases := []struct {
		name, path, body, key string
		status                int
	}{
		{"unknown model", "/v1/chat/completions", fmt.Sprintf(userHello, huge, ""), "sk-all-models", 404},
		{"model not allowed", "/v1/chat/completions", fmt.Sprintf(userHello, huge, ""), "sk-ci-key", 403},
		{"messages: unknown model", "/v1/messages",
			`{"model":"` + huge + `","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, "sk-all-models", 404},
		{"count_tokens: model not allowed", "/v1/messages/count_tokens",
			`{"model":"` + huge + `","messages":[{"role":"user","content":"hi"}]}`, "sk-ci-key", 403},
		{"invalid UTF-8 model", "/v1/chat/completions", `{"model":"` + bad + `","messages":[{"role":"user","content":"hi"}]}`, "sk-all-models", 404},
		{"unknown route", "/v1/" + strings.Repeat("p", 64<<10), "{}", "sk-all-models", 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(g.logs.String())
			resp, body := g.do("POST", tc.path, tc.body, "Authorization", "Bearer "+tc.key)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %.300s", resp.StatusCode, tc.status, body)
			}
			if len(body) > 1024 {
				t.Errorf("error body of %d bytes echoes the value whole: %.200s...", len(body), body)
			}
			msg := gjson.Get(body, "error.message").String()
			if !strings.Contains(msg, "…[truncated]") {
				t.Errorf("message does not say the value was truncated: %q", msg)
			}
			if tc.name == "invalid UTF-8 model" && !strings.Contains(msg, "\uFFFDa\uFFFDa") {
				t.Errorf("invalid UTF-8 not replaced: %q", msg)
			}
			line := g.logs.String()[before:]
			if len(line) > 2048 {
				t.Errorf("access log line of %d bytes: %.200s...", len(line), line)
			}
			if !strings.Contains(line, llm.Clip(tc.path)) {
				t.Errorf("log line lacks the clipped path: %.300s", line)
			}
		})
	}
}

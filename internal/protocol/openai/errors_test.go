package openai

import (
	"errors"
	"testing"

	"github.com/llmgw/llmgw/internal/llm"
)

func TestAppendError(t *testing.T) {
	cases := []struct {
		name string
		err  *llm.Error
		want string
	}{
		{"invalid request with param",
			&llm.Error{Kind: llm.KindInvalidRequest, Param: "messages[1].content", Message: "bad \"content\"", Err: errors.New("secret cause sk-123")},
			`{"error":{"message":"bad \"content\"","type":"invalid_request_error","code":"invalid_request_error","param":"messages[1].content"}}`},
		{"default message, null param",
			&llm.Error{Kind: llm.KindRateLimited, Err: errors.New("redis: key tenant-9 over")},
			`{"error":{"message":"rate limit exceeded","type":"rate_limit_error","code":"rate_limit_exceeded","param":null}}`},
		{"upstream timeout",
			&llm.Error{Kind: llm.KindUpstreamTimeout},
			`{"error":{"message":"the upstream provider timed out","type":"upstream_error","code":"upstream_timeout","param":null}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := AppendError([]byte("x"), tc.err)
			if string(got) != "x"+tc.want {
				t.Errorf("got  %s\nwant x%s", got, tc.want)
			}
			validateAgainst(t, "ErrorResponse", got[1:])
		})
	}
}

func TestDecodeErrorMessage(t *testing.T) {
	cases := []struct {
		name, body, msg, code string
	}{
		{"openai", `{"error":{"message":"Rate limit reached for gpt-4o","type":"requests","param":null,"code":"rate_limit_exceeded"}}`, "Rate limit reached for gpt-4o", "rate_limit_exceeded"},
		{"code null falls back to type", `{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":null}}`, "You exceeded your current quota", "insufficient_quota"},
		{"numeric code", `{"error":{"message":"Bad gateway.","type":"cf_bad_gateway","code":502}}`, "Bad gateway.", "502"},
		{"error string", `{"error":"model 'llama3' not found"}`, "model 'llama3' not found", ""},
		{"top-level message", `{"object":"error","message":"Invalid model","type":"invalid_request_error","code":"1500"}`, "Invalid model", "1500"},
		{"fastapi detail", `{"detail":"Not Found"}`, "Not Found", ""},
		{"html", `<html><body>502 Bad Gateway</body></html>`, "", ""},
		{"empty", ``, "", ""},
		{"truncated", `{"error":{"message":"cut`, "", ""},
		{"array", `[{"error":"x"}]`, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg, code := DecodeErrorMessage([]byte(tc.body))
			if msg != tc.msg || code != tc.code {
				t.Errorf("got (%q, %q), want (%q, %q)", msg, code, tc.msg, tc.code)
			}
		})
	}
}

package anthropic

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/llmgw/llmgw/internal/llm"
)

func TestAppendError(t *testing.T) {
	cases := []struct {
		err  *llm.Error
		want string
	}{
		{&llm.Error{Kind: llm.KindInvalidRequest, Message: `bad "x"`, Param: "x"}, `{"type":"error","error":{"type":"invalid_request_error","message":"bad \"x\""}}`},
		{&llm.Error{Kind: llm.KindAuthentication}, `{"type":"error","error":{"type":"authentication_error","message":"missing or invalid API key"}}`},
		{&llm.Error{Kind: llm.KindUpstreamUnavailable, Err: errors.New("secret cause sk-123")}, `{"type":"error","error":{"type":"overloaded_error","message":"no upstream provider is available"}}`},
		{&llm.Error{Kind: llm.KindRateLimited}, `{"type":"error","error":{"type":"rate_limit_error","message":"rate limit exceeded"}}`},
		{&llm.Error{Kind: llm.KindNotFound}, `{"type":"error","error":{"type":"not_found_error","message":"model not found"}}`},
	}
	for _, tc := range cases {
		if got := string(AppendError(nil, tc.err)); got != tc.want {
			t.Errorf("AppendError(%v) = %s, want %s", tc.err.Kind, got, tc.want)
		}
		if got := string(AppendStreamError([]byte("x"), tc.err)); got != "x"+tc.want {
			t.Errorf("AppendStreamError = %s", got)
		}
	}
}

func TestDecodeErrorMessage(t *testing.T) {
	cases := []struct{ body, msg, typ string }{
		{`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}`, "Overloaded", "overloaded_error"},
		{`{"error":{"message":"bad key","type":"invalid_request_error"}}`, "bad key", "invalid_request_error"},
		{`{"error":"plain"}`, "plain", ""},
		{`{"message":"from a proxy","type":"x"}`, "from a proxy", "x"},
		{`not json`, "", ""},
		{`[1]`, "", ""},
		{`{}`, "", ""},
	}
	for _, tc := range cases {
		msg, typ := DecodeErrorMessage([]byte(tc.body))
		if msg != tc.msg || typ != tc.typ {
			t.Errorf("DecodeErrorMessage(%s) = %q, %q; want %q, %q", tc.body, msg, typ, tc.msg, tc.typ)
		}
	}
}

func TestStreamErrorEvents(t *testing.T) {
	cases := []struct {
		typ       string
		kind      llm.Kind
		status    int
		retryable bool
		public    string
	}{
		{"overloaded_error", llm.KindUpstreamUnavailable, 529, true, "no upstream provider is available"},
		{"rate_limit_error", llm.KindRateLimited, 429, true, "rate limit exceeded"},
		{"api_error", llm.KindUpstream, 500, true, "the upstream provider failed"},
		{"timeout_error", llm.KindUpstreamTimeout, 504, true, "the upstream provider timed out"},
		{"invalid_request_error", llm.KindInvalidRequest, 400, false, "upstream says"},
		{"request_too_large", llm.KindTooLarge, 413, false, "request body too large"},
		{"authentication_error", llm.KindUpstream, 401, true, "the upstream provider failed"},
		{"billing_error", llm.KindUpstream, 402, true, "the upstream provider failed"},
		{"something_new", llm.KindUpstream, 500, true, "the upstream provider failed"},
	}
	for _, tc := range cases {
		d := NewStreamDecoder()
		data := fmt.Sprintf(`{"type":"error","error":{"type":%q,"message":"upstream says"}}`, tc.typ)
		c, err := d.Decode("error", []byte(data))
		var e *llm.Error
		if c != nil || !errors.As(err, &e) {
			t.Fatalf("%s: chunk %v, error %v", tc.typ, c, err)
		}
		if e.Kind != tc.kind || e.UpstreamStatus != tc.status || e.Retryable() != tc.retryable || e.PublicMessage() != tc.public {
			t.Errorf("%s: kind %v status %d retryable %v public %q", tc.typ, e.Kind, e.UpstreamStatus, e.Retryable(), e.PublicMessage())
		}
	}
}

func TestStreamDecoderIgnoresAndRejects(t *testing.T) {
	d := NewStreamDecoder()
	for _, ev := range []struct{ typ, data string }{
		{"ping", `{"type": "ping"}`},
		{"content_block_stop", `{"type":"content_block_stop","index":0}`},
		{"future_event", `{"type":"future_event","x":1}`},
		{"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"citations_delta","citation":{}}}`},
	} {
		if c, err := d.Decode(ev.typ, []byte(ev.data)); c != nil || err != nil {
			t.Errorf("%s: chunk %v, error %v; want nothing", ev.typ, c, err)
		}
	}
	if _, err := d.Decode("content_block_delta", []byte(`{"type":`)); err == nil || errors.Is(err, io.EOF) {
		t.Errorf("malformed event: error %v", err)
	}
	// An event whose SSE type is missing is recognised by its data.
	if _, err := d.Decode("", []byte(`{"type":"message_stop"}`)); err != io.EOF {
		t.Errorf("untyped message_stop: %v", err)
	}
}

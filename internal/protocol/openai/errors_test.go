package openai

import (
	"encoding/json"
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

func TestEncodeModelList(t *testing.T) {
	body, err := EncodeModelList([]Model{{ID: "gpt-4o", OwnedBy: "openai", Created: 1715367049}, {ID: "claude-sonnet", OwnedBy: "llmgw"}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"object":"list","data":[{"id":"gpt-4o","object":"model","created":1715367049,"owned_by":"openai"},{"id":"claude-sonnet","object":"model","created":0,"owned_by":"llmgw"}]}`
	if string(body) != want {
		t.Errorf("got  %s\nwant %s", body, want)
	}
	validateAgainst(t, "ListModelsResponse", body)
	empty, err := EncodeModelList(nil)
	if err != nil || string(empty) != `{"object":"list","data":[]}` {
		t.Errorf("empty list = %s, %v", empty, err)
	}
	validateAgainst(t, "ListModelsResponse", empty)
}

func TestEmbedRequest(t *testing.T) {
	valid := []struct {
		name, body string
	}{
		{"string", `{"model":"text-embedding-3-small","input":"hello"}`},
		{"strings", `{"model":"m","input":["a","b"],"encoding_format":"float","dimensions":256,"user":"u"}`},
		{"tokens", `{"model":"m","input":[1,2,3],"encoding_format":"base64"}`},
		{"token arrays", `{"model":"m","input":[[1,2],[3]],"x_priority":"low"}`},
	}
	for _, tc := range valid {
		t.Run(tc.name, func(t *testing.T) {
			req, err := DecodeEmbedRequest([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			enc, err := EncodeEmbedRequest(req)
			if err != nil {
				t.Fatal(err)
			}
			if req.Extra == nil {
				// The spec closes the request object; pass-through
				// fields are by design outside it.
				validateAgainst(t, "CreateEmbeddingRequest", enc)
			}
			var a, b any
			if err := json.Unmarshal([]byte(tc.body), &a); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(enc, &b); err != nil {
				t.Fatal(err)
			}
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			if string(ja) != string(jb) {
				t.Errorf("re-encoded request differs:\n%s\n%s", ja, jb)
			}
		})
	}
	invalid := []struct {
		name, body, param string
	}{
		{"missing input", `{"model":"m"}`, "input"},
		{"input number", `{"model":"m","input":5}`, "input"},
		{"empty array", `{"model":"m","input":[]}`, "input"},
		{"mixed array", `{"model":"m","input":["a",1]}`, "input[1]"},
		{"float token", `{"model":"m","input":[1.5]}`, "input[0]"},
		{"negative token", `{"model":"m","input":[[1,-2]]}`, "input[0][1]"},
		{"objects", `{"model":"m","input":[{}]}`, "input[0]"},
		{"missing model", `{"input":"x"}`, "model"},
		{"empty string", `{"model":"m","input":""}`, "input"},
		{"empty string element", `{"model":"m","input":["a",""]}`, "input[1]"},
		{"bad encoding_format", `{"model":"m","input":"x","encoding_format":"int8"}`, "encoding_format"},
		{"dimensions string", `{"model":"m","input":"x","dimensions":"256"}`, "dimensions"},
		{"malformed", `{"model":`, ""},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeEmbedRequest([]byte(tc.body))
			var e *llm.Error
			if !errors.As(err, &e) || e.Kind != llm.KindInvalidRequest {
				t.Fatalf("error = %v, want an invalid request", err)
			}
			if e.Param != tc.param {
				t.Errorf("param = %q, want %q (%s)", e.Param, tc.param, e.PublicMessage())
			}
		})
	}
}

func TestEmbedResponse(t *testing.T) {
	upstream := `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.0023064255,-0.009327292]},{"object":"embedding","index":1,"embedding":[0.5,1e-7]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}`
	r, err := DecodeEmbedResponse([]byte(upstream))
	if err != nil {
		t.Fatal(err)
	}
	if r.Model != "text-embedding-3-small" || len(r.Data) != 2 || r.Data[1].Index != 1 || r.Usage.PromptTokens != 8 || r.Usage.TotalTokens != 8 {
		t.Fatalf("decoded %+v", r)
	}
	body, err := EncodeEmbedResponse(r)
	if err != nil {
		t.Fatal(err)
	}
	if string(body) != upstream {
		t.Errorf("got  %s\nwant %s", body, upstream)
	}
	validateAgainst(t, "CreateEmbeddingResponse", body)
	raw := []byte(`{"raw":true}`)
	if got, _ := EncodeEmbedResponse(&llm.EmbedResponse{Raw: raw, RawProtocol: Protocol}); string(got) != string(raw) {
		t.Errorf("raw body not passed through: %s", got)
	}
	if _, err := DecodeEmbedResponse([]byte(`{"data":5}`)); err == nil {
		t.Error("bad body decoded without error")
	}
}

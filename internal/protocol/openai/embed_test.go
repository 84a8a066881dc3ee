package openai

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/llmgw/llmgw/internal/llm"
)

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

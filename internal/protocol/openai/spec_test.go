package openai

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

var spec struct {
	once sync.Once
	doc  *openapi3.T
	err  error
}

// specPath finds OpenAI's published OpenAPI document in testdata/ at the
// repository root, the directory holding go.mod.
func specPath() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "testdata", "openai-openapi.yaml"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

// specSchema returns a component schema of the OpenAI spec, loaded once per
// test binary. A missing spec fails the test: validation is not optional.
func specSchema(t testing.TB, name string) *openapi3.Schema {
	t.Helper()
	spec.once.Do(func() {
		path, err := specPath()
		if err != nil {
			spec.err = err
			return
		}
		spec.doc, spec.err = openapi3.NewLoader().LoadFromFile(path)
	})
	if spec.err != nil {
		t.Fatalf("load OpenAI spec: %v", spec.err)
	}
	ref := spec.doc.Components.Schemas[name]
	if ref == nil || ref.Value == nil {
		t.Fatalf("schema %s not in the OpenAI spec", name)
	}
	return ref.Value
}

// validateAgainst checks body against a component schema of the spec. The
// spec mixes OpenAPI 3.0 (nullable) and 3.1 (type: "null") idioms; the
// default validator honours both, the JSON Schema 2020 one ignores nullable.
func validateAgainst(t testing.TB, name string, body []byte) {
	t.Helper()
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: body is not JSON: %v\n%s", name, err, body)
	}
	if err := specSchema(t, name).VisitJSON(v); err != nil {
		t.Errorf("%s: body does not match the spec: %v\n%s", name, err, body)
	}
}

// TestSpecValidatorRejects proves the validation used by the other tests
// has teeth: bodies that break the spec are reported.
func TestSpecValidatorRejects(t *testing.T) {
	cases := []struct {
		name, schema, body string
	}{
		{"response without id", "CreateChatCompletionResponse", `{"object":"chat.completion","created":1,"model":"m","choices":[]}`},
		{"response content number", "CreateChatCompletionResponse", `{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":5,"refusal":null},"logprobs":null,"finish_reason":"stop"}]}`},
		{"chunk bad finish reason", "CreateChatCompletionStreamResponse", `{"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"done"}]}`},
		{"request without messages", "CreateChatCompletionRequest", `{"model":"m"}`},
		{"request temperature string", "CreateChatCompletionRequest", `{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":"hot"}`},
		{"model list bad object", "ListModelsResponse", `{"object":"list","data":[{"id":"m","object":"engine","created":1,"owned_by":"x"}]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var v any
			if err := json.Unmarshal([]byte(tc.body), &v); err != nil {
				t.Fatal(err)
			}
			if err := specSchema(t, tc.schema).VisitJSON(v); err == nil {
				t.Errorf("%s accepted by %s", tc.body, tc.schema)
			}
		})
	}
}

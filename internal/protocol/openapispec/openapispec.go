package openapispec

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

// path finds the document in testdata/ at the repository root, the
// directory holding go.mod, above the working directory of the test.
func path() (string, error) {
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

// Schema returns a component schema of the document. A missing document
// or schema fails the test: validation is not optional.
func Schema(t testing.TB, name string) *openapi3.Schema {
	t.Helper()
	spec.once.Do(func() {
		p, err := path()
		if err != nil {
			spec.err = err
			return
		}
		spec.doc, spec.err = openapi3.NewLoader().LoadFromFile(p)
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

// Validate checks body against the component schema name. The document
// mixes OpenAPI 3.0 (nullable) and 3.1 (type: "null") idioms; the default
// validator honours both, the JSON Schema 2020 one ignores nullable.
func Validate(t testing.TB, name string, body []byte) {
	t.Helper()
	var v any
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&v); err != nil {
		t.Fatalf("%s: body is not JSON: %v\n%s", name, err, body)
	}
	if err := Schema(t, name).VisitJSON(v); err != nil {
		t.Errorf("%s: body does not match the spec: %v\n%s", name, err, body)
	}
}

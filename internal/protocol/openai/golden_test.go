package openai

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenCases returns the case names of testdata/<case>.in.json.
func goldenCases(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.in.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden inputs in testdata: %v", err)
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = strings.TrimSuffix(filepath.Base(f), ".in.json")
	}
	return names
}

// golden is the content of <case>.golden.json: the canonical request the
// input decodes to, and the upstream body that request encodes to.
type golden struct {
	Canonical json.RawMessage `json:"canonical"`
	Encoded   json.RawMessage `json:"encoded"`
}

func TestGoldenRequests(t *testing.T) {
	for _, name := range goldenCases(t) {
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", name+".in.json"))
			if err != nil {
				t.Fatal(err)
			}
			req, err := DecodeChatRequest(in)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			canonical, err := json.Marshal(req)
			if err != nil {
				t.Fatal(err)
			}
			encoded, err := EncodeChatRequest(req)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if !json.Valid(encoded) {
				t.Fatalf("encoded body is not valid JSON:\n%s", encoded)
			}
			got, err := json.MarshalIndent(golden{Canonical: canonical, Encoded: encoded}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", name+".golden.json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
			}
			validateAgainst(t, "CreateChatCompletionRequest", encoded)
		})
	}
}

// TestRoundTrip checks that encoding a decoded request loses nothing the
// canonical model holds: decoding the encoded body gives the same request.
func TestRoundTrip(t *testing.T) {
	for _, name := range goldenCases(t) {
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", name+".in.json"))
			if err != nil {
				t.Fatal(err)
			}
			first, err := DecodeChatRequest(in)
			if err != nil {
				t.Fatal(err)
			}
			// Streaming requests gain include_usage on the way upstream.
			if first.Stream {
				first.IncludeUsage = true
			}
			enc, err := EncodeChatRequest(first)
			if err != nil {
				t.Fatal(err)
			}
			second, err := DecodeChatRequest(enc)
			if err != nil {
				t.Fatalf("re-decode: %v\n%s", err, enc)
			}
			if diff := cmp.Diff(first, second, rawJSONEqual); diff != "" {
				t.Errorf("round trip changed the request (-first +second):\n%s", diff)
			}
			again, err := EncodeChatRequest(second)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(enc, again) {
				t.Errorf("encoding is not stable:\n%s\n%s", enc, again)
			}
		})
	}
}

// rawJSONEqual compares raw JSON by content, since encoding compacts it.
var rawJSONEqual = cmp.Comparer(func(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y bytes.Buffer
	if json.Compact(&x, a) != nil || json.Compact(&y, b) != nil {
		return bytes.Equal(a, b)
	}
	return bytes.Equal(x.Bytes(), y.Bytes())
})

package anthropic

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/openai"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenCases returns the case names of dir/<case>.in.json.
func goldenCases(t testing.TB, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.in.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden inputs in %s: %v", dir, err)
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = strings.TrimSuffix(filepath.Base(f), ".in.json")
	}
	return names
}

// checkGolden compares got with dir/<name>.golden.json, rewriting it first
// under -update.
func checkGolden(t *testing.T, dir, name string, got []byte) {
	t.Helper()
	path := filepath.Join(dir, name+".golden.json")
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
}

func marshalGolden(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func readInput(t *testing.T, dir, name string) []byte {
	t.Helper()
	in, err := os.ReadFile(filepath.Join(dir, name+".in.json"))
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// TestGoldenRequests decodes each Anthropic request in testdata and checks
// the canonical request, its re-encoding for an Anthropic upstream, and its
// encoding for an OpenAI upstream (the cross-protocol path).
func TestGoldenRequests(t *testing.T) {
	for _, name := range goldenCases(t, "testdata") {
		t.Run(name, func(t *testing.T) {
			req, err := DecodeMessagesRequest(readInput(t, "testdata", name))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			canonical, err := json.Marshal(req)
			if err != nil {
				t.Fatal(err)
			}
			encoded, err := EncodeMessagesRequest(req)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			toOpenAI, err := openai.EncodeChatRequest(req)
			if err != nil {
				t.Fatalf("encode for openai: %v", err)
			}
			for _, b := range [][]byte{encoded, toOpenAI} {
				if !json.Valid(b) {
					t.Fatalf("encoded body is not valid JSON:\n%s", b)
				}
			}
			noAnthropicLeak(t, toOpenAI)
			checkGolden(t, "testdata", name, marshalGolden(t, struct {
				Canonical json.RawMessage `json:"canonical"`
				Encoded   json.RawMessage `json:"encoded"`
				OpenAI    json.RawMessage `json:"openai"`
			}{canonical, encoded, toOpenAI}))
		})
	}
}

// noAnthropicLeak fails when an OpenAI body carries a field or block only
// Anthropic knows.
func noAnthropicLeak(t *testing.T, body []byte) {
	t.Helper()
	for _, s := range []string{`"service_tier"`, `"container"`, `"context_management"`, `"thinking"`, `"is_error"`,
		`"document"`, `"server_tool_use"`, `"web_search_20250305"`, `"tool_use_id"`, `"defer_loading"`, `"metadata"`} {
		if bytes.Contains(body, []byte(s)) {
			t.Errorf("OpenAI body carries Anthropic's %s:\n%s", s, body)
		}
	}
}

// TestGoldenFromOpenAI decodes OpenAI requests with the openai package and
// checks their encoding for an Anthropic upstream.
func TestGoldenFromOpenAI(t *testing.T) {
	dir := filepath.Join("testdata", "openai")
	for _, name := range goldenCases(t, dir) {
		t.Run(name, func(t *testing.T) {
			req, err := openai.DecodeChatRequest(readInput(t, dir, name))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			encoded, err := EncodeMessagesRequest(req)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if !json.Valid(encoded) {
				t.Fatalf("encoded body is not valid JSON:\n%s", encoded)
			}
			for _, s := range []string{`"store"`, `"seed"`, `"presence_penalty"`, `"reasoning_effort"`, `"input_audio"`, `"reasoning_content"`, `"stream_options"`} {
				if bytes.Contains(encoded, []byte(s)) {
					t.Errorf("Anthropic body carries OpenAI's %s", s)
				}
			}
			// What the Anthropic upstream is sent must itself be a valid
			// Messages request.
			if _, err := DecodeMessagesRequest(encoded); err != nil {
				t.Errorf("encoded body does not decode as a Messages request: %v", err)
			}
			checkGolden(t, dir, name, marshalGolden(t, struct {
				Encoded json.RawMessage `json:"encoded"`
			}{encoded}))
		})
	}
}

// TestRoundTrip checks that encoding a decoded request loses nothing the
// canonical model holds, and that encoding is stable.
func TestRoundTrip(t *testing.T) {
	for _, name := range goldenCases(t, "testdata") {
		t.Run(name, func(t *testing.T) {
			first, err := DecodeMessagesRequest(readInput(t, "testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			enc, err := EncodeMessagesRequest(first)
			if err != nil {
				t.Fatal(err)
			}
			second, err := DecodeMessagesRequest(enc)
			if err != nil {
				t.Fatalf("re-decode: %v\n%s", err, enc)
			}
			if diff := cmp.Diff(first, second, rawJSONEqual); diff != "" {
				t.Errorf("round trip changed the request (-first +second):\n%s", diff)
			}
			again, err := EncodeMessagesRequest(second)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(enc, again) {
				t.Errorf("encoding is not stable:\n%s\n%s", enc, again)
			}
		})
	}
}

// TestCrossRoundTrip sends an OpenAI conversation through the Anthropic
// encoding and back: the tool calls, their ids and the tool results survive
// in order.
func TestCrossRoundTrip(t *testing.T) {
	dir := filepath.Join("testdata", "openai")
	req, err := openai.DecodeChatRequest(readInput(t, dir, "tool_calls_multi_turn"))
	if err != nil {
		t.Fatal(err)
	}
	enc, err := EncodeMessagesRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeMessagesRequest(enc)
	if err != nil {
		t.Fatal(err)
	}
	type turn struct {
		Role  llm.Role
		Text  string
		Calls []llm.ToolCall
		ID    string
	}
	var got []turn
	for _, m := range back.Messages {
		got = append(got, turn{m.Role, m.Text(), m.ToolCalls, m.ToolCallID})
	}
	want := []turn{
		{llm.RoleSystem, "You are a weather bot.Always answer in Celsius.", nil, ""},
		{llm.RoleUser, "Weather in Paris and Zürich?", nil, ""},
		{llm.RoleAssistant, "", []llm.ToolCall{
			{Index: 0, ID: "call_7bnK1ZQ0mDd1rTfJ3bNvw0Ck", Type: "function", Name: "get_weather", Arguments: `{"location":"Paris, France","unit":"celsius"}`},
			{Index: 1, ID: "call_Xq2Vb6Ln0sPq8YtR4mKd1EeZ", Type: "function", Name: "get_weather", Arguments: `{"location":"Zürich"}`},
		}, ""},
		{llm.RoleTool, "18 C, cloudy", nil, "call_7bnK1ZQ0mDd1rTfJ3bNvw0Ck"},
		{llm.RoleTool, "12 C, rain", nil, "call_Xq2Vb6Ln0sPq8YtR4mKd1EeZ"},
		{llm.RoleUser, "Which one is warmer?", nil, ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("conversation after OpenAI -> Anthropic -> canonical (-want +got):\n%s", diff)
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

package openai

import (
	"bytes"
	"io"
	"strings"
	"testing"

	protocol "github.com/llmgw/llmgw/internal/protocol/openai"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

func TestHasUsageObject(t *testing.T) {
	tests := []struct {
		name string
		data string
		want bool
	}{
		{name: "usage object", data: `{"choices":[],"usage":{"prompt_tokens":1}}`, want: true},
		{name: "white space around the colon", data: "{\"usage\" :\n {\"total_tokens\":2}}", want: true},
		{name: "usage null", data: `{"choices":[{"delta":{"content":"x"}}],"usage":null}`, want: false},
		{name: "no usage", data: `{"choices":[{"delta":{"content":"x"}}]}`, want: false},
		{name: "usage as a string value", data: `{"content":"usage","x":{}}`, want: false},
		{name: "usage inside a string", data: `{"content":"the \"usage\": {1} field"}`, want: false},
		{name: "null first, object later", data: `{"a":{"usage":null},"usage":{"total_tokens":3}}`, want: true},
		{name: "cut after the key", data: `{"usage":`, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := hasUsageObject([]byte(tc.data)); got != tc.want {
				t.Errorf("hasUsageObject = %v, want %v", got, tc.want)
			}
			// The filter may only skip payloads ScanUsage finds nothing in.
			if _, ok := protocol.ScanUsage([]byte(tc.data)); ok && !hasUsageObject([]byte(tc.data)) {
				t.Error("ScanUsage finds usage the filter would skip")
			}
		})
	}
}

func TestReadAll(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		size, limit int64
	}{
		{name: "length as announced", body: strings.Repeat("a", 700), size: 700, limit: 1 << 20},
		{name: "longer than announced", body: strings.Repeat("b", 900), size: 100, limit: 1 << 20},
		{name: "shorter than announced", body: "c", size: 50, limit: 1 << 20},
		{name: "length unknown", body: strings.Repeat("d", 3000), size: -1, limit: 1 << 20},
		{name: "announced over the limit", body: strings.Repeat("e", 30), size: 30, limit: 10},
		{name: "empty", body: "", size: 0, limit: 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readAll(io.LimitReader(strings.NewReader(tc.body), tc.limit+1), tc.size, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.body[:min(int64(len(tc.body)), tc.limit+1)]
			if string(got) != want {
				t.Errorf("read %d bytes, want %d", len(got), len(want))
			}
		})
	}
}

// benchChunk is a content event as OpenAI sends it.
const benchChunk = `{"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"content":" upon"},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"Q7x"}`

func BenchmarkHasUsageObject(b *testing.B) {
	data := []byte(benchChunk)
	for b.Loop() {
		if hasUsageObject(data) {
			b.Fatal("usage found")
		}
	}
}

func BenchmarkIsErrorPayload(b *testing.B) {
	data := []byte(benchChunk)
	for b.Loop() {
		if isErrorPayload(data) {
			b.Fatal("error found")
		}
	}
}

// hasUsageObjectRef is hasUsageObject written the plain way: every "usage"
// bytes.Index finds, followed by white space, a colon, white space and a
// brace.
func hasUsageObjectRef(data []byte) bool {
	for {
		i := bytes.Index(data, []byte(`"usage"`))
		if i < 0 {
			return false
		}
		data = data[i+len(`"usage"`):]
		rest, ok := bytes.CutPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte(":"))
		if ok {
			if rest = bytes.TrimLeft(rest, " \t\r\n"); len(rest) > 0 && rest[0] == '{' {
				return true
			}
		}
	}
}

// isErrorPayloadRef is isErrorPayload written the plain way.
func isErrorPayloadRef(data []byte) bool {
	rest, ok := bytes.CutPrefix(data, []byte("{"))
	return ok && bytes.HasPrefix(bytes.TrimLeft(rest, " \t\r\n"), []byte(`"error"`))
}

// The filters answer what their plain versions answer.
func FuzzScanFilters(f *testing.F) {
	for _, s := range []string{
		benchChunk, `{"usage":{}}`, `"usage"`, `usage":{`, `gg"usage"g:{`, "{\"usage\"\t:\r\n{", `{"usage":null,"usage" :{}}`,
		`{"error":{}}`, "{ \n\"error\"", `{"errors"`, `{`, `g`, `"usag"`, `x"usage"`,
		`0"usage"usage" :{`, // keys overlap: found once, as bytes.Index finds them
	} {
		f.Add([]byte(s))
	}
	for _, name := range []string{"stream_text.sse", "stream_tool_calls.sse", "stream_error_in_200.sse"} {
		for _, p := range providertest.DataPayloads(providertest.Load(f, "openai/"+name)) {
			f.Add(p)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := hasUsageObject(data), hasUsageObjectRef(data); got != want {
			t.Errorf("hasUsageObject(%q) = %v, want %v", data, got, want)
		}
		if got, want := isErrorPayload(data), isErrorPayloadRef(data); got != want {
			t.Errorf("isErrorPayload(%q) = %v, want %v", data, got, want)
		}
	})
}

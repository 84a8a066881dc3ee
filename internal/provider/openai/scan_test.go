package openai

import (
	"io"
	"strings"
	"testing"

	protocol "github.com/llmgw/llmgw/internal/protocol/openai"
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

package azure

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	protocol "github.com/llmgw/llmgw/internal/protocol/openai"
	"github.com/llmgw/llmgw/internal/provider"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// Legacy completions go to the deployment's /completions, or the v1
// surface's, and a stream loses Azure's prompt annotation event as chat's
// does.
func TestForwardCompletions(t *testing.T) {
	f := providertest.NewAzure(t)
	f.Key = testKey
	for _, tc := range []struct{ version, path string }{
		{"", "/openai/deployments/instruct-prod/completions"},
		{APIVersionV1, "/openai/v1/completions"},
	} {
		p := newProvider(t, Config{BaseURL: f.URL, APIKey: testKey, APIVersion: tc.version})
		if !p.ForwardsProtocol(protocol.CompletionsProtocol) || p.ForwardsProtocol("anthropic") {
			t.Fatal("ForwardsProtocol")
		}
		for _, stream := range []bool{false, true} {
			body := `{"model":"alias","prompt":"Say this is a test","stream":` + map[bool]string{false: "false", true: "true"}[stream] + `}`
			s, err := p.Forward(context.Background(), &provider.Forward{Body: []byte(body), Model: "instruct-prod",
				Stream: stream, Protocol: protocol.CompletionsProtocol})
			if err != nil {
				t.Fatalf("%s stream %v: %v", tc.path, stream, err)
			}
			var text strings.Builder
			for {
				c, err := s.Recv()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if c.RawProtocol != protocol.CompletionsProtocol || gjson.GetBytes(c.Raw, "object").Str != "text_completion" {
					t.Errorf("%s stream %v: chunk %q %s", tc.path, stream, c.RawProtocol, c.Raw)
				}
				text.WriteString(protocol.CompletionText(c.Raw))
			}
			s.Close()
			if text.String() != "Say this is a test" {
				t.Errorf("%s stream %v: text %q", tc.path, stream, text.String())
			}
			reqs := f.Requests()
			if last := reqs[len(reqs)-1]; last.Path != tc.path {
				t.Errorf("sent to %s, want %s", last.Path, tc.path)
			}
		}
	}
}

package providertest

import (
	"io"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

func TestCompletionCapturesAreValid(t *testing.T) {
	if b := Load(t, "openai/completion_text.json"); !gjson.ValidBytes(b) || gjson.GetBytes(b, "object").Str != "text_completion" {
		t.Error("completion_text.json is not a text_completion")
	}
	for name, want := range map[string]struct {
		events int
		done   bool
	}{"completion_stream_text.sse": {8, true}, "completion_stream_error_in_200.sse": {3, false}} {
		p := DataPayloads(Load(t, "openai/"+name))
		if len(p) != want.events || (string(p[len(p)-1]) == "[DONE]") != want.done {
			t.Errorf("%s: %d events", name, len(p))
		}
		for _, d := range p {
			if string(d) != "[DONE]" && !gjson.ValidBytes(d) {
				t.Errorf("%s: event is not JSON: %s", name, d)
			}
		}
	}
}

// With nothing enqueued the fake answers /completions with the prompt, as
// one text_completion or word by word, the usage event only when asked.
func TestOpenAIFakeCompletions(t *testing.T) {
	f := NewOpenAI(t)
	resp := post(t, f.URL+"/completions", `{"model":"m","prompt":"Say this is a test"}`)
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || gjson.GetBytes(b, "choices.0.text").Str != "Say this is a test" || gjson.GetBytes(b, "object").Str != "text_completion" {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	for _, includeUsage := range []bool{false, true} {
		body := `{"model":"m","prompt":["a b"],"stream":true,"stream_options":{"include_usage":` + map[bool]string{false: "false", true: "true"}[includeUsage] + `}}`
		resp = post(t, f.URL+"/completions", body)
		b, _ = io.ReadAll(resp.Body)
		p := DataPayloads(b)
		var text strings.Builder
		usage := 0
		for _, d := range p[:len(p)-1] {
			text.WriteString(gjson.GetBytes(d, "choices.0.text").Str)
			if gjson.GetBytes(d, "usage").IsObject() {
				usage++
			}
		}
		if text.String() != "a b" || string(p[len(p)-1]) != "[DONE]" || (usage == 1) != includeUsage {
			t.Errorf("include_usage %v: %q", includeUsage, p)
		}
	}
	if resp = post(t, f.URL+"/completions", `{"model":"m"}`); resp.StatusCode != 400 {
		t.Errorf("no prompt: %d", resp.StatusCode)
	}
}

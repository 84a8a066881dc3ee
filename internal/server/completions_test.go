package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/protocol/openapispec"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// completionsConfig adds to pricedConfig an Anthropic provider (no legacy
// completions), a second OpenAI-compatible one, and models over them.
// ${ANTHROPIC} and ${SECOND} are the fakes' base URLs.
const completionsConfig = `
server:
  stream_idle_timeout: "2s"
providers:
  - name: fake-openai
    type: openai
    base_url: "${UPSTREAM}"
    api_key: "sk-upstream-test"
  - name: second
    type: openai_compatible
    base_url: "${SECOND}"
  - name: claude
    type: anthropic
    base_url: "${ANTHROPIC}"
    api_key: "sk-ant-test"
  - name: mock
    type: mock
models:
  - name: gpt
    targets: [{provider: fake-openai, model: "gpt-4o-mini"}]
  - name: mock
    targets: [{provider: mock, model: mock}]
  - name: haiku
    targets: [{provider: claude, model: "claude-3-5-haiku-latest"}]
  - name: mixed
    balancing: round_robin
    targets:
      - {provider: claude, model: "claude-3-5-haiku-latest"}
      - {provider: fake-openai, model: "gpt-4o-mini"}
  - name: pair
    balancing: round_robin
    targets:
      - {provider: fake-openai, model: "gpt-4o-mini"}
      - {provider: second, model: "gpt-4o-mini"}
  - name: falls
    targets: [{provider: fake-openai, model: "gpt-4o-mini"}]
    fallbacks: [haiku, solo]
  - name: solo
    targets: [{provider: second, model: "gpt-4o-mini"}]
pricing:
  - {provider: fake-openai, model: "gpt-4o-mini", input_per_mtok: 0.15, output_per_mtok: 0.6}
`

// completionsGateway is a test gateway on completionsConfig with its
// other fakes.
type completionsGateway struct {
	*testGateway
	second *providertest.OpenAI
	claude *providertest.Anthropic
}

func newCompletionsGateway(t *testing.T, extra string) *completionsGateway {
	t.Helper()
	second, claude := providertest.NewOpenAI(t), providertest.NewAnthropic(t)
	g := newGateway(t, completionsConfig+extra, map[string]string{"SECOND": second.URL, "ANTHROPIC": claude.URL})
	return &completionsGateway{testGateway: g, second: second, claude: claude}
}

// validateCompletion checks a body the gateway wrote against
// CreateCompletionResponse in OpenAI's spec (testdata/ at the repository
// root).
func validateCompletion(t *testing.T, body string) {
	t.Helper()
	validateCompletionJSON(t, body, false)
}

// validateCompletionEvent is validateCompletion for a stream event. The
// spec says both share one shape, yet its finish_reason is not nullable
// while the reference's own streaming example, and OpenAI, send null
// until the last event, and usage is null in every event but the last of
// a stream that asked for usage: a null finish_reason is checked as
// "stop", a null usage as absent.
func validateCompletionEvent(t *testing.T, event string) {
	t.Helper()
	validateCompletionJSON(t, event, true)
}

func validateCompletionJSON(t *testing.T, body string, event bool) {
	t.Helper()
	var v any
	if err := json.NewDecoder(strings.NewReader(body)).Decode(&v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, body)
	}
	if m, ok := v.(map[string]any); ok && event {
		choices, _ := m["choices"].([]any)
		for _, c := range choices {
			if c, ok := c.(map[string]any); ok && c["finish_reason"] == nil {
				c["finish_reason"] = "stop"
			}
		}
		if u, ok := m["usage"]; ok && u == nil {
			delete(m, "usage")
		}
	}
	if err := openapispec.Schema(t, "CreateCompletionResponse").VisitJSON(v); err != nil {
		t.Errorf("does not match CreateCompletionResponse: %v\n%s", err, body)
	}
}

func TestCompletionUnary(t *testing.T) {
	g := newCompletionsGateway(t, "")
	resp, body := g.do("POST", "/v1/completions", `{"model":"gpt","prompt":"Say this is a test","max_tokens":7,"temperature":0}`)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	validateCompletion(t, body)
	if gjson.Get(body, "choices.0.text").Str != "Say this is a test" || gjson.Get(body, "usage.total_tokens").Int() != 10 {
		t.Errorf("body %s", body)
	}
	if resp.Header.Get("X-Llmgw-Provider") != "fake-openai" || resp.Header.Get("X-Llmgw-Cost-Usd") != "0.00000375" {
		t.Errorf("headers %v", resp.Header)
	}
	sent := g.up.Requests()[0]
	if sent.Path != "/v1/completions" || string(sent.Body) != `{"model":"gpt-4o-mini","prompt":"Say this is a test","max_tokens":7,"temperature":0}` {
		t.Errorf("upstream got %s %s", sent.Path, sent.Body)
	}
	if sent.Header.Get("Authorization") != "Bearer sk-upstream-test" {
		t.Error("upstream key not sent")
	}
}

// The answer goes to the client as the upstream sent it, the reference's
// capture included.
func TestCompletionUnaryCapture(t *testing.T) {
	g := newCompletionsGateway(t, "")
	capture := providertest.Load(t, "openai/completion_text.json")
	g.up.Enqueue(providertest.Response{Body: capture})
	resp, body := g.do("POST", "/v1/completions", `{"model":"gpt","prompt":["Say this is a test"]}`)
	if resp.StatusCode != 200 || body != string(capture) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	validateCompletion(t, body)
}

func TestCompletionStream(t *testing.T) {
	for _, tc := range []struct {
		name         string
		options      string
		includeUsage bool
	}{
		{"without usage", ``, false},
		{"usage refused", `,"stream_options":{"include_usage":false}`, false},
		{"with usage", `,"stream_options":{"include_usage":true}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newCompletionsGateway(t, "")
			resp, body := g.do("POST", "/v1/completions", `{"model":"gpt","prompt":"Say this is a test","stream":true`+tc.options+`}`)
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
				t.Fatalf("%d %v %s", resp.StatusCode, resp.Header, body)
			}
			evs := events(t, body)
			if len(evs) == 0 || evs[len(evs)-1] != "[DONE]" {
				t.Fatalf("stream does not end with [DONE]: %q", evs)
			}
			var text strings.Builder
			usage := 0
			for _, ev := range evs[:len(evs)-1] {
				validateCompletionEvent(t, ev)
				text.WriteString(gjson.Get(ev, "choices.0.text").Str)
				if gjson.Get(ev, "usage").IsObject() {
					usage++
					if gjson.Get(ev, "choices.#").Int() != 0 || gjson.Get(ev, "usage.total_tokens").Int() != 10 {
						t.Errorf("usage event %s", ev)
					}
				}
			}
			if text.String() != "Say this is a test" {
				t.Errorf("text %q", text.String())
			}
			if want := map[bool]int{true: 1, false: 0}[tc.includeUsage]; usage != want {
				t.Errorf("%d usage events, want %d", usage, want)
			}
			// Metering cannot be opted out of: usage is always asked.
			if !gjson.GetBytes(g.up.Requests()[0].Body, "stream_options.include_usage").Bool() {
				t.Errorf("usage not asked of the upstream: %s", g.up.Requests()[0].Body)
			}
		})
	}
}

// An upstream that does not report usage in a stream leaves the client
// who asked for it a usage event of the gateway's, in the completion
// shape.
func TestCompletionStreamUsageWritten(t *testing.T) {
	g := newCompletionsGateway(t, "")
	capture := providertest.Load(t, "openai/completion_stream_text.sse")
	i := bytes.Index(capture, []byte(`data: {"id":"cmpl-7iA7iJjj8V2zOkCGvWF2hAkDWBQZe","object":"text_completion","created":1690759702,"choices":[],`))
	noUsage := append(bytes.Clone(capture[:i]), "data: [DONE]\n\n"...)
	g.up.Enqueue(providertest.Response{SSE: noUsage})
	resp, body := g.do("POST", "/v1/completions", `{"model":"gpt","prompt":"x","stream":true,"stream_options":{"include_usage":true}}`)
	evs := events(t, body)
	if resp.StatusCode != 200 || len(evs) < 2 || evs[len(evs)-1] != "[DONE]" {
		t.Fatalf("%d %q", resp.StatusCode, evs)
	}
	last := evs[len(evs)-2]
	validateCompletionEvent(t, last)
	if gjson.Get(last, "object").Str != "text_completion" || gjson.Get(last, "id").Str != "cmpl-7iA7iJjj8V2zOkCGvWF2hAkDWBQZe" ||
		!gjson.Get(last, "usage").IsObject() || gjson.Get(last, "choices.#").Int() != 0 {
		t.Errorf("usage event %s", last)
	}
}

// An error inside a stream that has begun is an in-band error event, and
// the stream ends without [DONE].
func TestCompletionStreamError(t *testing.T) {
	g := newCompletionsGateway(t, "")
	g.up.Enqueue(providertest.Response{SSE: providertest.Load(t, "openai/completion_stream_error_in_200.sse")})
	resp, body := g.do("POST", "/v1/completions", `{"model":"gpt","prompt":"x","stream":true}`)
	evs := events(t, body)
	if resp.StatusCode != 200 || len(evs) != 3 {
		t.Fatalf("%d %q", resp.StatusCode, evs)
	}
	if gjson.Get(evs[2], "error.message").Str == "" || strings.Contains(body, "[DONE]") {
		t.Errorf("stream end %q", evs)
	}
}

// A 429 or a 5xx before the first byte is retried on the model's other
// target.
func TestCompletionRetriedOnAnotherTarget(t *testing.T) {
	for _, status := range []int{429, 500, 503} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			g := newCompletionsGateway(t, "")
			g.up.Enqueue(providertest.Response{Status: status, Body: providertest.Load(t, "openai/error_500.json")})
			for _, stream := range []string{"false", "true"} {
				resp, body := g.do("POST", "/v1/completions", `{"model":"pair","prompt":"Say this is a test","stream":`+stream+`}`)
				if stream == "false" && (resp.StatusCode != 200 || resp.Header.Get("X-Llmgw-Provider") != "second" || resp.Header.Get("X-Llmgw-Attempts") != "2") {
					t.Fatalf("%d %v %s %d %d", resp.StatusCode, resp.Header, body, len(g.up.Requests()), len(g.second.Requests()))
				}
				if resp.StatusCode != 200 || !strings.Contains(body, `test"`) {
					t.Fatalf("stream %s: %d %s", stream, resp.StatusCode, body)
				}
			}
			if n := len(g.second.Requests()); n < 1 || g.second.Requests()[0].Path != "/v1/completions" {
				t.Errorf("second target: %d requests", n)
			}
		})
	}
}

// A model whose upstream has no legacy completions endpoint is refused
// before any upstream call, naming the model; a model with targets of
// both kinds is served by its capable ones only.
func TestCompletionNeedsAnOpenAIUpstream(t *testing.T) {
	g := newCompletionsGateway(t, "")
	for _, stream := range []string{"false", "true"} {
		resp, body := g.do("POST", "/v1/completions", `{"model":"haiku","prompt":"x","stream":`+stream+`}`)
		if resp.StatusCode != 400 || gjson.Get(body, "error.type").Str != "invalid_request_error" || gjson.Get(body, "error.param").Str != "model" ||
			!strings.Contains(body, `model \"haiku\"`) || !strings.Contains(body, "no legacy completions endpoint") {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	}
	for range 4 {
		resp, body := g.do("POST", "/v1/completions", `{"model":"mixed","prompt":"Say this"}`)
		if resp.StatusCode != 200 || resp.Header.Get("X-Llmgw-Provider") != "fake-openai" || resp.Header.Get("X-Llmgw-Attempts") != "1" {
			t.Fatalf("mixed: %d %v %s", resp.StatusCode, resp.Header, body)
		}
	}
	if n := len(g.claude.Requests()); n != 0 {
		t.Errorf("the Anthropic upstream got %d requests", n)
	}
	// A fallback model with no capable target is skipped.
	e500 := providertest.Response{Status: 500, Body: providertest.Load(t, "openai/error_500.json")}
	g.up.Enqueue(e500, e500, e500)
	resp, body := g.do("POST", "/v1/completions", `{"model":"falls","prompt":"Say this"}`)
	if resp.StatusCode != 200 || resp.Header.Get("X-Llmgw-Provider") != "second" {
		t.Fatalf("fallback: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	if n := len(g.claude.Requests()); n != 0 {
		t.Errorf("the Anthropic upstream got %d requests", n)
	}
	if _, metrics := g.do("GET", "/metrics", ""); strings.Contains(metrics, `fallback="haiku"`) || !strings.Contains(metrics, `fallback="solo"`) {
		t.Errorf("fallbacks taken:\n%s", grepLines(metrics, "llmgw_fallbacks_total"))
	}
	// Chat to the same models still goes everywhere.
	if resp, body := g.do("POST", "/v1/chat/completions", `{"model":"haiku","messages":[{"role":"user","content":"hi"}]}`); resp.StatusCode != 200 {
		t.Errorf("chat: %d %s", resp.StatusCode, body)
	}
}

// The mock, the zero-config model, answers legacy completions with the
// prompt, streamed or not.
func TestCompletionMock(t *testing.T) {
	g := newCompletionsGateway(t, "")
	resp, body := g.do("POST", "/v1/completions", `{"model":"mock","prompt":"Say this is a test","max_tokens":3}`)
	if resp.StatusCode != 200 || gjson.Get(body, "choices.0.text").Str != "Say this is" || gjson.Get(body, "choices.0.finish_reason").Str != "length" {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	validateCompletion(t, body)
	resp, body = g.do("POST", "/v1/completions", `{"model":"mock","prompt":["Say this is a test"],"stream":true,"stream_options":{"include_usage":true}}`)
	evs := events(t, body)
	if resp.StatusCode != 200 || len(evs) < 3 || evs[len(evs)-1] != "[DONE]" {
		t.Fatalf("%d %q", resp.StatusCode, evs)
	}
	var text strings.Builder
	for _, ev := range evs[:len(evs)-1] {
		validateCompletionEvent(t, ev)
		text.WriteString(gjson.Get(ev, "choices.0.text").Str)
	}
	if text.String() != "Say this is a test" || !gjson.Get(evs[len(evs)-2], "usage").IsObject() {
		t.Errorf("text %q, last events %q", text.String(), evs[len(evs)-2:])
	}
}

func TestCompletionHostileBodies(t *testing.T) {
	g := newCompletionsGateway(t, "")
	tests := []struct {
		name, body string
		status     int
		param      string
	}{
		{"not JSON", `{"model":"gpt","prompt":`, 400, ""},
		{"not an object", `["gpt"]`, 400, ""},
		{"no model", `{"prompt":"x"}`, 400, "model"},
		{"model not a string", `{"model":1,"prompt":"x"}`, 400, "model"},
		{"no prompt", `{"model":"gpt"}`, 400, "prompt"},
		{"prompt object", `{"model":"gpt","prompt":{"a":1}}`, 400, "prompt"},
		{"prompt mixed", `{"model":"gpt","prompt":["a",[1]]}`, 400, "prompt"},
		{"stream string", `{"model":"gpt","prompt":"x","stream":"yes"}`, 400, "stream"},
		{"max_tokens string", `{"model":"gpt","prompt":"x","max_tokens":"7"}`, 400, "max_tokens"},
		{"duplicate model", `{"model":"gpt","model":"haiku","prompt":"x"}`, 400, ""},
		{"duplicate prompt", `{"model":"gpt","prompt":"a","prompt":"b"}`, 400, ""},
		{"deep nesting", `{"model":"gpt","prompt":"x","user":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`, 400, ""},
		{"unknown model", `{"model":"nope","prompt":"x"}`, 404, ""},
		{"too large", `{"model":"gpt","prompt":"` + strings.Repeat("a", 11<<20) + `"}`, 413, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := g.do("POST", "/v1/completions", tt.body)
			if resp.StatusCode != tt.status || !gjson.Get(body, "error.message").Exists() {
				t.Fatalf("%d %.300s", resp.StatusCode, body)
			}
			if tt.param != "" && gjson.Get(body, "error.param").Str != tt.param {
				t.Errorf("param %q, want %q: %s", gjson.Get(body, "error.param").Str, tt.param, body)
			}
		})
	}
	if n := len(g.up.Requests()); n != 0 {
		t.Errorf("%d hostile bodies reached the upstream", n)
	}
	// Invalid UTF-8 in a string is read as encoding/json reads it, as on
	// every route: replaced, and the answer is still well-formed JSON.
	resp, body := g.do("POST", "/v1/completions", "{\"model\":\"gpt\",\"prompt\":\"\xff\xfe\"}")
	if resp.StatusCode != 200 || !gjson.Valid(body) {
		t.Errorf("invalid UTF-8: %d %s", resp.StatusCode, body)
	}
	if resp, _ := g.do("GET", "/v1/completions", ""); resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET: %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

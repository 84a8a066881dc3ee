package conformance

import (
	"bytes"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/provider/providertest"
)

const upstream429 = "upstream 429 rate limit"

var goOn = map[string]string{
	OpenAI:    `{"messages":[{"role":"user","content":"Go on"}]}`,
	Anthropic: `{"max_tokens":256,"messages":[{"role":"user","content":"Go on"}]}`,
}

// errorTypes is what each client protocol calls the gateway's error kinds.
var errorTypes = map[string]map[string]string{
	"rate_limited": {OpenAI: "rate_limit_exceeded", Anthropic: "rate_limit_error"},
	"unavailable":  {OpenAI: "upstream_unavailable", Anthropic: "overloaded_error"},
	"invalid":      {OpenAI: "invalid_request_error", Anthropic: "invalid_request_error"},
	"upstream":     {OpenAI: "upstream_error", Anthropic: "api_error"},
	"not_found":    {OpenAI: "model_not_found", Anthropic: "not_found_error"},
}

// sameProtocolTypes is what a client is told when the upstream speaks its
// protocol and gave its own code: that code, as it came.
var sameProtocolTypes = map[string]map[string]string{
	"invalid": {OpenAI: "invalid_value", Anthropic: "invalid_request_error"},
}

// wantParam is the param an OpenAI client is told of an upstream's 400, by
// upstream protocol: OpenAI's own, and none from Anthropic, whose errors
// name no field.
var wantParam = map[string]string{OpenAI: "temperature", Anthropic: "", Mistral: "", Ollama: "", Cohere: ""}

func failureScenarios() []Scenario {
	upErr := func(name, kind string, status int, answer func(t testing.TB, upstream string) providertest.Response) Scenario {
		return Scenario{
			Name: name, Modes: both, NA: always, Request: goOn,
			Script: func(t testing.TB, c *Case) []providertest.Response {
				return repeat(answer(t, c.Up()), 4)
			},
			Check: func(t *testing.T, c *Case, r *Result) {
				if r.Status != status {
					t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
				}
				for _, v := range r.Violations {
					t.Errorf("protocol violation: %s", v)
				}
				want := errorTypes[kind][c.Client()]
				if same, ok := sameProtocolTypes[kind]; ok && c.Client() == c.Up() {
					want = same[c.Client()]
				}
				expectEqual(t, "error type", r.ErrType, want)
				if kind == "invalid" && c.Client() == OpenAI {
					expectEqual(t, "error param", gjson.GetBytes(r.Body, "error.param").String(), wantParam[c.Up()])
				}
				if name == upstream429 {
					if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 {
						t.Errorf("Retry-After %q", r.Header.Get("Retry-After"))
					}
				}
			},
		}
	}
	return []Scenario{
		// Every target rate limited is every target failing (503): a 429
		// from the gateway means the caller's own limit. The error is in
		// the client's shape with the upstream's Retry-After.
		upErr(upstream429, "unavailable", 503, func(t testing.TB, up string) providertest.Response {
			h := http.Header{"Retry-After": {"20"}}
			if up == Anthropic {
				return providertest.Response{Status: 429, Header: h, Body: providertest.Load(t, "anthropic/error_429.json")}
			}
			if up == Mistral || up == Cohere {
				return providertest.Response{Status: 429, Header: h, Body: providertest.Load(t, up+"/error_429.json")}
			}
			if up == Gemini {
				return providertest.Response{Status: 429, Header: h, Body: providertest.Load(t, "gemini/error_429.json")}
			}
			return providertest.Response{Status: 429, Header: h, Body: providertest.Load(t, "openai/error_429.json")}
		}),
		upErr("upstream overloaded (529 / 503)", "unavailable", 503, func(t testing.TB, up string) providertest.Response {
			if up == Anthropic {
				return providertest.Response{Status: 529, Body: providertest.Load(t, "anthropic/error_529.json")}
			}
			if up == Mistral || up == Cohere {
				return providertest.Response{Status: 503, Body: providertest.Load(t, up+"/error_503.json")}
			}
			if up == Ollama {
				return providertest.Response{Status: 503, Body: providertest.Load(t, "ollama/error_503.json")}
			}
			if up == Gemini {
				return providertest.Response{Status: 503, Body: providertest.Load(t, "gemini/error_503.json")}
			}
			return providertest.Response{Status: 503, Body: providertest.Load(t, "openai/error_500.json")}
		}),
		upErr("upstream 400 invalid request", "invalid", 400, func(t testing.TB, up string) providertest.Response {
			if up == Anthropic {
				return providertest.Response{Status: 400, Body: providertest.Load(t, "anthropic/error_400.json")}
			}
			if up == Mistral || up == Cohere {
				return providertest.Response{Status: 400, Body: providertest.Load(t, up+"/error_400.json")}
			}
			if up == Ollama {
				return providertest.Response{Status: 400, Body: providertest.Load(t, "ollama/error_400.json")}
			}
			if up == Gemini {
				return providertest.Response{Status: 400, Body: providertest.Load(t, "gemini/error_400.json")}
			}
			return providertest.Response{Status: 400, Body: providertest.Load(t, "openai/error_400_param.json")}
		}),
		// The SDKs raise NotFoundError by status: an upstream's 404 stays
		// a 404, in the client's protocol's words.
		upErr("upstream 404 model not found", "not_found", 404, func(t testing.TB, up string) providertest.Response {
			return providertest.Response{Status: 404, Body: providertest.Load(t, up+"/error_404.json")}
		}),
		streamFailure("error event inside a 200 stream", func(t testing.TB, up string) providertest.Response {
			if up == Anthropic {
				return providertest.Response{SSE: providertest.Load(t, "anthropic/stream_error_overloaded.sse")}
			}
			if up == Mistral {
				// Mistral's stream says so with finish_reason "error".
				return providertest.Response{SSE: providertest.Load(t, "mistral/stream_error_finish.sse")}
			}
			if up == Ollama {
				// Ollama's: a line {"error": "..."}.
				return providertest.Response{SSE: providertest.Load(t, "ollama/stream_error.ndjson")}
			}
			if up == Gemini {
				// Gemini's: an event {"error": {...}}.
				return providertest.Response{SSE: providertest.Load(t, "gemini/stream_error.sse")}
			}
			if up == Cohere {
				// Cohere's with message-end's finish_reason ERROR.
				return providertest.Response{SSE: providertest.Load(t, "cohere/stream_error_finish.sse")}
			}
			return providertest.Response{SSE: providertest.Load(t, "openai/stream_error_in_200.sse")}
		}, "The answer", map[string]string{OpenAI: "upstream", Anthropic: "unavailable", Mistral: "upstream", Ollama: "upstream", Gemini: "upstream", Cohere: "upstream"}),
		streamFailure("truncated stream (connection lost)", func(t testing.TB, up string) providertest.Response {
			return providertest.Response{SSE: providertest.Load(t, streamCapture(up, "stream_truncated.sse")), HangUp: true}
		}, "Once upon", map[string]string{OpenAI: "upstream", Anthropic: "upstream", Mistral: "upstream", Ollama: "upstream", Gemini: "upstream", Cohere: "upstream"}),
		streamFailure("stream ends without its terminator", func(t testing.TB, up string) providertest.Response {
			return providertest.Response{SSE: withoutTerminator(providertest.Load(t, streamCapture(up, "stream_text.sse")))}
		}, "", map[string]string{OpenAI: "upstream", Anthropic: "upstream", Mistral: "upstream", Ollama: "upstream", Gemini: "upstream", Cohere: "upstream"}),
		{Name: "cancel mid-stream", Modes: []Mode{Stream}, NA: always, Run: runCancel, StreamIdleTimeout: time.Minute},
	}
}

// streamFailure is a stream that breaks after it has begun: the client gets
// what came before, then an in-band error in its protocol, and never the
// end-of-stream marker of a complete stream. An empty text is the whole
// text of the upstream's stream capture.
func streamFailure(name string, answer func(t testing.TB, upstream string) providertest.Response, text string, kinds map[string]string) Scenario {
	return Scenario{
		Name: name, Modes: []Mode{Stream}, NA: always, Request: goOn,
		Script: func(t testing.TB, c *Case) []providertest.Response {
			if c.nativeResponses() {
				return []providertest.Response{responsesFailures[name].answer(t)}
			}
			return []providertest.Response{answer(t, c.Up())}
		},
		Check: func(t *testing.T, c *Case, r *Result) {
			if r.Status != 200 {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
			for _, v := range r.Violations {
				t.Errorf("protocol violation: %s", v)
			}
			if r.Terminated {
				t.Errorf("a broken stream was terminated as complete:\n%s", r.Body)
			}
			expectEqual(t, "stream error", r.StreamError, streamErrorType(c, kinds[c.Up()]))
			want := text
			if want == "" {
				want = captureText[c.Up()][Stream]
			}
			if c.nativeResponses() {
				want = responsesFailures[name].text
			}
			if !bytes.HasPrefix([]byte(r.Text), []byte(want)) {
				t.Errorf("text before the failure %q, want %q", r.Text, want)
			}
		},
	}
}

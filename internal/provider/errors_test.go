package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/llm"
)

const plantedKey = "sk-proj-PLANTEDkey0123456789"

// parseTest reads "code|message" bodies.
func parseTest(body []byte) (string, string) {
	code, msg, _ := strings.Cut(string(body), "|")
	return msg, code
}

func response(status int, body string, h http.Header) *http.Response {
	if h == nil {
		h = http.Header{}
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body))}
}

func TestErrorFromResponseKinds(t *testing.T) {
	credentials := "the upstream rejected the gateway's credentials for provider up"
	tests := []struct {
		name    string
		status  int
		body    string
		kind    llm.Kind
		message string // "" = the kind's default public message
	}{
		{"bad request relayed", 400, "|Invalid value for 'temperature'.", llm.KindInvalidRequest, "Invalid value for 'temperature'."},
		{"not found relayed", 404, "model_not_found|The model `gpt-9` does not exist", llm.KindNotFound, "The model `gpt-9` does not exist"},
		{"unprocessable relayed", 422, "|bad schema", llm.KindUnprocessable, "bad schema"},
		{"context length code", 400, "context_length_exceeded|too long", llm.KindContextLength, "too long"},
		{"context length wording", 400, "|This model's maximum context length is 8192 tokens.", llm.KindContextLength, "This model's maximum context length is 8192 tokens."},
		{"context window wording", 400, "|input exceeds the context window", llm.KindContextLength, "input exceeds the context window"},
		{"content policy", 400, "content_policy_violation|rejected", llm.KindContentPolicy, "rejected"},
		{"content filter", 400, "content_filter|filtered", llm.KindContentPolicy, "filtered"},
		{"unauthorized", 401, "invalid_api_key|Incorrect API key provided: " + plantedKey, llm.KindUpstream, credentials},
		{"forbidden", 403, "|Key " + plantedKey + " lacks scope", llm.KindUpstream, credentials},
		{"request timeout", 408, "|slow", llm.KindUpstreamTimeout, ""},
		{"gateway timeout", 504, "|slow", llm.KindUpstreamTimeout, ""},
		{"conflict", 409, "|conflict", llm.KindUpstream, ""},
		{"internal", 500, "|boom", llm.KindUpstream, ""},
		{"bad gateway", 502, "|boom", llm.KindUpstream, ""},
		{"other 5xx", 507, "|boom", llm.KindUpstream, ""},
		{"unavailable", 503, "|overloaded", llm.KindUpstreamUnavailable, ""},
		{"overloaded 529", 529, "|Overloaded", llm.KindUpstreamUnavailable, ""},
		{"too large relayed", 413, "|too big", llm.KindTooLarge, "too big"},
		{"rate limited", 429, "rate_limit_exceeded|Rate limit reached in organization org-123", llm.KindRateLimited, ""},
		{"teapot", 418, "|teapot", llm.KindUpstream, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ErrorFromResponse("up", response(tt.status, tt.body, nil), parseTest, plantedKey)
			var e *llm.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %T, want *llm.Error", err)
			}
			if e.Kind != tt.kind {
				t.Errorf("Kind = %v, want %v", e.Kind, tt.kind)
			}
			want := tt.message
			if want == "" {
				want = (&llm.Error{Kind: tt.kind}).PublicMessage()
			}
			if got := e.PublicMessage(); got != want {
				t.Errorf("PublicMessage = %q, want %q", got, want)
			}
			if e.Provider != "up" || e.UpstreamStatus != tt.status {
				t.Errorf("Provider, UpstreamStatus = %q, %d", e.Provider, e.UpstreamStatus)
			}
			if strings.Contains(e.Error(), plantedKey) || strings.Contains(e.PublicMessage(), plantedKey) {
				t.Errorf("secret leaked: %q", e.Error())
			}
		})
	}
}

func TestErrorFromResponseRedactsRelayedMessage(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		secrets []string
		want    string
	}{
		{"key twice", "|key " + plantedKey + " and again " + plantedKey, []string{plantedKey}, "key [redacted] and again [redacted]"},
		{"several secrets", "|a=" + plantedKey + " b=hdr-secret", []string{plantedKey, "hdr-secret"}, "a=[redacted] b=[redacted]"},
		{"empty secret ignored", "|plain", []string{""}, "plain"},
		{"control chars", "|line1\nline2\x00\x1b[31m", nil, "line1 line2[31m"},
		{"key split by control char", "|k=sk-proj-PLANTED\x00key0123456789", []string{plantedKey}, "k=[redacted]"},
		{"invalid utf8", "|bad \xff byte", nil, "bad \uFFFD byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ErrorFromResponse("up", response(400, tt.body, nil), parseTest, tt.secrets...)
			e := llm.AsError(err)
			if got := e.PublicMessage(); got != tt.want {
				t.Errorf("PublicMessage = %q, want %q", got, tt.want)
			}
			for _, s := range tt.secrets {
				if s != "" && strings.Contains(e.Error(), s) {
					t.Errorf("Error() leaks %q: %q", s, e.Error())
				}
			}
		})
	}
}

func TestErrorFromResponseCapsMessageAndBody(t *testing.T) {
	long := "|" + strings.Repeat("é", 2000)
	e := llm.AsError(ErrorFromResponse("up", response(400, long, nil), parseTest))
	msg := e.PublicMessage()
	if len(msg) > maxRelayedMessage+len("…") {
		t.Errorf("message is %d bytes, want at most %d", len(msg), maxRelayedMessage)
	}
	if !strings.HasSuffix(msg, "…") || !strings.HasPrefix(msg, "éé") || strings.ContainsRune(msg, '\uFFFD') {
		t.Errorf("message not cut at a rune boundary: %q...", msg[:10])
	}

	var seen int
	huge := response(400, strings.Repeat("x", 1<<20), nil)
	_ = ErrorFromResponse("up", huge, func(b []byte) (string, string) { seen = len(b); return "", "" })
	if seen != maxErrorBody {
		t.Errorf("parse saw %d bytes, want %d", seen, maxErrorBody)
	}
}

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestErrorFromResponseClosesBody(t *testing.T) {
	body := &closeRecorder{Reader: strings.NewReader("x")}
	_ = ErrorFromResponse("up", &http.Response{StatusCode: 500, Header: http.Header{}, Body: body}, nil)
	if !body.closed {
		t.Error("body not closed")
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name   string
		header map[string]string
		want   time.Duration
	}{
		{"none", nil, 0},
		{"ms float", map[string]string{"retry-after-ms": "1500.5"}, 1500500 * time.Microsecond},
		{"ms wins over seconds", map[string]string{"retry-after-ms": "250", "Retry-After": "9"}, 250 * time.Millisecond},
		{"bad ms falls back", map[string]string{"retry-after-ms": "soon", "Retry-After": "2"}, 2 * time.Second},
		{"seconds", map[string]string{"Retry-After": "20"}, 20 * time.Second},
		{"negative seconds", map[string]string{"Retry-After": "-3"}, 0},
		{"http date", map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)}, 90 * time.Second},
		{"past date", map[string]string{"Retry-After": now.Add(-time.Minute).Format(http.TimeFormat)}, 0},
		{"garbage", map[string]string{"Retry-After": "later"}, 0},
		{"huge capped", map[string]string{"Retry-After": "1e300"}, maxRetryAfter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			if got := retryAfter(h, now); got != tt.want {
				t.Errorf("retryAfter = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestErrorFromResponseSetsRetryAfter(t *testing.T) {
	h := http.Header{}
	h.Set("Retry-After", "7")
	e := llm.AsError(ErrorFromResponse("up", response(429, "", h), nil))
	if e.RetryAfter != 7*time.Second || !e.Retryable() {
		t.Errorf("RetryAfter = %v, Retryable = %v", e.RetryAfter, e.Retryable())
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestTransportError(t *testing.T) {
	const addr = "https://secret-upstream.internal:8443/v1/chat/completions"
	wrapURL := func(err error) error { return &url.Error{Op: "Post", URL: addr, Err: err} }
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("no route to host")}
	tests := []struct {
		name string
		err  error
		kind llm.Kind
	}{
		{"caller canceled", wrapURL(context.Canceled), llm.KindCanceled},
		{"deadline", wrapURL(context.DeadlineExceeded), llm.KindUpstreamTimeout},
		{"net timeout", wrapURL(timeoutErr{}), llm.KindUpstreamTimeout},
		{"refused", wrapURL(&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNREFUSED}), llm.KindUpstreamUnavailable},
		{"dial", wrapURL(dial), llm.KindUpstreamUnavailable},
		{"dns", wrapURL(&net.DNSError{Err: "no such host", Name: "secret-upstream.internal"}), llm.KindUpstreamUnavailable},
		{"reset", wrapURL(&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}), llm.KindUpstream},
		{"eof", wrapURL(io.ErrUnexpectedEOF), llm.KindUpstream},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := llm.AsError(TransportError("up", tt.err))
			if e.Kind != tt.kind {
				t.Errorf("Kind = %v, want %v", e.Kind, tt.kind)
			}
			if strings.Contains(e.PublicMessage(), "secret-upstream") {
				t.Errorf("public message leaks the address: %q", e.PublicMessage())
			}
			if !errors.Is(e, tt.err) || e.Provider != "up" {
				t.Errorf("cause not kept or provider unset: %v", e)
			}
		})
	}
	orig := llm.NewError(llm.KindUpstreamTimeout, "idle")
	if got := TransportError("up", fmt.Errorf("wrapped: %w", orig)); llm.AsError(got) != orig {
		t.Errorf("an *llm.Error was not kept: %v", got)
	}
}

// fieldsTest reads "type,code,param" from the body's first line.
func fieldsTest(body []byte) (typ, code, param string) {
	line, _, _ := strings.Cut(string(body), "\n")
	f := strings.SplitN(line, ",", 3)
	for len(f) < 3 {
		f = append(f, "")
	}
	return f[0], f[1], f[2]
}

// The upstream's type, code and param of a refused request survive, named
// as the upstream's protocol names them, unless they are not plain names or
// hold a secret; those of a failure of the upstream or of the gateway's
// credentials never do.
func TestErrorFromResponseRelaysFields(t *testing.T) {
	parse := ErrorParser{Protocol: "openai", Fields: fieldsTest}
	for _, tt := range []struct {
		name                  string
		status                int
		body                  string
		kind                  llm.Kind
		typ, code, param      string
		openaiType, openaiCod string
	}{
		{"400 param", 400, "invalid_request_error,invalid_value,temperature", llm.KindInvalidRequest,
			"invalid_request_error", "invalid_value", "temperature", "invalid_request_error", "invalid_value"},
		{"404", 404, "invalid_request_error,model_not_found,", llm.KindNotFound,
			"invalid_request_error", "model_not_found", "", "invalid_request_error", "model_not_found"},
		{"422 indexed param", 422, "invalid_request_error,,messages[0].content", llm.KindUnprocessable,
			"invalid_request_error", "", "messages[0].content", "invalid_request_error", "unprocessable_entity"},
		{"413", 413, "invalid_request_error,,", llm.KindTooLarge, "invalid_request_error", "", "", "invalid_request_error", "request_too_large"},
		{"not a name", 400, "bad type!,x y,<script>", llm.KindInvalidRequest, "", "", "", "invalid_request_error", "invalid_request_error"},
		{"secret", 400, "invalid_request_error," + plantedKey + ",p" + plantedKey, llm.KindInvalidRequest,
			"invalid_request_error", "", "", "invalid_request_error", "invalid_request_error"},
		{"too long", 400, strings.Repeat("a", 300) + ",c,p", llm.KindInvalidRequest, "", "c", "p", "invalid_request_error", "c"},
		{"401 not relayed", 401, "invalid_request_error,invalid_api_key,", llm.KindUpstream, "", "", "", "upstream_error", "upstream_error"},
		{"500 not relayed", 500, "server_error,,", llm.KindUpstream, "", "", "", "upstream_error", "upstream_error"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := llm.AsError(errorFromResponse("up", response(tt.status, tt.body, nil), parse, []string{plantedKey}))
			if e.Kind != tt.kind || e.UpstreamType != tt.typ || e.UpstreamCode != tt.code || e.Param != tt.param {
				t.Errorf("kind %v type %q code %q param %q, want %v %q %q %q", e.Kind, e.UpstreamType, e.UpstreamCode, e.Param,
					tt.kind, tt.typ, tt.code, tt.param)
			}
			if e.OpenAIType() != tt.openaiType || e.OpenAICode() != tt.openaiCod {
				t.Errorf("OpenAI type %q code %q, want %q %q", e.OpenAIType(), e.OpenAICode(), tt.openaiType, tt.openaiCod)
			}
			if e.AnthropicType() != tt.kind.AnthropicType() {
				t.Errorf("an OpenAI upstream's type reached an Anthropic client: %q", e.AnthropicType())
			}
		})
	}
}

// Every row of the status table gives a kind of the status class the
// upstream answered with, except a failure of the gateway's credentials or
// account, a conflict and an upstream's own timeout (408), which are the
// upstream's failures, not the client's.
func TestStatusMappings(t *testing.T) {
	rows := StatusMappings()
	if rows[len(rows)-1].Status != 0 {
		t.Fatal("the catch-all row is not last")
	}
	for _, m := range rows[:len(rows)-1] {
		got, up := m.Kind.Status()/100, m.Status/100
		switch m.Status {
		case 401, 402, 403, 408, 409:
			if got != 5 {
				t.Errorf("%d -> %d, want a 5xx", m.Status, m.Kind.Status())
			}
		default:
			if got != up {
				t.Errorf("%d -> %d: status class lost", m.Status, m.Kind.Status())
			}
		}
		if e := llm.AsError(ErrorFromResponse("up", response(m.Status, "", nil), nil)); e.Kind != m.Kind {
			t.Errorf("%d: kind %v, table says %v", m.Status, e.Kind, m.Kind)
		}
	}
}

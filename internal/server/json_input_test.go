package server

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// jsonGateway serves "gpt" and "gpt-expensive" from a fake OpenAI upstream
// and "claude" from a fake Anthropic one, behind a key that may use only
// "gpt" and "claude": enough to see a body read one way by the gateway and
// another by the upstream.
type jsonGateway struct {
	*testGateway
	ant *providertest.Anthropic
}

const jsonConfig = `
providers:
  - {name: fake-openai, type: openai, base_url: "${UPSTREAM}", api_key: sk-upstream-test}
  - {name: fake-anthropic, type: anthropic, base_url: "${ANTHROPIC}", api_key: sk-ant-upstream-test}
models:
  - {name: gpt, targets: [{provider: fake-openai, model: gpt-4o-mini}]}
  - {name: gpt-expensive, targets: [{provider: fake-openai, model: gpt-4o}]}
  - {name: claude, targets: [{provider: fake-anthropic, model: claude-haiku-4-5}]}
  - {name: claude-expensive, targets: [{provider: fake-anthropic, model: claude-opus-4-1}]}
keys:
  - {name: cheap, key: sk-cheap-key, models: [gpt, claude]}
`

func newJSONGateway(t *testing.T) *jsonGateway {
	t.Helper()
	up := providertest.NewOpenAI(t)
	ant := providertest.NewAnthropic(t)
	snap := compileConfig(t, jsonConfig, map[string]string{"UPSTREAM": up.URL, "ANTHROPIC": ant.URL}, gateway.Options{})
	logs := &syncBuffer{}
	srv := New(snap, slog.New(slog.NewJSONHandler(logs, nil)))
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &jsonGateway{testGateway: &testGateway{t: t, srv: srv, http: ts, up: up, logs: logs}, ant: ant}
}

func (g *jsonGateway) upstreamRequests() int { return len(g.up.Requests()) + len(g.ant.Requests()) }

// jsonRoute is a route that reads a JSON body, with a valid body for it
// into which a test splices its own values.
type jsonRoute struct {
	path      string
	anthropic bool
	// body is a valid request with %s where a test adds a field.
	body string
}

var jsonRoutes = []jsonRoute{
	{"/v1/chat/completions", false, `{"model":"gpt","messages":[{"role":"user","content":"hi"}]%s}`},
	{"/v1/messages", true, `{"model":"claude","max_tokens":10,"messages":[{"role":"user","content":"hi"}]%s}`},
	{"/v1/messages/count_tokens", true, `{"model":"claude","messages":[{"role":"user","content":"hi"}]%s}`},
	{"/v1/embeddings", false, `{"model":"gpt","input":"hi"%s}`},
}

// checkRefused checks a 400 in the route's error shape whose message
// contains want, and that no upstream was called.
func (g *jsonGateway) checkRefused(rt jsonRoute, resp *http.Response, body, want string) {
	g.t.Helper()
	if resp.StatusCode != http.StatusBadRequest {
		g.t.Fatalf("%s: status %d, want 400: %.300s", rt.path, resp.StatusCode, body)
	}
	msg := gjson.Get(body, "error.message").String()
	if rt.anthropic {
		if gjson.Get(body, "type").String() != "error" || gjson.Get(body, "error.type").String() != "invalid_request_error" {
			g.t.Fatalf("%s: not an Anthropic invalid_request_error: %.300s", rt.path, body)
		}
	} else if gjson.Get(body, "error.type").String() != "invalid_request_error" {
		g.t.Fatalf("%s: not an OpenAI invalid_request_error: %.300s", rt.path, body)
	}
	if !strings.Contains(msg, want) {
		g.t.Fatalf("%s: message %q does not say %q", rt.path, msg, want)
	}
	if len(body) > 2048 {
		g.t.Fatalf("%s: error body of %d bytes", rt.path, len(body))
	}
	if n := g.upstreamRequests(); n != 0 {
		g.t.Fatalf("%s: the upstream was called %d times for a refused body", rt.path, n)
	}
}

// A body nested deeper than the limit is a 400 naming the problem on every
// route that reads JSON, whatever the depth: ten million levels (a body of
// 10 MiB of '[') once killed the process with a stack overflow.
func TestDeepNestingIsRefusedOnEveryJSONRoute(t *testing.T) {
	deepField := `,"metadata":` + strings.Repeat(`{"a":`, 200) + `1` + strings.Repeat(`}`, 200)
	huge := strings.Repeat("[", 10<<20-1)
	for _, rt := range jsonRoutes {
		for name, body := range map[string]string{
			"10 MiB of [":      huge,
			"deep field":       fmt.Sprintf(rt.body, deepField),
			"deep array value": fmt.Sprintf(rt.body, `,"stop":`+strings.Repeat("[", 129)+strings.Repeat("]", 129)),
		} {
			t.Run(rt.path+"/"+name, func(t *testing.T) {
				g := newJSONGateway(t)
				resp, out := g.do("POST", rt.path, body, "Authorization", "Bearer sk-cheap-key", "anthropic-version", "2023-06-01")
				g.checkRefused(rt, resp, out, "nests deeper than 128 levels")
			})
		}
	}
}

// A body with a key twice, at any level and however it is escaped, is a
// 400: the gateway would check one value and the upstream read another.
func TestDuplicateKeysAreRefusedOnEveryJSONRoute(t *testing.T) {
	for _, rt := range jsonRoutes {
		model := "gpt"
		if rt.anthropic {
			model = "claude"
		}
		for name, extra := range map[string]string{
			"model twice":       `,"model":"` + model + `-expensive"`,
			"escaped model":     `,"mod\u0065l":"` + model + `-expensive"`,
			"stream twice":      `,"stream":false,"stream":true`,
			"nested":            `,"metadata":{"user_id":"a","user_id":"b"}`,
			"escaped in nested": `,"stream_options":{"include_usage":true,"include_\u0075sage":false}`,
		} {
			t.Run(rt.path+"/"+name, func(t *testing.T) {
				g := newJSONGateway(t)
				resp, out := g.do("POST", rt.path, fmt.Sprintf(rt.body, extra), "Authorization", "Bearer sk-cheap-key", "anthropic-version", "2023-06-01")
				g.checkRefused(rt, resp, out, "duplicate key")
			})
		}
	}
}

// What the gateway routed on is what the upstream reads: a body the gateway
// accepts, however its keys are escaped, reaches the upstream with the
// model the gateway chose and the stream flag the gateway saw, as a
// last-wins decoder (encoding/json, and most upstreams) reads it.
func TestGatewayAndUpstreamReadTheSameFields(t *testing.T) {
	for _, tt := range []struct {
		name, path, body string
		anthropic        bool
		wantModel        string
		wantStream       bool
	}{
		{"plain", "/v1/chat/completions", `{"model":"gpt","messages":[{"role":"user","content":"hi"}]}`, false, "gpt-4o-mini", false},
		{"escaped model key", "/v1/chat/completions", `{"mod\u0065l":"gpt","messages":[{"role":"user","content":"hi"}]}`, false, "gpt-4o-mini", false},
		{"escaped stream key", "/v1/chat/completions", `{"model":"gpt","\u0073tream":true,"messages":[{"role":"user","content":"hi"}]}`, false, "gpt-4o-mini", true},
		{"escaped model value", "/v1/chat/completions", `{"model":"g\u0070t","messages":[{"role":"user","content":"hi"}]}`, false, "gpt-4o-mini", false},
		{"anthropic escaped model key", "/v1/messages", `{"m\u006fdel":"claude","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, true, "claude-haiku-4-5", false},
		{"anthropic escaped stream key", "/v1/messages", `{"model":"claude","max_tokens":5,"stre\u0061m":true,"messages":[{"role":"user","content":"hi"}]}`, true, "claude-haiku-4-5", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := newJSONGateway(t)
			resp, out := g.do("POST", tt.path, tt.body, "Authorization", "Bearer sk-cheap-key", "anthropic-version", "2023-06-01")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, out)
			}
			reqs := g.up.Requests()
			if tt.anthropic {
				reqs = g.ant.Requests()
			}
			if len(reqs) != 1 {
				t.Fatalf("upstream saw %d requests", len(reqs))
			}
			var seen map[string]any // encoding/json keeps the last of duplicates
			if err := json.Unmarshal(reqs[0].Body, &seen); err != nil {
				t.Fatal(err)
			}
			if seen["model"] != tt.wantModel {
				t.Errorf("upstream read model %v, want %s; body %s", seen["model"], tt.wantModel, reqs[0].Body)
			}
			if stream, _ := seen["stream"].(bool); stream != tt.wantStream {
				t.Errorf("upstream read stream %v, want %v", seen["stream"], tt.wantStream)
			}
			if err := checkNoDuplicateKeys(reqs[0].Body); err != nil {
				t.Errorf("the upstream got a body with duplicate keys: %v\n%s", err, reqs[0].Body)
			}
		})
	}
}

func checkNoDuplicateKeys(b []byte) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return fmt.Errorf("not an object")
	}
	seen := map[string]bool{}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return err
		}
		if seen[k.(string)] {
			return fmt.Errorf("key %q twice", k)
		}
		seen[k.(string)] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
	}
	return nil
}

// An embeddings request takes at most 2,048 inputs, counted before the
// array is split: two million empty strings (an 8 MB body) once grew the
// process by 140 MB.
func TestEmbeddingsInputsAreBounded(t *testing.T) {
	g := newJSONGateway(t)
	rt := jsonRoutes[3]
	many := func(n int, elem string) string {
		return `{"model":"gpt","input":[` + strings.TrimSuffix(strings.Repeat(elem+",", n), ",") + `]}`
	}
	resp, out := g.do("POST", rt.path, many(2049, `"a"`), "Authorization", "Bearer sk-cheap-key")
	g.checkRefused(rt, resp, out, "at most 2048 inputs")
	if p := gjson.Get(out, "error.param").String(); p != "input" {
		t.Errorf("param %q, want input", p)
	}
	resp, out = g.do("POST", rt.path, many(8193, `1`), "Authorization", "Bearer sk-cheap-key")
	g.checkRefused(rt, resp, out, "at most 8192 token ids")

	body := many(2_000_000, `""`)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	resp, out = g.do("POST", rt.path, body, "Authorization", "Bearer sk-cheap-key")
	runtime.ReadMemStats(&after)
	g.checkRefused(rt, resp, out, "at most 2048 inputs")
	// The body itself is read (and copied once by the decoder); splitting it
	// into two million elements would cost 48 MB more.
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 6*uint64(len(body)) {
		t.Errorf("refusing %d bytes of inputs allocated %d bytes", len(body), grew)
	}

	resp, out = g.do("POST", rt.path, many(2048, `"a"`), "Authorization", "Bearer sk-cheap-key")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("2048 inputs: status %d: %.300s", resp.StatusCode, out)
	}
}

// The Anthropic fast path checks the shape of a request before forwarding
// it, like the OpenAI one: a malformed request is the gateway's 400 with
// the field in the message, and never reaches the upstream.
func TestMessagesShapeIsCheckedBeforeForwarding(t *testing.T) {
	rt := jsonRoutes[1]
	for _, tt := range []struct{ name, body, want string }{
		{"messages not an array", `{"model":"claude","max_tokens":5,"messages":{"role":"user"}}`, "messages"},
		{"message not an object", `{"model":"claude","max_tokens":5,"messages":["hi"]}`, "messages[0]"},
		{"bad role", `{"model":"claude","max_tokens":5,"messages":[{"role":"system","content":"x"}]}`, "messages[0].role"},
		{"no content", `{"model":"claude","max_tokens":5,"messages":[{"role":"user"}]}`, "messages[0].content"},
		{"content a number", `{"model":"claude","max_tokens":5,"messages":[{"role":"user","content":5}]}`, "messages[0].content"},
		{"no max_tokens", `{"model":"claude","messages":[{"role":"user","content":"x"}]}`, "max_tokens"},
		{"max_tokens a string", `{"model":"claude","max_tokens":"5","messages":[{"role":"user","content":"x"}]}`, "max_tokens"},
		{"temperature a string", `{"model":"claude","max_tokens":5,"temperature":"hot","messages":[{"role":"user","content":"x"}]}`, "temperature"},
		{"empty messages", `{"model":"claude","max_tokens":5,"messages":[]}`, "messages"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := newJSONGateway(t)
			resp, out := g.do("POST", rt.path, tt.body, "Authorization", "Bearer sk-cheap-key", "anthropic-version", "2023-06-01")
			g.checkRefused(rt, resp, out, tt.want)
		})
	}
}

// A client value quoted in a decoder's message is clipped: a megabyte of it
// does not come back whole.
func TestDecoderMessagesClipClientValues(t *testing.T) {
	huge := strings.Repeat("x", 1<<20)
	for _, tt := range []struct {
		rt    jsonRoute
		extra string
	}{
		{jsonRoutes[3], `,"encoding_format":"` + huge + `"`},
		{jsonRoutes[2], `,"temperature":1` + strings.Repeat("0", 1<<20)},
		{jsonRoutes[2], `,"tool_choice":{"type":"` + huge + `"}`},
	} {
		g := newJSONGateway(t)
		resp, out := g.do("POST", tt.rt.path, fmt.Sprintf(tt.rt.body, tt.extra), "Authorization", "Bearer sk-cheap-key", "anthropic-version", "2023-06-01")
		g.checkRefused(tt.rt, resp, out, "truncated")
	}
}

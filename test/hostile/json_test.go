package hostile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// jsonRoutes are the routes that take a JSON body, with a valid body's
// start for each: the nesting goes where a value is expected.
var jsonRoutes = []struct{ path, prefix string }{
	{"/v1/chat/completions", `{"model":"oa-ok","messages":`},
	{"/v1/messages", `{"model":"an-ok","max_tokens":16,"messages":`},
	{"/v1/messages/count_tokens", `{"model":"an-ok","messages":`},
	{"/v1/embeddings", `{"model":"oa-ok","input":`},
}

// TestDeepNesting: a body just under the size limit made of nothing but
// opening brackets, bare or inside a valid start, is a 400 that names the
// nesting on every JSON route, and the process lives on.
func TestDeepNesting(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, gatewayConfig(up.URL, "", true))
	const size = 10<<20 - 4096 // under the default 10 MiB limit
	type nestCase struct {
		name, path string
		body       []byte
	}
	var cases []nestCase
	for _, rt := range jsonRoutes {
		route := strings.TrimPrefix(rt.path, "/v1/")
		cases = append(cases,
			nestCase{route + "/arrays", rt.path, bytes.Repeat([]byte("["), size)},
			nestCase{route + "/in-a-field", rt.path, append([]byte(rt.prefix), bytes.Repeat([]byte("["), size-len(rt.prefix))...)})
	}
	chat := jsonRoutes[0]
	cases = append(cases,
		nestCase{"chat/completions/objects", chat.path, bytes.Repeat([]byte(`{"a":`), size/5)},
		// Deep but complete: refused as well, by the same bound.
		nestCase{"chat/completions/closed", chat.path, append(append([]byte(chat.prefix), bytes.Repeat([]byte("["), 100_000)...), append(bytes.Repeat([]byte("]"), 100_000), '}')...)})
	parent := t
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if g.dead() { // killed by an earlier case: each route is reported
				g = startGateway(parent, gatewayConfig(up.URL, "", true))
			}
			a := g.do("POST", c.path, c.body, auth(canaryVirtualKey)...)
			if a.err != nil {
				time.Sleep(200 * time.Millisecond) // let the exit be seen
			}
			g.alive(t)
			if a.err != nil {
				t.Fatalf("no answer: %v", a.err)
			}
			wantError(t, c.path, a, 400, "invalid_request_error")
			msg := gjson.GetBytes(a.body, "error.message").String()
			if m := strings.ToLower(msg); !strings.Contains(m, "nest") && !strings.Contains(m, "depth") {
				t.Errorf("the message does not name the nesting: %q", msg)
			}
			if len(a.body) > 2048 {
				t.Errorf("an error body of %d bytes", len(a.body))
			}
		})
	}
	g.finish(t)
}

// dupCase is a body with a duplicated key.
type dupCase struct {
	name, path, body string
}

// duplicateBodies: the keys that decide routing, access and the answer's
// form, duplicated plainly and through an escape that decoders unescape.
func duplicateBodies() []dupCase {
	msgs := `[{"role":"user","content":"hello"}]`
	var out []dupCase
	for _, r := range []struct{ name, path, prefix, extra string }{
		{"chat", "/v1/chat/completions", "oa-", ""},
		{"messages", "/v1/messages", "an-", `"max_tokens":16,`},
	} {
		out = append(out,
			dupCase{r.name + "/model", r.path, fmt.Sprintf(`{"model":"%sok",%s"messages":%s,"model":"oa-alt"}`, r.prefix, r.extra, msgs)},
			dupCase{r.name + "/escaped-model", r.path, fmt.Sprintf(`{"model":"%sok",%s"messages":%s,"mod\u0065l":"oa-alt"}`, r.prefix, r.extra, msgs)},
			dupCase{r.name + "/escaped-first", r.path, fmt.Sprintf(`{"mod\u0065l":"oa-alt",%s"messages":%s,"model":"%sok"}`, r.extra, msgs, r.prefix)},
			dupCase{r.name + "/stream", r.path, fmt.Sprintf(`{"model":"%sok",%s"stream":false,"messages":%s,"stream":true}`, r.prefix, r.extra, msgs)},
			dupCase{r.name + "/messages", r.path, fmt.Sprintf(`{"model":"%sok",%s"messages":%s,"messages":[{"role":"bogus","content":"x"}]}`, r.prefix, r.extra, msgs)},
			dupCase{r.name + "/messages-invalid-first", r.path, fmt.Sprintf(`{"model":"%sok",%s"messages":[{"role":"bogus","content":"x"}],"messages":%s}`, r.prefix, r.extra, msgs)},
		)
	}
	out = append(out,
		dupCase{"count_tokens/model", "/v1/messages/count_tokens", `{"model":"an-ok","messages":` + msgs + `,"model":"oa-alt"}`},
		dupCase{"count_tokens/escaped-model", "/v1/messages/count_tokens", `{"model":"an-ok","messages":` + msgs + `,"mod\u0065l":"oa-alt"}`},
		dupCase{"embeddings/model", "/v1/embeddings", `{"model":"oa-ok","input":"hi","model":"oa-alt"}`},
		dupCase{"embeddings/escaped-model", "/v1/embeddings", `{"model":"oa-ok","input":"hi","mod\u0065l":"oa-alt"}`},
		dupCase{"embeddings/input", "/v1/embeddings", `{"model":"oa-ok","input":"hi","input":"there"}`},
		dupCase{"chat/nested", "/v1/chat/completions", `{"model":"oa-ok","messages":[{"role":"user","content":"a","role":"system"}]}`},
	)
	return out
}

// TestDuplicateKeysRejected: a body with a duplicated key is a 400
// invalid_request_error on every JSON route: which of the two values counts
// is a guess the gateway and the upstream may make differently.
func TestDuplicateKeysRejected(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, gatewayConfig(up.URL, "", true))
	for _, c := range duplicateBodies() {
		t.Run(c.name, func(t *testing.T) {
			a := g.do("POST", c.path, []byte(c.body), auth(canaryVirtualKey)...)
			wantError(t, c.path, a, 400, "invalid_request_error")
			if shapeOf(c.path) == anthropicShape && a.status == 400 {
				if typ := gjson.GetBytes(a.body, "error.type").String(); typ != "invalid_request_error" {
					t.Errorf("error type %q, want invalid_request_error", typ)
				}
			}
		})
	}
	g.finish(t)
}

// TestDuplicateKeysDifferential: whatever the gateway does with a duplicated
// key, what it checked is what the upstream sees. An upstream written in Go
// decodes into a map, the last value winning. The key used may use model
// "oa-ok" and "an-ok" only; "oa-alt" is served by another provider. Either the request
// is refused (400), or the upstream received exactly what the gateway
// routed and checked: the model of the provider that served it, a stream
// if and only if the client got one, and well-formed messages; and since
// the upstream answers every sound request, no error after forwarding.
func TestDuplicateKeysDifferential(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, gatewayConfig(up.URL, "", true))
	for _, c := range duplicateBodies() {
		t.Run(c.name, func(t *testing.T) {
			before := len(up.requests())
			a := g.do("POST", c.path, []byte(c.body), auth(canaryOneModelKey)...)
			if a.err != nil {
				t.Fatal(a.err)
			}
			got := up.requests()[before:]
			if a.status == 400 {
				return
			}
			if len(got) == 0 {
				return // refused for the key or the model, or an estimate
			}
			if a.status != 200 {
				// The upstream answers every sound request: an error after
				// it was called means the two read different requests.
				t.Fatalf("answered %d after forwarding %s: %.300s", a.status, got[len(got)-1].Body, a.body)
			}
			var seen map[string]any
			if err := json.Unmarshal(got[len(got)-1].Body, &seen); err != nil {
				t.Fatalf("the upstream received invalid JSON: %v", err)
			}
			provider := a.header.Get("X-Llmgw-Provider")
			wantModel := map[string]string{"up-openai": modeOK, "up-anthropic": modeOK, "up-openai-alt": "alt"}[provider]
			if provider == "up-openai-alt" {
				t.Errorf("served by %s, for a key that may not use oa-alt", provider)
			}
			if seen["model"] != wantModel {
				t.Errorf("served by %s, but the upstream read model %v (want %q): %s", provider, seen["model"], wantModel, got[len(got)-1].Body)
			}
			gotStream := strings.HasPrefix(a.header.Get("Content-Type"), "text/event-stream")
			if upStream, _ := seen["stream"].(bool); upStream != gotStream {
				t.Errorf("the upstream read stream=%v, the client got a stream: %v", upStream, gotStream)
			}
			if msgs, ok := seen["messages"].([]any); ok {
				for _, m := range msgs {
					role, _ := m.(map[string]any)["role"].(string)
					if !slices.Contains([]string{"system", "developer", "user", "assistant", "tool"}, role) {
						t.Errorf("the upstream read a message with role %q the gateway would refuse", role)
					}
				}
			}
		})
	}
	g.finish(t)
}

package hostile

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/sse"
)

// answerBound is the longest any answer may take with the suite's timeouts
// (a few seconds), generous for a loaded machine.
const answerBound = 20 * time.Second

// maxRetryAfter is the most the gateway may tell a client to wait, whatever
// the upstream asked.
const maxRetryAfter = 60

// route is a client route and the upstream protocol behind it.
type route struct {
	name   string
	path   string
	prefix string // of the model names: "oa-" or "an-"
	stream bool
}

func (r route) body(mode string) []byte {
	model := r.prefix + mode
	switch r.path {
	case "/v1/embeddings":
		return []byte(fmt.Sprintf(`{"model":%q,"input":"hello there"}`, model))
	case "/v1/messages/count_tokens":
		return []byte(fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":"hello there"}]}`, model))
	case "/v1/messages":
		return []byte(fmt.Sprintf(`{"model":%q,"max_tokens":64,"stream":%t,"messages":[{"role":"user","content":"hello there"}]}`, model, r.stream))
	}
	return []byte(fmt.Sprintf(`{"model":%q,"stream":%t,"messages":[{"role":"user","content":"hello there"}]}`, model, r.stream))
}

// misbehaviourRoutes: each client protocol on the fast path (same protocol
// upstream) and translated, streamed and not, embeddings and count_tokens.
var misbehaviourRoutes = []route{
	{"chat-openai", "/v1/chat/completions", "oa-", false},
	{"chat-openai-stream", "/v1/chat/completions", "oa-", true},
	{"chat-anthropic", "/v1/chat/completions", "an-", false},
	{"chat-anthropic-stream", "/v1/chat/completions", "an-", true},
	{"messages-anthropic", "/v1/messages", "an-", false},
	{"messages-anthropic-stream", "/v1/messages", "an-", true},
	{"messages-openai", "/v1/messages", "oa-", false},
	{"messages-openai-stream", "/v1/messages", "oa-", true},
	{"embeddings", "/v1/embeddings", "oa-", false},
	{"count_tokens", "/v1/messages/count_tokens", "an-", false},
}

// wantStatuses is what each mode may be answered with when it happens
// before anything was written: the first is the one to expect, the others
// are as honest (an overlong or never-ending body cut by size or by time:
// on a loaded machine 10 MiB may not arrive within the first-token bound).
var wantStatuses = map[string][]int{
	modeOK:        {200},
	modeEcho:      {502, 400},
	modeEcho400:   {400},
	modeEchoMid:   {502, 400},
	modeBinary:    {502},
	modeSSE:       {502},
	modeTruncated: {502},
	modeHugeLine:  {502, 504},
	modeEndless:   {502, 504},
	modeDrip:      {504, 502},
	modeHang:      {504},
	mode429:       {429, 503},
}

// TestUpstreamMisbehaviour sends every route to every upstream
// misbehaviour and checks the answer, its time, that no secret leaks
// anywhere, and that the process gets back to its resting goroutines and
// file descriptors.
func TestUpstreamMisbehaviour(t *testing.T) {
	t.Parallel()
	up := newUpstream(t)
	g := startGateway(t, gatewayConfig(up.URL, "", true))
	for _, r := range misbehaviourRoutes {
		a := g.do("POST", r.path, r.body(modeOK), auth(canaryVirtualKey)...)
		if a.status != 200 {
			t.Fatalf("%s to a sound upstream: %d %s", r.name, a.status, a.body)
		}
	}
	base := g.baseline(t)
	// The requests run at once, as their slow upstreams would have it; the
	// answers are checked after.
	type result struct {
		r    route
		mode string
		a    answer
	}
	var results []*result
	for _, mode := range allModes {
		for _, r := range misbehaviourRoutes {
			if r.stream && mode == modeSSE {
				continue // a stream is what was asked for
			}
			results = append(results, &result{r: r, mode: mode})
		}
	}
	// Two rounds, so that what each request would leave behind adds up
	// past the slack of the baseline check.
	for round := range 2 {
		var wg sync.WaitGroup
		for _, res := range results {
			wg.Go(func() { res.a = g.do("POST", res.r.path, res.r.body(res.mode), auth(canaryVirtualKey)...) })
		}
		wg.Wait()
		for _, res := range results {
			t.Run(fmt.Sprintf("%s/%s/%d", res.mode, res.r.name, round), func(t *testing.T) { checkMisbehaviour(t, res.r, res.mode, res.a) })
		}
	}
	g.alive(t)
	g.settles(t, base, 8, 30*time.Second)
	g.finish(t)
}

// checkMisbehaviour checks one answer to a request whose upstream
// misbehaved in mode.
func checkMisbehaviour(t *testing.T, r route, mode string, a answer) {
	t.Helper()
	if a.err != nil {
		t.Fatalf("no answer after %v: %v", a.elapsed, a.err)
	}
	if a.elapsed > answerBound {
		t.Errorf("answered after %v, bound %v", a.elapsed, answerBound)
	}
	noCanaryIn(t, "the answer", a)
	checkRetryAfter(t, a)
	want := wantStatuses[mode]
	if r.path == "/v1/messages/count_tokens" && mode != modeOK {
		// A count is advice: an upstream that fails leaves the estimate.
		want = append([]int{200}, want...)
	}
	if a.status == 200 && strings.HasPrefix(a.header.Get("Content-Type"), "text/event-stream") {
		if !r.stream {
			t.Fatalf("a stream for a request that asked for none: %.300s", a.body)
		}
		// Once a stream has begun, failure is an in-band error event.
		ok := mode == modeOK
		checkStreamEnd(t, r.path, a.body, ok)
		return
	}
	if !slices.Contains(want, a.status) {
		t.Fatalf("status %d, want one of %v: %.500s", a.status, want, a.body)
	}
	if a.status == 200 {
		if !gjson.ValidBytes(a.body) {
			t.Errorf("200 with a body that is not JSON: %.300q", a.body)
		}
		return
	}
	code := errorShape(t, r.path, a)
	if shapeOf(r.path) == openaiShape {
		wantCode := map[int]string{502: "upstream_error", 504: "upstream_timeout", 503: "upstream_unavailable", 429: "rate_limit_exceeded"}[a.status]
		if wantCode != "" && code != wantCode {
			t.Errorf("status %d with code %q, want %q", a.status, code, wantCode)
		}
	}
}

// checkRetryAfter: a Retry-After is a number of seconds no larger than the
// cap.
func checkRetryAfter(t *testing.T, a answer) {
	t.Helper()
	v := a.header.Get("Retry-After")
	if v == "" {
		return
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > maxRetryAfter {
		t.Errorf("Retry-After %q, want seconds up to %d", v, maxRetryAfter)
	}
}

// checkStreamEnd checks the end of a stream: the protocol's end marker
// when complete, else an in-band error event and no end marker.
func checkStreamEnd(t *testing.T, path string, body []byte, complete bool) {
	t.Helper()
	evs := readEvents(t, body)
	if len(evs) == 0 {
		t.Fatalf("a stream with no event")
	}
	last := evs[len(evs)-1]
	if path == "/v1/messages" {
		ended := slices.ContainsFunc(evs, func(e event) bool { return e.typ == "message_stop" })
		if complete {
			if !ended || last.typ != "message_stop" {
				t.Errorf("stream did not end with message_stop: %.500s", body)
			}
			return
		}
		if ended || last.typ != "error" || gjson.Get(last.data, "error.type").String() == "" {
			t.Errorf("a broken stream must end with an error event and no message_stop: %.500s", tail(string(body), 500))
		}
		return
	}
	done := slices.ContainsFunc(evs, func(e event) bool { return e.data == "[DONE]" })
	if complete {
		if !done || last.data != "[DONE]" {
			t.Errorf("stream did not end with [DONE]: %.500s", body)
		}
		return
	}
	if done || !gjson.Get(last.data, "error.message").Exists() {
		t.Errorf("a broken stream must end with an error event and no [DONE]: %.500s", tail(string(body), 500))
	}
}

// event is one Server-Sent Event.
type event struct{ typ, data string }

func readEvents(t *testing.T, body []byte) []event {
	t.Helper()
	r := sse.NewReader(bytes.NewReader(body), 16<<20)
	var out []event
	for {
		ev, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Errorf("the stream is not valid SSE: %v: %.300q", err, tail(string(body), 300))
			return out
		}
		out = append(out, event{ev.Type, string(ev.Data)})
	}
}

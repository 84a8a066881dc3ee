package server

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/ledger"
	"github.com/llmgw/llmgw/internal/protocol/openai"
	"github.com/llmgw/llmgw/internal/provider/providertest"
	"github.com/llmgw/llmgw/internal/store"
	"github.com/llmgw/llmgw/internal/store/sqlite"
	"github.com/llmgw/llmgw/internal/tokens"
)

// cutWords are the content deltas of cutStream's upstream answer.
var cutWords = strings.Fields("The quick brown fox jumps over the lazy dog while the gateway counts every word it relays to a client that will not stay for the end")

// cutReported is the usage the upstream reports at the end of the answer.
const cutPrompt, cutCompletion = 21, 50

// cutSSE is an OpenAI chat stream of cutWords, and the offset after the
// role event and the first shown content events.
func cutSSE(shown int) (sse []byte, after int) {
	const head = `{"id":"chatcmpl-cut","object":"chat.completion.chunk","created":1764000000,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":`
	var b strings.Builder
	fmt.Fprintf(&b, "data: %s{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n", head)
	for i, w := range cutWords {
		if i == shown {
			after = b.Len()
		}
		fmt.Fprintf(&b, "data: %s{\"content\":\"%s \"},\"finish_reason\":null}]}\n\n", head, w)
	}
	fmt.Fprintf(&b, "data: %s{},\"finish_reason\":\"stop\"}]}\n\n", head)
	fmt.Fprintf(&b, "data: {\"id\":\"chatcmpl-cut\",\"object\":\"chat.completion.chunk\",\"created\":1764000000,\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[],\"usage\":{\"prompt_tokens\":%d,\"completion_tokens\":%d,\"total_tokens\":%d}}\n\n",
		cutPrompt, cutCompletion, cutPrompt+cutCompletion)
	b.WriteString("data: [DONE]\n\n")
	return []byte(b.String()), after
}

// ledgerGateway is a test gateway on pricedConfig whose usage records go
// through the ledger writer into a real SQLite store.
func ledgerGateway(t *testing.T) (*testGateway, *sqlite.Store) {
	t.Helper()
	w, st := sqliteLedger(t)
	g := newGateway(t, pricedConfig, nil)
	g.srv.Swap(compileConfig(t, pricedConfig, map[string]string{"UPSTREAM": g.up.URL}, gateway.Options{Ledger: w}))
	return g, st
}

// sqliteLedger is a ledger writer into a real SQLite store.
func sqliteLedger(t *testing.T) (*ledger.Writer, *sqlite.Store) {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "llmgw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w, err := ledger.Open(ledger.Options{Store: st.Ledger(), SpoolPath: filepath.Join(dir, "spool"), FlushInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close(context.Background()) })
	return w, st
}

// oneRecord waits for the ledger's only record.
func oneRecord(t *testing.T, st *sqlite.Store) store.UsageRecord {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		page, err := st.Ledger().Scan(t.Context(), time.Now().Add(-time.Hour), time.Now().Add(time.Hour), store.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) > 1 {
			t.Fatalf("%d records, want 1: %+v", len(page.Items), page.Items)
		}
		if len(page.Items) == 1 {
			return page.Items[0]
		}
		if time.Now().After(deadline) {
			t.Fatal("no usage record")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// readEvents opens a stream and reads n data events of it, then returns
// the response, whose body the caller closes or reads on.
func readEvents(t *testing.T, g *testGateway, path, body string, n int, headers ...string) (*http.Response, *bufio.Reader) {
	t.Helper()
	req, err := http.NewRequest("POST", g.http.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		resp.Body.Close()
		t.Fatalf("status %d", resp.StatusCode)
	}
	r := bufio.NewReader(resp.Body)
	for seen := 0; seen < n; {
		line, err := r.ReadString('\n')
		if err != nil {
			resp.Body.Close()
			t.Fatalf("after %d events: %v", seen, err)
		}
		if strings.HasPrefix(line, "data: ") {
			seen++
		}
	}
	return resp, r
}

const cutRequest = `{"model":"gpt","stream":true,"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Tell me about a fox and a dog, at length."}]}`

// A stream the client cuts short, before the upstream has reported usage,
// is billed for what it delivered: the prompt as the gateway counts it,
// the output as the count of the text the client was sent, priced, and
// marked as estimated. On the forwarding fast path (raw upstream bytes)
// and translated to an Anthropic client (decoded chunks) alike.
func TestCutStreamBilledForWhatWasDelivered(t *testing.T) {
	const shown = 7
	sse, after := cutSSE(shown)
	delivered := strings.Join(cutWords[:shown], " ") + " "
	wantOut, _ := tokens.CountText(delivered, "openai", "gpt-4o-mini")
	req, err := openai.DecodeChatRequest([]byte(cutRequest))
	if err != nil {
		t.Fatal(err)
	}
	wantIn, _ := tokens.Count(req, "openai", "gpt-4o-mini")
	for _, tc := range []struct {
		name, path, body string
		events           int // data events the client reads before it goes
		headers          []string
	}{
		{"openai fast path", "/v1/chat/completions", cutRequest, 1 + shown, nil},
		// message_start, then per word a block start or a delta.
		{"anthropic client", "/v1/messages",
			`{"model":"gpt","stream":true,"max_tokens":500,"system":"Be brief.","messages":[{"role":"user","content":"Tell me about a fox and a dog, at length."}]}`,
			2 + shown, []string{"anthropic-version", "2023-06-01"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, st := ledgerGateway(t)
			hold := make(chan struct{})
			defer close(hold)
			g.up.Enqueue(providertest.Response{SSE: sse, Hold: hold, HoldAfter: after})
			resp, _ := readEvents(t, g, tc.path, tc.body, tc.events, tc.headers...)
			resp.Body.Close()
			u := oneRecord(t, st)
			if !u.UsageEstimated || u.Status != 200 || !u.Stream {
				t.Fatalf("record of a cut stream not marked estimated: %+v", u)
			}
			if u.OutputTokens != int64(wantOut) || wantOut == 0 {
				t.Errorf("output tokens %d, want %d (the count of %q)", u.OutputTokens, wantOut, delivered)
			}
			if tc.path == "/v1/chat/completions" && u.InputTokens != int64(wantIn) {
				t.Errorf("input tokens %d, want %d (the gateway's count of the prompt)", u.InputTokens, wantIn)
			}
			if u.InputTokens <= 0 {
				t.Errorf("input tokens %d", u.InputTokens)
			}
			if want := u.InputTokens*150_000 + u.OutputTokens*600_000; !u.CostKnown || u.CostPico != want || want == 0 {
				t.Errorf("cost %d (known %t), want %d", u.CostPico, u.CostKnown, want)
			}
		})
	}
}

// A stream whose upstream is cut short is billed the same way: what the
// client was sent before the cut.
func TestUpstreamCutStreamBilledForWhatWasDelivered(t *testing.T) {
	const shown = 5
	sse, after := cutSSE(shown)
	delivered := strings.Join(cutWords[:shown], " ") + " "
	wantOut, _ := tokens.CountText(delivered, "openai", "gpt-4o-mini")
	g, st := ledgerGateway(t)
	g.up.Enqueue(providertest.Response{SSE: sse[:after], HangUp: true})
	resp, body := g.do("POST", "/v1/chat/completions", cutRequest)
	if resp.StatusCode != 200 || strings.Contains(body, "[DONE]") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	u := oneRecord(t, st)
	if !u.UsageEstimated || u.OutputTokens != int64(wantOut) || u.InputTokens <= 0 || u.CostPico <= 0 {
		t.Fatalf("record %+v, want %d output tokens, estimated", u, wantOut)
	}
}

// A stream that completes keeps the upstream's numbers, and is not marked
// estimated.
func TestCompleteStreamKeepsReportedUsage(t *testing.T) {
	sse, _ := cutSSE(0)
	g, st := ledgerGateway(t)
	g.up.Enqueue(providertest.Response{SSE: sse})
	resp, body := g.do("POST", "/v1/chat/completions", cutRequest)
	if resp.StatusCode != 200 || !strings.Contains(body, "[DONE]") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	u := oneRecord(t, st)
	if u.UsageEstimated || u.InputTokens != cutPrompt || u.OutputTokens != cutCompletion ||
		u.CostPico != cutPrompt*150_000+cutCompletion*600_000 {
		t.Fatalf("record %+v, want the upstream's %d and %d tokens, not estimated", u, cutPrompt, cutCompletion)
	}
}

// anthropicCutConfig routes "claude" to a fake Anthropic upstream, priced.
const anthropicCutConfig = `
providers:
  - {name: fake-anthropic, type: anthropic, base_url: "${ANTHROPIC}", api_key: sk-ant-test}
models:
  - {name: claude, targets: [{provider: fake-anthropic, model: claude-haiku-4-5}]}
pricing:
  - {provider: fake-anthropic, model: claude-haiku-4-5, input_per_mtok: 1, output_per_mtok: 5}
`

// An upstream that reports usage as it goes (Anthropic: the input, and
// barely any output, in message_start) keeps what it reported: the input
// is its count, not the gateway's; the output it reported before the text
// it counts is raised to the count of what was delivered.
func TestCutStreamKeepsReportedCounts(t *testing.T) {
	const shown = 6
	var b strings.Builder
	b.WriteString("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_cut\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-haiku-4-5\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":40,\"output_tokens\":1}}}\n\n")
	b.WriteString("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n")
	after := 0
	for i, w := range cutWords {
		if i == shown {
			after = b.Len()
		}
		fmt.Fprintf(&b, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"%s \"}}\n\n", w)
	}
	b.WriteString("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n")
	b.WriteString("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":33}}\n\n")
	b.WriteString("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
	delivered := strings.Join(cutWords[:shown], " ") + " "
	wantOut, _ := tokens.CountText(delivered, "anthropic", "claude-haiku-4-5")

	ant := providertest.NewAnthropic(t)
	w, st := sqliteLedger(t)
	g := newGateway(t, anthropicCutConfig, map[string]string{"ANTHROPIC": ant.URL})
	g.srv.Swap(compileConfig(t, anthropicCutConfig, map[string]string{"ANTHROPIC": ant.URL}, gateway.Options{Ledger: w}))
	hold := make(chan struct{})
	defer close(hold)
	ant.Enqueue(providertest.Response{SSE: []byte(b.String()), Hold: hold, HoldAfter: after})
	// message_start, content_block_start, then the shown deltas.
	resp, _ := readEvents(t, g, "/v1/messages", `{"model":"claude","stream":true,"max_tokens":500,"messages":[{"role":"user","content":"Tell me about a fox."}]}`,
		2+shown, "anthropic-version", "2023-06-01")
	resp.Body.Close()
	u := oneRecord(t, st)
	if !u.UsageEstimated || u.InputTokens != 40 || u.OutputTokens != int64(wantOut) || wantOut <= 1 {
		t.Fatalf("record %+v: want the reported 40 input tokens, %d output tokens (the delivered text's count), estimated", u, wantOut)
	}
	if want := u.InputTokens*1_000_000 + u.OutputTokens*5_000_000; u.CostPico != want {
		t.Errorf("cost %d, want %d", u.CostPico, want)
	}
}

package mistral

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
	"go.uber.org/goleak"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
	)
}

const testKey = "mistral-test-key-0123456789abcdef"

func newProvider(t *testing.T, f *providertest.Mistral) *Provider {
	t.Helper()
	p, err := New(Config{Name: "mi", BaseURL: f.URL, APIKey: testKey, StreamIdleTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ptr[T any](v T) *T { return &v }

func userText(s string) llm.Message {
	return llm.Message{Role: llm.RoleUser, Content: []llm.Part{{Type: llm.PartText, Text: s}}}
}

// collect reads a stream to its end and returns its text, finish reason
// and error.
func collect(t *testing.T, s llm.Stream) (text string, finish llm.FinishReason, err error) {
	t.Helper()
	defer s.Close()
	for {
		c, err := s.Recv()
		if err == io.EOF {
			return text, finish, nil
		}
		if err != nil {
			return text, finish, err
		}
		for _, ch := range c.Choices {
			text += ch.Message.Text()
			if ch.FinishReason != "" {
				finish = ch.FinishReason
			}
		}
	}
}

func TestNewDefaultsAndRefusals(t *testing.T) {
	p, err := New(Config{Name: "mi"})
	if err != nil {
		t.Fatal(err)
	}
	if p.chatURL != DefaultBaseURL+"/chat/completions" || p.embedURL != DefaultBaseURL+"/embeddings" {
		t.Errorf("urls %q %q", p.chatURL, p.embedURL)
	}
	if _, err := New(Config{}); err == nil {
		t.Error("no name accepted")
	}
	if _, err := New(Config{Name: "mi", BaseURL: "api.mistral.ai/v1"}); err == nil {
		t.Error("relative base URL accepted")
	}
}

// The request goes to /chat/completions with the key as a bearer token, in
// the form Mistral's schema takes: random_seed for the seed, max_tokens for
// the cap, no stream_options, and no field it does not list.
func TestRequestInMistralsWords(t *testing.T) {
	f := providertest.NewMistral(t)
	p := newProvider(t, f)
	rep := llm.NewParamReport(false)
	ctx := llm.WithParamReport(context.Background(), rep)
	req := &llm.ChatRequest{
		Model: "mistral-small-latest", Messages: []llm.Message{userText("hello there")},
		MaxCompletionTokens: ptr(100), Seed: ptr(int64(42)), User: "u-1", TopK: ptr(5),
		Logprobs: ptr(true), ReasoningEffort: "medium", Stream: true, IncludeUsage: true,
	}
	s, err := p.Chat(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	text, finish, err := collect(t, s)
	if err != nil || text != "hello there" || finish != llm.FinishStop {
		t.Fatalf("text %q finish %q err %v", text, finish, err)
	}
	if u := s.Usage(); u.PromptTokens == 0 || u.CompletionTokens != 2 {
		t.Errorf("usage %+v", u)
	}
	r := f.Requests()[0]
	if r.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer "+testKey {
		t.Errorf("path %q auth %q", r.Path, r.Header.Get("Authorization"))
	}
	up := gjson.ParseBytes(r.Body)
	if up.Get("random_seed").Int() != 42 || up.Get("max_tokens").Int() != 100 {
		t.Errorf("body %s", r.Body)
	}
	for _, k := range []string{"seed", "max_completion_tokens", "stream_options", "user", "top_k", "logprobs", "reasoning_effort"} {
		if up.Get(k).Exists() {
			t.Errorf("upstream got %s: %s", k, r.Body)
		}
	}
	if got := strings.Join(rep.Dropped(), ","); got != "top_k,logprobs,user,reasoning_effort" {
		t.Errorf("dropped %q", got)
	}
	if req.Seed == nil || req.MaxCompletionTokens == nil || req.User == "" {
		t.Error("the caller's request was modified")
	}
}

// Under server.unsupported_params: refuse, a field Mistral has no
// equivalent for is an error naming it, and nothing goes upstream.
func TestRefusedField(t *testing.T) {
	f := providertest.NewMistral(t)
	p := newProvider(t, f)
	ctx := llm.WithParamReport(context.Background(), llm.NewParamReport(true))
	_, err := p.Chat(ctx, &llm.ChatRequest{Model: "m", Messages: []llm.Message{userText("x")}, User: "u"})
	if e := llm.AsError(err); e == nil || e.Kind != llm.KindInvalidRequest || e.Param != "user" {
		t.Fatalf("error %v", err)
	}
	if n := len(f.Requests()); n != 0 {
		t.Errorf("%d requests reached the upstream", n)
	}
}

// An OpenAI client's extra members go upstream only when Mistral's schema
// has them.
func TestExtraMembers(t *testing.T) {
	f := providertest.NewMistral(t)
	p := newProvider(t, f)
	rep := llm.NewParamReport(false)
	req := &llm.ChatRequest{Model: "m", Messages: []llm.Message{userText("x")}, ExtraProtocol: "openai",
		Extra: map[string]json.RawMessage{"safe_prompt": json.RawMessage("true"), "store": json.RawMessage("true")}}
	s, err := p.Chat(llm.WithParamReport(context.Background(), rep), req)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	up := gjson.ParseBytes(f.Requests()[0].Body)
	if !up.Get("safe_prompt").Bool() || up.Get("store").Exists() {
		t.Errorf("body %s", up.Raw)
	}
	if got := strings.Join(rep.Dropped(), ","); got != "store" {
		t.Errorf("dropped %q", got)
	}
}

func TestToolCallID(t *testing.T) {
	for _, id := range []string{"call_abc123", "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "", "x", "ééééééééé"} {
		got := ToolCallID(id)
		if !ValidToolCallID(got) {
			t.Errorf("ToolCallID(%q) = %q, not valid", id, got)
		}
		if ToolCallID(id) != got {
			t.Errorf("ToolCallID(%q) not deterministic", id)
		}
	}
	if ToolCallID("D681PevKs") != "D681PevKs" {
		t.Error("a valid id was changed")
	}
	if ToolCallID("call_a") == ToolCallID("call_b") {
		t.Error("two ids collide")
	}
	for _, id := range []string{"D681PevK", "D681PevKs1", "D681Pev_s"} {
		if ValidToolCallID(id) {
			t.Errorf("%q valid", id)
		}
	}
}

// A conversation with tool calls whose ids Mistral refuses reaches it
// (the fake refuses such ids as Mistral does) with the call and its result
// still paired; the caller's messages are not modified.
func TestToolCallIDsRewritten(t *testing.T) {
	f := providertest.NewMistral(t)
	p := newProvider(t, f)
	msgs := []llm.Message{
		userText("weather?"),
		{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "call_abc123", Type: "function", Name: "get_weather", Arguments: `{"location":"Paris"}`}}},
		{Role: llm.RoleTool, ToolCallID: "call_abc123", Content: []llm.Part{{Type: llm.PartText, Text: "18C"}}},
	}
	s, err := p.Chat(context.Background(), &llm.ChatRequest{Model: "m", Messages: msgs})
	if err != nil {
		t.Fatal(err)
	}
	text, _, err := collect(t, s)
	if err != nil || text != "18C" {
		t.Fatalf("text %q err %v", text, err)
	}
	up := gjson.ParseBytes(f.Requests()[0].Body)
	call, result := up.Get("messages.1.tool_calls.0.id").Str, up.Get("messages.2.tool_call_id").Str
	if call != ToolCallID("call_abc123") || result != call {
		t.Errorf("call id %q, result id %q", call, result)
	}
	if msgs[1].ToolCalls[0].ID != "call_abc123" || msgs[2].ToolCallID != "call_abc123" {
		t.Error("the caller's messages were modified")
	}
}

func chat(t *testing.T, resp providertest.Response, stream bool) (string, llm.FinishReason, error) {
	t.Helper()
	f := providertest.NewMistral(t)
	f.Enqueue(resp)
	s, err := newProvider(t, f).Chat(context.Background(), &llm.ChatRequest{Model: "m", Messages: []llm.Message{userText("x")}, Stream: stream})
	if err != nil {
		return "", "", err
	}
	return collect(t, s)
}

// model_length is a length stop; error is an upstream error, unary or
// streamed, never a complete answer.
func TestFinishReasons(t *testing.T) {
	text := providertest.Load(t, "mistral/chat_text.json")
	sse := providertest.Load(t, "mistral/stream_text.sse")
	for _, stream := range []bool{false, true} {
		r := providertest.Response{Body: bytes.Replace(text, []byte(`"finish_reason":"stop"`), []byte(`"finish_reason":"model_length"`), 1)}
		if stream {
			r = providertest.Response{SSE: bytes.Replace(sse, []byte(`"finish_reason":"stop"`), []byte(`"finish_reason":"model_length"`), 1)}
		}
		if _, finish, err := chat(t, r, stream); err != nil || finish != llm.FinishLength {
			t.Errorf("stream %v: model_length gave %q, %v", stream, finish, err)
		}
	}
	_, _, err := chat(t, providertest.Response{Body: bytes.Replace(text, []byte(`"finish_reason":"stop"`), []byte(`"finish_reason":"error"`), 1)}, false)
	if e := llm.AsError(err); e == nil || e.Kind != llm.KindUpstream || e.Provider != "mi" {
		t.Errorf("unary finish error: %v", err)
	}
	got, _, err := chat(t, providertest.Response{SSE: providertest.Load(t, "mistral/stream_error_finish.sse")}, true)
	if e := llm.AsError(err); e == nil || e.Kind != llm.KindUpstream || got != "The answer" {
		t.Errorf("stream finish error: text %q, %v", got, err)
	}
}

// Content as chunks: text chunks are the answer, thinking chunks the
// reasoning; object arguments are taken as their JSON text.
func TestContentChunksAndObjectArguments(t *testing.T) {
	f := providertest.NewMistral(t)
	f.Enqueue(providertest.Response{Body: providertest.Load(t, "mistral/chat_thinking.json")})
	s, err := newProvider(t, f).Chat(context.Background(), &llm.ChatRequest{Model: "m", Messages: []llm.Message{userText("x")}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Recv()
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	m := c.Choices[0].Message
	var thinking string
	for _, p := range m.Content {
		if p.Type == llm.PartThinking {
			thinking += p.Text
		}
	}
	if m.Text() != "Nine is odd." || thinking != "Nine is 4 * 2 + 1, so it is odd." {
		t.Errorf("text %q thinking %q", m.Text(), thinking)
	}
	body := `{"id":"a","object":"chat.completion","model":"m","created":1,"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2},` +
		`"choices":[{"index":0,"message":{"role":"assistant","content":"","tool_calls":[{"id":"D681PevKs","function":{"name":"f","arguments":{"a":1}}}]},"finish_reason":"tool_calls"}]}`
	f.Enqueue(providertest.Response{Body: []byte(body)})
	s, err = newProvider(t, f).Chat(context.Background(), &llm.ChatRequest{Model: "m", Messages: []llm.Message{userText("x")}})
	if err != nil {
		t.Fatal(err)
	}
	c, _ = s.Recv()
	s.Close()
	if tc := c.Choices[0].Message.ToolCalls; len(tc) != 1 || tc[0].Arguments != `{"a":1}` || tc[0].ID != "D681PevKs" {
		t.Errorf("tool calls %+v", tc)
	}
}

// Mistral's error bodies, the error object and FastAPI's 422, give the
// client the upstream's message with the key redacted, and the status.
func TestErrorBodies(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		msg    string
		kind   llm.Kind
	}{
		{429, string(providertest.Load(t, "mistral/error_429.json")), "", llm.KindRateLimited},
		{400, `{"object":"error","message":"bad key ` + testKey + `","type":"invalid_request_error","param":null,"code":"3051"}`, "bad key [redacted]", llm.KindInvalidRequest},
		{422, string(providertest.Load(t, "mistral/error_422.json")), "body.temperature: Input should be less than or equal to 1.5", llm.KindUnprocessable},
	} {
		_, _, err := chat(t, providertest.Response{Status: tc.status, Body: []byte(tc.body)}, false)
		e := llm.AsError(err)
		if e == nil || e.Kind != tc.kind || !strings.Contains(e.PublicMessage(), tc.msg) || strings.Contains(e.Error(), testKey) {
			t.Errorf("%d: %#v", tc.status, e)
		}
	}
}

// A 200 body that is no chat completion, or is Mistral's error object, is
// an upstream error, never a success.
func TestHostile200(t *testing.T) {
	for name, body := range map[string]string{
		"junk":           "\x00\x01 garbage",
		"no choices":     `{"id":"x","object":"chat.completion"}`,
		"error object":   `{"object":"error","message":"boom ` + testKey + `","type":"internal","param":null,"code":"1000"}`,
		"two objects":    `{"choices":[]}{"choices":[]}`,
		"deeply nested":  strings.Repeat("[", 1_000_000),
		"truncated":      `{"id":"x","choices":[{"index":0,"message":{"content":"Hel`,
		"finish unknown": `{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"a"},"finish_reason":"error"}]}`,
	} {
		_, _, err := chat(t, providertest.Response{Body: []byte(body)}, false)
		e := llm.AsError(err)
		if e == nil || e.Kind != llm.KindUpstream || e.Status() != http.StatusBadGateway || strings.Contains(e.Error(), testKey) {
			t.Errorf("%s: %#v", name, e)
		}
	}
	// Mistral's error object is its error: the message is relayed, the key
	// redacted from it.
	_, _, err := chat(t, providertest.Response{Body: []byte(`{"object":"error","message":"boom ` + testKey + `","type":"internal","param":null,"code":"1000"}`)}, false)
	if e := llm.AsError(err); e == nil || e.Message != "boom [redacted]" {
		t.Errorf("error object: %#v", e)
	}
	// A stream cut short, or ended without [DONE], is an error.
	if _, _, err := chat(t, providertest.Response{SSE: providertest.Load(t, "mistral/stream_truncated.sse"), HangUp: true}, true); err == nil {
		t.Error("truncated stream passed as complete")
	}
	sse := providertest.Load(t, "mistral/stream_text.sse")
	if _, _, err := chat(t, providertest.Response{SSE: bytes.TrimSuffix(sse, []byte("data: [DONE]\n\n"))}, true); err == nil {
		t.Error("stream without [DONE] passed as complete")
	}
}

// A stream the client gives up on is closed upstream at once.
func TestCancelMidStream(t *testing.T) {
	f := providertest.NewMistral(t)
	hold := make(chan struct{})
	defer close(hold)
	sse := providertest.Load(t, "mistral/stream_text.sse")
	f.Enqueue(providertest.Response{SSE: sse, Hold: hold, HoldAfter: bytes.Index(sse, []byte("\n\n")) + 2})
	ctx, cancel := context.WithCancel(context.Background())
	s, err := newProvider(t, f).Chat(ctx, &llm.ChatRequest{Model: "m", Messages: []llm.Message{userText("x")}, Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recv(); err != nil {
		t.Fatal(err)
	}
	cancel()
	s.Close()
	select {
	case <-f.Canceled():
	case <-time.After(5 * time.Second):
		t.Fatal("the upstream never saw the cancellation")
	}
}

// Embeddings: dimensions go as output_dimension, user is left out, and the
// vectors come back as Mistral sent them.
func TestEmbed(t *testing.T) {
	f := providertest.NewMistral(t)
	f.Enqueue(providertest.Response{Body: providertest.Load(t, "mistral/embeddings.json")})
	rep := llm.NewParamReport(false)
	r, err := newProvider(t, f).Embed(llm.WithParamReport(context.Background(), rep), &llm.EmbedRequest{
		Model: "mistral-embed", Input: []byte(`["a","b"]`), Dimensions: ptr(5), User: "u",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Data) != 2 || string(r.Data[1].Embedding) != "[-0.0230560302734375,0.039337158203125,0.0521240234375,-0.0184783935546875,0.034271240234375]" {
		t.Errorf("data %+v", r.Data)
	}
	if r.Usage.PromptTokens != 15 {
		t.Errorf("usage %+v", r.Usage)
	}
	up := gjson.ParseBytes(f.Requests()[0].Body)
	if f.Requests()[0].Path != "/v1/embeddings" || up.Get("output_dimension").Int() != 5 || up.Get("dimensions").Exists() || up.Get("user").Exists() {
		t.Errorf("%s %s", f.Requests()[0].Path, up.Raw)
	}
	if got := strings.Join(rep.Dropped(), ","); got != "user" {
		t.Errorf("dropped %q", got)
	}
}

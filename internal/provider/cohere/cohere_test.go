package cohere

import (
	"context"
	"encoding/json"
	"errors"
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

const testKey = "cohere-test-key-0123456789abcdef"

func newProvider(t *testing.T, f *providertest.Cohere) *Provider {
	t.Helper()
	p, err := New(Config{Name: "co", BaseURL: f.URL, APIKey: testKey, StreamIdleTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ptr[T any](v T) *T { return &v }

func userText(s string) llm.Message {
	return llm.Message{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart(s)}}
}

// result is what a stream said, all chunks put together.
type result struct {
	text, thinking string
	finish         llm.FinishReason
	stopSeq        string
	calls          map[int]*llm.ToolCall
	usage          *llm.Usage
	id             string
}

// collect reads a stream to its end.
func collect(t *testing.T, s llm.Stream) (result, error) {
	t.Helper()
	defer s.Close()
	r := result{calls: map[int]*llm.ToolCall{}}
	for {
		c, err := s.Recv()
		if err == io.EOF {
			return r, nil
		}
		if err != nil {
			return r, err
		}
		if c.ID != "" {
			r.id = c.ID
		}
		if c.Usage != nil {
			u := *c.Usage
			r.usage = &u
		}
		for _, ch := range c.Choices {
			for _, p := range ch.Message.Content {
				switch p.Type {
				case llm.PartText:
					r.text += p.Text
				case llm.PartThinking:
					r.thinking += p.Text
				}
			}
			for _, tc := range ch.Message.ToolCalls {
				cur := r.calls[tc.Index]
				if cur == nil {
					cur = &llm.ToolCall{Index: tc.Index}
					r.calls[tc.Index] = cur
				}
				if tc.ID != "" {
					cur.ID, cur.Name = tc.ID, tc.Name
				}
				cur.Arguments += tc.Arguments
			}
			if ch.FinishReason != "" {
				r.finish, r.stopSeq = ch.FinishReason, ch.StopSequence
			}
		}
	}
}

func chat(t *testing.T, f *providertest.Cohere, req *llm.ChatRequest) (result, error) {
	t.Helper()
	if req.Model == "" {
		req.Model = "command-a-03-2025"
	}
	if req.Messages == nil {
		req.Messages = []llm.Message{userText("hi")}
	}
	s, err := newProvider(t, f).Chat(context.Background(), req)
	if err != nil {
		return result{}, err
	}
	return collect(t, s)
}

func lastBody(t *testing.T, f *providertest.Cohere) gjson.Result {
	t.Helper()
	reqs := f.Requests()
	if len(reqs) == 0 {
		t.Fatal("no request reached the upstream")
	}
	return gjson.ParseBytes(reqs[len(reqs)-1].Body)
}

func TestNewDefaults(t *testing.T) {
	p, err := New(Config{Name: "co"})
	if err != nil {
		t.Fatal(err)
	}
	if p.chatURL != "https://api.cohere.com/v2/chat" || p.embedURL != "https://api.cohere.com/v2/embed" {
		t.Errorf("urls %q %q", p.chatURL, p.embedURL)
	}
	if _, err := New(Config{}); err == nil {
		t.Error("no name accepted")
	}
	if _, err := New(Config{Name: "co", BaseURL: "api.cohere.com"}); err == nil {
		t.Error("relative base URL accepted")
	}
}

// The request is in Cohere's words: the bearer key, roles, parts, tools,
// tool_choice, response_format and the sampling fields under Cohere's names.
func TestRequestInCoheresWords(t *testing.T) {
	f := providertest.NewCohere(t)
	req := &llm.ChatRequest{
		Messages: []llm.Message{
			{Role: llm.RoleDeveloper, Content: []llm.Part{llm.TextPart("Be brief.")}},
			{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart("What is this?"),
				{Type: llm.PartImage, Image: &llm.Image{MediaType: "image/png", Data: "iVBORw0K", Detail: "low"}}}},
			{Role: llm.RoleAssistant, Content: []llm.Part{{Type: llm.PartThinking, Text: "I will look it up."}},
				ToolCalls: []llm.ToolCall{{ID: "call_1", Name: "lookup", Arguments: `{"q":"x"}`}}},
			{Role: llm.RoleTool, ToolCallID: "call_1", Content: []llm.Part{llm.TextPart("a cat")}},
			userText("So?"),
		},
		Tools: []llm.Tool{{Type: "function", Name: "lookup", Description: "looks up", Parameters: json.RawMessage(`{"type":"object"}`), Strict: ptr(true)},
			{Type: "function", Name: "noargs"}},
		ToolChoice:          &llm.ToolChoice{Mode: llm.ToolChoiceRequired},
		ResponseFormat:      &llm.ResponseFormat{Type: "json_schema", JSONSchema: &llm.JSONSchema{Name: "x", Schema: json.RawMessage(`{"type":"object"}`)}},
		MaxCompletionTokens: ptr(64), Temperature: ptr(0.2), TopP: ptr(0.9), TopK: ptr(40), Seed: ptr(int64(7)),
		Stop: []string{"END"}, FrequencyPenalty: ptr(0.1), PresencePenalty: ptr(0.3),
	}
	if _, err := chat(t, f, req); err != nil {
		t.Fatal(err)
	}
	rec := f.Requests()[0]
	if rec.Path != "/v2/chat" || rec.Header.Get("Authorization") != "Bearer "+testKey {
		t.Errorf("path %q, authorization %q", rec.Path, rec.Header.Get("Authorization"))
	}
	b := gjson.ParseBytes(rec.Body)
	for path, want := range map[string]string{
		"messages.0.role":                            "system",
		"messages.0.content":                         "Be brief.",
		"messages.1.content.0.type":                  "text",
		"messages.1.content.1.type":                  "image_url",
		"messages.1.content.1.image_url.url":         "data:image/png;base64,iVBORw0K",
		"messages.1.content.1.image_url.detail":      "low",
		"messages.2.tool_plan":                       "I will look it up.",
		"messages.2.tool_calls.0.id":                 "call_1",
		"messages.2.tool_calls.0.type":               "function",
		"messages.2.tool_calls.0.function.name":      "lookup",
		"messages.2.tool_calls.0.function.arguments": `{"q":"x"}`,
		"messages.3.role":                            "tool",
		"messages.3.tool_call_id":                    "call_1",
		"messages.3.content":                         "a cat",
		"tools.0.type":                               "function",
		"tools.0.function.name":                      "lookup",
		"tools.1.function.parameters.type":           "object",
		"tool_choice":                                "REQUIRED",
		"response_format.type":                       "json_object",
		"response_format.json_schema.type":           "object",
		"max_tokens":                                 "64",
		"p":                                          "0.9",
		"k":                                          "40",
		"seed":                                       "7",
		"stop_sequences.0":                           "END",
		"strict_tools":                               "true",
		"frequency_penalty":                          "0.1",
		"presence_penalty":                           "0.3",
	} {
		if got := b.Get(path).String(); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	for _, absent := range []string{"top_p", "top_k", "stop", "max_completion_tokens", "stream", "messages.2.content"} {
		if b.Get(absent).Exists() {
			t.Errorf("%s sent: %s", absent, b.Raw)
		}
	}
}

// A named function goes as REQUIRED with only that tool; none as NONE.
func TestToolChoice(t *testing.T) {
	f := providertest.NewCohere(t)
	tools := []llm.Tool{{Name: "a"}, {Name: "b"}}
	if _, err := chat(t, f, &llm.ChatRequest{Tools: tools, ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceFunction, Name: "b"}}); err != nil {
		t.Fatal(err)
	}
	b := lastBody(t, f)
	if b.Get("tool_choice").Str != "REQUIRED" || len(b.Get("tools").Array()) != 1 || b.Get("tools.0.function.name").Str != "b" {
		t.Errorf("named function: %s", b.Raw)
	}
	if _, err := chat(t, f, &llm.ChatRequest{Tools: tools, ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceNone}}); err != nil {
		t.Fatal(err)
	}
	if b := lastBody(t, f); b.Get("tool_choice").Str != "NONE" || len(b.Get("tools").Array()) != 2 {
		t.Errorf("none: %s", b.Raw)
	}
	if _, err := chat(t, f, &llm.ChatRequest{Tools: tools, ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceAuto}}); err != nil {
		t.Fatal(err)
	}
	if b := lastBody(t, f); b.Get("tool_choice").Exists() {
		t.Errorf("auto: %s", b.Raw)
	}
	_, err := chat(t, f, &llm.ChatRequest{Tools: tools, ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceFunction, Name: "zz"}})
	if e := (*llm.Error)(nil); !errors.As(err, &e) || e.Kind != llm.KindInvalidRequest {
		t.Errorf("unknown named function: %v", err)
	}
}

// Fields with no equivalent are dropped and named, or refused; n and
// logprobs are refused whatever the policy.
func TestDroppedAndRefused(t *testing.T) {
	f := providertest.NewCohere(t)
	rep := llm.NewParamReport(false)
	ctx := llm.WithParamReport(context.Background(), rep)
	req := &llm.ChatRequest{Model: "m", Messages: []llm.Message{userText("hi")}, User: "u", LogitBias: map[string]float64{"1": 1},
		ParallelToolCalls: ptr(false), ExtraProtocol: "openai", Extra: map[string]json.RawMessage{"store": json.RawMessage("true")}}
	s, err := newProvider(t, f).Chat(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := collect(t, s); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rep.Dropped(), ","); got != "logit_bias,user,parallel_tool_calls,store" {
		t.Errorf("dropped %q", got)
	}
	refuse := llm.WithParamReport(context.Background(), llm.NewParamReport(true))
	if _, err := newProvider(t, f).Chat(refuse, req); err == nil {
		t.Error("refuse policy: accepted")
	}
	for _, r := range []*llm.ChatRequest{{N: ptr(2)}, {Logprobs: ptr(true)}, {TopLogprobs: ptr(2)}} {
		r.Model, r.Messages = "m", []llm.Message{userText("hi")}
		_, err := newProvider(t, f).Chat(context.Background(), r)
		if e := (*llm.Error)(nil); !errors.As(err, &e) || e.Kind != llm.KindInvalidRequest {
			t.Errorf("%+v: %v", r, err)
		}
	}
}

// Cohere's own answers, unary and streamed: text, usage from billed units.
func TestTextCaptures(t *testing.T) {
	f := providertest.NewCohere(t)
	f.Enqueue(providertest.Response{Body: providertest.Load(t, "cohere/chat_text.json")})
	r, err := chat(t, f, &llm.ChatRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.text, "LLMs stand for Large Language Models") || r.finish != llm.FinishStop || r.id != "c14c80c3-18eb-4519-9460-6c92edd8cfb4" {
		t.Errorf("unary %+v", r)
	}
	if r.usage == nil || r.usage.PromptTokens != 5 || r.usage.CompletionTokens != 418 {
		t.Errorf("unary usage %+v", r.usage)
	}
	f.Enqueue(providertest.Response{SSE: providertest.Load(t, "cohere/stream_text.sse"), Split: 5})
	r, err = chat(t, f, &llm.ChatRequest{Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.text != "LLMs stand for Large Language Models, which are a type of neural network model specialized in processing and generating human language." ||
		r.finish != llm.FinishStop || r.id != "29f14a5a-11de-4cae-9800-25e4747408ea" {
		t.Errorf("stream %+v", r)
	}
	if r.usage == nil || r.usage.PromptTokens != 5 || r.usage.CompletionTokens != 26 {
		t.Errorf("stream usage %+v", r.usage)
	}
	if !lastBody(t, f).Get("stream").Bool() {
		t.Error("stream not asked for")
	}
}

// Tool calls, unary and streamed with arguments in pieces: the plan is
// reasoning, calls keep their ids; usage is the billed units, the cached
// tokens counted at the full input price.
func TestToolCallCaptures(t *testing.T) {
	for _, stream := range []bool{false, true} {
		f := providertest.NewCohere(t)
		if stream {
			f.Enqueue(providertest.Response{SSE: providertest.Load(t, "cohere/stream_tool_calls.sse"), Split: 1})
		} else {
			f.Enqueue(providertest.Response{Body: providertest.Load(t, "cohere/chat_tool_calls.json")})
		}
		r, err := chat(t, f, &llm.ChatRequest{Stream: stream})
		if err != nil {
			t.Fatal(err)
		}
		if r.finish != llm.FinishToolCalls || r.thinking != "I will look up the weather in Paris and in Zürich." || r.text != "" {
			t.Errorf("stream %v: %+v", stream, r)
		}
		want := []llm.ToolCall{
			{ID: "get_weather_k3xq8v2m7n1p", Name: "get_weather", Arguments: `{"location":"Paris, France","unit":"celsius"}`},
			{ID: "get_weather_9wz4r6t0ybhs", Name: "get_weather", Arguments: `{"location":"Zürich"}`},
		}
		if len(r.calls) != len(want) {
			t.Fatalf("stream %v: calls %+v", stream, r.calls)
		}
		for i, w := range want {
			c := r.calls[i]
			if c.ID != w.ID || c.Name != w.Name || !jsonEqual(c.Arguments, w.Arguments) {
				t.Errorf("stream %v: call %d = %+v, want %+v", stream, i, *c, w)
			}
		}
		if u := r.usage; u == nil || u.PromptTokens != 92 || u.CompletionTokens != 47 || u.CachedTokens != 0 {
			t.Errorf("stream %v: usage %+v", stream, r.usage)
		}
	}
}

func jsonEqual(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return string(xb) == string(yb)
}

func TestThinkingContent(t *testing.T) {
	f := providertest.NewCohere(t)
	f.Enqueue(providertest.Response{Body: providertest.Load(t, "cohere/chat_thinking.json")})
	r, err := chat(t, f, &llm.ChatRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if r.thinking != "Nine divided by two leaves a remainder of one." || r.text != "Yes, nine is odd." {
		t.Errorf("%+v", r)
	}
}

// withFinish returns the text capture with its finish reason replaced.
func withFinish(t *testing.T, stream bool, reason string) providertest.Response {
	if stream {
		b := providertest.Load(t, "cohere/stream_text.sse")
		return providertest.Response{SSE: []byte(strings.Replace(string(b), `"finish_reason":"COMPLETE"`, `"finish_reason":"`+reason+`"`, 1))}
	}
	b := providertest.Load(t, "cohere/chat_text.json")
	return providertest.Response{Body: []byte(strings.Replace(string(b), `"finish_reason": "COMPLETE"`, `"finish_reason": "`+reason+`"`, 1))}
}

// Every finish reason, unary and streamed: ERROR and TIMEOUT are errors.
func TestFinishReasons(t *testing.T) {
	for _, stream := range []bool{false, true} {
		for _, tc := range []struct {
			reason  string
			stops   []string
			want    llm.FinishReason
			stopSeq string
			kind    llm.Kind
		}{
			{"COMPLETE", nil, llm.FinishStop, "", 0},
			{"STOP_SEQUENCE", []string{"END"}, llm.FinishStop, "END", 0},
			{"STOP_SEQUENCE", []string{"END", "FIN"}, llm.FinishStop, "", 0},
			{"MAX_TOKENS", nil, llm.FinishLength, "", 0},
			{"TOOL_CALL", nil, llm.FinishToolCalls, "", 0},
			{"ERROR", nil, "", "", llm.KindUpstream},
			{"TIMEOUT", nil, "", "", llm.KindUpstreamTimeout},
		} {
			f := providertest.NewCohere(t)
			f.Enqueue(withFinish(t, stream, tc.reason))
			r, err := chat(t, f, &llm.ChatRequest{Stream: stream, Stop: tc.stops})
			if tc.kind != 0 {
				if e := (*llm.Error)(nil); !errors.As(err, &e) || e.Kind != tc.kind {
					t.Errorf("stream %v, %s: error %v, want kind %v", stream, tc.reason, err, tc.kind)
				}
				continue
			}
			if err != nil || r.finish != tc.want || r.stopSeq != tc.stopSeq {
				t.Errorf("stream %v, %s: %q %q %v", stream, tc.reason, r.finish, r.stopSeq, err)
			}
		}
	}
}

// An error inside a stream: the text before it arrives, then the error.
func TestStreamErrorFinish(t *testing.T) {
	f := providertest.NewCohere(t)
	f.Enqueue(providertest.Response{SSE: providertest.Load(t, "cohere/stream_error_finish.sse")})
	r, err := chat(t, f, &llm.ChatRequest{Stream: true})
	if e := (*llm.Error)(nil); !errors.As(err, &e) || e.Kind != llm.KindUpstream || e.Provider != "co" {
		t.Fatalf("error %v", err)
	}
	if r.text != "The answer" {
		t.Errorf("text before the error %q", r.text)
	}
}

// A stream that stops before message-end is an error, not a short answer.
func TestTruncatedStream(t *testing.T) {
	for _, sse := range [][]byte{
		providertest.Load(t, "cohere/stream_truncated.sse"),
		[]byte(strings.Split(string(providertest.Load(t, "cohere/stream_text.sse")), "event: message-end")[0]),
	} {
		f := providertest.NewCohere(t)
		f.Enqueue(providertest.Response{SSE: sse})
		if _, err := chat(t, f, &llm.ChatRequest{Stream: true}); err == nil {
			t.Error("truncated stream ended cleanly")
		}
	}
}

// Error statuses keep Cohere's message and their kind; the key is never in
// what is returned.
func TestErrorBodies(t *testing.T) {
	for _, tc := range []struct {
		file   string
		status int
		kind   llm.Kind
		msg    string
	}{
		{"error_400.json", 400, llm.KindInvalidRequest, "message must be at least 1 token long"},
		{"error_401.json", 401, llm.KindUpstream, "invalid api token"},
		{"error_404.json", 404, llm.KindNotFound, "not found"},
		{"error_429.json", 429, llm.KindRateLimited, "too many requests"},
		{"error_503.json", 503, llm.KindUpstreamUnavailable, "service unavailable"},
	} {
		f := providertest.NewCohere(t)
		f.Enqueue(providertest.Response{Status: tc.status, Body: providertest.Load(t, "cohere/"+tc.file)})
		_, err := chat(t, f, &llm.ChatRequest{})
		e := (*llm.Error)(nil)
		if !errors.As(err, &e) || e.Kind != tc.kind || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v", tc.file, err)
		}
	}
	f := providertest.NewCohere(t)
	f.Enqueue(providertest.Response{Status: 400, Body: []byte(`{"message":"bad key ` + testKey + `"}`)})
	_, err := chat(t, f, &llm.ChatRequest{})
	if err == nil || strings.Contains(err.Error(), testKey) {
		t.Errorf("key not redacted: %v", err)
	}
}

// Hostile 200 answers are errors, never panics or empty answers; a body
// holding only Cohere's error message is that error.
func TestHostile200(t *testing.T) {
	f := providertest.NewCohere(t)
	f.Enqueue(providertest.Response{Body: []byte(`{"id":"x","message":"quota exceeded"}`)})
	_, err := chat(t, f, &llm.ChatRequest{})
	if e := (*llm.Error)(nil); !errors.As(err, &e) || e.Message != "quota exceeded" {
		t.Errorf("error message in a 200 body: %v", err)
	}
	for _, body := range []string{`{"message":"quota exceeded"}`, `[1,2]`, `{"id":"x","message":"`, `{"id":"x"}`, `{"message":{"content":7}}`} {
		f := providertest.NewCohere(t)
		f.Enqueue(providertest.Response{Body: []byte(body)})
		if _, err := chat(t, f, &llm.ChatRequest{}); err == nil {
			t.Errorf("%s accepted", body)
		}
	}
	many := strings.Repeat("event: tool-call-start\ndata: {\"type\":\"tool-call-start\",\"index\":0,\"delta\":{\"message\":{\"tool_calls\":{\"id\":\"c\",\"function\":{\"name\":\"f\"}}}}}\n\n", maxToolCalls+1) +
		"event: message-end\ndata: {\"type\":\"message-end\",\"delta\":{\"finish_reason\":\"TOOL_CALL\"}}\n\n"
	for _, sse := range []string{"event: content-delta\ndata: {nope\n\n", "data: [DONE]\n\n", many,
		"event: tool-call-delta\ndata: {\"type\":\"tool-call-delta\",\"index\":0,\"delta\":{}}\n\n"} {
		f := providertest.NewCohere(t)
		f.Enqueue(providertest.Response{SSE: []byte(sse)})
		if _, err := chat(t, f, &llm.ChatRequest{Stream: true}); err == nil {
			t.Errorf("%q accepted", llm.Clip(sse))
		}
	}
}

// Closing a stream mid-way stops the upstream request.
func TestCancelMidStream(t *testing.T) {
	f := providertest.NewCohere(t)
	hold := make(chan struct{})
	defer close(hold)
	sse := providertest.Load(t, "cohere/stream_text.sse")
	f.Enqueue(providertest.Response{SSE: sse, Hold: hold, HoldAfter: strings.Index(string(sse), "event: content-delta")})
	s, err := newProvider(t, f).Chat(context.Background(), &llm.ChatRequest{Model: "m", Messages: []llm.Message{userText("hi")}, Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recv(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	select {
	case <-f.Canceled():
	case <-time.After(5 * time.Second):
		t.Fatal("the upstream never saw the cancel")
	}
}

func TestEmbed(t *testing.T) {
	f := providertest.NewCohere(t)
	f.Enqueue(providertest.Response{Body: providertest.Load(t, "cohere/embeddings.json")})
	p := newProvider(t, f)
	rep := llm.NewParamReport(false)
	out, err := p.Embed(llm.WithParamReport(context.Background(), rep), &llm.EmbedRequest{Model: "embed-v4.0",
		Input: json.RawMessage(`["hello","goodbye"]`), Dimensions: ptr(1024), User: "u"})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Data) != 2 || out.Usage.PromptTokens != 2 || out.Model != "embed-v4.0" {
		t.Fatalf("%+v", out)
	}
	want := gjson.GetBytes(providertest.Load(t, "cohere/embeddings.json"), "embeddings.float.1").Raw
	if !jsonEqual(string(out.Data[1].Embedding), want) {
		t.Error("second vector differs")
	}
	b := lastBody(t, f)
	if f.Requests()[0].Path != "/v2/embed" || b.Get("input_type").Str != DefaultInputType || b.Get("texts.1").Str != "goodbye" ||
		b.Get("embedding_types.0").Str != "float" || b.Get("output_dimension").Int() != 1024 || b.Get("user").Exists() {
		t.Errorf("request %s", b.Raw)
	}
	if got := strings.Join(rep.Dropped(), ","); got != "user" {
		t.Errorf("dropped %q", got)
	}
	// The client's input_type wins; base64 asks for base64; token ids
	// are refused.
	if _, err := p.Embed(context.Background(), &llm.EmbedRequest{Model: "e", Input: json.RawMessage(`"q"`), EncodingFormat: "base64",
		Extra: map[string]json.RawMessage{"input_type": json.RawMessage(`"search_query"`)}}); err == nil {
		t.Error("a float answer to a base64 request was accepted")
	}
	if b := lastBody(t, f); b.Get("input_type").Str != "search_query" || b.Get("embedding_types.0").Str != "base64" {
		t.Errorf("request %s", b.Raw)
	}
	if _, err := p.Embed(context.Background(), &llm.EmbedRequest{Model: "e", Input: json.RawMessage(`[[1,2]]`)}); err == nil {
		t.Error("token ids accepted")
	}
	f.Enqueue(providertest.Response{Status: http.StatusBadRequest, Body: providertest.Load(t, "cohere/error_400.json")})
	if _, err := p.Embed(context.Background(), &llm.EmbedRequest{Model: "e", Input: json.RawMessage(`"q"`)}); err == nil {
		t.Error("error status accepted")
	}
}

package ollama

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
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

const testKey = "ollama-proxy-key-0123456789abcdef"

func newProvider(t *testing.T, f *providertest.Ollama, key string) *Provider {
	t.Helper()
	p, err := New(Config{Name: "ol", BaseURL: f.URL, APIKey: key, StreamIdleTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ptr[T any](v T) *T { return &v }

func userText(s string) llm.Message {
	return llm.Message{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart(s)}}
}

type collected struct {
	text, thinking string
	finish         llm.FinishReason
	calls          []llm.ToolCall
	chunks         int
}

// collect reads a stream to its end.
func collect(t *testing.T, s llm.Stream) (collected, error) {
	t.Helper()
	defer s.Close()
	var out collected
	for {
		c, err := s.Recv()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out.chunks++
		for _, ch := range c.Choices {
			for _, p := range ch.Message.Content {
				switch p.Type {
				case llm.PartText:
					out.text += p.Text
				case llm.PartThinking:
					out.thinking += p.Text
				}
			}
			out.calls = append(out.calls, ch.Message.ToolCalls...)
			if ch.FinishReason != "" {
				out.finish = ch.FinishReason
			}
		}
	}
}

func ndjson(b []byte) providertest.Response { return providertest.Response{SSE: b} }

func TestNewDefaults(t *testing.T) {
	p, err := New(Config{Name: "ol"})
	if err != nil {
		t.Fatal(err)
	}
	if p.chatURL != "http://127.0.0.1:11434/api/chat" || p.embedURL != "http://127.0.0.1:11434/api/embed" {
		t.Errorf("urls %q %q", p.chatURL, p.embedURL)
	}
	if _, err := New(Config{}); err == nil {
		t.Error("no name accepted")
	}
	if _, err := New(Config{Name: "ol", BaseURL: "localhost:11434"}); err == nil {
		t.Error("relative base URL accepted")
	}
}

func TestAuthOnlyWhenConfigured(t *testing.T) {
	f := providertest.NewOllama(t)
	for _, key := range []string{"", testKey} {
		p := newProvider(t, f, key)
		s, err := p.Chat(context.Background(), &llm.ChatRequest{Model: "llama3.2", Messages: []llm.Message{userText("hi")}})
		if err != nil {
			t.Fatal(err)
		}
		_ = s.Close()
		reqs := f.Requests()
		got := reqs[len(reqs)-1].Header.Get("Authorization")
		want := ""
		if key != "" {
			want = "Bearer " + key
		}
		if got != want {
			t.Errorf("key %q: Authorization %q, want %q", key, got, want)
		}
	}
}

func TestRequestEncoding(t *testing.T) {
	f := providertest.NewOllama(t)
	p := newProvider(t, f, "")
	rep := llm.NewParamReport(false)
	ctx := llm.WithParamReport(context.Background(), rep)
	req := &llm.ChatRequest{
		Model: "llava",
		Messages: []llm.Message{
			{Role: llm.RoleDeveloper, Content: []llm.Part{llm.TextPart("Be brief.")}},
			{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart("What is "), llm.TextPart("this?"),
				{Type: llm.PartImage, Image: &llm.Image{MediaType: "image/png", Data: "iVBORw0KGgo="}}}},
			{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "call_1", Type: "function", Name: "look", Arguments: `{"zoom":2}`}}},
			{Role: llm.RoleTool, ToolCallID: "call_1", Content: []llm.Part{llm.TextPart("a cat")}},
		},
		Tools:          []llm.Tool{{Type: "function", Name: "look", Description: "Look closer", Parameters: json.RawMessage(`{"type":"object"}`)}},
		Temperature:    ptr(0.2),
		TopK:           ptr(40),
		Seed:           ptr(int64(7)),
		MaxTokens:      ptr(100),
		Stop:           []string{"END"},
		User:           "u-1",
		ResponseFormat: &llm.ResponseFormat{Type: "json_object"},
		Extra:          map[string]json.RawMessage{"keep_alive": json.RawMessage(`"10m"`), "options": json.RawMessage(`{"num_ctx":8192,"temperature":1}`)},
		ExtraProtocol:  "openai",
	}
	s, err := p.Chat(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	body := gjson.ParseBytes(f.Requests()[0].Body)
	for path, want := range map[string]string{
		"model":                                 "llava",
		"stream":                                "false",
		"format":                                "json",
		"keep_alive":                            "10m",
		"messages.0.role":                       "system",
		"messages.1.content":                    "What is this?",
		"messages.1.images.0":                   "iVBORw0KGgo=",
		"messages.2.tool_calls.0.function.name": "look",
		"messages.2.tool_calls.0.function.arguments": `{"zoom":2}`,
		"messages.3.role":       "tool",
		"messages.3.tool_name":  "look",
		"tools.0.function.name": "look",
		"options.temperature":   "0.2",
		"options.top_k":         "40",
		"options.seed":          "7",
		"options.num_predict":   "100",
		"options.stop.0":        "END",
		"options.num_ctx":       "8192",
	} {
		if got := body.Get(path).String(); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	if !body.Get("messages.2.tool_calls.0.function.arguments").IsObject() {
		t.Error("arguments not sent as an object")
	}
	if body.Get("user").Exists() {
		t.Error("user sent")
	}
	if got := strings.Join(rep.Dropped(), ","); got != "user" {
		t.Errorf("dropped %q", got)
	}
}

func TestRequestRefusals(t *testing.T) {
	f := providertest.NewOllama(t)
	p := newProvider(t, f, "")
	cases := map[string]*llm.ChatRequest{
		"image by URL": {Model: "llava", Messages: []llm.Message{{Role: llm.RoleUser,
			Content: []llm.Part{{Type: llm.PartImage, Image: &llm.Image{URL: "https://example.com/cat.png"}}}}}},
		"arguments not an object": {Model: "m", Messages: []llm.Message{
			{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "c", Name: "f", Arguments: `[1]`}}}}},
		"n above one": {Model: "m", N: ptr(2), Messages: []llm.Message{userText("hi")}},
	}
	for name, req := range cases {
		_, err := p.Chat(context.Background(), req)
		if e := llm.AsError(err); e == nil || e.Kind != llm.KindInvalidRequest {
			t.Errorf("%s: err %v, want an invalid request", name, err)
		}
	}
	if n := len(f.Requests()); n != 0 {
		t.Errorf("%d requests reached the upstream", n)
	}
	// Under server.unsupported_params: refuse, a field Ollama lacks is
	// refused rather than dropped.
	ctx := llm.WithParamReport(context.Background(), llm.NewParamReport(true))
	_, err := p.Chat(ctx, &llm.ChatRequest{Model: "m", User: "u", Messages: []llm.Message{userText("hi")}})
	if e := llm.AsError(err); e == nil || e.Param != "user" {
		t.Errorf("refuse policy: %v", err)
	}
}

func TestThink(t *testing.T) {
	for _, tt := range []struct {
		req  llm.ChatRequest
		want string
	}{
		{llm.ChatRequest{ReasoningEffort: "medium"}, `"medium"`},
		{llm.ChatRequest{ReasoningEffort: "none"}, `false`},
		{llm.ChatRequest{Thinking: json.RawMessage(`{"type":"enabled","budget_tokens":2048}`)}, `"low"`},
		{llm.ChatRequest{Thinking: json.RawMessage(`{"type":"disabled"}`)}, `false`},
		{llm.ChatRequest{}, ``},
	} {
		if got := string(thinkingOf(&tt.req)); got != tt.want {
			t.Errorf("%+v: think %s, want %s", tt.req, got, tt.want)
		}
	}
}

func TestUnaryAnswers(t *testing.T) {
	f := providertest.NewOllama(t)
	p := newProvider(t, f, "")
	f.Enqueue(
		providertest.Response{Body: providertest.Load(t, "ollama/chat_text.json")},
		providertest.Response{Body: providertest.Load(t, "ollama/chat_tool_calls.json")},
		providertest.Response{Body: providertest.Load(t, "ollama/chat_thinking.json")},
	)
	req := &llm.ChatRequest{Model: "llama3.2", Messages: []llm.Message{userText("hi")}}
	s, err := p.Chat(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := collect(t, s)
	if err != nil || got.text != "Hello! How are you today?" || got.finish != llm.FinishStop {
		t.Errorf("text answer %+v, %v", got, err)
	}
	if u := s.Usage(); u.PromptTokens != 26 || u.CompletionTokens != 298 || u.TotalTokens != 324 {
		t.Errorf("usage %+v", u)
	}
	s, err = p.Chat(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	got, err = collect(t, s)
	if err != nil || got.finish != llm.FinishToolCalls || len(got.calls) != 2 {
		t.Fatalf("tool answer %+v, %v", got, err)
	}
	if c := got.calls[1]; c.Name != "get_weather" || c.Arguments != `{"location":"Zürich"}` || !strings.HasPrefix(c.ID, "call_") || c.Index != 1 {
		t.Errorf("second call %+v", c)
	}
	if got.calls[0].ID == got.calls[1].ID {
		t.Error("calls share an id")
	}
	s, err = p.Chat(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	got, err = collect(t, s)
	if err != nil || got.thinking != "Nine divided by two leaves one." || got.text != "Yes: nine is odd." {
		t.Errorf("thinking answer %+v, %v", got, err)
	}
}

func TestDoneReasons(t *testing.T) {
	f := providertest.NewOllama(t)
	p := newProvider(t, f, "")
	capture := providertest.Load(t, "ollama/chat_text.json")
	for reason, want := range map[string]llm.FinishReason{"stop": llm.FinishStop, "length": llm.FinishLength, "": llm.FinishStop, "load": "", "unload": ""} {
		body := bytes.Replace(capture, []byte(`"done_reason":"stop",`), []byte(`"done_reason":"`+reason+`",`), 1)
		if reason == "" {
			body = bytes.Replace(capture, []byte(`"done_reason":"stop",`), nil, 1)
		}
		f.Enqueue(providertest.Response{Body: body})
		s, err := p.Chat(context.Background(), &llm.ChatRequest{Model: "m", Messages: []llm.Message{userText("hi")}})
		if want == "" {
			if e := llm.AsError(err); e == nil || e.Kind != llm.KindUpstream {
				t.Errorf("%q: err %v, want an upstream error", reason, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", reason, err)
		}
		got, err := collect(t, s)
		if err != nil || got.finish != want {
			t.Errorf("%q: finish %q, %v", reason, got.finish, err)
		}
	}
}

func TestStreams(t *testing.T) {
	f := providertest.NewOllama(t)
	p := newProvider(t, f, testKey)
	req := &llm.ChatRequest{Model: "llama3.2", Stream: true, Messages: []llm.Message{userText("hi")}}
	f.Enqueue(
		providertest.Response{SSE: providertest.Load(t, "ollama/stream_text.ndjson"), Split: 1},
		ndjson(providertest.Load(t, "ollama/stream_tool_calls.ndjson")),
		ndjson(providertest.Load(t, "ollama/stream_thinking.ndjson")),
	)
	s, err := p.Chat(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Requests()[0].Header.Get("Accept"); got != "application/x-ndjson" {
		t.Errorf("Accept %q", got)
	}
	got, err := collect(t, s)
	if err != nil || got.text != "Bonjour! Ça va très bien, merci 👋" || got.finish != llm.FinishStop || got.chunks != 6 {
		t.Errorf("text stream %+v, %v", got, err)
	}
	if u := s.Usage(); u.PromptTokens != 26 || u.CompletionTokens != 282 {
		t.Errorf("usage %+v", u)
	}
	s, _ = p.Chat(context.Background(), req)
	got, err = collect(t, s)
	if err != nil || got.finish != llm.FinishToolCalls || len(got.calls) != 2 || got.calls[1].Index != 1 ||
		got.calls[0].Arguments != `{"location":"Paris, France","unit":"celsius"}` {
		t.Errorf("tool stream %+v, %v", got, err)
	}
	s, _ = p.Chat(context.Background(), req)
	got, err = collect(t, s)
	if err != nil || got.thinking != "Nine divided by two leaves one." || got.text != "Yes: nine is odd." {
		t.Errorf("thinking stream %+v, %v", got, err)
	}
}

func TestStreamFailures(t *testing.T) {
	f := providertest.NewOllama(t)
	p := newProvider(t, f, testKey)
	req := &llm.ChatRequest{Model: "llama3.2", Stream: true, Messages: []llm.Message{userText("hi")}}
	text := providertest.Load(t, "ollama/stream_text.ndjson")
	lines := bytes.SplitAfter(text, []byte("\n"))
	cases := []struct {
		name string
		resp providertest.Response
		msg  string
	}{
		{"error line", ndjson(providertest.Load(t, "ollama/stream_error.ndjson")), "an error was encountered while running the model"},
		{"error line naming the key", ndjson([]byte(`{"error":"proxy refused ` + testKey + `"}` + "\n")), "proxy refused [redacted]"},
		{"truncated", providertest.Response{SSE: providertest.Load(t, "ollama/stream_truncated.ndjson"), HangUp: true}, ""},
		{"no done line", ndjson(bytes.Join(lines[:len(lines)-2], nil)), "upstream stream ended before completion"},
		{"invalid JSON", ndjson(append(append([]byte{}, lines[0]...), "{\"model\":\n"...)), "the upstream sent a malformed stream event"},
		{"line too long", ndjson([]byte(`{"model":"` + strings.Repeat("x", maxLine) + `"}` + "\n")), "the upstream sent a stream event that is too large"},
		{"load", ndjson([]byte(`{"model":"m","created_at":"2024-09-12T21:17:29.110811Z","message":{"role":"assistant","content":""},"done_reason":"load","done":true}` + "\n")), "the upstream did not generate an answer"},
	}
	for _, tc := range cases {
		f.Enqueue(tc.resp)
		s, err := p.Chat(context.Background(), req)
		if err == nil {
			_, err = collect(t, s)
		}
		e := llm.AsError(err)
		if e == nil || e.Kind != llm.KindUpstream {
			t.Errorf("%s: err %v, want an upstream error", tc.name, err)
			continue
		}
		if tc.msg != "" && !strings.Contains(e.Message, tc.msg) {
			t.Errorf("%s: message %q, want %q", tc.name, e.Message, tc.msg)
		}
		if strings.Contains(e.Error(), testKey) {
			t.Errorf("%s: key in error", tc.name)
		}
	}
}

func TestStreamIdleTimeout(t *testing.T) {
	f := providertest.NewOllama(t)
	p, err := New(Config{Name: "ol", BaseURL: f.URL, StreamIdleTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	hold := make(chan struct{})
	defer close(hold)
	text := providertest.Load(t, "ollama/stream_text.ndjson")
	f.Enqueue(providertest.Response{SSE: text, Hold: hold, HoldAfter: bytes.IndexByte(text, '\n') + 1})
	s, err := p.Chat(context.Background(), &llm.ChatRequest{Model: "m", Stream: true, Messages: []llm.Message{userText("hi")}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = collect(t, s)
	if e := llm.AsError(err); e == nil || e.Kind != llm.KindUpstreamTimeout {
		t.Errorf("err %v, want an upstream timeout", err)
	}
}

func TestErrors(t *testing.T) {
	f := providertest.NewOllama(t)
	p := newProvider(t, f, testKey)
	for _, tc := range []struct {
		status int
		file   string
		kind   llm.Kind
	}{
		{http.StatusNotFound, "error_404.json", llm.KindNotFound},
		{http.StatusBadRequest, "error_400.json", llm.KindInvalidRequest},
		{http.StatusServiceUnavailable, "error_503.json", llm.KindUpstreamUnavailable},
		{http.StatusInternalServerError, "error_500.json", llm.KindUpstream},
	} {
		f.Enqueue(providertest.Response{Status: tc.status, Body: providertest.Load(t, "ollama/"+tc.file)})
		_, err := p.Chat(context.Background(), &llm.ChatRequest{Model: "llama3.9", Messages: []llm.Message{userText("hi")}})
		e := llm.AsError(err)
		if e == nil || e.Kind != tc.kind {
			t.Errorf("%d: err %v, want kind %v", tc.status, err, tc.kind)
		}
	}
	f.Enqueue(providertest.Response{Status: 404, Body: providertest.Load(t, "ollama/error_404.json")})
	_, err := p.Chat(context.Background(), &llm.ChatRequest{Model: "llama3.9", Messages: []llm.Message{userText("hi")}})
	if e := llm.AsError(err); e == nil || !strings.Contains(e.Message, `model "llama3.9" not found`) {
		t.Errorf("404 message: %v", err)
	}
	// A 200 holding an error, or not JSON, is an upstream error.
	for _, body := range []string{`{"error":"boom"}`, `{"model":`, `[1]`, `{"model":"m","message":{"role":"assistant","content":"x"},"done":false}`} {
		f.Enqueue(providertest.Response{Body: []byte(body)})
		_, err := p.Chat(context.Background(), &llm.ChatRequest{Model: "m", Messages: []llm.Message{userText("hi")}})
		if e := llm.AsError(err); e == nil || e.Kind != llm.KindUpstream {
			t.Errorf("%s: err %v, want an upstream error", body, err)
		}
	}
}

func TestEmbed(t *testing.T) {
	f := providertest.NewOllama(t)
	p := newProvider(t, f, "")
	f.Enqueue(providertest.Response{Body: providertest.Load(t, "ollama/embeddings.json")})
	r, err := p.Embed(context.Background(), &llm.EmbedRequest{Model: "all-minilm", Input: json.RawMessage(`["a","b"]`), Dimensions: ptr(10)})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Data) != 2 || r.Data[1].Index != 1 || r.Usage.PromptTokens != 8 || !bytes.HasPrefix(r.Data[0].Embedding, []byte("[0.010071029,")) {
		t.Errorf("answer %+v", r)
	}
	body := gjson.ParseBytes(f.Requests()[0].Body)
	if f.Requests()[0].Path != "/api/embed" || body.Get("input.1").String() != "b" || body.Get("dimensions").Int() != 10 {
		t.Errorf("request %s %s", f.Requests()[0].Path, body.Raw)
	}
	// base64, which the OpenAI SDKs ask for by default, is made here.
	r, err = p.Embed(context.Background(), &llm.EmbedRequest{Model: "all-minilm", Input: json.RawMessage(`"abc"`), EncodingFormat: "base64"})
	if err != nil {
		t.Fatal(err)
	}
	var s string
	if err := json.Unmarshal(r.Data[0].Embedding, &s); err != nil {
		t.Fatalf("embedding %s: %v", r.Data[0].Embedding, err)
	}
	raw, _ := base64.StdEncoding.DecodeString(s)
	if len(raw) != 12 || math.Float32frombits(binary.LittleEndian.Uint32(raw[8:])) != 0.5 {
		t.Errorf("base64 embedding %q", s)
	}
	if gjson.GetBytes(f.Requests()[1].Body, "encoding_format").Exists() {
		t.Error("encoding_format sent upstream")
	}
	// An answer that is not vectors of numbers is an upstream error.
	for _, body := range []string{`{"embeddings":[["x"]]}`, `{"embeddings":[{"a":1}]}`, `{"embeddings":{}}`, `{"error":"boom"}`} {
		f.Enqueue(providertest.Response{Body: []byte(body)})
		_, err = p.Embed(context.Background(), &llm.EmbedRequest{Model: "all-minilm", Input: json.RawMessage(`"abc"`)})
		if e := llm.AsError(err); e == nil || e.Kind != llm.KindUpstream {
			t.Errorf("%s: err %v, want an upstream error", body, err)
		}
	}
	_, err = p.Embed(context.Background(), &llm.EmbedRequest{Model: "all-minilm", Input: json.RawMessage(`[[1,2]]`)})
	if e := llm.AsError(err); e == nil || e.Param != "input" {
		t.Errorf("token input: %v", err)
	}
}

// A model without thinking refuses think with a 400: the request goes again
// without it, and the setting is reported as dropped.
func TestThinkRefusedByModel(t *testing.T) {
	f := providertest.NewOllama(t)
	p := newProvider(t, f, "")
	for _, stream := range []bool{false, true} {
		before := len(f.Requests())
		f.Enqueue(providertest.OllamaError(http.StatusBadRequest, `"llama3.2" does not support thinking`))
		rep := llm.NewParamReport(false)
		ctx := llm.WithParamReport(context.Background(), rep)
		req := &llm.ChatRequest{Model: "llama3.2", Stream: stream, ReasoningEffort: "high", Messages: []llm.Message{userText("hi")}}
		s, err := p.Chat(ctx, req)
		if err != nil {
			t.Fatalf("stream %v: %v", stream, err)
		}
		got, err := collect(t, s)
		if err != nil || got.text != "hi" {
			t.Errorf("stream %v: answer %+v, %v", stream, got, err)
		}
		reqs := f.Requests()[before:]
		if len(reqs) != 2 || gjson.GetBytes(reqs[0].Body, "think").String() != "high" || gjson.GetBytes(reqs[1].Body, "think").Exists() {
			t.Fatalf("stream %v: %d requests", stream, len(reqs))
		}
		if d := strings.Join(rep.Dropped(), ","); d != "reasoning_effort" {
			t.Errorf("stream %v: dropped %q", stream, d)
		}
	}
	// Under server.unsupported_params: refuse, the refusal stands.
	f.Enqueue(providertest.OllamaError(http.StatusBadRequest, `"llama3.2" does not support thinking`))
	ctx := llm.WithParamReport(context.Background(), llm.NewParamReport(true))
	_, err := p.Chat(ctx, &llm.ChatRequest{Model: "llama3.2", ReasoningEffort: "high", Messages: []llm.Message{userText("hi")}})
	if e := llm.AsError(err); e == nil || e.Kind != llm.KindInvalidRequest {
		t.Errorf("refuse policy: %v", err)
	}
}

// A thinking model without levels refuses a level: the request goes again
// with think true, and nothing is dropped; a refusal of think after that
// leaves think out.
func TestThinkLevelRefusedByModel(t *testing.T) {
	f := providertest.NewOllama(t)
	p := newProvider(t, f, "")
	levelRefused := providertest.OllamaError(http.StatusBadRequest, `think value "high" is not supported for this model`)
	for _, tc := range []struct {
		answers []providertest.Response
		thinks  []string
		dropped string
	}{
		{[]providertest.Response{levelRefused}, []string{`"high"`, `true`}, ""},
		{[]providertest.Response{levelRefused, providertest.OllamaError(http.StatusBadRequest, `"m" does not support thinking`)},
			[]string{`"high"`, `true`, ``}, "reasoning_effort"},
	} {
		before := len(f.Requests())
		f.Enqueue(tc.answers...)
		rep := llm.NewParamReport(false)
		s, err := p.Chat(llm.WithParamReport(context.Background(), rep),
			&llm.ChatRequest{Model: "m", ReasoningEffort: "high", Messages: []llm.Message{userText("hi")}})
		if err != nil {
			t.Fatal(err)
		}
		_ = s.Close()
		var thinks []string
		for _, r := range f.Requests()[before:] {
			thinks = append(thinks, gjson.GetBytes(r.Body, "think").Raw)
		}
		if strings.Join(thinks, " ") != strings.Join(tc.thinks, " ") || strings.Join(rep.Dropped(), ",") != tc.dropped {
			t.Errorf("think sent %q, dropped %q; want %q, %q", thinks, rep.Dropped(), tc.thinks, tc.dropped)
		}
	}
}

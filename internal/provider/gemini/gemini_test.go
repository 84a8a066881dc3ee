package gemini

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
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

const testKey = "gemini-test-key-0123456789abcdef"

func newProvider(t *testing.T, f *providertest.Gemini) *Provider {
	t.Helper()
	p, err := New(Config{Name: "ge", BaseURL: f.URL, APIKey: testKey, StreamIdleTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ptr[T any](v T) *T { return &v }

func userText(s string) llm.Message {
	return llm.Message{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart(s)}}
}

// result is what a stream yielded.
type result struct {
	text, thinking string
	finish         llm.FinishReason
	calls          []llm.ToolCall
	err            error
}

func collect(t *testing.T, s llm.Stream) result {
	t.Helper()
	defer s.Close()
	var r result
	for {
		c, err := s.Recv()
		if err == io.EOF {
			return r
		}
		if err != nil {
			r.err = err
			return r
		}
		for _, ch := range c.Choices {
			r.text += ch.Message.Text()
			for _, p := range ch.Message.Content {
				if p.Type == llm.PartThinking {
					r.thinking += p.Text
				}
			}
			r.calls = append(r.calls, ch.Message.ToolCalls...)
			if ch.FinishReason != "" {
				r.finish = ch.FinishReason
			}
		}
	}
}

func chat(t *testing.T, f *providertest.Gemini, req *llm.ChatRequest) (result, llm.Stream) {
	t.Helper()
	s, err := newProvider(t, f).Chat(context.Background(), req)
	if err != nil {
		return result{err: err}, nil
	}
	return collect(t, s), s
}

func TestNewDefaultsAndRefusals(t *testing.T) {
	p, err := New(Config{Name: "ge"})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.methodURL("gemini-2.5-flash", "generateContent"); got != DefaultBaseURL+"/v1beta/models/gemini-2.5-flash:generateContent" {
		t.Errorf("url %q", got)
	}
	if got := p.methodURL("models/x/../y?key=1", "generateContent"); strings.Contains(got, "?") || strings.Contains(got, "/../") {
		t.Errorf("model id reaches the path: %q", got)
	}
	if _, err := New(Config{}); err == nil {
		t.Error("no name accepted")
	}
	if _, err := New(Config{Name: "ge", BaseURL: "generativelanguage.googleapis.com"}); err == nil {
		t.Error("relative base URL accepted")
	}
}

// The key goes in x-goog-api-key and never in the URL; unary and streamed
// calls reach their methods, the stream with alt=sse.
func TestKeyHeaderAndMethods(t *testing.T) {
	f := providertest.NewGemini(t)
	for _, stream := range []bool{false, true} {
		r, _ := chat(t, f, &llm.ChatRequest{Model: "gemini-2.5-flash", Messages: []llm.Message{userText("hello there")}, Stream: stream})
		if r.err != nil || r.text != "hello there" || r.finish != llm.FinishStop {
			t.Fatalf("stream %v: %+v", stream, r)
		}
	}
	reqs := f.Requests()
	if reqs[0].Path != "/v1beta/models/gemini-2.5-flash:generateContent" || reqs[1].Path != "/v1beta/models/gemini-2.5-flash:streamGenerateContent" {
		t.Errorf("paths %q %q", reqs[0].Path, reqs[1].Path)
	}
	for _, r := range reqs {
		if r.Header.Get("x-goog-api-key") != testKey || r.Header.Get("Authorization") != "" {
			t.Errorf("headers %v", r.Header)
		}
	}
}

// The conversation in Gemini's words: system instruction, roles user and
// model, calls as functionCall parts, results as functionResponse parts
// named by their call's function and gathered in one turn, images inline.
func TestRequestTranslation(t *testing.T) {
	f := providertest.NewGemini(t)
	rep := llm.NewParamReport(false)
	req := &llm.ChatRequest{
		Model: "gemini-2.5-flash",
		Messages: []llm.Message{
			{Role: llm.RoleSystem, Content: []llm.Part{llm.TextPart("Be brief.")}},
			{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart("Weather here?"), {Type: llm.PartImage, Image: &llm.Image{MediaType: "image/png", Data: "iVBORw0KGgo="}}}},
			{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{
				{ID: "call_a", Type: "function", Name: "get_weather", Arguments: `{"location":"Paris"}`},
				{ID: "call_b", Type: "function", Name: "get_time", Arguments: ``},
			}},
			{Role: llm.RoleTool, ToolCallID: "call_b", Content: []llm.Part{llm.TextPart("noon")}},
			{Role: llm.RoleTool, ToolCallID: "call_a", Content: []llm.Part{llm.TextPart(`{"temp":18}`)}},
			userText("Thanks"),
		},
		Tools:       []llm.Tool{{Type: "function", Name: "get_weather", Description: "Weather", Parameters: json.RawMessage(`{"type":"object","additionalProperties":false}`)}},
		ToolChoice:  &llm.ToolChoice{Mode: llm.ToolChoiceFunction, Name: "get_weather"},
		Temperature: ptr(0.5), TopP: ptr(0.9), TopK: ptr(40), MaxTokens: ptr(100), Stop: []string{"END"}, Seed: ptr(int64(7)),
		ResponseFormat:  &llm.ResponseFormat{Type: "json_schema", JSONSchema: &llm.JSONSchema{Name: "x", Schema: json.RawMessage(`{"type":"object"}`)}},
		ReasoningEffort: "low", User: "u-1", Logprobs: ptr(true),
	}
	if r, _ := chat(t, f, req); r.err != nil {
		// The fake echoes text; its refusals come back as errors.
		t.Fatal(r.err)
	}
	s, err := newProvider(t, f).Chat(llm.WithParamReport(context.Background(), rep), req)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	up := gjson.ParseBytes(f.Requests()[1].Body)
	for path, want := range map[string]string{
		"systemInstruction":                   `{"parts":[{"text":"Be brief."}]}`,
		"contents.0":                          `{"role":"user","parts":[{"text":"Weather here?"},{"inlineData":{"mimeType":"image/png","data":"iVBORw0KGgo="}}]}`,
		"contents.1":                          `{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"location":"Paris"}}},{"functionCall":{"name":"get_time","args":{}}}]}`,
		"contents.2":                          `{"role":"user","parts":[{"functionResponse":{"name":"get_time","response":{"output":"noon"}}},{"functionResponse":{"name":"get_weather","response":{"temp":18}}}]}`,
		"contents.3":                          `{"role":"user","parts":[{"text":"Thanks"}]}`,
		"tools":                               `[{"functionDeclarations":[{"name":"get_weather","description":"Weather","parametersJsonSchema":{"type":"object","additionalProperties":false}}]}]`,
		"toolConfig":                          `{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["get_weather"]}}`,
		"generationConfig.thinkingConfig":     `{"thinkingBudget":1024,"includeThoughts":true}`,
		"generationConfig.responseJsonSchema": `{"type":"object"}`,
		`generationConfig.[temperature,topP,topK,maxOutputTokens]`: `[0.5,0.9,40,100]`,
		`generationConfig.[stopSequences,seed,responseMimeType]`:   `[["END"],7,"application/json"]`,
	} {
		if got := up.Get(path).Raw; got != want {
			t.Errorf("%s = %s, want %s", path, got, want)
		}
	}
	if got := strings.Join(rep.Dropped(), ","); got != "logprobs,user" {
		t.Errorf("dropped %q", got)
	}
	if len(up.Get("contents").Array()) != 4 {
		t.Errorf("contents %s", up.Get("contents").Raw)
	}
}

// An image by URL would be answered without being seen: refused before
// the upstream; so is a result for a call the conversation lacks.
func TestRequestRefusals(t *testing.T) {
	f := providertest.NewGemini(t)
	for _, msgs := range [][]llm.Message{
		{{Role: llm.RoleUser, Content: []llm.Part{{Type: llm.PartImage, Image: &llm.Image{URL: "https://example.com/cat.jpg"}}}}},
		{userText("x"), {Role: llm.RoleTool, ToolCallID: "call_x", Content: []llm.Part{llm.TextPart("r")}}},
	} {
		r, _ := chat(t, f, &llm.ChatRequest{Model: "m", Messages: msgs})
		if e := llm.AsError(r.err); r.err == nil || e.Kind != llm.KindInvalidRequest {
			t.Errorf("error %v", r.err)
		}
	}
	if n := len(f.Requests()); n != 0 {
		t.Errorf("%d requests reached the upstream", n)
	}
}

// Gemini 3 refuses a replayed call without a thought signature: the first
// call of a model turn carries the documented skip value; earlier models
// are sent none.
func TestThoughtSignatureOfReplayedCalls(t *testing.T) {
	for model, want := range map[string]string{"gemini-3-pro-preview": skipThoughtSignature, "models/gemini-3.1-flash": skipThoughtSignature, "gemini-2.5-flash": "", "gemma-3-27b-it": ""} {
		f := providertest.NewGemini(t)
		msgs := []llm.Message{userText("w?"), {Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{
			{ID: "a", Name: "f", Arguments: "{}"}, {ID: "b", Name: "f", Arguments: "{}"}}},
			{Role: llm.RoleTool, ToolCallID: "a", Content: []llm.Part{llm.TextPart("1")}},
			{Role: llm.RoleTool, ToolCallID: "b", Content: []llm.Part{llm.TextPart("2")}}}
		chat(t, f, &llm.ChatRequest{Model: model, Messages: msgs})
		up := gjson.ParseBytes(f.Requests()[0].Body)
		if got := up.Get("contents.1.parts.0.thoughtSignature").Str; got != want {
			t.Errorf("%s: first call signature %q", model, got)
		}
		if up.Get("contents.1.parts.1.thoughtSignature").Exists() {
			t.Errorf("%s: second call signed", model)
		}
	}
}

func TestThinkingConfig(t *testing.T) {
	for _, tc := range []struct {
		req  llm.ChatRequest
		want string
	}{
		{llm.ChatRequest{Thinking: json.RawMessage(`{"type":"enabled","budget_tokens":2048}`)}, `{"thinkingBudget":2048,"includeThoughts":true}`},
		{llm.ChatRequest{Thinking: json.RawMessage(`{"type":"disabled"}`)}, `{"thinkingBudget":0}`},
		{llm.ChatRequest{Thinking: json.RawMessage(`{"type":"adaptive"}`)}, `{"thinkingBudget":-1,"includeThoughts":true}`},
		{llm.ChatRequest{ReasoningEffort: "none"}, `{"thinkingBudget":0}`},
		{llm.ChatRequest{ReasoningEffort: "high"}, `{"thinkingBudget":24576,"includeThoughts":true}`},
		{llm.ChatRequest{}, ``},
	} {
		tc.req.Model, tc.req.Messages = "m", []llm.Message{userText("x")}
		b, _, err := encodeChat(&tc.req, false)
		if got := gjson.GetBytes(b, "generationConfig.thinkingConfig").Raw; err != nil || got != tc.want {
			t.Errorf("%s %q: %s, %v", tc.req.Thinking, tc.req.ReasoningEffort, got, err)
		}
	}
}

// Text, thoughts as reasoning, calls with ids of the gateway's, unary and
// streamed (split in every byte); usage with the thoughts in the
// completion and the cached tokens.
func TestAnswers(t *testing.T) {
	for _, stream := range []bool{false, true} {
		load := func(name string) providertest.Response {
			if stream {
				return providertest.Response{SSE: providertest.Load(t, "gemini/stream_"+name+".sse"), Split: 1}
			}
			return providertest.Response{Body: providertest.Load(t, "gemini/chat_"+name+".json")}
		}
		f := providertest.NewGemini(t)
		f.Enqueue(load("text"), load("thinking"), load("tool_calls"))
		req := &llm.ChatRequest{Model: "gemini-2.5-flash", Messages: []llm.Message{userText("x")}, Stream: stream}
		r, _ := chat(t, f, req)
		wantText := map[bool]string{false: "Hello! How can I help you today?", true: "Bonjour! Ça va très bien, merci 👋"}[stream]
		if r.err != nil || r.text != wantText || r.finish != llm.FinishStop {
			t.Errorf("stream %v text: %+v", stream, r)
		}
		r, _ = chat(t, f, req)
		if r.err != nil || r.text != "Yes: nine is odd." || r.thinking != "**Checking parity**\n\nNine divided by two leaves one." {
			t.Errorf("stream %v thinking: %+v", stream, r)
		}
		r, s := chat(t, f, req)
		if r.err != nil || r.finish != llm.FinishToolCalls || len(r.calls) != 2 {
			t.Fatalf("stream %v calls: %+v", stream, r)
		}
		if c := r.calls[1]; c.Name != "get_weather" || c.Arguments != `{"location":"Zürich"}` || c.Index != 1 {
			t.Errorf("call %+v", c)
		}
		if r.calls[0].ID == "" || r.calls[0].ID == r.calls[1].ID || !strings.HasPrefix(r.calls[0].ID, "call_") {
			t.Errorf("ids %q %q", r.calls[0].ID, r.calls[1].ID)
		}
		want := llm.Usage{PromptTokens: 118, CompletionTokens: 71, TotalTokens: 189, CachedTokens: 64, ReasoningTokens: 41}
		if u := s.Usage(); u != want {
			t.Errorf("stream %v usage %+v", stream, u)
		}
	}
}

// Every finish reason: STOP and MAX_TOKENS are stops; the blocks are the
// content filter; the failures are upstream errors, unary or streamed,
// never a complete answer. A blocked prompt is the content filter too.
func TestFinishReasons(t *testing.T) {
	text := providertest.Load(t, "gemini/chat_text.json")
	sse := providertest.Load(t, "gemini/stream_text.sse")
	for reason, want := range map[string]llm.FinishReason{
		"STOP": llm.FinishStop, "MAX_TOKENS": llm.FinishLength,
		"SAFETY": llm.FinishContentFilter, "RECITATION": llm.FinishContentFilter, "BLOCKLIST": llm.FinishContentFilter,
		"PROHIBITED_CONTENT": llm.FinishContentFilter, "SPII": llm.FinishContentFilter, "LANGUAGE": llm.FinishContentFilter,
		"IMAGE_SAFETY":            llm.FinishContentFilter,
		"MALFORMED_FUNCTION_CALL": "", "UNEXPECTED_TOOL_CALL": "", "OTHER": "", "FINISH_REASON_UNSPECIFIED": "", "SOMETHING_NEW": "",
	} {
		for _, stream := range []bool{false, true} {
			f := providertest.NewGemini(t)
			r := providertest.Response{Body: bytes.Replace(text, []byte(`"finishReason": "STOP"`), []byte(`"finishReason": "`+reason+`"`), 1)}
			if stream {
				r = providertest.Response{SSE: bytes.Replace(sse, []byte(`"finishReason": "STOP"`), []byte(`"finishReason": "`+reason+`"`), 1)}
			}
			f.Enqueue(r)
			got, _ := chat(t, f, &llm.ChatRequest{Model: "m", Messages: []llm.Message{userText("x")}, Stream: stream})
			if want == "" {
				if e := llm.AsError(got.err); got.err == nil || e.Kind != llm.KindUpstream || e.Provider != "ge" {
					t.Errorf("%s stream %v: %+v", reason, stream, got)
				}
				continue
			}
			if got.err != nil || got.finish != want {
				t.Errorf("%s stream %v: %+v", reason, stream, got)
			}
		}
	}
	f := providertest.NewGemini(t)
	blocked := providertest.Load(t, "gemini/chat_blocked.json")
	f.Enqueue(providertest.Response{Body: blocked}, providertest.Response{SSE: []byte("data: " + string(bytes.Join(bytes.Fields(blocked), nil)) + "\r\n\r\n")})
	for _, stream := range []bool{false, true} {
		got, _ := chat(t, f, &llm.ChatRequest{Model: "m", Messages: []llm.Message{userText("x")}, Stream: stream})
		if got.err != nil || got.finish != llm.FinishContentFilter || got.text != "" {
			t.Errorf("blocked prompt, stream %v: %+v", stream, got)
		}
	}
}

// Google's error bodies give the client the upstream's message, the key
// redacted, and the kind of the status; an error object inside a stream
// ends it with an error after the text sent; so does a stream cut short.
func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		status int
		file   string
		kind   llm.Kind
	}{
		{400, "error_400.json", llm.KindInvalidRequest},
		{404, "error_404.json", llm.KindNotFound},
		{429, "error_429.json", llm.KindRateLimited},
		{503, "error_503.json", llm.KindUpstreamUnavailable},
	} {
		f := providertest.NewGemini(t)
		body := providertest.Load(t, "gemini/"+tc.file)
		f.Enqueue(providertest.Response{Status: tc.status, Body: body})
		r, _ := chat(t, f, &llm.ChatRequest{Model: "m", Messages: []llm.Message{userText("x")}})
		e := llm.AsError(r.err)
		if r.err == nil {
			t.Errorf("%s: no error", tc.file)
			continue
		}
		// The message is relayed for a refused request, and kept for the
		// logs otherwise.
		if e == nil || e.UpstreamStatus != tc.status || !strings.Contains(e.Error(), gjson.GetBytes(body, "error.message").Str) ||
			!strings.Contains(e.Error(), gjson.GetBytes(body, "error.status").Str) {
			t.Errorf("%s: %v", tc.file, r.err)
			continue
		}
		if e.Kind != tc.kind {
			t.Errorf("%s: kind %v", tc.file, e.Kind)
		}
	}
	f := providertest.NewGemini(t)
	f.Enqueue(providertest.GeminiError(400, "INVALID_ARGUMENT", "API key not valid: "+testKey))
	r, _ := chat(t, f, &llm.ChatRequest{Model: "m", Messages: []llm.Message{userText("x")}})
	if e := llm.AsError(r.err); r.err == nil || strings.Contains(e.Message, testKey) || !strings.Contains(e.Message, "[redacted]") {
		t.Errorf("key not redacted: %v", r.err)
	}
	for name, want := range map[string][2]string{
		"stream_error.sse":     {"The answer", "The model is overloaded. Please try again later."},
		"stream_truncated.sse": {"Once upon", "upstream stream ended before completion"},
	} {
		f := providertest.NewGemini(t)
		f.Enqueue(providertest.Response{SSE: providertest.Load(t, "gemini/"+name)})
		r, _ := chat(t, f, &llm.ChatRequest{Model: "m", Messages: []llm.Message{userText("x")}, Stream: true})
		if e := llm.AsError(r.err); r.err == nil || e.Kind != llm.KindUpstream || r.text != want[0] || e.Message != want[1] {
			t.Errorf("%s: %+v", name, r)
		}
	}
	// A 200 answer holding an error object is the upstream's error.
	f = providertest.NewGemini(t)
	f.Enqueue(providertest.Response{Body: providertest.Load(t, "gemini/error_503.json")})
	r, _ = chat(t, f, &llm.ChatRequest{Model: "m", Messages: []llm.Message{userText("x")}})
	if e := llm.AsError(r.err); r.err == nil || e.Kind != llm.KindUpstream || e.Message != "The model is overloaded. Please try again later." {
		t.Errorf("error object in a 200: %v", r.err)
	}
}

// Closing a stream mid-way cancels the upstream request.
func TestCancelMidStream(t *testing.T) {
	f := providertest.NewGemini(t)
	sse := providertest.Load(t, "gemini/stream_text.sse")
	hold := make(chan struct{})
	defer close(hold)
	f.Enqueue(providertest.Response{SSE: sse, Hold: hold, HoldAfter: bytes.Index(sse, []byte("\r\n\r\n")) + 4})
	s, err := newProvider(t, f).Chat(context.Background(), &llm.ChatRequest{Model: "m", Messages: []llm.Message{userText("x")}, Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Recv()
	if err != nil || c.Choices[0].Message.Text() != "Bonjour" {
		t.Fatalf("first chunk %v %v", c, err)
	}
	s.Close()
	select {
	case <-f.Canceled():
	case <-time.After(5 * time.Second):
		t.Fatal("upstream request not canceled")
	}
}

// One input goes to embedContent, several to batchEmbedContents in one
// request; base64 is made from the floats.
func TestEmbed(t *testing.T) {
	f := providertest.NewGemini(t)
	p := newProvider(t, f)
	f.Enqueue(providertest.Response{Body: providertest.Load(t, "gemini/embed.json")}, providertest.Response{Body: providertest.Load(t, "gemini/embeddings.json")})
	r, err := p.Embed(context.Background(), &llm.EmbedRequest{Model: "gemini-embedding-001", Input: json.RawMessage(`"hello"`), Dimensions: ptr(10)})
	if err != nil || len(r.Data) != 1 || gjson.GetBytes(r.Data[0].Embedding, "#").Int() != 10 {
		t.Fatalf("%+v %v", r, err)
	}
	r, err = p.Embed(context.Background(), &llm.EmbedRequest{Model: "gemini-embedding-001", Input: json.RawMessage(`["a","b"]`), EncodingFormat: "base64"})
	if err != nil || len(r.Data) != 2 || r.Data[1].Index != 1 || gjson.ParseBytes(r.Data[1].Embedding).Type != gjson.String {
		t.Fatalf("%+v %v", r, err)
	}
	reqs := f.Requests()
	if reqs[0].Path != "/v1beta/models/gemini-embedding-001:embedContent" || reqs[1].Path != "/v1beta/models/gemini-embedding-001:batchEmbedContents" {
		t.Errorf("paths %q %q", reqs[0].Path, reqs[1].Path)
	}
	if got := gjson.GetBytes(reqs[0].Body, "@this").Raw; got != `{"content":{"parts":[{"text":"hello"}]},"outputDimensionality":10}` {
		t.Errorf("embed body %s", got)
	}
	if got := gjson.GetBytes(reqs[1].Body, "requests.1").Raw; got != `{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"b"}]}}` {
		t.Errorf("batch body %s", got)
	}
	if _, err := p.Embed(context.Background(), &llm.EmbedRequest{Model: "m", Input: json.RawMessage(`[[1,2]]`)}); err == nil {
		t.Error("token input accepted")
	}
	// Fewer vectors than inputs is no answer.
	f.Enqueue(providertest.Response{Body: providertest.Load(t, "gemini/embed.json")})
	if _, err := p.Embed(context.Background(), &llm.EmbedRequest{Model: "m", Input: json.RawMessage(`["a","b"]`)}); err == nil {
		t.Error("one vector for two inputs accepted")
	}
}

package anthropic

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/openai"
	"github.com/llmgw/llmgw/internal/provider/providertest"
	"github.com/llmgw/llmgw/internal/sse"
)

// goldenCreated stands in for the clock: an OpenAI client is given the time
// the stream began when the upstream (Anthropic) names none.
const goldenCreated = 1735689600

// checkGoldenFile compares got with testdata/name, rewriting it first under
// -update.
func checkGoldenFile(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// openAIEvents plays the gateway's OpenAI stream writer over the chunks an
// Anthropic capture decodes to: every chunk with choices is stamped with the
// stream's id, model and created time and written without usage; the usage
// the client asked for (stream_options.include_usage) follows in a chunk of
// its own, then [DONE]. A failure becomes an in-band error event and the
// stream ends without [DONE].
func openAIEvents(t *testing.T, capture []byte) *bytes.Buffer {
	t.Helper()
	rec := httptest.NewRecorder()
	w := sse.NewWriter(rec)
	write := func(b []byte) {
		if err := w.WriteData(b); err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}()
	d := NewStreamDecoder()
	var id, model string
	r := sse.NewReader(strings.NewReader(string(capture)), 0)
	for {
		ev, err := r.Next()
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			// The connection was lost before message_stop, as the provider
			// reports it.
			write(openai.AppendError(nil, &llm.Error{Kind: llm.KindUpstream, Message: "upstream stream ended before completion"}))
			return rec.Body
		}
		if err != nil {
			t.Fatal(err)
		}
		c, err := d.Decode(ev.Type, ev.Data)
		if err == io.EOF {
			break
		}
		if err != nil {
			write(openai.AppendError(nil, llm.AsError(err)))
			return rec.Body
		}
		if c == nil {
			continue
		}
		if id == "" {
			id, model = c.ID, c.Model
		}
		if len(c.Choices) == 0 {
			continue
		}
		cc := *c
		cc.Usage = nil
		cc.ID, cc.Model, cc.Created = id, model, goldenCreated
		b, err := openai.AppendChunk(nil, &cc)
		if err != nil {
			t.Fatal(err)
		}
		write(b)
	}
	u := d.Usage()
	b, err := openai.AppendChunk(nil, &llm.Chunk{ID: id, Model: model, Created: goldenCreated, Usage: &u})
	if err != nil {
		t.Fatal(err)
	}
	write(b)
	write([]byte("[DONE]"))
	return rec.Body
}

// TestGoldenStreamToOpenAI translates each Anthropic stream capture into the
// chat.completion.chunk events an OpenAI client is sent, checks them against
// testdata/<capture>.openai.golden.sse, and decodes them again with the
// OpenAI decoder: text, tool calls, finish reason and usage arrive whole.
func TestGoldenStreamToOpenAI(t *testing.T) {
	cases := []struct {
		capture string
		// want is what an OpenAI client assembles, or nil for a stream
		// that fails; wantErr is then the error type it is told.
		want    *llm.Chunk
		wantErr string
	}{
		{capture: "stream_text", want: &llm.Chunk{
			Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, Content: []llm.Part{llm.TextPart("Bonjour! Ça va très bien, merci 👋")}}, FinishReason: llm.FinishStop}},
			Usage:   &llm.Usage{PromptTokens: 25, CompletionTokens: 15, TotalTokens: 40},
		}},
		{capture: "stream_tool_use", want: &llm.Chunk{
			Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant,
				Content: []llm.Part{llm.TextPart("I'll check the weather in both cities.")},
				ToolCalls: []llm.ToolCall{
					{Index: 0, ID: "toolu_01T1x1fJ34qAmk2tNTrN7Up6", Type: "function", Name: "get_weather", Arguments: `{"location": "Paris, France", "unit": "celsius"}`},
					{Index: 1, ID: "toolu_01B7sPqS8gXyJrTnVzWkD3mC", Type: "function", Name: "get_weather", Arguments: `{"location": "Zürich"}`},
				}}, FinishReason: llm.FinishToolCalls}},
			// OpenAI counts cached input inside prompt_tokens.
			Usage: &llm.Usage{PromptTokens: 856, CompletionTokens: 89, TotalTokens: 945, CachedTokens: 256, CacheCreationTokens: 128},
		}},
		{capture: "stream_thinking", want: &llm.Chunk{
			Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, Content: []llm.Part{
				{Type: llm.PartThinking, Text: "Let me solve this step by step:\n\n1. First break down 27 * 453\n2. 453 = 400 + 50 + 3"},
				llm.TextPart("27 * 453 = 12,231"),
			}}, FinishReason: llm.FinishStop}},
			Usage: &llm.Usage{PromptTokens: 45, CompletionTokens: 98, TotalTokens: 143},
		}},
		{capture: "stream_error_overloaded", wantErr: "upstream_unavailable"},
		{capture: "stream_truncated", wantErr: "upstream_error"},
	}
	for _, tc := range cases {
		t.Run(tc.capture, func(t *testing.T) {
			out := openAIEvents(t, providertest.Load(t, "anthropic/"+tc.capture+".sse")).Bytes()
			checkGoldenFile(t, tc.capture+".openai.golden.sse", out)
			got, errType := assembleOpenAI(t, out)
			if errType != tc.wantErr {
				t.Errorf("error type %q, want %q", errType, tc.wantErr)
			}
			if tc.want == nil {
				return
			}
			if diff := cmp.Diff(tc.want, got, cmpIgnoreIdentity); diff != "" {
				t.Errorf("what an OpenAI client assembles (-want +got):\n%s", diff)
			}
		})
	}
}

// cmpIgnoreIdentity leaves out the response's id, model and created time.
var cmpIgnoreIdentity = cmp.FilterPath(func(p cmp.Path) bool {
	s := p.String()
	return s == "ID" || s == "Model" || s == "Created"
}, cmp.Ignore())

// assembleOpenAI decodes OpenAI stream events as a client would: the
// accumulated response when the stream ends with [DONE], or the type of
// the error event that ended it (its code, which names the gateway's error
// kind).
func assembleOpenAI(t *testing.T, out []byte) (*llm.Chunk, string) {
	t.Helper()
	var acc llm.Accumulator
	for _, data := range providertest.DataPayloads(out) {
		if sse.IsDone(data) {
			return acc.Response(), ""
		}
		if e := gjson.GetBytes(data, "error.code"); e.Exists() {
			return nil, e.String()
		}
		c, err := openai.DecodeChunk(data)
		if err != nil {
			t.Fatalf("decode %s: %v", data, err)
		}
		acc.Add(c)
	}
	t.Fatal("stream ended without [DONE] or an error event")
	return nil, ""
}

// TestGoldenMessageToOpenAI translates unary Anthropic Messages into the
// chat.completion body an OpenAI client is sent, as the gateway does:
// decoded, folded, stamped with a created time, encoded.
func TestGoldenMessageToOpenAI(t *testing.T) {
	for _, name := range []string{"message_text", "message_tool_use"} {
		t.Run(name, func(t *testing.T) {
			c, err := DecodeMessagesResponse(providertest.Load(t, "anthropic/"+name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var acc llm.Accumulator
			acc.Add(c)
			resp := acc.Response()
			resp.Created = goldenCreated
			body, err := openai.EncodeChatResponse(resp)
			if err != nil {
				t.Fatal(err)
			}
			checkGoldenFile(t, name+".openai.golden.json", indentJSON(t, body))
			back, err := openai.DecodeChatResponse(body)
			if err != nil {
				t.Fatalf("the body does not decode as a chat.completion: %v", err)
			}
			if diff := cmp.Diff(c.Choices[0].Message.ToolCalls, back.Choices[0].Message.ToolCalls, rawJSONEqual); diff != "" {
				t.Errorf("tool calls (-anthropic +openai):\n%s", diff)
			}
		})
	}
}

// TestGoldenChatToAnthropic translates unary OpenAI chat.completion bodies
// into the Message an Anthropic client is sent.
func TestGoldenChatToAnthropic(t *testing.T) {
	for _, name := range []string{"chat_text", "chat_tool_calls"} {
		t.Run(name, func(t *testing.T) {
			c, err := openai.DecodeChatResponse(providertest.Load(t, "openai/"+name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var acc llm.Accumulator
			acc.Add(c)
			body, err := EncodeMessagesResponse(acc.Response())
			if err != nil {
				t.Fatal(err)
			}
			checkGoldenFile(t, name+".anthropic.golden.json", indentJSON(t, body))
			back, err := DecodeMessagesResponse(body)
			if err != nil {
				t.Fatalf("the body does not decode as a Message: %v", err)
			}
			if *back.Usage != *c.Usage {
				t.Errorf("usage after the round trip %+v, want %+v", *back.Usage, *c.Usage)
			}
		})
	}
}

func indentJSON(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatalf("%v:\n%s", err, b)
	}
	return append(out.Bytes(), '\n')
}

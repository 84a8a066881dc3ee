package conformance

import (
	"bytes"
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// stopNames maps a canonical stop reason to each client protocol's word.
var stopNames = map[string]map[string]string{
	"stop":           {OpenAI: "stop", Anthropic: "end_turn"},
	"length":         {OpenAI: "length", Anthropic: "max_tokens"},
	"tool_calls":     {OpenAI: "tool_calls", Anthropic: "tool_use"},
	"content_filter": {OpenAI: "content_filter", Anthropic: "refusal"},
	"stop_sequence":  {OpenAI: "stop", Anthropic: "stop_sequence"},
}

// stopFor returns how client protocol client says canonical stop reason.
func stopFor(client, canonical string) string { return stopNames[canonical][client] }

// captures of the text answers and their texts.
var captureText = map[string]map[Mode]string{
	OpenAI:    {Unary: "Hello! How can I assist you today?", Stream: "Bonjour! Ça va très bien, merci 👋"},
	Anthropic: {Unary: "Hi! My name is Claude.", Stream: "Bonjour! Ça va très bien, merci 👋"},
	Mistral:   {Unary: "Hello! How can I assist you today?", Stream: "Bonjour! Ça va très bien, merci 👋"},
	Ollama:    {Unary: "Hello! How are you today?", Stream: "Bonjour! Ça va très bien, merci 👋"},
	Gemini:    {Unary: "Hello! How can I help you today?", Stream: "Bonjour! Ça va très bien, merci 👋"},
	Cohere:    {Unary: cohereUnaryText, Stream: cohereStreamText},
}

// streamCapture returns the stream capture name (as in "stream_text.sse")
// of upstream protocol up: Ollama's are newline-delimited JSON.
func streamCapture(up, name string) string {
	if up == Ollama {
		name = strings.TrimSuffix(name, ".sse") + ".ndjson"
	}
	return up + "/" + name
}

// The texts of Cohere's captures, answers of its SDK's reference mocks.
const (
	cohereStreamText = "LLMs stand for Large Language Models, which are a type of neural network model specialized in processing and generating human language."
	cohereUnaryText  = "LLMs stand for Large Language Models, which are a type of neural network model specialized in processing and generating human language. They are designed to understand and respond to natural language input and have become increasingly popular and valuable in recent years.\n\nLLMs are trained on vast amounts of text data, enabling them to learn patterns, grammar, and semantic meanings present in the language. These models can then be used for various natural language processing tasks, such as text generation, summarization, question answering, machine translation, sentiment analysis, and even some aspects of natural language understanding.\n\nSome well-known examples of LLMs include:\n\n1. GPT-3 (Generative Pre-trained Transformer 3) — An open-source LLM developed by OpenAI, capable of generating human-like text and performing various language tasks.\n\n2. BERT (Bidirectional Encoder Representations from Transformers) — A Google-developed LLM that is particularly good at understanding contextual relationships in text, and is widely used for natural language understanding tasks like sentiment analysis and named entity recognition.\n\n3. T5 (Text-to-Text Transfer Transformer) — Also from Google, T5 is a flexible LLM that frames all language tasks as text-to-text problems, where the model learns to generate output text based on input text prompts.\n\n4. RoBERTa (Robustly Optimized BERT Approach) — A variant of BERT that uses additional training techniques to improve performance.\n\n5. DeBERTa (Decoding-enhanced BERT with disentangled attention) — Another variant of BERT that introduces a new attention mechanism.\n\nLLMs have become increasingly powerful and larger in scale, improving the accuracy and sophistication of language tasks. They are also being used as a foundation for developing various applications, including chatbots, content recommendation systems, language translation services, and more.\nThe future of LLMs holds the potential for even more sophisticated language technologies, with ongoing research and development focused on enhancing their capabilities, improving efficiency, and exploring their applications in various domains."
)

// textCapture returns the upstream's text answer for the mode, streams
// written in pieces of split bytes.
func textCapture(t testing.TB, c *Case, split int) providertest.Response {
	if c.Up() == Anthropic {
		if c.Streamed() {
			return providertest.Response{SSE: providertest.Load(t, "anthropic/stream_text.sse"), Split: split}
		}
		return providertest.Response{Body: providertest.Load(t, "anthropic/message_text.json")}
	}
	if c.nativeResponses() {
		return responsesCapture(t, c, "text", split)
	}
	if c.Streamed() {
		return providertest.Response{SSE: providertest.Load(t, streamCapture(c.Up(), "stream_text.sse")), Split: split}
	}
	return providertest.Response{Body: providertest.Load(t, c.Up()+"/chat_text.json")}
}

var (
	anthropicStopRE = regexp.MustCompile(`"stop_reason":\s*"end_turn",(\s*)"stop_sequence":\s*null`)
	openAIStopRE    = regexp.MustCompile(`"finish_reason":\s*"stop"`)
	ollamaStopRE    = regexp.MustCompile(`"done_reason":\s*"stop"`)
	geminiStopRE    = regexp.MustCompile(`"finishReason":\s*"STOP"`)
	cohereStopRE    = regexp.MustCompile(`"finish_reason":\s*"COMPLETE"`)
)

// geminiFinish is Gemini's finishReason for a canonical finish reason, or
// the reason itself when it is one of Gemini's.
var geminiFinish = map[string]string{"stop": "STOP", "length": "MAX_TOKENS", "content_filter": "SAFETY"}

// cohereFinish is Cohere's finish reason for an OpenAI one; Cohere has no
// content filter reason.
var cohereFinish = map[string]string{"stop": "COMPLETE", "length": "MAX_TOKENS", "tool_calls": "TOOL_CALL"}

// withStop rewrites a text capture's stop reason: Anthropic's to reason (and
// the matched stop sequence seq), OpenAI's to finish.
func withStop(r providertest.Response, upstream, reason, seq, finish string) providertest.Response {
	b := r.Body
	if r.SSE != nil {
		b = r.SSE
	}
	if upstream == Anthropic {
		s := `null`
		if seq != "" {
			s = `"` + seq + `"`
		}
		b = anthropicStopRE.ReplaceAll(b, []byte(`"stop_reason":"`+reason+`",${1}"stop_sequence":`+s))
	} else if upstream == Ollama {
		b = ollamaStopRE.ReplaceAll(b, []byte(`"done_reason":"`+finish+`"`))
	} else if upstream == Gemini {
		if f, ok := geminiFinish[finish]; ok {
			finish = f
		}
		b = geminiStopRE.ReplaceAll(b, []byte(`"finishReason":"`+finish+`"`))
	} else if upstream == Cohere {
		f := cohereFinish[finish]
		if seq != "" {
			f = "STOP_SEQUENCE"
		}
		if f == "" {
			f = finish
		}
		b = cohereStopRE.ReplaceAll(b, []byte(`"finish_reason":"`+f+`"`))
	} else {
		b = openAIStopRE.ReplaceAll(b, []byte(`"finish_reason":"`+finish+`"`))
	}
	if r.SSE != nil {
		r.SSE = b
	} else {
		r.Body = b
	}
	return r
}

// toolCapture returns the upstream's two parallel get_weather calls.
func toolCapture(t testing.TB, c *Case, split int) providertest.Response {
	if c.Up() == Anthropic {
		if c.Streamed() {
			return providertest.Response{SSE: providertest.Load(t, "anthropic/stream_tool_use.sse"), Split: split}
		}
		return providertest.Response{Body: providertest.Load(t, "anthropic/message_tool_use.json")}
	}
	if c.nativeResponses() {
		return responsesCapture(t, c, "tool_calls", split)
	}
	if c.Streamed() {
		return providertest.Response{SSE: providertest.Load(t, streamCapture(c.Up(), "stream_tool_calls.sse")), Split: split}
	}
	return providertest.Response{Body: providertest.Load(t, c.Up()+"/chat_tool_calls.json")}
}

// expectToolCalls checks the calls of the tool capture of the case's
// upstream. Ollama's and Gemini's have no ids: the gateway's must be
// there, and each its own.
func expectToolCalls(t *testing.T, c *Case, got []ToolCall) {
	t.Helper()
	if c.Up() == Ollama || c.Up() == Gemini {
		got = slices.Clone(got)
		seen := map[string]bool{}
		for i := range got {
			if got[i].ID == "" || seen[got[i].ID] {
				t.Errorf("tool call %d id %q: not an id of its own", i, got[i].ID)
			}
			seen[got[i].ID] = true
			got[i].ID = ""
		}
	}
	expectEqual(t, "tool calls", got, captureTools[c.Up()])
}

// captureTools are the calls in the tool captures, by upstream protocol.
var captureTools = map[string][]ToolCall{
	OpenAI: {
		{ID: "call_7bnK1ZQ0mDd1rTfJ3bNvw0Ck", Name: "get_weather", Args: map[string]any{"location": "Paris, France", "unit": "celsius"}},
		{ID: "call_Xq2Vb6Ln0sPq8YtR4mKd1EeZ", Name: "get_weather", Args: map[string]any{"location": "Zürich"}},
	},
	Anthropic: {
		{ID: "toolu_01T1x1fJ34qAmk2tNTrN7Up6", Name: "get_weather", Args: map[string]any{"location": "Paris, France", "unit": "celsius"}},
		{ID: "toolu_01B7sPqS8gXyJrTnVzWkD3mC", Name: "get_weather", Args: map[string]any{"location": "Zürich"}},
	},
	// Ollama gives its calls no id: the gateway makes them (IDs empty:
	// any).
	Ollama: {
		{Name: "get_weather", Args: map[string]any{"location": "Paris, France", "unit": "celsius"}},
		{Name: "get_weather", Args: map[string]any{"location": "Zürich"}},
	},
	// Gemini's calls have no id either.
	Gemini: {
		{Name: "get_weather", Args: map[string]any{"location": "Paris, France", "unit": "celsius"}},
		{Name: "get_weather", Args: map[string]any{"location": "Zürich"}},
	},
	Mistral: {
		{ID: "D681PevKs", Name: "get_weather", Args: map[string]any{"location": "Paris, France", "unit": "celsius"}},
		{ID: "q3Rz8LmWx", Name: "get_weather", Args: map[string]any{"location": "Zürich"}},
	},
	Cohere: {
		{ID: "get_weather_k3xq8v2m7n1p", Name: "get_weather", Args: map[string]any{"location": "Paris, France", "unit": "celsius"}},
		{ID: "get_weather_9wz4r6t0ybhs", Name: "get_weather", Args: map[string]any{"location": "Zürich"}},
	},
}

// captureUsage is the usage each client must be told for the tool captures,
// by client and upstream protocol, translated or not: OpenAI's
// prompt_tokens include cached tokens, Anthropic's input_tokens exclude
// cache reads and writes.
var captureUsage = map[[2]string]Usage{
	{OpenAI, OpenAI}:       {Input: 84, Output: 51, CacheRead: 64},
	{OpenAI, Anthropic}:    {Input: 472 + 128 + 256, Output: 89, CacheRead: 256},
	{Anthropic, Anthropic}: {Input: 472, Output: 89, CacheRead: 256, CacheCreation: 128},
	{Anthropic, OpenAI}:    {Input: 84 - 64, Output: 51, CacheRead: 64},
	{OpenAI, Mistral}:      {Input: 92, Output: 47, CacheRead: 32},
	{Anthropic, Mistral}:   {Input: 92 - 32, Output: 47, CacheRead: 32},
	{OpenAI, Ollama}:       {Input: 122, Output: 33},
	{Anthropic, Ollama}:    {Input: 122, Output: 33},
	// Gemini's completion is its candidates and thoughts tokens (30 + 41).
	{OpenAI, Gemini}:    {Input: 118, Output: 71, CacheRead: 64},
	{Anthropic, Gemini}: {Input: 118 - 64, Output: 71, CacheRead: 64},
	// Cohere's billed units, its cached tokens billed as input.
	{OpenAI, Cohere}:    {Input: 92, Output: 47},
	{Anthropic, Cohere}: {Input: 92, Output: 47},
}

// repeat returns n copies of r, so that a retrying router meets the same
// answer on every attempt.
func repeat(r providertest.Response, n int) []providertest.Response {
	out := make([]providertest.Response, n)
	for i := range out {
		out[i] = r
	}
	return out
}

// withoutTerminator cuts a stream capture just before its last event
// ([DONE] or message_stop): a body that ends cleanly but early.
func withoutTerminator(sse []byte) []byte {
	if bytes.Contains(sse, []byte("\r\n\r\n")) {
		// Gemini's events end with CRLF CRLF, and the finishReason of
		// the last one is the end: the last event goes without it.
		i := bytes.LastIndex(sse, []byte(`"finishReason": "STOP",`))
		return append(append([]byte(nil), sse[:i]...), sse[i+len(`"finishReason": "STOP",`):]...)
	}
	b := bytes.TrimRight(sse, "\n")
	if !bytes.Contains(b, []byte("\n\n")) {
		// Newline-delimited JSON (Ollama): cut the done line.
		return b[:bytes.LastIndexByte(b, '\n')+1]
	}
	return b[:bytes.LastIndex(b, []byte("\n\n"))+2]
}

// expectOK fails unless r is a complete, well-formed answer.
func expectOK(t *testing.T, c *Case, r *Result) {
	t.Helper()
	if r.Status != 200 {
		t.Fatalf("status %d, want 200: %s", r.Status, r.Body)
	}
	for _, v := range r.Violations {
		t.Errorf("protocol violation: %s", v)
	}
	if c.Streamed() && (!r.Terminated || r.StreamError != "") {
		t.Errorf("stream not complete (terminated %v, error %q):\n%s", r.Terminated, r.StreamError, r.Body)
	}
}

func expectEqual[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

// jsonEqual reports whether two JSON texts hold the same value.
func jsonEqual(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// contentText returns the text of an upstream message content: a string, or
// the text of its text blocks / parts.
func contentText(v gjson.Result) string {
	if v.Type == gjson.String {
		return v.Str
	}
	var s string
	for _, p := range v.Array() {
		if p.Get("type").String() == "text" {
			s += p.Get("text").String()
		}
	}
	return s
}

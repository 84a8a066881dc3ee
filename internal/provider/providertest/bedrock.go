package providertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/tidwall/gjson"
)

// BedrockStreamType is the Content-Type of Bedrock's event streams.
const BedrockStreamType = "application/vnd.amazon.eventstream"

// Bedrock is a fake of Amazon Bedrock's runtime API. Requests go to URL +
// "/model/{modelId}/{operation}", as to
// https://bedrock-runtime.{region}.amazonaws.com: converse,
// converse-stream, invoke and invoke-with-response-stream; the model id is
// one escaped path segment (an ARN's colons and slashes escaped). Streams
// are the binary event stream (application/vnd.amazon.eventstream), each
// message with its :message-type, :event-type (or :exception-type) and
// :content-type headers and a JSON payload; InvokeModelWithResponseStream's
// chunk events carry the model's own events base64 encoded in "bytes".
// Real payloads carry a padding member "p", which clients ignore; the
// fake's do too.
//
// With nothing enqueued it answers from the request itself: Converse and
// ConverseStream repeat the last user text; invoke with an Anthropic
// Messages body (anthropic_version) answers a message repeating it, or
// streams it; a Titan embeddings body (inputText) or a Cohere one (texts)
// gets small vectors.
//
// Whatever is enqueued, it refuses what Bedrock refuses: a request whose
// Authorization header is not a SigV4 signature for service bedrock in
// Region (403 with the exception the service names), a Converse
// conversation that does not start with a user turn or whose roles do not
// alternate, toolUse or toolResult blocks without a toolConfig, an
// Anthropic body with "model" or "stream" or without anthropic_version
// (400 ValidationException).
type Bedrock struct {
	// URL is the server's root URL.
	URL string
	// Server is the underlying test server.
	Server *httptest.Server
	// Region is the region signatures must be made for; default
	// "us-east-1".
	Region string
	*fake

	mu     sync.Mutex
	models []string
}

// NewBedrock starts a fake Bedrock runtime server, closed when the test
// ends.
func NewBedrock(t testing.TB) *Bedrock {
	f := &Bedrock{fake: newFake(defaultBedrock), Region: "us-east-1"}
	f.refuse = f.check
	f.streamType = BedrockStreamType
	f.Server = httptest.NewServer(http.HandlerFunc(f.serveHTTP))
	f.URL = f.Server.URL
	t.Cleanup(f.Server.Close)
	return f
}

// Models returns the model ids of the requests received so far, unescaped
// from their path segment.
func (f *Bedrock) Models() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.models...)
}

// BedrockError is an error answer: the status, the exception's name in
// X-Amzn-ErrorType and {"message"} as the body, as the service sends them.
func BedrockError(status int, exception, msg string) Response {
	b, _ := json.Marshal(map[string]string{"message": msg})
	return Response{Status: status, Body: b, Header: http.Header{
		"X-Amzn-Errortype": {exception + ":http://internal.amazon.com/coral/com.amazon.bedrock/"},
		"X-Amzn-Requestid": {"00000000-0000-4000-8000-000000000000"}}}
}

// BedrockEvent is one event stream message of type event: :event-type
// eventType and a JSON payload, padded as the service pads it.
func BedrockEvent(eventType string, payload any) []byte {
	b, err := json.Marshal(payload)
	if err != nil {
		panic(err)
	}
	if len(b) > 1 && b[0] == '{' {
		sep := ","
		if string(b) == "{}" {
			sep = ""
		}
		b = append(append([]byte(`{"p":"abcdefghijklmnopqrstuvwxyzABCDEFGH"`), sep...), b[1:]...)
	}
	return bedrockMessage(eventstream.Headers{
		{Name: ":event-type", Value: eventstream.StringValue(eventType)},
		{Name: ":content-type", Value: eventstream.StringValue("application/json")},
		{Name: ":message-type", Value: eventstream.StringValue("event")},
	}, b)
}

// BedrockException is one event stream message of type exception, as a
// stream reports a failure after its 200 status: :exception-type is the
// member name of the exception in the stream's union
// ("throttlingException", "modelStreamErrorException",
// "validationException", "internalServerException",
// "serviceUnavailableException").
func BedrockException(exceptionType, msg string) []byte {
	b, _ := json.Marshal(map[string]string{"message": msg})
	return bedrockMessage(eventstream.Headers{
		{Name: ":exception-type", Value: eventstream.StringValue(exceptionType)},
		{Name: ":content-type", Value: eventstream.StringValue("application/json")},
		{Name: ":message-type", Value: eventstream.StringValue("exception")},
	}, b)
}

// BedrockChunk is one chunk event of InvokeModelWithResponseStream: the
// model's own event (an Anthropic stream event) base64 encoded in "bytes".
func BedrockChunk(modelEvent []byte) []byte {
	return BedrockEvent("chunk", map[string][]byte{"bytes": modelEvent})
}

func bedrockMessage(h eventstream.Headers, payload []byte) []byte {
	var buf bytes.Buffer
	if err := eventstream.NewEncoder().Encode(&buf, eventstream.Message{Headers: h, Payload: payload}); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// BedrockStream is a streamed answer of the given event stream messages.
func BedrockStream(messages ...[]byte) Response {
	return Response{SSE: bytes.Join(messages, nil)}
}

// sigV4RE matches a SigV4 Authorization header and captures the access
// key id, date, region and service of its credential scope.
var sigV4RE = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([A-Z0-9]{16,128})/(\d{8})/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=[0-9a-f]{64}$`)

// bedrockOperation splits /model/{modelId}/{operation}, unescaping the
// model id.
func bedrockOperation(r *http.Request) (model, op string, ok bool) {
	rest, found := strings.CutPrefix(r.URL.EscapedPath(), "/model/")
	if !found {
		return "", "", false
	}
	seg, op, found := strings.Cut(rest, "/")
	if !found || strings.Contains(op, "/") {
		return "", "", false
	}
	model, err := url.PathUnescape(seg)
	return model, op, err == nil
}

// check answers a request Bedrock would refuse, and records its model.
func (f *Bedrock) check(r *http.Request, body []byte) (Response, bool) {
	m := sigV4RE.FindStringSubmatch(r.Header.Get("Authorization"))
	switch {
	case m == nil:
		return BedrockError(http.StatusForbidden, "UnrecognizedClientException", "The security token included in the request is invalid."), true
	case m[3] != f.Region || m[4] != "bedrock":
		return BedrockError(http.StatusForbidden, "InvalidSignatureException",
			fmt.Sprintf("Credential should be scoped to a valid region and to service bedrock, not '%s/%s'.", m[3], m[4])), true
	case r.Header.Get("X-Amz-Date") == "" || !strings.HasPrefix(r.Header.Get("X-Amz-Date"), m[2]):
		return BedrockError(http.StatusForbidden, "InvalidSignatureException", "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP."), true
	case !strings.Contains(";"+m[5]+";", ";host;") || !strings.Contains(";"+m[5]+";", ";x-amz-date;"):
		return BedrockError(http.StatusForbidden, "InvalidSignatureException", "host and x-amz-date must be signed."), true
	}
	model, op, ok := bedrockOperation(r)
	if !ok {
		return BedrockError(http.StatusNotFound, "UnknownOperationException", ""), true
	}
	f.mu.Lock()
	f.models = append(f.models, model)
	f.mu.Unlock()
	bad := func(msg string) (Response, bool) {
		return BedrockError(http.StatusBadRequest, "ValidationException", msg), true
	}
	req := gjson.ParseBytes(body)
	switch op {
	case "converse", "converse-stream":
		if !req.IsObject() {
			return bad("Malformed input request, please reformat your input and try again.")
		}
		prev, tools := "", false
		for i, msg := range req.Get("messages").Array() {
			role := msg.Get("role").Str
			if (i == 0 && role != "user") || role == prev {
				return bad("A conversation must start with a user message. Try again with a conversation that starts with a user message. / A conversation must alternate between user and assistant roles.")
			}
			prev = role
			if len(msg.Get("content").Array()) == 0 {
				return bad(fmt.Sprintf("The content field in the Message object at messages.%d is empty. Add a ContentBlock object to the content field and try again.", i))
			}
			for _, b := range msg.Get("content").Array() {
				tools = tools || b.Get("toolUse").Exists() || b.Get("toolResult").Exists()
			}
		}
		if tools && !req.Get("toolConfig").Exists() {
			return bad("The toolConfig field must be defined when using toolUse and toolResult content blocks.")
		}
	case "invoke", "invoke-with-response-stream":
		if req.Get("anthropic_version").Exists() || req.Get("messages").Exists() {
			switch {
			case req.Get("model").Exists():
				return bad("Malformed input request: #: extraneous key [model] is not permitted, please reformat your input and try again.")
			case req.Get("stream").Exists():
				return bad("Malformed input request: #: extraneous key [stream] is not permitted, please reformat your input and try again.")
			case req.Get("anthropic_version").Str != "bedrock-2023-05-31":
				return bad("Malformed input request: #/anthropic_version: bedrock-2023-05-31 is the only valid value, please reformat your input and try again.")
			}
		}
		if d := req.Get("dimensions"); d.Exists() && d.Int() != 256 && d.Int() != 512 && d.Int() != 1024 {
			return bad("Malformed input request: #/dimensions: 256, 512 or 1024, please reformat your input and try again.")
		}
	}
	return Response{}, false
}

// defaultBedrock answers a request nothing was enqueued for.
func defaultBedrock(r *http.Request, body []byte) Response {
	req := gjson.ParseBytes(body)
	_, op, _ := bedrockOperation(r)
	switch op {
	case "converse":
		text := bedrockLastText(req)
		return Response{Body: BedrockConverseAnswer(text, "end_turn", bedrockWords(req.Get("messages").Raw), len(strings.Fields(text)))}
	case "converse-stream":
		return BedrockConverseTextStream(bedrockLastText(req), bedrockWords(req.Get("messages").Raw))
	case "invoke", "invoke-with-response-stream":
		switch {
		case req.Get("anthropic_version").Exists():
			text := anthropicLastText(req)
			if op == "invoke" {
				return Response{Body: bedrockAnthropicMessage(text, bedrockWords(req.Get("messages").Raw))}
			}
			return bedrockAnthropicStream(text, bedrockWords(req.Get("messages").Raw))
		case req.Get("inputText").Exists():
			n := int(req.Get("dimensions").Int())
			if n == 0 {
				n = 1024
			}
			vec := make([]float64, n)
			vec[0] = float64(len(req.Get("inputText").Str))
			b, _ := json.Marshal(map[string]any{"embedding": vec, "inputTextTokenCount": len(strings.Fields(req.Get("inputText").Str)),
				"embeddingsByType": map[string]any{"float": vec}})
			return Response{Body: b}
		case req.Get("texts").Exists():
			var vecs [][]float64
			for i, s := range req.Get("texts").Array() {
				vecs = append(vecs, []float64{float64(len(s.Str)), float64(i), 0.5})
			}
			b, _ := json.Marshal(map[string]any{"id": "fake-embed-id", "response_type": "embeddings_floats",
				"embeddings": vecs, "texts": req.Get("texts").Value()})
			return Response{Body: b}
		}
		return BedrockError(http.StatusBadRequest, "ValidationException", "Malformed input request, please reformat your input and try again.")
	}
	return BedrockError(http.StatusNotFound, "UnknownOperationException", "")
}

// bedrockWords counts the words of a JSON text, the fake's token count.
func bedrockWords(s string) int { return len(strings.Fields(s)) }

// bedrockLastText is the text of the last message's text blocks and tool
// results.
func bedrockLastText(req gjson.Result) string {
	ms := req.Get("messages").Array()
	if len(ms) == 0 {
		return ""
	}
	var s string
	for _, b := range ms[len(ms)-1].Get("content").Array() {
		s += b.Get("text").Str
		for _, c := range b.Get("toolResult.content").Array() {
			s += c.Get("text").Str
		}
	}
	return s
}

// BedrockConverseAnswer is a Converse answer with one text block.
func BedrockConverseAnswer(text, stopReason string, in, out int) []byte {
	b, _ := json.MarshalIndent(map[string]any{
		"output":     map[string]any{"message": map[string]any{"role": "assistant", "content": []any{map[string]any{"text": text}}}},
		"stopReason": stopReason,
		"usage":      map[string]any{"inputTokens": in, "outputTokens": out, "totalTokens": in + out},
		"metrics":    map[string]any{"latencyMs": 42},
	}, "", "  ")
	return b
}

// BedrockConverseTextStream is a ConverseStream answer streaming text word
// by word, then messageStop end_turn and the metadata with the usage.
func BedrockConverseTextStream(text string, in int) Response {
	msgs := [][]byte{BedrockEvent("messageStart", map[string]any{"role": "assistant"})}
	words := strings.SplitAfter(text, " ")
	for _, w := range words {
		if w == "" {
			continue
		}
		msgs = append(msgs, BedrockEvent("contentBlockDelta", map[string]any{"contentBlockIndex": 0, "delta": map[string]any{"text": w}}))
	}
	out := len(strings.Fields(text))
	msgs = append(msgs,
		BedrockEvent("contentBlockStop", map[string]any{"contentBlockIndex": 0}),
		BedrockEvent("messageStop", map[string]any{"stopReason": "end_turn"}),
		BedrockEvent("metadata", map[string]any{"usage": map[string]any{"inputTokens": in, "outputTokens": out, "totalTokens": in + out},
			"metrics": map[string]any{"latencyMs": 42}}))
	return BedrockStream(msgs...)
}

// bedrockAnthropicMessage is an Anthropic message as InvokeModel answers it.
func bedrockAnthropicMessage(text string, in int) []byte {
	b, _ := json.MarshalIndent(map[string]any{
		"id": "msg_bdrk_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-20250514",
		"content": []any{map[string]any{"type": "text", "text": text}}, "stop_reason": "end_turn", "stop_sequence": nil,
		"usage": map[string]any{"input_tokens": in, "output_tokens": len(strings.Fields(text))},
	}, "", "  ")
	return b
}

// bedrockAnthropicStream streams an Anthropic message in chunk events; the
// last, message_stop, carries Bedrock's invocation metrics as the service
// adds them.
func bedrockAnthropicStream(text string, in int) Response {
	ev := func(v any) []byte {
		b, _ := json.Marshal(v)
		return BedrockChunk(b)
	}
	msgs := [][]byte{
		ev(map[string]any{"type": "message_start", "message": map[string]any{"id": "msg_bdrk_01", "type": "message", "role": "assistant",
			"model": "claude-sonnet-4-20250514", "content": []any{}, "stop_reason": nil, "stop_sequence": nil,
			"usage": map[string]any{"input_tokens": in, "output_tokens": 1}}}),
		ev(map[string]any{"type": "content_block_start", "index": 0, "content_block": map[string]any{"type": "text", "text": ""}}),
	}
	for _, w := range strings.SplitAfter(text, " ") {
		if w != "" {
			msgs = append(msgs, ev(map[string]any{"type": "content_block_delta", "index": 0, "delta": map[string]any{"type": "text_delta", "text": w}}))
		}
	}
	out := len(strings.Fields(text))
	msgs = append(msgs,
		ev(map[string]any{"type": "content_block_stop", "index": 0}),
		ev(map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": "end_turn", "stop_sequence": nil},
			"usage": map[string]any{"output_tokens": out}}),
		ev(map[string]any{"type": "message_stop", "amazon-bedrock-invocationMetrics": map[string]any{
			"inputTokenCount": in, "outputTokenCount": out, "invocationLatency": 42, "firstByteLatency": 7}}))
	return BedrockStream(msgs...)
}

// BedrockStreamCapture returns the capture name (see testdata/bedrock: a
// list of messages, each {"event", "payload"} or {"exception",
// "payload"}) as the binary event stream of a streamed answer.
func BedrockStreamCapture(t testing.TB, name string) Response {
	t.Helper()
	var msgs []struct {
		Event     string          `json:"event"`
		Exception string          `json:"exception"`
		Payload   json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(Load(t, name), &msgs); err != nil {
		t.Fatalf("providertest: %s: %v", name, err)
	}
	out := make([][]byte, len(msgs))
	for i, m := range msgs {
		if m.Exception != "" {
			out[i] = bedrockMessage(eventstream.Headers{
				{Name: ":exception-type", Value: eventstream.StringValue(m.Exception)},
				{Name: ":content-type", Value: eventstream.StringValue("application/json")},
				{Name: ":message-type", Value: eventstream.StringValue("exception")},
			}, m.Payload)
			continue
		}
		out[i] = BedrockEvent(m.Event, m.Payload)
	}
	return BedrockStream(out...)
}

package conformance

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// bedrockFake is the fake Bedrock runtime behind a bedrock column. Both
// Bedrock columns speak Anthropic's answers, re-encoded: the Anthropic
// column ("bedrock-anthropic") sends the Anthropic captures as
// InvokeModel answers and InvokeModelWithResponseStream chunk events, the
// Converse column ("bedrock") as the Converse answers and ConverseStream
// events that carry the same content (text blocks, toolUse, reasoning
// with its signature, the same stop reasons and usage with the cache
// reads and writes apart), each in Bedrock's binary event stream. An
// error status with an Anthropic error body becomes the exception Bedrock
// answers for it; an error event inside a stream, an exception event. The
// Converse column's recorded requests are read back into the Anthropic
// Messages body they stand for (bedrockAsMessages), so that the checks of
// what reached the upstream are the Anthropic ones.
type bedrockFake struct {
	*providertest.Bedrock
	converse bool
}

// Enqueue implements Fake.
func (f *bedrockFake) Enqueue(rs ...providertest.Response) {
	out := make([]providertest.Response, len(rs))
	for i, r := range rs {
		out[i] = f.convert(r)
	}
	f.Bedrock.Enqueue(out...)
}

// Requests implements Fake.
func (f *bedrockFake) Requests() []providertest.Recorded {
	rs := f.Bedrock.Requests()
	if !f.converse {
		return rs
	}
	models := f.Bedrock.Models()
	for i := range rs {
		if i < len(models) && (strings.HasSuffix(rs[i].Path, "/converse") || strings.HasSuffix(rs[i].Path, "/converse-stream")) {
			rs[i].Body = bedrockAsMessages(rs[i].Body, models[i], strings.HasSuffix(rs[i].Path, "/converse-stream"))
		}
	}
	return rs
}

func (f *bedrockFake) convert(r providertest.Response) providertest.Response {
	status := r.Status
	if status == 0 {
		status = http.StatusOK
	}
	switch {
	case status != http.StatusOK:
		e := bedrockException(status, r.Body)
		e.Header = mergeHeader(r.Header, e.Header)
		e.HangUp = r.HangUp
		return e
	case r.SSE != nil || r.Hold != nil:
		msgs, offsets := f.stream(r.SSE)
		out := r
		out.Header = nil
		out.SSE = bytes.Join(msgs, nil)
		if r.Split > 0 {
			// A split stream sends its messages in small pieces.
			out.Split = r.Split
		}
		if r.Hold != nil {
			out.HoldAfter = 0
			for i, off := range offsets {
				if off <= r.HoldAfter {
					out.HoldAfter += len(msgs[i])
				}
			}
		}
		return out
	case f.converse && gjson.GetBytes(r.Body, "type").Str == "message":
		r.Body = converseAnswer(r.Body)
	}
	return r
}

func mergeHeader(a, b http.Header) http.Header {
	out := http.Header{}
	for k, v := range a {
		if !strings.EqualFold(k, "Content-Type") {
			out[k] = v
		}
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// exceptionOfStatus is the exception Bedrock answers where Anthropic's API
// answers a status.
var exceptionOfStatus = map[int]struct {
	status int
	name   string
}{
	400: {400, "ValidationException"}, 401: {403, "UnrecognizedClientException"}, 403: {403, "AccessDeniedException"},
	404: {404, "ResourceNotFoundException"}, 408: {408, "ModelTimeoutException"}, 413: {400, "ValidationException"},
	429: {429, "ThrottlingException"}, 500: {500, "InternalServerException"}, 502: {500, "InternalServerException"},
	503: {503, "ServiceUnavailableException"}, 504: {408, "ModelTimeoutException"}, 529: {503, "ServiceUnavailableException"},
}

// bedrockException is the exception answer standing for an error status
// and an Anthropic (or any) error body.
func bedrockException(status int, body []byte) providertest.Response {
	e, ok := exceptionOfStatus[status]
	if !ok {
		e.status, e.name = status, "InternalServerException"
	}
	msg := gjson.GetBytes(body, "error.message").Str
	if msg == "" {
		msg = gjson.GetBytes(body, "message").Str
	}
	return providertest.BedrockError(e.status, e.name, msg)
}

// exceptionOfType is the stream exception standing for an Anthropic error
// event's type.
var exceptionOfType = map[string]string{
	"overloaded_error": "serviceUnavailableException", "rate_limit_error": "throttlingException",
	"api_error": "internalServerException", "invalid_request_error": "validationException",
}

// stream re-encodes an Anthropic event stream, returning the messages and
// the offset in sse of the event each came from.
func (f *bedrockFake) stream(sse []byte) ([][]byte, []int) {
	var msgs [][]byte
	var offsets []int
	var conv converseStreamState
	off := 0
	for ev := range bytes.SplitAfterSeq(sse, []byte("\n\n")) {
		start := off
		off += len(ev)
		if !bytes.HasSuffix(ev, []byte("\n\n")) {
			break // cut short: the event never ended
		}
		var data []byte
		for line := range bytes.Lines(ev) {
			if d, ok := bytes.CutPrefix(bytes.TrimRight(line, "\r\n"), []byte("data:")); ok {
				data = bytes.TrimSpace(d)
			}
		}
		if len(data) == 0 {
			continue
		}
		typ := gjson.GetBytes(data, "type").Str
		var out [][]byte
		switch {
		case typ == "error":
			name, ok := exceptionOfType[gjson.GetBytes(data, "error.type").Str]
			if !ok {
				name = "modelStreamErrorException"
			}
			out = [][]byte{providertest.BedrockException(name, gjson.GetBytes(data, "error.message").Str)}
		case !f.converse:
			out = [][]byte{providertest.BedrockChunk(data)}
		default:
			out = conv.event(typ, gjson.ParseBytes(data))
		}
		for _, m := range out {
			msgs = append(msgs, m)
			offsets = append(offsets, start)
		}
	}
	return msgs, offsets
}

// converseStreamState turns Anthropic stream events into ConverseStream
// events.
type converseStreamState struct {
	in, cacheRead, cacheWrite, out int64
}

func (s *converseStreamState) event(typ string, d gjson.Result) [][]byte {
	ev := providertest.BedrockEvent
	idx := d.Get("index").Int()
	switch typ {
	case "message_start":
		u := d.Get("message.usage")
		s.in, s.cacheRead, s.cacheWrite = u.Get("input_tokens").Int(), u.Get("cache_read_input_tokens").Int(), u.Get("cache_creation_input_tokens").Int()
		s.out = u.Get("output_tokens").Int()
		return [][]byte{ev("messageStart", map[string]any{"role": "assistant"})}
	case "content_block_start":
		b := d.Get("content_block")
		switch b.Get("type").Str {
		case "tool_use":
			return [][]byte{ev("contentBlockStart", map[string]any{"contentBlockIndex": idx,
				"start": map[string]any{"toolUse": map[string]any{"toolUseId": b.Get("id").Str, "name": b.Get("name").Str}}})}
		case "redacted_thinking":
			return [][]byte{ev("contentBlockDelta", map[string]any{"contentBlockIndex": idx,
				"delta": map[string]any{"reasoningContent": map[string]any{"redactedContent": blob(b.Get("data").Str)}}})}
		}
		return nil
	case "content_block_delta":
		dl := d.Get("delta")
		var delta map[string]any
		switch dl.Get("type").Str {
		case "text_delta":
			delta = map[string]any{"text": dl.Get("text").Str}
		case "input_json_delta":
			delta = map[string]any{"toolUse": map[string]any{"input": dl.Get("partial_json").Str}}
		case "thinking_delta":
			delta = map[string]any{"reasoningContent": map[string]any{"text": dl.Get("thinking").Str}}
		case "signature_delta":
			delta = map[string]any{"reasoningContent": map[string]any{"signature": dl.Get("signature").Str}}
		default:
			return nil
		}
		return [][]byte{ev("contentBlockDelta", map[string]any{"contentBlockIndex": idx, "delta": delta})}
	case "content_block_stop":
		return [][]byte{ev("contentBlockStop", map[string]any{"contentBlockIndex": idx})}
	case "message_delta":
		if n := d.Get("usage.output_tokens"); n.Exists() {
			s.out = n.Int()
		}
		if r := d.Get("delta.stop_reason"); r.Type == gjson.String {
			return [][]byte{ev("messageStop", map[string]any{"stopReason": converseStop(r.Str)})}
		}
		return nil
	case "message_stop":
		return [][]byte{ev("metadata", map[string]any{"usage": converseUsage(s.in, s.cacheRead, s.cacheWrite, s.out),
			"metrics": map[string]any{"latencyMs": 42}})}
	}
	return nil
}

// converseStop is Converse's stop reason for an Anthropic one.
func converseStop(r string) string {
	switch r {
	case "refusal":
		return "content_filtered"
	case "pause_turn":
		return "end_turn"
	}
	return r
}

func converseUsage(in, read, write, out int64) map[string]any {
	u := map[string]any{"inputTokens": in, "outputTokens": out, "totalTokens": in + read + write + out}
	if read > 0 {
		u["cacheReadInputTokens"] = read
	}
	if write > 0 {
		u["cacheWriteInputTokens"] = write
	}
	return u
}

// blob is an opaque string as a Converse blob: base64, as it is when it
// already is.
func blob(s string) string {
	if _, err := base64.StdEncoding.DecodeString(s); err == nil {
		return s
	}
	return base64.StdEncoding.EncodeToString([]byte(s))
}

// converseAnswer is the Converse answer carrying an Anthropic message.
func converseAnswer(msg []byte) []byte {
	m := gjson.ParseBytes(msg)
	var content []any
	for _, b := range m.Get("content").Array() {
		switch b.Get("type").Str {
		case "text":
			content = append(content, map[string]any{"text": b.Get("text").Str})
		case "tool_use":
			content = append(content, map[string]any{"toolUse": map[string]any{"toolUseId": b.Get("id").Str,
				"name": b.Get("name").Str, "input": json.RawMessage(b.Get("input").Raw)}})
		case "thinking":
			content = append(content, map[string]any{"reasoningContent": map[string]any{
				"reasoningText": map[string]any{"text": b.Get("thinking").Str, "signature": b.Get("signature").Str}}})
		case "redacted_thinking":
			content = append(content, map[string]any{"reasoningContent": map[string]any{"redactedContent": blob(b.Get("data").Str)}})
		}
	}
	u := m.Get("usage")
	out, _ := json.Marshal(map[string]any{
		"output":     map[string]any{"message": map[string]any{"role": "assistant", "content": content}},
		"stopReason": converseStop(m.Get("stop_reason").Str),
		"usage": converseUsage(u.Get("input_tokens").Int(), u.Get("cache_read_input_tokens").Int(),
			u.Get("cache_creation_input_tokens").Int(), u.Get("output_tokens").Int()),
		"metrics": map[string]any{"latencyMs": 42},
	})
	return out
}

// bedrockAsMessages reads a Converse request body back into the Anthropic
// Messages body it stands for: model and stream from the URL, system
// blocks, typed content blocks (a cachePoint as the cache_control of the
// block before it), max_tokens, temperature, top_p and stop_sequences from
// inferenceConfig, additionalModelRequestFields at the top, tools with
// their input_schema and the tool choice.
func bedrockAsMessages(body []byte, model string, stream bool) []byte {
	in := gjson.ParseBytes(body)
	out := map[string]any{"model": model}
	if stream {
		out["stream"] = true
	}
	if sys := in.Get("system"); sys.Exists() {
		out["system"] = blocks(sys.Array())
	}
	var msgs []any
	for _, m := range in.Get("messages").Array() {
		msgs = append(msgs, map[string]any{"role": m.Get("role").Str, "content": blocks(m.Get("content").Array())})
	}
	out["messages"] = msgs
	ic := in.Get("inferenceConfig")
	for from, to := range map[string]string{"maxTokens": "max_tokens", "temperature": "temperature", "topP": "top_p", "stopSequences": "stop_sequences"} {
		if v := ic.Get(from); v.Exists() {
			out[to] = json.RawMessage(v.Raw)
		}
	}
	in.Get("additionalModelRequestFields").ForEach(func(k, v gjson.Result) bool {
		out[k.Str] = json.RawMessage(v.Raw)
		return true
	})
	if sc := in.Get("outputConfig.textFormat.structure.jsonSchema.schema"); sc.Exists() {
		out["output_config"] = map[string]any{"format": map[string]any{"type": in.Get("outputConfig.textFormat.type").Str, "schema": json.RawMessage(sc.Str)}}
	}
	if md := in.Get("requestMetadata"); md.Exists() {
		out["metadata"] = json.RawMessage(md.Raw)
	}
	if tc := in.Get("toolConfig"); tc.Exists() {
		var tools []any
		for _, t := range tc.Get("tools").Array() {
			if s := t.Get("toolSpec"); s.Exists() {
				tool := map[string]any{"name": s.Get("name").Str, "input_schema": json.RawMessage(s.Get("inputSchema.json").Raw)}
				if d := s.Get("description"); d.Exists() {
					tool["description"] = d.Str
				}
				tools = append(tools, tool)
			}
		}
		out["tools"] = tools
		ch := tc.Get("toolChoice")
		switch {
		case ch.Get("auto").Exists():
			out["tool_choice"] = map[string]any{"type": "auto"}
		case ch.Get("any").Exists():
			out["tool_choice"] = map[string]any{"type": "any"}
		case ch.Get("tool").Exists():
			out["tool_choice"] = map[string]any{"type": "tool", "name": ch.Get("tool.name").Str}
		}
	}
	b, _ := json.Marshal(out)
	return b
}

// blocks reads Converse content blocks as Anthropic ones.
func blocks(in []gjson.Result) []any {
	var out []any
	for _, b := range in {
		var blk map[string]any
		switch {
		case b.Get("text").Exists():
			blk = map[string]any{"type": "text", "text": b.Get("text").Str}
		case b.Get("image").Exists():
			blk = map[string]any{"type": "image", "source": map[string]any{"type": "base64",
				"media_type": "image/" + b.Get("image.format").Str, "data": b.Get("image.source.bytes").Str}}
		case b.Get("toolUse").Exists():
			blk = map[string]any{"type": "tool_use", "id": b.Get("toolUse.toolUseId").Str, "name": b.Get("toolUse.name").Str,
				"input": json.RawMessage(b.Get("toolUse.input").Raw)}
		case b.Get("toolResult").Exists():
			var content []any
			for _, c := range b.Get("toolResult.content").Array() {
				content = append(content, map[string]any{"type": "text", "text": c.Get("text").Str})
			}
			blk = map[string]any{"type": "tool_result", "tool_use_id": b.Get("toolResult.toolUseId").Str, "content": content}
		case b.Get("reasoningContent.reasoningText").Exists():
			blk = map[string]any{"type": "thinking", "thinking": b.Get("reasoningContent.reasoningText.text").Str,
				"signature": b.Get("reasoningContent.reasoningText.signature").Str}
		case b.Get("reasoningContent.redactedContent").Exists():
			blk = map[string]any{"type": "redacted_thinking", "data": b.Get("reasoningContent.redactedContent").Str}
		case b.Get("cachePoint").Exists():
			if n := len(out); n > 0 {
				out[n-1].(map[string]any)["cache_control"] = map[string]any{"type": "ephemeral"}
			}
			continue
		default:
			blk = map[string]any{"type": "unknown", "raw": json.RawMessage(b.Raw)}
		}
		out = append(out, blk)
	}
	return out
}

// Reasons a pair cannot express a scenario on Bedrock.
const (
	naBedrockClaude   = "The Bedrock columns' model is Claude, which takes thinking as it is (the extended thinking rows)."
	naBedrockImageURL = "Converse takes an image's bytes, never a URL to fetch: an image by URL is refused with a 400 naming it."
	naBedrockEmbed    = "Embeddings take InvokeModel with Titan's or Cohere's body whatever a Bedrock provider's api: the bedrock column's row."
)

// Converse reports whether the case's upstream is Bedrock's Converse: it
// replays Anthropic's answers, but takes requests in its own shape,
// translated as toward any protocol other than the client's.
func (c *Case) Converse() bool { return c.Pair.Upstream == Bedrock }

// OnBedrock reports whether the case's upstream is either Bedrock column.
func (c *Case) OnBedrock() bool {
	return c.Pair.Upstream == Bedrock || c.Pair.Upstream == BedrockAnthropic
}

// checkConverseToolChoice checks a tool_choice toward Converse: required
// is any; none, which Converse lacks, sends no tools.
func checkConverseToolChoice(t *testing.T, c *Case, r *Result, openai string) {
	up := gjson.ParseBytes(c.LastUpstream(t))
	if openai == `"none"` {
		expectEqual(t, "upstream tools", up.Get("tools").Exists(), false)
		expectEqual(t, "upstream tool_choice", up.Get("tool_choice").Exists(), false)
		expectEqual(t, DroppedHeader, r.Header.Get(DroppedHeader), "")
		return
	}
	want := map[string]string{`"required"`: `{"type":"any"}`, `"auto"`: `{"type":"auto"}`}[openai]
	if got := up.Get("tool_choice").Raw; !jsonEqual(got, want) {
		t.Errorf("upstream tool_choice %s, want %s", got, want)
	}
}

// runBedrockEmbeddings asks the Converse column's provider for two
// embeddings of Titan Text Embeddings v2: one InvokeModel call per input,
// inputText and dimensions in Titan's words, the vectors in input order.
func runBedrockEmbeddings(t *testing.T, c *Case) {
	body := `{"model":"bd-embed","input":["Embed this sentence.","As well as this one."],"dimensions":256,"user":"user-42"}`
	resp, err := http.Post(c.H.URL+"/v1/embeddings", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	data := gjson.GetBytes(b, "data").Array()
	if len(data) != 2 {
		t.Fatalf("data %s", b)
	}
	// The fake's vector starts with the input's length.
	for i, in := range []string{"Embed this sentence.", "As well as this one."} {
		expectEqual(t, "embedding length", len(data[i].Get("embedding").Array()), 256)
		expectEqual(t, "embedding[0]", data[i].Get("embedding.0").Float(), float64(len(in)))
	}
	reqs := c.Fake().Requests()
	expectEqual(t, "upstream requests", len(reqs), 2)
	var texts []string
	for _, r := range reqs {
		expectEqual(t, "upstream path", r.Path, "/model/"+BedrockEmbedUpstreamModel+"/invoke")
		expectEqual(t, "upstream dimensions", gjson.GetBytes(r.Body, "dimensions").Int(), int64(256))
		texts = append(texts, gjson.GetBytes(r.Body, "inputText").Str)
		expectEqual(t, "upstream user", bytes.Contains(r.Body, []byte("user-42")), false)
	}
	slices.Sort(texts)
	expectEqual(t, "upstream inputText", texts, []string{"As well as this one.", "Embed this sentence."})
}

package responses

import (
	"encoding/json"
	"strings"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
)

// decodeInput decodes input, a string or an array of items, into canonical
// messages, and returns the input as an array of items: the array as sent,
// or for a string one user message item holding it.
func decodeInput(raw json.RawMessage) (json.RawMessage, []llm.Message, error) {
	const p = "input"
	if jsonwire.IsNull(raw) {
		return nil, nil, jsonwire.Missing(p)
	}
	if raw[0] == '"' {
		s, err := jsonwire.DecodeString(raw, p)
		if err != nil {
			return nil, nil, err
		}
		b := append([]byte(nil), `[{"type":"message","role":"user","content":[{"type":"input_text","text":`...)
		b = jsonwire.AppendString(b, s)
		b = append(b, "}]}]"...)
		return b, []llm.Message{{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart(s)}}}, nil
	}
	if raw[0] != '[' {
		return nil, nil, jsonwire.TypeError(p, "a string or an array of input items", raw)
	}
	items := jsonwire.SplitArray(raw)
	if len(items) == 0 {
		return nil, nil, jsonwire.InvalidValue(p, "expected a string or a non-empty array of input items")
	}
	msgs := make([]llm.Message, 0, len(items))
	var err error
	for i, item := range items {
		if msgs, err = decodeItem(msgs, item, jsonwire.Elem(p, i)); err != nil {
			return nil, nil, err
		}
	}
	return raw, msgs, nil
}

// decodeItem decodes one input item and appends it to msgs. The items of
// one model turn (reasoning, an assistant message, function calls) arrive as
// consecutive items; they fold into one assistant message, so that an
// upstream that ties thinking to the calls it made (Anthropic) gets them in
// one turn. A function_call_output becomes a tool message.
func decodeItem(msgs []llm.Message, raw json.RawMessage, p string) ([]llm.Message, error) {
	obj, err := jsonwire.DecodeObject(raw, p)
	if err != nil {
		return msgs, err
	}
	typ, err := jsonwire.DecodeString(obj.Get("type"), p+".type")
	if err != nil {
		return msgs, err
	}
	if typ == "" && !jsonwire.IsNull(obj.Get("role")) {
		typ = "message" // the easy input form: role and content only
	}
	switch typ {
	case "message":
		return decodeMessageItem(msgs, obj, p)
	case "function_call":
		var tc llm.ToolCall
		if err := decodeFunctionCall(&tc, obj, p); err != nil {
			return msgs, err
		}
		msgs, m := assistantTurn(msgs)
		tc.Index = len(m.ToolCalls)
		m.ToolCalls = append(m.ToolCalls, tc)
		return msgs, nil
	case "function_call_output":
		m, err := decodeFunctionCallOutput(obj, p)
		return append(msgs, m), err
	case "reasoning":
		part, err := decodeReasoningItem(obj, p)
		if err != nil {
			return msgs, err
		}
		msgs, m := assistantTurn(msgs)
		m.Content = append(m.Content, part)
		return msgs, nil
	case "item_reference":
		return msgs, llm.InvalidRequest(p+".type", "item references cannot be resolved here: send the referenced item itself, or continue the response that holds it with previous_response_id")
	case "":
		return msgs, jsonwire.Missing(p + ".type")
	}
	return msgs, jsonwire.InvalidValue(p+".type", "%q is not an input item this gateway translates (message, function_call, function_call_output, reasoning)", typ)
}

// assistantTurn returns the assistant message that the next item of a model
// turn joins: the last message when it is an assistant's, else a new one.
func assistantTurn(msgs []llm.Message) ([]llm.Message, *llm.Message) {
	if n := len(msgs); n > 0 && msgs[n-1].Role == llm.RoleAssistant {
		return msgs, &msgs[n-1]
	}
	msgs = append(msgs, llm.Message{Role: llm.RoleAssistant})
	return msgs, &msgs[len(msgs)-1]
}

// checkKeys refuses a member of obj that allowed does not list.
func checkKeys(obj jsonwire.Object, p string, allowed ...string) error {
	for _, m := range obj {
		k := string(m.Key)
		found := false
		for _, a := range allowed {
			if k == a {
				found = true
				break
			}
		}
		if !found {
			return llm.InvalidRequest(p+"."+k, "unrecognized argument supplied: %s.%s", p, llm.Clip(k))
		}
	}
	return nil
}

func decodeMessageItem(msgs []llm.Message, obj jsonwire.Object, p string) ([]llm.Message, error) {
	if err := checkKeys(obj, p, "type", "role", "content", "id", "status", "phase"); err != nil {
		return msgs, err
	}
	role, err := jsonwire.RequireString(obj, "role", p+".role")
	if err != nil {
		return msgs, err
	}
	r := llm.Role(role)
	switch r {
	case llm.RoleUser, llm.RoleAssistant, llm.RoleSystem, llm.RoleDeveloper:
	default:
		return msgs, jsonwire.InvalidValue(p+".role", "%q is not one of user, assistant, system, developer", role)
	}
	m := llm.Message{Role: r}
	if err := decodeMessageContent(&m, obj.Get("content"), p+".content"); err != nil {
		return msgs, err
	}
	if r != llm.RoleAssistant {
		return append(msgs, m), nil
	}
	msgs, turn := assistantTurn(msgs)
	turn.Content = append(turn.Content, m.Content...)
	turn.Refusal += m.Refusal
	return msgs, nil
}

// decodeMessageContent decodes a message's content, a string or an array of
// content parts, into m.
func decodeMessageContent(m *llm.Message, raw json.RawMessage, p string) error {
	if jsonwire.IsNull(raw) {
		return jsonwire.Missing(p)
	}
	if raw[0] == '"' {
		s, err := jsonwire.DecodeString(raw, p)
		m.Content = []llm.Part{llm.TextPart(s)}
		return err
	}
	arr, err := jsonwire.DecodeArray(raw, p)
	if err != nil {
		return jsonwire.TypeError(p, "a string or an array of content parts", raw)
	}
	m.Content = make([]llm.Part, 0, len(arr))
	for i, r := range arr {
		pp := jsonwire.Elem(p, i)
		obj, err := jsonwire.DecodeObject(r, pp)
		if err != nil {
			return err
		}
		typ, err := jsonwire.RequireString(obj, "type", pp+".type")
		if err != nil {
			return err
		}
		switch {
		case typ == "refusal" && m.Role == llm.RoleAssistant:
			s, err := requireText(obj, "refusal", pp)
			if err != nil {
				return err
			}
			m.Refusal += s
		case typ == "output_text" && m.Role != llm.RoleAssistant:
			return jsonwire.InvalidValue(pp+".type", "output_text is the content of assistant messages; use input_text")
		default:
			part, err := decodeInputPart(obj, typ, pp)
			if err != nil {
				return err
			}
			m.Content = append(m.Content, part)
		}
	}
	return nil
}

// decodeInputPart decodes an input_text, output_text or input_image part.
func decodeInputPart(obj jsonwire.Object, typ, p string) (llm.Part, error) {
	switch typ {
	case "input_text", "output_text":
		s, err := requireText(obj, "text", p)
		return llm.TextPart(s), err
	case "input_image":
		img, err := decodeInputImage(obj, p)
		return llm.Part{Type: llm.PartImage, Image: img}, err
	case "input_file":
		return llm.Part{}, llm.InvalidRequest(p+".type", "input_file content is not supported by this gateway; send the file's text as input_text, or an image as input_image")
	}
	return llm.Part{}, jsonwire.InvalidValue(p+".type", "%q is not one of input_text, input_image, output_text, refusal", typ)
}

// requireText returns the string at key of obj, which must be present (it
// may be empty).
func requireText(obj jsonwire.Object, key, p string) (string, error) {
	raw := obj.Get(key)
	if jsonwire.IsNull(raw) {
		return "", jsonwire.Missing(p + "." + key)
	}
	return jsonwire.DecodeString(raw, p+"."+key)
}

// decodeInputImage decodes an input_image part. An image is given by URL
// (http(s), or a base64 data: URL that becomes an inline image); a file_id
// names a file stored at OpenAI, which no other upstream can read.
func decodeInputImage(obj jsonwire.Object, p string) (*llm.Image, error) {
	if !jsonwire.IsNull(obj.Get("file_id")) {
		return nil, llm.InvalidRequest(p+".file_id", "images by file_id are not supported by this gateway; send image_url (an https or base64 data: URL)")
	}
	url, err := jsonwire.RequireString(obj, "image_url", p+".image_url")
	if err != nil {
		return nil, err
	}
	detail, err := decodeEnum(obj.Get("detail"), p+".detail", "auto", "low", "high", "original")
	if err != nil {
		return nil, err
	}
	img := &llm.Image{URL: url, Detail: detail}
	if rest, ok := strings.CutPrefix(url, "data:"); ok {
		meta, data, ok := strings.Cut(rest, ",")
		if !ok || data == "" || !strings.HasSuffix(meta, ";base64") {
			return nil, jsonwire.InvalidValue(p+".image_url", "a data: URL must be base64 (data:<media type>;base64,<data>)")
		}
		img.URL = ""
		img.MediaType, _, _ = strings.Cut(meta, ";")
		img.Data = data
	}
	return img, nil
}

func decodeFunctionCall(tc *llm.ToolCall, obj jsonwire.Object, p string) error {
	if err := checkKeys(obj, p, "type", "id", "call_id", "name", "arguments", "status"); err != nil {
		return err
	}
	var err error
	tc.Type = "function"
	if tc.ID, err = jsonwire.RequireString(obj, "call_id", p+".call_id"); err != nil {
		return err
	}
	if tc.Name, err = jsonwire.RequireString(obj, "name", p+".name"); err != nil {
		return err
	}
	if _, err = jsonwire.DecodeString(obj.Get("id"), p+".id"); err != nil {
		return err
	}
	tc.Arguments, err = requireText(obj, "arguments", p)
	return err
}

func decodeFunctionCallOutput(obj jsonwire.Object, p string) (llm.Message, error) {
	m := llm.Message{Role: llm.RoleTool}
	if err := checkKeys(obj, p, "type", "id", "call_id", "output", "status"); err != nil {
		return m, err
	}
	var err error
	if m.ToolCallID, err = jsonwire.RequireString(obj, "call_id", p+".call_id"); err != nil {
		return m, err
	}
	out := obj.Get("output")
	op := p + ".output"
	switch {
	case jsonwire.IsNull(out):
		return m, jsonwire.Missing(op)
	case out[0] == '"':
		s, err := jsonwire.DecodeString(out, op)
		m.Content = []llm.Part{llm.TextPart(s)}
		return m, err
	case out[0] != '[':
		return m, jsonwire.TypeError(op, "a string or an array of content parts", out)
	}
	for i, r := range jsonwire.SplitArray(out) {
		pp := jsonwire.Elem(op, i)
		pobj, err := jsonwire.DecodeObject(r, pp)
		if err != nil {
			return m, err
		}
		typ, err := jsonwire.RequireString(pobj, "type", pp+".type")
		if err != nil {
			return m, err
		}
		if typ == "output_text" {
			return m, jsonwire.InvalidValue(pp+".type", "%q is not one of input_text, input_image", typ)
		}
		part, err := decodeInputPart(pobj, typ, pp)
		if err != nil {
			return m, err
		}
		m.Content = append(m.Content, part)
	}
	return m, nil
}

// decodeReasoningItem decodes a reasoning item into a canonical thinking
// part: the summary texts, joined by a blank line, are its Text and
// encrypted_content is its Signature. An Anthropic upstream is sent it as a
// thinking block with that signature, which is how a thinking block it
// produced comes back (the encoder writes the signature as
// encrypted_content, and the thinking as one summary part). Without a
// summary, the text of reasoning_text content is used; with neither, the
// item is a redacted thinking part whose Data is the encrypted content, as
// the encoder writes a redacted thinking block.
func decodeReasoningItem(obj jsonwire.Object, p string) (llm.Part, error) {
	part := llm.Part{Type: llm.PartThinking}
	if err := checkKeys(obj, p, "type", "id", "summary", "encrypted_content", "content", "status"); err != nil {
		return part, err
	}
	var err error
	if part.Signature, err = jsonwire.DecodeString(obj.Get("encrypted_content"), p+".encrypted_content"); err != nil {
		return part, err
	}
	if _, err = jsonwire.DecodeString(obj.Get("id"), p+".id"); err != nil {
		return part, err
	}
	summary := obj.Get("summary")
	if jsonwire.IsNull(summary) {
		return part, jsonwire.Missing(p + ".summary")
	}
	if part.Text, err = joinTexts(summary, p+".summary", "summary_text"); err != nil {
		return part, err
	}
	if content := obj.Get("content"); !jsonwire.IsNull(content) {
		text, err := joinTexts(content, p+".content", "reasoning_text")
		if err != nil {
			return part, err
		}
		if part.Text == "" {
			part.Text = text
		}
	}
	if part.Text == "" && part.Signature != "" {
		return llm.Part{Type: llm.PartRedactedThinking, Data: part.Signature}, nil
	}
	return part, nil
}

// joinTexts joins the text of an array of {type, text} parts of type typ.
func joinTexts(raw json.RawMessage, p, typ string) (string, error) {
	arr, err := jsonwire.DecodeArray(raw, p)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for i, r := range arr {
		pp := jsonwire.Elem(p, i)
		obj, err := jsonwire.DecodeObject(r, pp)
		if err != nil {
			return "", err
		}
		t, err := jsonwire.RequireString(obj, "type", pp+".type")
		if err != nil {
			return "", err
		}
		if t != typ {
			return "", jsonwire.InvalidValue(pp+".type", "%q is not %s", t, typ)
		}
		s, err := requireText(obj, "text", pp)
		if err != nil {
			return "", err
		}
		if i > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

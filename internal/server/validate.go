package server

import (
	"fmt"
	"math"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/llm"
)

// jsonKind is a set of JSON value kinds a field may take.
type jsonKind uint8

const (
	kString jsonKind = 1 << iota
	kNumber
	kInteger // a number with no fraction
	kBool
	kArray
	kObject
	kNull
)

// fieldKind is a top-level request field and the kinds it may take.
type fieldKind struct {
	name  string
	kinds jsonKind
}

// shape is what a fast-path check knows of one protocol's request: the
// kinds of its common top-level fields and how to check one message.
type shape struct {
	fields []fieldKind
	index  map[string]int
	// required are the fields that must be present and not null.
	required []string
	message  func(m gjson.Result, i int) error
}

func newShape(fields []fieldKind, required []string, message func(gjson.Result, int) error) *shape {
	sh := &shape{fields: fields, required: required, message: message, index: make(map[string]int, len(fields))}
	for i, f := range fields {
		sh.index[f.name] = i
	}
	return sh
}

// maxShapeFields bounds the fields a shape checks, so that check keeps them
// in an array on its stack.
const maxShapeFields = 24

// chatShape is the shape of a Chat Completions request: the shape errors a
// client makes most, answered by the gateway with the offending field in
// param, as the full decoder would, instead of reaching the upstream.
var chatShape = newShape([]fieldKind{
	{"temperature", kNumber | kNull},
	{"top_p", kNumber | kNull},
	{"presence_penalty", kNumber | kNull},
	{"frequency_penalty", kNumber | kNull},
	{"n", kInteger | kNull},
	{"max_tokens", kInteger | kNull},
	{"max_completion_tokens", kInteger | kNull},
	{"seed", kInteger | kNull},
	{"top_logprobs", kInteger | kNull},
	{"logprobs", kBool | kNull},
	{"parallel_tool_calls", kBool | kNull},
	{"stop", kString | kArray | kNull},
	{"tools", kArray | kNull},
	{"tool_choice", kString | kObject | kNull},
	{"response_format", kObject | kNull},
	{"stream_options", kObject | kNull},
	{"metadata", kObject | kNull},
	{"logit_bias", kObject | kNull},
	{"user", kString | kNull},
}, nil, checkMessage)

// messagesShape is the shape of an Anthropic Messages request.
var messagesShape = newShape([]fieldKind{
	{"max_tokens", kInteger},
	{"system", kString | kArray | kNull},
	{"temperature", kNumber | kNull},
	{"top_p", kNumber | kNull},
	{"top_k", kInteger | kNull},
	{"stop_sequences", kArray | kNull},
	{"tools", kArray | kNull},
	{"tool_choice", kObject | kNull},
	{"metadata", kObject | kNull},
	{"thinking", kObject | kNull},
}, []string{"max_tokens"}, checkAnthropicMessage)

var chatRoles = map[string]bool{"system": true, "developer": true, "user": true, "assistant": true, "tool": true}

// checkChatShape checks the structure of a chat request the fast path is
// about to forward: messages present and well formed, and the common fields
// of the right kind. Anything it lets through the upstream still validates.
func checkChatShape(root gjson.Result) error { return chatShape.check(root) }

// checkMessagesShape is checkChatShape for an Anthropic Messages request.
func checkMessagesShape(root gjson.Result) error { return messagesShape.check(root) }

// check checks root against the shape. Bodies reach it through
// jsonwire.CheckBody, so no key appears twice.
func (sh *shape) check(root gjson.Result) error {
	var fields [maxShapeFields]gjson.Result
	var msgs gjson.Result
	root.ForEach(func(k, v gjson.Result) bool {
		if k.Str == "messages" {
			msgs = v
		} else if i, ok := sh.index[k.Str]; ok {
			fields[i] = v
		}
		return true
	})
	for _, name := range sh.required {
		if v := fields[sh.index[name]]; !v.Exists() || v.Type == gjson.Null {
			return llm.InvalidRequest(name, "missing required parameter: '%s'", name)
		}
	}
	for i, f := range sh.fields {
		if v := fields[i]; v.Exists() && !kindOf(v, f.kinds) {
			return llm.InvalidRequest(f.name, "invalid type for '%s': expected %s", f.name, describe(f.kinds))
		}
	}
	if !msgs.IsArray() {
		return llm.InvalidRequest("messages", "messages is required and must be an array")
	}
	n := 0
	var err error
	msgs.ForEach(func(_, m gjson.Result) bool {
		err = sh.message(m, n)
		n++
		return err == nil
	})
	if err == nil && n == 0 {
		err = llm.InvalidRequest("messages", "messages must not be empty")
	}
	return err
}

// checkAnthropicMessage checks one message of a Messages request: an object
// with role user or assistant and content a string or an array of blocks.
func checkAnthropicMessage(m gjson.Result, i int) error {
	if !m.IsObject() {
		p := messagePath(i)
		return llm.InvalidRequest(p, "invalid type for '%s': expected an object", p)
	}
	var role, content gjson.Result
	m.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "role":
			role = v
		case "content":
			content = v
		}
		return true
	})
	if role.Type != gjson.String || (role.Str != "user" && role.Str != "assistant") {
		p := messagePath(i)
		return llm.InvalidRequest(p+".role", "invalid value for '%s.role': expected one of user, assistant (the system prompt is the top-level system field)", p)
	}
	if !content.Exists() || !kindOf(content, kString|kArray) {
		p := messagePath(i)
		return llm.InvalidRequest(p+".content", "invalid type for '%s.content': expected a string or an array of content blocks", p)
	}
	return nil
}

func checkMessage(m gjson.Result, i int) error {
	if !m.IsObject() {
		p := messagePath(i)
		return llm.InvalidRequest(p, "invalid type for '%s': expected an object", p)
	}
	var role, content, id gjson.Result
	m.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "role":
			role = v
		case "content":
			content = v
		case "tool_call_id":
			id = v
		}
		return true
	})
	if role.Type != gjson.String || !chatRoles[role.Str] {
		p := messagePath(i)
		return llm.InvalidRequest(p+".role", "invalid value for '%s.role': expected one of system, developer, user, assistant, tool", p)
	}
	if content.Exists() && !kindOf(content, kString|kArray|kNull) {
		p := messagePath(i)
		return llm.InvalidRequest(p+".content", "invalid type for '%s.content': expected a string or an array of content parts", p)
	}
	if role.Str == "tool" {
		if id.Type != gjson.String || id.Str == "" {
			p := messagePath(i)
			return llm.InvalidRequest(p+".tool_call_id", "'%s.tool_call_id' is required for a tool message", p)
		}
	}
	return nil
}

// messagePath is the param of message i, built only for an error: a valid
// message costs no allocation.
func messagePath(i int) string { return fmt.Sprintf("messages[%d]", i) }

func kindOf(v gjson.Result, kinds jsonKind) bool {
	switch v.Type {
	case gjson.String:
		return kinds&kString != 0
	case gjson.Number:
		if kinds&kNumber != 0 {
			return true
		}
		return kinds&kInteger != 0 && v.Num == math.Trunc(v.Num) && !math.IsInf(v.Num, 0)
	case gjson.True, gjson.False:
		return kinds&kBool != 0
	case gjson.Null:
		return kinds&kNull != 0
	case gjson.JSON:
		if v.IsArray() {
			return kinds&kArray != 0
		}
		return kinds&kObject != 0
	}
	return false
}

func describe(kinds jsonKind) string {
	names := []struct {
		k    jsonKind
		name string
	}{{kString, "a string"}, {kNumber, "a number"}, {kInteger, "an integer"}, {kBool, "a boolean"}, {kArray, "an array"}, {kObject, "an object"}}
	out := ""
	for _, n := range names {
		if kinds&n.k == 0 {
			continue
		}
		if out != "" {
			out += " or "
		}
		out += n.name
	}
	return out
}

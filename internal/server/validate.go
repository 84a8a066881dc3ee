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

// chatFieldKinds are the kinds of the Chat Completions fields that the fast
// path checks before it forwards a body it has not decoded: the shape errors
// a client makes most, answered by the gateway with the offending field in
// param, as the full decoder would, instead of reaching the upstream.
var chatFieldKinds = [...]struct {
	name  string
	kinds jsonKind
}{
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
}

// chatFieldIndex maps a field name to its place in chatFieldKinds.
var chatFieldIndex = func() map[string]int {
	m := make(map[string]int, len(chatFieldKinds))
	for i, f := range chatFieldKinds {
		m[f.name] = i
	}
	return m
}()

var chatRoles = map[string]bool{"system": true, "developer": true, "user": true, "assistant": true, "tool": true}

// checkChatShape checks the structure of a chat request the fast path is
// about to forward: messages present and well formed, and the common fields
// of the right kind. Anything it lets through the upstream still validates.
//
// Like the decoder (and JSON decoders generally), it reads the last of
// duplicate keys.
func checkChatShape(root gjson.Result) error {
	var fields [len(chatFieldKinds)]gjson.Result
	var msgs gjson.Result
	root.ForEach(func(k, v gjson.Result) bool {
		if k.Str == "messages" {
			msgs = v
		} else if i, ok := chatFieldIndex[k.Str]; ok {
			fields[i] = v
		}
		return true
	})
	for i, f := range chatFieldKinds {
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
		err = checkMessage(m, n)
		n++
		return err == nil
	})
	if err == nil && n == 0 {
		err = llm.InvalidRequest("messages", "messages must not be empty")
	}
	return err
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

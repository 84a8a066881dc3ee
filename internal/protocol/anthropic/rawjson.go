package anthropic

import (
	"bytes"
	"encoding/json"
)

// The request decoders validate the whole body once with json.Valid, copy
// it, and then walk the copy with the splitters below instead of running
// encoding/json again at every level: each nested json.Unmarshal would
// re-validate its input and copy every raw value. The splitters assume valid
// JSON; their bounds checks only keep a broken input from panicking.

// member is one member of a JSON object; key is unescaped, val raw.
type member struct {
	key []byte
	val json.RawMessage
}

// rawObject is a JSON object split into its members, in order.
type rawObject []member

// get returns the raw value of key, nil when absent. Like encoding/json, the
// last of duplicate keys wins.
func (o rawObject) get(key string) json.RawMessage {
	for i := len(o) - 1; i >= 0; i-- {
		if string(o[i].key) == key {
			return o[i].val
		}
	}
	return nil
}

// ownBody validates body and returns a copy of it, trimmed, for the decoded
// values to keep: they must not alias a buffer the caller may reuse.
func ownBody(body []byte) ([]byte, error) {
	if !json.Valid(body) {
		var v any
		err := json.Unmarshal(body, &v)
		return nil, syntaxError(body, err)
	}
	body = bytes.TrimSpace(body)
	if body[0] != '{' {
		return nil, notAnObject(body)
	}
	return bytes.Clone(body), nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

func skipSpace(raw []byte, i int) int {
	for i < len(raw) && isSpace(raw[i]) {
		i++
	}
	return i
}

// skipString returns the index after the string starting at raw[i].
func skipString(raw []byte, i int) int {
	for j := i + 1; j < len(raw); j++ {
		switch raw[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(raw)
}

// skipValue returns the index after the value starting at raw[i].
func skipValue(raw []byte, i int) int {
	if i >= len(raw) {
		return len(raw)
	}
	switch raw[i] {
	case '"':
		return skipString(raw, i)
	case '{', '[':
		depth := 0
		for ; i < len(raw); i++ {
			switch raw[i] {
			case '"':
				i = skipString(raw, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(raw)
	}
	for i < len(raw) && raw[i] != ',' && raw[i] != '}' && raw[i] != ']' && !isSpace(raw[i]) {
		i++
	}
	return i
}

// splitObject splits a valid JSON object into its members.
func splitObject(raw []byte) rawObject {
	obj := make(rawObject, 0, 8)
	i := skipSpace(raw, 1)
	for i < len(raw) && raw[i] == '"' {
		end := skipString(raw, i)
		key := raw[i+1 : max(end-1, i+1)]
		if bytes.IndexByte(key, '\\') >= 0 {
			s, _ := unquote(raw[i:end])
			key = []byte(s)
		}
		i = skipSpace(raw, end)   // at ':'
		i = skipSpace(raw, i+1)   // at the value
		vend := skipValue(raw, i) // after the value
		obj = append(obj, member{key: key, val: raw[i:vend]})
		i = skipSpace(raw, vend)
		if i >= len(raw) || raw[i] != ',' {
			break
		}
		i = skipSpace(raw, i+1)
	}
	return obj
}

// splitArray splits a valid JSON array into its elements.
func splitArray(raw []byte) []json.RawMessage {
	arr := make([]json.RawMessage, 0, 8)
	i := skipSpace(raw, 1)
	if i < len(raw) && raw[i] == ']' {
		return arr
	}
	for i < len(raw) {
		end := skipValue(raw, i)
		arr = append(arr, raw[i:end])
		i = skipSpace(raw, end)
		if i >= len(raw) || raw[i] != ',' {
			break
		}
		i = skipSpace(raw, i+1)
	}
	return arr
}

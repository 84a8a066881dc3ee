package jsonwire

import (
	"bytes"
	"encoding/json"
)

// Member is one member of a JSON object: Key unescaped, Val raw.
type Member struct {
	Key []byte
	Val json.RawMessage
}

// Object is a JSON object split into its members, in order.
type Object []Member

// Get returns the raw value of key, nil when absent. Like encoding/json, the
// last of duplicate keys wins.
func (o Object) Get(key string) json.RawMessage {
	for i := len(o) - 1; i >= 0; i-- {
		if string(o[i].Key) == key {
			return o[i].Val
		}
	}
	return nil
}

// OwnBody validates body and returns a copy of it, trimmed, for the decoded
// values to keep: they must not alias a buffer the caller may reuse. A body
// that CheckBody refuses, or that is not an object, gives an InvalidRequest
// error.
func OwnBody(body []byte) ([]byte, error) {
	if err := CheckBody(body); err != nil {
		return nil, err
	}
	return OwnCheckedBody(body)
}

// OwnCheckedBody is OwnBody for a body that has passed CheckBody already.
func OwnCheckedBody(body []byte) ([]byte, error) {
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

// SplitObject splits a valid JSON object into its members. raw must start
// with '{'; DecodeObject checks that first.
func SplitObject(raw []byte) Object {
	obj := make(Object, 0, 8)
	i := skipSpace(raw, 1)
	for i < len(raw) && raw[i] == '"' {
		end := skipString(raw, i)
		key := raw[i+1 : max(end-1, i+1)]
		if bytes.IndexByte(key, '\\') >= 0 {
			s, _ := Unquote(raw[i:end])
			key = []byte(s)
		}
		i = skipSpace(raw, end) // at ':'
		i = skipSpace(raw, i+1) // at the value
		if i >= len(raw) {
			break
		}
		vend := skipValue(raw, i) // after the value
		obj = append(obj, Member{Key: key, Val: raw[i:vend]})
		i = skipSpace(raw, vend)
		if i >= len(raw) || raw[i] != ',' {
			break
		}
		i = skipSpace(raw, i+1)
	}
	return obj
}

// SplitArray splits a valid JSON array into its elements. raw must start
// with '['; DecodeArray checks that first.
func SplitArray(raw []byte) []json.RawMessage {
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

// CountArray returns the number of elements of a valid JSON array, counting
// no further than limit: it walks the array without splitting it.
func CountArray(raw []byte, limit int) int {
	i := skipSpace(raw, 1)
	if i >= len(raw) || raw[i] == ']' {
		return 0
	}
	n := 0
	for i < len(raw) && n < limit {
		n++
		i = skipSpace(raw, skipValue(raw, i))
		if i >= len(raw) || raw[i] != ',' {
			break
		}
		i = skipSpace(raw, i+1)
	}
	return n
}

// FirstElem returns the first element of a valid JSON array, nil when it is
// empty.
func FirstElem(raw []byte) json.RawMessage {
	i := skipSpace(raw, 1)
	if i >= len(raw) || raw[i] == ']' {
		return nil
	}
	return raw[i:skipValue(raw, i)]
}

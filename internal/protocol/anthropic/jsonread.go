package anthropic

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/llmgw/llmgw/internal/llm"
)

// kind returns the JSON type of a raw value by its first byte.
func kind(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// isNull reports whether raw is absent or the JSON null.
func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || (raw[0] == 'n' && string(raw) == "null")
}

func typeError(param, want string, raw json.RawMessage) error {
	return llm.InvalidRequest(param, "invalid type for '%s': expected %s, but got %s", param, want, kind(raw))
}

func missing(param string) error {
	return llm.InvalidRequest(param, "missing required parameter: '%s'", param)
}

func invalidValue(param, format string, args ...any) error {
	return llm.InvalidRequest(param, "invalid value for '%s': %s", param, fmt.Sprintf(format, args...))
}

// syntaxError turns an encoding/json failure on the whole body into the
// client's 400, short but with the position of the problem.
func syntaxError(body []byte, err error) error {
	if len(body) == 0 {
		return llm.InvalidRequest("", "invalid JSON: the request body is empty")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return llm.InvalidRequest("", "invalid JSON: %s (at byte %d)", se.Error(), se.Offset)
	}
	return llm.InvalidRequest("", "invalid JSON: %v", err)
}

// notAnObject is the error for a body that is valid JSON but no object.
func notAnObject(body []byte) error {
	return llm.InvalidRequest("", "invalid JSON: the request body must be a JSON object, not %s", kind(body))
}

// decodeObject splits an object value; param names it in errors.
func decodeObject(raw json.RawMessage, param string) (rawObject, error) {
	if len(raw) == 0 || raw[0] != '{' {
		return nil, typeError(param, "an object", raw)
	}
	return splitObject(raw), nil
}

// decodeArray splits an array value; param names it in errors.
func decodeArray(raw json.RawMessage, param string) ([]json.RawMessage, error) {
	if len(raw) == 0 || raw[0] != '[' {
		return nil, typeError(param, "an array", raw)
	}
	return splitArray(raw), nil
}

// unquote returns the string a raw JSON string holds. Strings without escapes
// or multi-byte characters, by far the most common, are sliced out without
// running the full decoder.
func unquote(raw json.RawMessage) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	simple := true
	for _, c := range inner {
		if c == '\\' || c == '"' || c < 0x20 || c >= utf8.RuneSelf {
			simple = false
			break
		}
	}
	if simple {
		return string(inner), true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// decodeString decodes a string value; null gives "".
func decodeString(raw json.RawMessage, param string) (string, error) {
	if isNull(raw) {
		return "", nil
	}
	s, ok := unquote(raw)
	if !ok {
		return "", typeError(param, "a string", raw)
	}
	return s, nil
}

// decodeFloat decodes a number value; null gives nil.
func decodeFloat(raw json.RawMessage, param string) (*float64, error) {
	if isNull(raw) {
		return nil, nil
	}
	if kind(raw) != "a number" {
		return nil, typeError(param, "a number", raw)
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return nil, invalidValue(param, "%s is out of range", raw)
	}
	return &f, nil
}

// decodeFloatIn decodes a number value that must lie in [lo, hi].
func decodeFloatIn(raw json.RawMessage, param string, lo, hi float64) (*float64, error) {
	f, err := decodeFloat(raw, param)
	if err != nil || f == nil {
		return f, err
	}
	if *f < lo || *f > hi {
		return nil, invalidValue(param, "%s is not between %g and %g", raw, lo, hi)
	}
	return f, nil
}

// decodeInt64 decodes an integer value; null gives nil.
func decodeInt64(raw json.RawMessage, param string) (*int64, error) {
	if isNull(raw) {
		return nil, nil
	}
	if kind(raw) != "a number" {
		return nil, typeError(param, "an integer", raw)
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return nil, invalidValue(param, "%s is out of range", raw)
		}
		return nil, typeError(param, "an integer", raw)
	}
	return &n, nil
}

// decodeInt decodes an integer value that must be at least lo.
func decodeInt(raw json.RawMessage, param string, lo int) (*int, error) {
	n, err := decodeInt64(raw, param)
	if err != nil || n == nil {
		return nil, err
	}
	if *n < int64(lo) {
		return nil, invalidValue(param, "%d is less than the minimum of %d", *n, lo)
	}
	if *n > 1<<31-1 {
		return nil, invalidValue(param, "%d is out of range", *n)
	}
	v := int(*n)
	return &v, nil
}

// decodeBool decodes a boolean value; null gives nil.
func decodeBool(raw json.RawMessage, param string) (*bool, error) {
	if isNull(raw) {
		return nil, nil
	}
	switch string(raw) {
	case "true":
		v := true
		return &v, nil
	case "false":
		v := false
		return &v, nil
	}
	return nil, typeError(param, "a boolean", raw)
}

// requireString decodes a string that must be present and non-empty.
func requireString(obj rawObject, key, param string) (string, error) {
	raw := obj.get(key)
	if isNull(raw) {
		return "", missing(param)
	}
	s, err := decodeString(raw, param)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", invalidValue(param, "must not be empty")
	}
	return s, nil
}

// elem returns the path of element i of the array at param.
func elem(param string, i int) string {
	return param + "[" + strconv.Itoa(i) + "]"
}

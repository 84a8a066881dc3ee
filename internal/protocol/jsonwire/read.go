package jsonwire

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/llmgw/llmgw/internal/llm"
)

// Kind returns the JSON type of a raw value by its first byte.
func Kind(raw json.RawMessage) string {
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

// IsNull reports whether raw is absent or the JSON null.
func IsNull(raw json.RawMessage) bool {
	return len(raw) == 0 || (raw[0] == 'n' && string(raw) == "null")
}

// TypeError is the error for the value at param having the wrong JSON type;
// want names the expected one ("a string", "an integer").
func TypeError(param, want string, raw json.RawMessage) error {
	return llm.InvalidRequest(param, "invalid type for '%s': expected %s, but got %s", param, want, Kind(raw))
}

// Missing is the error for a required parameter that is absent or null.
func Missing(param string) error {
	return llm.InvalidRequest(param, "missing required parameter: '%s'", param)
}

// InvalidValue is the error for a value at param of the right type but not
// allowed; format and args say why.
//
// The values in args come from the client: strings and raw JSON among them
// are clipped (llm.Clip) before they are quoted, so that a huge value
// cannot inflate the answer or the logs.
func InvalidValue(param, format string, args ...any) error {
	for i, a := range args {
		switch v := a.(type) {
		case string:
			args[i] = llm.Clip(v)
		case json.RawMessage:
			args[i] = llm.Clip(string(v))
		case []byte:
			args[i] = llm.Clip(string(v))
		}
	}
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
	return llm.InvalidRequest("", "invalid JSON: the request body must be a JSON object, not %s", Kind(body))
}

// DecodeObject splits an object value; param names it in errors.
func DecodeObject(raw json.RawMessage, param string) (Object, error) {
	if len(raw) == 0 || raw[0] != '{' {
		return nil, TypeError(param, "an object", raw)
	}
	return SplitObject(raw), nil
}

// DecodeArray splits an array value; param names it in errors.
func DecodeArray(raw json.RawMessage, param string) ([]json.RawMessage, error) {
	if len(raw) == 0 || raw[0] != '[' {
		return nil, TypeError(param, "an array", raw)
	}
	return SplitArray(raw), nil
}

// Unquote returns the string a raw JSON string holds, false when raw is
// not a string. Strings without escapes
// or multi-byte characters, by far the most common, are sliced out without
// running the full decoder.
func Unquote(raw json.RawMessage) (string, bool) {
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

// DecodeString decodes a string value; null gives "".
func DecodeString(raw json.RawMessage, param string) (string, error) {
	if IsNull(raw) {
		return "", nil
	}
	s, ok := Unquote(raw)
	if !ok {
		return "", TypeError(param, "a string", raw)
	}
	return s, nil
}

// DecodeFloat decodes a number value; null gives nil.
func DecodeFloat(raw json.RawMessage, param string) (*float64, error) {
	if IsNull(raw) {
		return nil, nil
	}
	if Kind(raw) != "a number" {
		return nil, TypeError(param, "a number", raw)
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return nil, InvalidValue(param, "%s is out of range", raw)
	}
	return &f, nil
}

// DecodeFloatIn decodes a number value that must lie in [lo, hi].
func DecodeFloatIn(raw json.RawMessage, param string, lo, hi float64) (*float64, error) {
	f, err := DecodeFloat(raw, param)
	if err != nil || f == nil {
		return f, err
	}
	if *f < lo || *f > hi {
		return nil, InvalidValue(param, "%s is not between %g and %g", raw, lo, hi)
	}
	return f, nil
}

// DecodeInt64 decodes an integer value; null gives nil.
func DecodeInt64(raw json.RawMessage, param string) (*int64, error) {
	if IsNull(raw) {
		return nil, nil
	}
	if Kind(raw) != "a number" {
		return nil, TypeError(param, "an integer", raw)
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return nil, InvalidValue(param, "%s is out of range", raw)
		}
		return nil, TypeError(param, "an integer", raw)
	}
	return &n, nil
}

// DecodeInt decodes an integer value that must be at least lo.
func DecodeInt(raw json.RawMessage, param string, lo int) (*int, error) {
	n, err := DecodeInt64(raw, param)
	if err != nil || n == nil {
		return nil, err
	}
	if *n < int64(lo) {
		return nil, InvalidValue(param, "%d is less than the minimum of %d", *n, lo)
	}
	if *n > 1<<31-1 {
		return nil, InvalidValue(param, "%d is out of range", *n)
	}
	v := int(*n)
	return &v, nil
}

// DecodeBool decodes a boolean value; null gives nil.
func DecodeBool(raw json.RawMessage, param string) (*bool, error) {
	if IsNull(raw) {
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
	return nil, TypeError(param, "a boolean", raw)
}

// RequireString decodes the string at key of obj, which must be present and
// non-empty; param is its path in errors.
func RequireString(obj Object, key, param string) (string, error) {
	raw := obj.Get(key)
	if IsNull(raw) {
		return "", Missing(param)
	}
	s, err := DecodeString(raw, param)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", InvalidValue(param, "must not be empty")
	}
	return s, nil
}

// Elem returns the path of element i of the array at param.
func Elem(param string, i int) string {
	return param + "[" + strconv.Itoa(i) + "]"
}

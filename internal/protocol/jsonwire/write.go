package jsonwire

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string. It escapes what encoding/json
// escapes except the HTML characters, which need no escaping in an API body,
// and replaces invalid UTF-8 with U+FFFD.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 break JavaScript parsers of JSONP-like streams.
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// AppendFloat appends f formatted the way encoding/json formats a float64.
// It reports false, appending nothing, for a NaN or an infinity, which JSON
// cannot carry.
func AppendFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// Turn e-09 into e-9, as encoding/json does.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

// AppendKey appends "key": preceded by a comma unless the object has just
// been opened.
func AppendKey(b []byte, key string) []byte {
	if n := len(b); n > 0 && b[n-1] != '{' && b[n-1] != '[' {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, key...)
	return append(b, '"', ':')
}

// AppendStringField appends "key":"value".
func AppendStringField(b []byte, key, value string) []byte {
	return AppendString(AppendKey(b, key), value)
}

// AppendIntField appends "key":n.
func AppendIntField(b []byte, key string, n int64) []byte {
	return strconv.AppendInt(AppendKey(b, key), n, 10)
}

// AppendBoolField appends "key":true or "key":false.
func AppendBoolField(b []byte, key string, v bool) []byte {
	return strconv.AppendBool(AppendKey(b, key), v)
}

// AppendRawField appends "key":raw, with raw compacted so that a value kept
// as the client sent it (with its whitespace) cannot break one-line framing.
func AppendRawField(b []byte, key string, raw json.RawMessage) ([]byte, error) {
	b = AppendKey(b, key)
	return AppendRaw(b, raw)
}

// AppendRaw appends raw compacted; an empty raw appends null. It fails only
// when raw is not valid JSON.
func AppendRaw(b []byte, raw json.RawMessage) ([]byte, error) {
	if len(raw) == 0 {
		return append(b, "null"...), nil
	}
	if isCompact(raw) {
		return append(b, raw...), nil
	}
	buf := bytes.NewBuffer(b)
	if err := json.Compact(buf, raw); err != nil {
		return b, err
	}
	return buf.Bytes(), nil
}

// isCompact reports whether raw has no whitespace outside strings, so it can
// be appended without json.Compact.
func isCompact(raw []byte) bool {
	inString := false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case !inString && (c == ' ' || c == '\n' || c == '\r' || c == '\t'):
			return false
		}
	}
	return true
}

// AppendExtra appends the fields of extra in key order, skipping any key the
// caller already wrote, so that a pass-through field never overrides a known
// one.
func AppendExtra(b []byte, extra map[string]json.RawMessage, written func(string) bool) ([]byte, error) {
	if len(extra) == 0 {
		return b, nil
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		if !written(k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var err error
	for _, k := range keys {
		b = AppendString(AppendComma(b), k)
		b = append(b, ':')
		if b, err = AppendRaw(b, extra[k]); err != nil {
			return b, err
		}
	}
	return b, nil
}

// AppendComma appends a comma unless b ends by opening an object or an
// array, to separate the next member or element.
func AppendComma(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] != '{' && b[n-1] != '[' {
		b = append(b, ',')
	}
	return b
}

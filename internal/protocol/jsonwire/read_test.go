package jsonwire

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/llmgw/llmgw/internal/llm"
)

// checkErr fails t unless err is an InvalidRequest naming param with msg, or
// nil when msg is empty.
func checkErr(t *testing.T, err error, param, msg string) {
	t.Helper()
	if msg == "" {
		if err != nil {
			t.Fatalf("unexpected error %v", err)
		}
		return
	}
	var e *llm.Error
	if !errors.As(err, &e) || e.Kind != llm.KindInvalidRequest || e.Param != param || e.PublicMessage() != msg {
		t.Fatalf("err = %#v, want InvalidRequest %q: %q", err, param, msg)
	}
}

func TestKind(t *testing.T) {
	tests := []struct{ in, want string }{
		{``, "nothing"}, {`"x"`, "a string"}, {`{}`, "an object"}, {`[]`, "an array"},
		{`true`, "a boolean"}, {`false`, "a boolean"}, {`null`, "null"}, {`-1`, "a number"}, {`2.5`, "a number"},
	}
	for _, tc := range tests {
		if got := Kind(json.RawMessage(tc.in)); got != tc.want {
			t.Errorf("Kind(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestUnquote(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{`"plain"`, "plain", true},
		{`""`, "", true},
		{`"a\"b\\c\n"`, "a\"b\\c\n", true},
		{`"\u00e9t\u00e9"`, "été", true},
		{`"été"`, "été", true},
		{`"\ud83d\ude00"`, "😀", true},
		{`1`, "", false},
		{`"`, "", false},
		{`"bad\x"`, "", false},
	}
	for _, tc := range tests {
		got, ok := Unquote(json.RawMessage(tc.in))
		if got != tc.want || ok != tc.ok {
			t.Errorf("Unquote(%s) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestDecodeString(t *testing.T) {
	tests := []struct{ in, want, msg string }{
		{`"x"`, "x", ""},
		{`null`, "", ""},
		{``, "", ""},
		{`1`, "", "invalid type for 'p': expected a string, but got a number"},
		{`{}`, "", "invalid type for 'p': expected a string, but got an object"},
	}
	for _, tc := range tests {
		got, err := DecodeString(json.RawMessage(tc.in), "p")
		checkErr(t, err, "p", tc.msg)
		if got != tc.want {
			t.Errorf("DecodeString(%s) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDecodeFloatIn(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		null bool
		msg  string
	}{
		{`0.5`, 0.5, false, ""},
		{`2`, 2, false, ""},
		{`null`, 0, true, ""},
		{`2.5`, 0, false, "invalid value for 'p': 2.5 is not between 0 and 2"},
		{`-1`, 0, false, "invalid value for 'p': -1 is not between 0 and 2"},
		{`1e999`, 0, false, "invalid value for 'p': 1e999 is out of range"},
		{`"1"`, 0, false, "invalid type for 'p': expected a number, but got a string"},
	}
	for _, tc := range tests {
		got, err := DecodeFloatIn(json.RawMessage(tc.in), "p", 0, 2)
		checkErr(t, err, "p", tc.msg)
		switch {
		case tc.msg != "" || tc.null:
			if got != nil {
				t.Errorf("DecodeFloatIn(%s) = %v, want nil", tc.in, *got)
			}
		case got == nil || *got != tc.want:
			t.Errorf("DecodeFloatIn(%s) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestDecodeInt(t *testing.T) {
	tests := []struct {
		in   string
		want int
		null bool
		msg  string
	}{
		{`5`, 5, false, ""},
		{`1`, 1, false, ""},
		{`null`, 0, true, ""},
		{`0`, 0, false, "invalid value for 'p': 0 is less than the minimum of 1"},
		{`2147483648`, 0, false, "invalid value for 'p': 2147483648 is out of range"},
		{`99999999999999999999`, 0, false, "invalid value for 'p': 99999999999999999999 is out of range"},
		{`1.5`, 0, false, "invalid type for 'p': expected an integer, but got a number"},
		{`true`, 0, false, "invalid type for 'p': expected an integer, but got a boolean"},
	}
	for _, tc := range tests {
		got, err := DecodeInt(json.RawMessage(tc.in), "p", 1)
		checkErr(t, err, "p", tc.msg)
		switch {
		case tc.msg != "" || tc.null:
			if got != nil {
				t.Errorf("DecodeInt(%s) = %v, want nil", tc.in, *got)
			}
		case got == nil || *got != tc.want:
			t.Errorf("DecodeInt(%s) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestDecodeBool(t *testing.T) {
	tests := []struct {
		in   string
		want *bool
		msg  string
	}{
		{`true`, new(true), ""},
		{`false`, new(false), ""},
		{`null`, nil, ""},
		{`"true"`, nil, "invalid type for 'p': expected a boolean, but got a string"},
	}
	for _, tc := range tests {
		got, err := DecodeBool(json.RawMessage(tc.in), "p")
		checkErr(t, err, "p", tc.msg)
		if (got == nil) != (tc.want == nil) || (got != nil && *got != *tc.want) {
			t.Errorf("DecodeBool(%s) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestDecodeObjectAndArray(t *testing.T) {
	if _, err := DecodeObject(json.RawMessage(`[1]`), "p"); err == nil {
		t.Error("DecodeObject accepted an array")
	} else {
		checkErr(t, err, "p", "invalid type for 'p': expected an object, but got an array")
	}
	if obj, err := DecodeObject(json.RawMessage(`{"a":1}`), "p"); err != nil || string(obj.Get("a")) != "1" {
		t.Errorf("DecodeObject = %v, %v", obj, err)
	}
	if _, err := DecodeArray(json.RawMessage(``), "p"); err == nil {
		t.Error("DecodeArray accepted nothing")
	} else {
		checkErr(t, err, "p", "invalid type for 'p': expected an array, but got nothing")
	}
	if arr, err := DecodeArray(json.RawMessage(`[1,2]`), "p"); err != nil || len(arr) != 2 {
		t.Errorf("DecodeArray = %v, %v", arr, err)
	}
}

func TestRequireString(t *testing.T) {
	obj := SplitObject([]byte(`{"a":"x","b":"","c":null,"d":1}`))
	tests := []struct{ key, want, msg string }{
		{"a", "x", ""},
		{"b", "", "invalid value for 'p': must not be empty"},
		{"c", "", "missing required parameter: 'p'"},
		{"e", "", "missing required parameter: 'p'"},
		{"d", "", "invalid type for 'p': expected a string, but got a number"},
	}
	for _, tc := range tests {
		got, err := RequireString(obj, tc.key, "p")
		checkErr(t, err, "p", tc.msg)
		if got != tc.want {
			t.Errorf("RequireString(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
}

func TestElem(t *testing.T) {
	if got := Elem("messages", 12); got != "messages[12]" {
		t.Errorf("Elem = %q", got)
	}
}

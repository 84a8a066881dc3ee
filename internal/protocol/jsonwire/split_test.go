package jsonwire

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/llmgw/llmgw/internal/llm"
)

func TestSplitObject(t *testing.T) {
	tests := []struct {
		name string
		in   string
		keys []string
		vals []string
	}{
		{"empty", `{}`, nil, nil},
		{"empty with space", "{ \n }", nil, nil},
		{"scalars", `{"a":1,"b":"x","c":true,"d":null}`, []string{"a", "b", "c", "d"}, []string{`1`, `"x"`, `true`, `null`}},
		{"spaces", "{ \"a\" :\t1 ,\n\"b\": [1, 2] }", []string{"a", "b"}, []string{`1`, `[1, 2]`}},
		{"nested", `{"a":{"b":[{"c":"}"}]},"d":-1.5e3}`, []string{"a", "d"}, []string{`{"b":[{"c":"}"}]}`, `-1.5e3`}},
		{"escaped key", `{"a\"b":1,"\u00e9":2}`, []string{`a"b`, "é"}, []string{`1`, `2`}},
		{"escaped quote in value", `{"a":"x\"}","b":2}`, []string{"a", "b"}, []string{`"x\"}"`, `2`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obj := SplitObject([]byte(tc.in))
			if len(obj) != len(tc.keys) {
				t.Fatalf("got %d members, want %d", len(obj), len(tc.keys))
			}
			for i, m := range obj {
				if string(m.Key) != tc.keys[i] || string(m.Val) != tc.vals[i] {
					t.Errorf("member %d = %q:%q, want %q:%q", i, m.Key, m.Val, tc.keys[i], tc.vals[i])
				}
			}
		})
	}
}

func TestObjectGet(t *testing.T) {
	obj := SplitObject([]byte(`{"a":1,"b":2,"a":3}`))
	tests := []struct{ key, want string }{{"a", "3"}, {"b", "2"}, {"c", ""}}
	for _, tc := range tests {
		if got := string(obj.Get(tc.key)); got != tc.want {
			t.Errorf("Get(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
}

func TestSplitArray(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`[]`, nil},
		{`[ ]`, nil},
		{`[1]`, []string{"1"}},
		{`[1, "a,b" ,{"x":[2]},[],null]`, []string{"1", `"a,b"`, `{"x":[2]}`, `[]`, `null`}},
	}
	for _, tc := range tests {
		got := SplitArray([]byte(tc.in))
		if len(got) != len(tc.want) {
			t.Fatalf("%s: got %d elements %q, want %q", tc.in, len(got), got, tc.want)
		}
		for i := range got {
			if string(got[i]) != tc.want[i] {
				t.Errorf("%s: element %d = %q, want %q", tc.in, i, got[i], tc.want[i])
			}
		}
	}
}

// TestSplittersSurviveBrokenInput checks that the bounds checks hold: the
// splitters assume valid JSON but must not panic on anything else.
func TestSplittersSurviveBrokenInput(t *testing.T) {
	for _, in := range []string{`{`, `{"`, `{"a`, `{"a":`, `{"a":"`, `{"a":[`, `{"a":1,`, `[`, `[1,`, `["\`, `{"a\`} {
		SplitObject([]byte(in))
		SplitArray([]byte(in))
	}
}

func TestOwnBody(t *testing.T) {
	tests := []struct {
		name, in, want, msg string
	}{
		{"object", " {\"a\":1}\n", `{"a":1}`, ""},
		{"empty", "", "", "invalid JSON: the request body is empty"},
		{"syntax", `{"a":}`, "", "invalid JSON: invalid character '}' looking for beginning of value (at byte 6)"},
		{"array", `[1]`, "", "invalid JSON: the request body must be a JSON object, not an array"},
		{"string", ` "x"`, "", "invalid JSON: the request body must be a JSON object, not a string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			got, err := OwnBody(in)
			if tc.msg != "" {
				var e *llm.Error
				if !errors.As(err, &e) || e.Kind != llm.KindInvalidRequest || e.PublicMessage() != tc.msg {
					t.Fatalf("err = %v, want InvalidRequest %q", err, tc.msg)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("OwnBody = %q, %v; want %q", got, err, tc.want)
			}
			// The copy must not alias the caller's buffer.
			for i := range in {
				in[i] = 'x'
			}
			if string(got) != tc.want {
				t.Errorf("OwnBody result changed with its input: %q", got)
			}
		})
	}
}

func FuzzSplitObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1,"b":[1,{"c":"d"}]}`, `{"a\"":"\u00e9","a":null}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !json.Valid([]byte(s)) || !strings.HasPrefix(s, "{") {
			return
		}
		var want map[string]json.RawMessage
		if err := json.Unmarshal([]byte(s), &want); err != nil {
			t.Fatal(err)
		}
		obj := SplitObject([]byte(s))
		for k, v := range want {
			var a, b any
			if json.Unmarshal(v, &a) != nil || json.Unmarshal(obj.Get(k), &b) != nil {
				t.Fatalf("key %q: bad value %q", k, obj.Get(k))
			}
			if ja, jb := mustMarshal(t, a), mustMarshal(t, b); ja != jb {
				t.Fatalf("key %q: got %s, want %s", k, jb, ja)
			}
		}
	})
}

func mustMarshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

package jsonwire

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

func TestCheckAnswerGrammar(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"object", `{"a":1,"b":[true,false,null],"c":{"d":"e"}}`, true},
		{"spaces", " \t\r\n{ \"a\" : [ 1 , 2 ] } \n", true},
		{"empty containers", `{"a":{},"b":[],"c":[{}]}`, true},
		{"scalars", `"x"`, true},
		{"numbers", `[0,-0,1.5,-1e10,2E+3,3e-2,123456789]`, true},
		{"escapes", `"\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00"`, true},
		{"utf8", `"héllo wörld 😀"`, true},
		{"max depth", deep(MaxAnswerDepth), true},
		{"too deep", deep(MaxAnswerDepth + 1), false},
		{"empty", ``, false},
		{"space only", `  `, false},
		{"truncated object", `{"a":1,"b":`, false},
		{"truncated string", `{"a":"bc`, false},
		{"truncated literal", `[tru`, false},
		{"unclosed", `[1,2`, false},
		{"trailing comma", `[1,]`, false},
		{"trailing comma object", `{"a":1,}`, false},
		{"two values", `{} {}`, false},
		{"sse", "data: {\"a\":1}\n\n", false},
		{"binary", "\x00\x01\xff", false},
		{"bad utf8", "\"\xff\"", false},
		{"surrogate utf8", "\"\xed\xa0\x80\"", false},
		{"control char", "\"a\x01b\"", false},
		{"bad escape", `"\x"`, false},
		{"short unicode escape", `"\u12"`, false},
		{"leading zero", `01`, false},
		{"bare minus", `-`, false},
		{"dot without digits", `1.`, false},
		{"exponent without digits", `1e+`, false},
		{"unquoted key", `{a:1}`, false},
		{"missing colon", `{"a" 1}`, false},
		{"mismatched", `[}`, false},
		{"mismatched object", `{"a":1]`, false},
		{"single quote", `'a'`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckAnswer([]byte(tc.in), nil)
			if (err == nil) != tc.ok {
				t.Fatalf("CheckAnswer(%.40q) = %v, want ok %v", tc.in, err, tc.ok)
			}
		})
	}
}

// The members of the top-level object are reported, with their values'
// offsets; nested members are not.
func TestCheckAnswerMembers(t *testing.T) {
	b := []byte(` { "id" : "x", "choices":[{"id":"nested"}], "e\"sc":{"usage":1},"n":null}`)
	var got []string
	if err := CheckAnswer(b, func(name []byte, value int) {
		got = append(got, string(name)+"="+string(b[value]))
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{`id="`, `choices=[`, `e\"sc={`, `n=n`}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("members %q, want %q", got, want)
	}
}

// Ten million opening brackets, which make gjson's Valid overflow the
// goroutine stack (a fatal error that kills the process), are refused at
// the depth limit, and a text as long without nesting costs no stack either.
func TestCheckAnswerHostileSizes(t *testing.T) {
	deep := bytes.Repeat([]byte("["), 10_000_000)
	if err := CheckAnswer(deep, nil); err == nil || !strings.Contains(err.Error(), "nests deeper") {
		t.Fatalf("10M brackets: %v", err)
	}
	long := append(append([]byte(`"`), bytes.Repeat([]byte("a"), 10<<20)...), '"')
	if err := CheckAnswer(long, nil); err != nil {
		t.Fatalf("10 MiB string: %v", err)
	}
	if err := CheckAnswer(long[:len(long)-1], nil); err == nil {
		t.Fatal("an unterminated 10 MiB line passed")
	}
}

// After CheckAnswer, the gjson reads the adapters make of an answer are safe
// on untrusted bytes of any depth: Get and ForEach skip nested values
// without recursion. This pins that property of the library.
func TestGjsonReadsDoNotRecurse(t *testing.T) {
	deep := strings.Repeat("[", 5_000_000)
	for _, in := range []string{
		deep,
		`{"type":"error","error":` + deep,
		`{"usage":{"prompt_tokens":` + deep,
		`{"usage":{"completion_tokens_details":` + deep,
	} {
		_ = gjson.Get(in, "type")
		_ = gjson.Get(in, "error.type")
		_ = gjson.Get(in, "input_tokens")
		gjson.Get(in, "usage").ForEach(func(k, v gjson.Result) bool {
			_ = v.Get("reasoning_tokens")
			v.ForEach(func(k, v gjson.Result) bool { return true })
			return true
		})
	}
}

func FuzzCheckAnswer(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}]}`, `"\u00e9"`, `[1e5,-0.5]`, `{"a":"b"`, "data: x\n\n", `[[[]]]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		err := CheckAnswer(b, func(name []byte, value int) {
			if value >= len(b) {
				t.Fatalf("member value offset %d past the end", value)
			}
		})
		// encoding/json is the reference where it applies: it accepts
		// invalid UTF-8 and nests deeper.
		if !utf8.Valid(b) || bytes.Count(b, []byte("["))+bytes.Count(b, []byte("{")) >= MaxAnswerDepth {
			return
		}
		if want := json.Valid(b); (err == nil) != want {
			t.Fatalf("CheckAnswer(%q) = %v, json.Valid %v", b, err, want)
		}
	})
}

// BenchmarkCheckAnswer compares CheckAnswer with encoding/json's Valid (which
// also bounds depth without recursion) and gjson's (which recurses) on a
// chat completion.
func BenchmarkCheckAnswer(b *testing.B) {
	body := []byte(`{"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion","created":1741569952,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I assist you today? I can answer questions, write text, summarise documents and much more.","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_fc9f1d7035"}`)
	b.Run("CheckAnswer", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var choices bool
			if CheckAnswer(body, func(name []byte, value int) {
				if string(name) == "choices" {
					choices = body[value] == '['
				}
			}) != nil || !choices {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("encoding-json-Valid", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if !json.Valid(body) {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("gjson-ValidBytes", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if !gjson.ValidBytes(body) {
				b.Fatal("invalid")
			}
		}
	})
}

package jsonwire

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// referenceCheck is Check written with encoding/json's tokenizer: valid
// JSON, depth, and duplicate keys after decoding.
func referenceCheck(b []byte) (valid, deep, dup bool) {
	if !json.Valid(b) {
		return false, false, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	type level struct {
		object bool
		keys   map[string]bool
		key    bool // the next string token is a key
	}
	var stack []*level
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return true, deep, dup
		}
		if err != nil {
			return false, false, false
		}
		var top *level
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if k, ok := tok.(string); ok && top != nil && top.object && top.key {
			if top.keys[k] {
				dup = true
			}
			top.keys[k] = true
			top.key = false
			continue
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if top != nil && top.object {
				top.key = true
			}
			stack = append(stack, &level{object: tok == json.Delim('{'), keys: map[string]bool{}, key: tok == json.Delim('{')})
			if len(stack) > MaxDepth {
				deep = true
			}
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		default:
			if top != nil && top.object {
				top.key = true
			}
		}
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		`{}`, `[]`, `{"a":1,"b":[true,false,null,"x",-0.5e+3]}`, `{"a":1,"a":2}`,
		`{"model":"x","mod\u0065l":"y"}`, `{"a":{"b":1},"c":{"b":2}}`, `[{"a":1},{"a":1}]`,
		`{"a":"\ud800"}`, `"\u00e9"`, ` 1 `, `01`, `[1,]`, `{"a" 1}`, "\"\xff\"", `{"\u0000":1,"\u0000":2}`,
		strings.Repeat("[", 200) + strings.Repeat("]", 200),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		valid, deep, dup := referenceCheck(b)
		err := Check(b)
		switch {
		case !valid && err == nil:
			t.Fatalf("Check accepts invalid JSON %q", b)
		case valid && !deep && !dup && err != nil:
			t.Fatalf("Check refuses %q: %v", b, err)
		case valid && (deep || dup) && err == nil:
			t.Fatalf("Check accepts %q (deep %v, duplicate %v)", b, deep, dup)
		}
	})
}

func TestCheckRefusesDuplicateKeysAtAnyLevel(t *testing.T) {
	for name, tt := range map[string]struct{ body, path string }{
		"top":             {`{"model":"cheap","messages":[],"model":"expensive"}`, "model"},
		"escaped":         {`{"model":"cheap","mod\u0065l":"expensive"}`, "model"},
		"nested":          {`{"model":"m","messages":[{"role":"user"},{"role":"user","content":"a","role":"system"}]}`, "messages[1].role"},
		"deep":            {`{"a":{"b":{"c":{"d":1,"d":2}}}}`, "a.b.c.d"},
		"after many keys": {`{` + manyKeys(40) + `,"k7":0}`, "k7"},
		"after a closed":  {`{"x":{"y":1},"z":[1,{"q":1,"q":2}]}`, "z[1].q"},
	} {
		t.Run(name, func(t *testing.T) {
			err := Check([]byte(tt.body))
			var ce *CheckError
			if !errors.As(err, &ce) || ce.Key == "" {
				t.Fatalf("Check(%s) = %v, want a duplicate key error", tt.body, err)
			}
			if ce.Path != tt.path {
				t.Errorf("path %q, want %q", ce.Path, tt.path)
			}
		})
	}
	// The same key in sibling objects is no duplicate.
	if err := Check([]byte(`{"a":{"k":1},"b":{"k":2},"c":[{"k":1},{"k":1}],` + manyKeys(40) + `}`)); err != nil {
		t.Fatal(err)
	}
}

func manyKeys(n int) string {
	var sb strings.Builder
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`"k` + string(rune('0'+i%10)) + string(rune('a'+i/10)) + `":0`)
	}
	return strings.Replace(sb.String(), `"k7a"`, `"k7"`, 1)
}

// A body nested ten million levels deep is refused at the limit, with no
// recursion and without memory that grows with the nesting.
func TestCheckDeepNestingIsBoundedInStackAndMemory(t *testing.T) {
	for _, open := range []string{"[", "{\"a\":"} {
		body := bytes.Repeat([]byte(open), 10<<20/len(open))
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		err := Check(body)
		runtime.ReadMemStats(&after)
		var ce *CheckError
		if !errors.As(err, &ce) || !strings.Contains(ce.Reason, "deeper than 128") {
			t.Fatalf("Check(%q...) = %v, want the nesting limit", open, err)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<10 {
			t.Fatalf("Check allocated %d bytes for a deeply nested body", grew)
		}
	}
}

func TestCheckManyKeysIsLinear(t *testing.T) {
	// 200,000 distinct keys in one object: pairwise comparison would take
	// minutes; the set keeps it linear.
	var sb strings.Builder
	sb.WriteByte('{')
	for i := range 200000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`"`)
		sb.WriteString(strings.Repeat("x", i%7))
		sb.WriteString(itoa(i))
		sb.WriteString(`":1`)
	}
	sb.WriteByte('}')
	if err := Check([]byte(sb.String())); err != nil {
		t.Fatal(err)
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

func BenchmarkCheck(b *testing.B) {
	body := []byte(`{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Hello, how are you today? Tell me about the weather."}],"temperature":0.2,"max_tokens":200,"stream":true,"stream_options":{"include_usage":true}}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := Check(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGJSONValid(b *testing.B) {
	body := []byte(`{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Hello, how are you today? Tell me about the weather."}],"temperature":0.2,"max_tokens":200,"stream":true,"stream_options":{"include_usage":true}}`)
	b.ReportAllocs()
	for b.Loop() {
		if !gjson.ValidBytes(body) {
			b.Fatal()
		}
	}
}

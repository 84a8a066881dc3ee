package provider

import (
	"bytes"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	const key, hdr = "sk-test-0123456789", "tok/<&>-abcdefgh"
	r := newRedactor([]string{key, hdr, "short", ""})
	for _, tc := range []struct{ in, want string }{
		{`{"a":"` + key + `"}`, `{"a":"[redacted]"}`},
		{`{"a":"x` + key + key + `y"}`, `{"a":"x[redacted][redacted]y"}`},
		{`{"a":"tok/<&>-abcdefgh"}`, `{"a":"[redacted]"}`},
		{`{"a":"tok\/<&>-abcdefgh"}`, `{"a":"[redacted]"}`},
		{`{"a":"tok/\u003c\u0026\u003e-abcdefgh"}`, `{"a":"[redacted]"}`},
		{`{"a":"tok\/\u003c\u0026\u003e-abcdefgh"}`, `{"a":"[redacted]"}`},
		{strings.Repeat("k", 100) + key, strings.Repeat("k", 100) + "[redacted]"}, // past the anchor's misses
		{key[:len(key)-1], key[:len(key)-1]},
		{`{"a":"short"}`, `{"a":"short"}`}, // below MinBodySecret: an ordinary word
		{`{"a":"sk-test-012345678"}`, `{"a":"sk-test-012345678"}`},
	} {
		in := []byte(tc.in)
		got := r.redact(in)
		if string(got) != tc.want {
			t.Errorf("redact(%s) = %s, want %s", tc.in, got, tc.want)
		}
		if string(in) != tc.in {
			t.Errorf("redact changed its input to %s", in)
		}
		if tc.in == tc.want && &got[0] != &in[0] {
			t.Errorf("redact copied %s, which holds no secret", tc.in)
		}
	}
}

// BenchmarkRedactEvent is the cost per stream event of looking for one
// secret in a typical chunk that does not hold it.
func BenchmarkRedactEvent(b *testing.B) {
	ev := []byte(`{"id":"chatcmpl-bench0001","object":"chat.completion.chunk","created":1764000000,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_bench","choices":[{"index":0,"delta":{"content":" tok42"},"logprobs":null,"finish_reason":null}]}`)
	r := newRedactor([]string{"sk-upstream-test"})
	b.ReportAllocs()
	for b.Loop() {
		if len(r.redact(ev)) != len(ev) {
			b.Fatal("changed")
		}
	}
}

// needle.in finds what bytes.Contains finds.
func FuzzNeedle(f *testing.F) {
	f.Add("sk-test-0123456789", "xx sk-test-0123456789 yy")
	f.Add("kkkkkkkkkz", strings.Repeat("k", 50)+"z")
	f.Fuzz(func(t *testing.T, secret, text string) {
		if secret == "" {
			return
		}
		n := newNeedle(secret)
		if got, want := n.in([]byte(text)), bytes.Contains([]byte(text), []byte(secret)); got != want {
			t.Fatalf("in(%q, %q) = %v, bytes.Contains %v", secret, text, got, want)
		}
	})
}

func BenchmarkRedactEventContains(b *testing.B) {
	ev := []byte(`{"id":"chatcmpl-bench0001","object":"chat.completion.chunk","created":1764000000,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_bench","choices":[{"index":0,"delta":{"content":" tok42"},"logprobs":null,"finish_reason":null}]}`)
	n := []byte("sk-upstream-test")
	for b.Loop() {
		if bytes.Contains(ev, n) {
			b.Fatal("found")
		}
	}
}

package jsonwire

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// stdString is what encoding/json writes for s with HTML escaping off.
func stdString(t testing.TB, s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

var stringCases = []string{
	"", "plain", `quote " and \ backslash`, "tab\tnew\nline\rcr", "\x00\x01\x1f", "<a>&</a>",
	"été 😀", "bad \xff utf8", "\u2028\u2029", "trunc \xe2\x82",
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range stringCases {
		if got, want := string(AppendString([]byte("x"), s)), "x"+stdString(t, s); got != want {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range stringCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, want := string(AppendString(nil, s)), stdString(t, s)
		if !strings.ContainsAny(s, "\b\f") {
			if got != want {
				t.Fatalf("AppendString(%q) = %s, want %s", s, got, want)
			}
			return
		}
		// encoding/json writes \b and \f where AppendString writes \u0008
		// and \u000c; the strings they carry must still be the same.
		var g, w string
		if err := json.Unmarshal([]byte(got), &g); err != nil {
			t.Fatalf("AppendString(%q) = %s: %v", s, got, err)
		}
		if err := json.Unmarshal([]byte(want), &w); err != nil || g != w {
			t.Fatalf("AppendString(%q) = %s, want %s", s, got, want)
		}
	})
}

func TestAppendFloat(t *testing.T) {
	for _, f := range []float64{0, 1, -1.5, 0.7, 1e-6, 1e-7, 123456789, 1e20, 1e21, 1.5e-9, -2e300, math.SmallestNonzeroFloat64} {
		want, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := AppendFloat(nil, f)
		if !ok || string(got) != string(want) {
			t.Errorf("AppendFloat(%v) = %s, %v; want %s", f, got, ok, want)
		}
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if got, ok := AppendFloat([]byte("x"), f); ok || string(got) != "x" {
			t.Errorf("AppendFloat(%v) = %q, %v; want x, false", f, got, ok)
		}
	}
}

func TestAppendFields(t *testing.T) {
	b := []byte("{")
	b = AppendStringField(b, "s", "v")
	b = AppendIntField(b, "n", -3)
	b = AppendBoolField(b, "t", true)
	b = AppendKey(b, "a")
	b = append(b, '[')
	b = AppendString(AppendComma(b), "x")
	b = AppendString(AppendComma(b), "y")
	b = append(b, ']', '}')
	if want := `{"s":"v","n":-3,"t":true,"a":["x","y"]}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
}

func TestAppendRaw(t *testing.T) {
	tests := []struct {
		in, want string
		fails    bool
	}{
		{``, `null`, false},
		{`{"a":1}`, `{"a":1}`, false},
		{"{ \"a b\" : [1,\n 2] }", `{"a b":[1,2]}`, false},
		{`"x\" y"`, `"x\" y"`, false},
		{"{ \"a\": ", "", true},
	}
	for _, tc := range tests {
		got, err := AppendRawField([]byte("{"), "k", json.RawMessage(tc.in))
		if tc.fails {
			if err == nil {
				t.Errorf("AppendRawField(%q) accepted invalid JSON", tc.in)
			}
			continue
		}
		if want := `{"k":` + tc.want; err != nil || string(got) != want {
			t.Errorf("AppendRawField(%q) = %s, %v; want %s", tc.in, got, err, want)
		}
	}
}

func TestAppendExtra(t *testing.T) {
	extra := map[string]json.RawMessage{"z": json.RawMessage(`1`), "a": json.RawMessage(`[ 2 ]`), "known": json.RawMessage(`3`), "q\"": json.RawMessage(`null`)}
	b := []byte(`{"known":0`)
	b, err := AppendExtra(b, extra, func(k string) bool { return k == "known" })
	if want := `{"known":0,"a":[2],"q\"":null,"z":1`; err != nil || string(b) != want {
		t.Errorf("AppendExtra = %s, %v; want %s", b, err, want)
	}
	b, err = AppendExtra([]byte("{"), nil, func(string) bool { return false })
	if err != nil || string(b) != "{" {
		t.Errorf("AppendExtra(nil) = %s, %v", b, err)
	}
}

func BenchmarkAppendString(b *testing.B) {
	s := "The quick brown fox \"jumps\" over the lazy dog, été.\n"
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		buf = AppendString(buf[:0], s)
	}
}

func BenchmarkSplitObject(b *testing.B) {
	raw := []byte(`{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.5,"stream":true,"max_tokens":100}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		SplitObject(raw)
	}
}

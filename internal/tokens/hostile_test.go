package tokens

import (
	"strings"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/llm"
)

// within runs f and fails the test if it has not returned after d. The
// limits are generous: without the caps each of these inputs takes minutes
// to hours.
func within(t *testing.T, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("did not return within %v", d)
	}
}

func TestHostileInputIsBounded(t *testing.T) {
	deepSchema := `{"type":"object","properties":{"x":` + strings.Repeat(`{"type":"array","items":`, 100000) +
		`{"type":"string"}` + strings.Repeat(`}`, 100000) + `}}`
	manyMessages := &llm.ChatRequest{Messages: make([]llm.Message, 200000)}
	for i := range manyMessages.Messages {
		manyMessages.Messages[i] = llm.Message{Role: llm.RoleUser, Content: []llm.Part{llm.TextPart("hi")}}
	}
	cases := map[string]*llm.ChatRequest{
		"10 MB of one character":     chatOf(strings.Repeat("a", 10<<20)),
		"10 MB of space and newline": chatOf(strings.Repeat(" \n", 5<<20)),
		"10 MB of invalid UTF-8":     chatOf(strings.Repeat("\xff", 10<<20)),
		// Under MaxExactBytes: only the whitespace-run limit keeps it from
		// the tokenizer, which would take minutes on it.
		"200 KB of space and newline": chatOf(strings.Repeat(" \n", 100<<10)),
		"200000 messages":             manyMessages,
		"deeply nested tool schema":   {Messages: cookbookMessages(), Tools: []llm.Tool{{Type: "function", Name: "f", Parameters: []byte(deepSchema)}}},
		"schema that is not JSON":     {Tools: []llm.Tool{{Type: "function", Name: "f", Parameters: []byte(`{"properties":{"x":[`)}}},
		"200 KB of runs of 200 blank": chatOf(strings.Repeat(strings.Repeat(" \n", 100)+"x", 1000)),
	}
	for name, req := range cases {
		for _, target := range [][2]string{{"openai", "gpt-4o"}, {"openai", "gpt-4"}, {"anthropic", "claude-sonnet-4-5"}} {
			t.Run(name+"/"+target[1], func(t *testing.T) {
				within(t, 20*time.Second, func() {
					n, _ := Count(req, target[0], target[1])
					if n <= 0 {
						t.Errorf("Count = %d", n)
					}
				})
			})
		}
	}
}

// A whitespace run longer than maxSpaceRun is estimated, not tokenized: the
// tokenizer's time on it is quadratic.
func TestLongWhitespaceRunIsEstimated(t *testing.T) {
	long := "a" + strings.Repeat(" ", maxSpaceRun+1) + "b"
	n, exact := CountText(long, "openai", "gpt-4o")
	if exact || n != EstimateText(long) {
		t.Errorf("CountText = %d, exact %v; want the estimate %d", n, exact, EstimateText(long))
	}
	spaces := "a" + strings.Repeat(" ", maxSpaceRun) + "b"
	if _, exact := CountText(spaces, "openai", "gpt-4o"); !exact {
		t.Errorf("a run of exactly %d spaces was not tokenized", maxSpaceRun)
	}
}

// A request larger than MaxExactBytes is estimated as a whole.
func TestLargeRequestIsEstimated(t *testing.T) {
	half := strings.Repeat("word ", MaxExactBytes/10+1)
	req := chatOf(half, half)
	n, exact := Count(req, "openai", "gpt-4o")
	if exact || n != estimateChat(req) {
		t.Errorf("Count = %d, exact %v; want the estimate %d", n, exact, estimateChat(req))
	}
	if _, exact := Count(chatOf(half), "openai", "gpt-4o"); !exact {
		t.Error("a request under MaxExactBytes was not counted exactly")
	}
	// Every text the counter tokenizes counts toward the limit: here a
	// tool of a type the canonical model keeps only as sent.
	req = chatOf("hello")
	req.Tools = []llm.Tool{{Type: "web_search", Raw: []byte(`{"type":"web_search","x":"` + half + half + `"}`)}}
	if n, exact := Count(req, "openai", "gpt-4o"); exact || n != estimateChat(req) {
		t.Errorf("request with a large raw tool: Count = %d, exact %v; want the estimate %d", n, exact, estimateChat(req))
	}
}

// Invalid UTF-8 is counted as the upstream receives it: encoding/json
// replaces each invalid byte with U+FFFD. The library does the same by
// reading the text as runes; this holds it to that.
func TestInvalidUTF8CountsAsReplaced(t *testing.T) {
	got, exact := CountText("ok\xff\xfe\xfdok", "openai", "gpt-4o")
	want, _ := CountText("ok\uFFFD\uFFFD\uFFFDok", "openai", "gpt-4o")
	if got != want || !exact {
		t.Errorf("CountText = %d, exact %v; the text sent counts %d", got, exact, want)
	}
}

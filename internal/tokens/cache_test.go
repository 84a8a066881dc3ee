package tokens

import (
	"fmt"
	"strings"
	"testing"
)

// TestCountCached: a text counted again is not given to the tokenizer
// again, and its count is the tokenizer's.
func TestCountCached(t *testing.T) {
	text := "You are a careful assistant. Answer in one sentence: " + t.Name()
	want, err := o200k.tokenize(text)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := CountText(text, "openai", "gpt-4o")
	before := o200k.tokenized.Load()
	for range 5 {
		if n, exact := CountText(text, "openai", "gpt-4o"); n != want || !exact || n != first {
			t.Fatalf("count %d (exact %v), want %d", n, exact, want)
		}
	}
	if n := o200k.tokenized.Load() - before; n != 0 {
		t.Fatalf("the same text went to the tokenizer %d more times", n)
	}
	// The other encoding has its own entries.
	want100, _ := cl100k.tokenize(text)
	if n, _ := CountText(text, "openai", "gpt-4"); n != want100 {
		t.Fatalf("cl100k count %d, want %d", n, want100)
	}
}

// TestCountCacheBounded: past a generation's worth of texts the oldest
// are dropped, what is held stays bounded, and counts stay the
// tokenizer's.
func TestCountCacheBounded(t *testing.T) {
	var c countCache
	text := strings.Repeat("x", 1000)
	for i := range 20000 {
		s := fmt.Sprintf("%d %s", i, text)
		c.put(s, i)
		if n, ok := c.get(s); !ok || n != i {
			t.Fatalf("entry %d: %d %v", i, n, ok)
		}
	}
	held := 0
	for s := range c.cur {
		held += len(s) + cacheEntryCost
	}
	for s := range c.prev {
		held += len(s) + cacheEntryCost
	}
	if held > 2*cacheGenBytes {
		t.Fatalf("the cache holds %d bytes, want at most %d", held, 2*cacheGenBytes)
	}
	if _, ok := c.get("0 " + text); ok {
		t.Fatal("the first entry is still held after 20 MB of others")
	}
	long := strings.Repeat("y", cacheMaxText+1)
	c.put(long, 1)
	if _, ok := c.get(long); ok {
		t.Fatal("a text over cacheMaxText was cached")
	}
	for i := range 50 {
		s := fmt.Sprintf("word %d and more words", i)
		want, _ := o200k.tokenize(s)
		for range 2 {
			if n, _ := CountText(s, "openai", "gpt-4o"); n != want {
				t.Fatalf("%q: %d, want %d", s, n, want)
			}
		}
	}
}

package server

import (
	"io"
	"math"
	"strings"
	"testing"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/tokens"
)

func textChunk(s string) *llm.Chunk {
	return &llm.Chunk{Choices: []llm.Choice{{Message: llm.Message{Content: []llm.Part{llm.TextPart(s)}}}}}
}

// A chunk counts as delivered once the next one is asked for: the last one
// handed out, whose write to the client failed, does not.
func TestDeliveredCountsWhatTheClientWasSent(t *testing.T) {
	d := delivered{Stream: llm.NewSliceStream(nil, textChunk("one "), textChunk("two "), textChunk("three "))}
	defer d.release()
	for range 3 {
		if _, err := d.Recv(); err != nil {
			t.Fatal(err)
		}
	}
	// The handler stops here: "three " never reached the client.
	if got, frac := d.text(); got != "one two " || frac != 1 {
		t.Fatalf("delivered %q (%v), want %q", got, frac, "one two ")
	}
	if !d.began || d.ended || !d.stale {
		t.Fatalf("began %t, ended %t, stale %t", d.began, d.ended, d.stale)
	}
}

// What a stream keeps is bounded; the count of what was kept is scaled to
// the bytes delivered beyond it.
func TestDeliveredBounded(t *testing.T) {
	piece := strings.Repeat("lorem ipsum dolor sit amet ", 40)
	chunks := make([]*llm.Chunk, 3*maxDelivered/len(piece))
	for i := range chunks {
		chunks[i] = textChunk(piece)
	}
	d := delivered{Stream: llm.NewSliceStream(nil, chunks...)}
	defer d.release()
	for {
		if _, err := d.Recv(); err != nil {
			break
		}
	}
	if !d.ended {
		t.Fatal("the stream did not end")
	}
	if n := len(*d.buf); n > maxDelivered {
		t.Fatalf("kept %d bytes, more than %d", n, maxDelivered)
	}
	text, frac := d.text()
	if frac > 0.4 || frac < 0.3 {
		t.Fatalf("kept fraction %v of three times the bound", frac)
	}
	want := tokens.EstimateText(strings.Repeat(piece, len(chunks)))
	got := float64(tokens.EstimateText(text)) / frac
	if math.Abs(got-float64(want)) > 0.01*float64(want) {
		t.Fatalf("scaled count %.0f, want about %d", got, want)
	}
}

// Raw payloads the upstream sent malformed count for nothing, and never
// make the count fail.
func TestDeliveredMalformedRaw(t *testing.T) {
	for _, proto := range []string{"openai", "anthropic", "other"} {
		raw := []*llm.Chunk{
			{Raw: []byte(`{"choices":[{"delta":{"content":"kept "}}]}`), RawProtocol: proto},
			{Raw: []byte(`{"choices":[{"delta":{"content":`), RawProtocol: proto},
			{Raw: []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"kept "}}`), RawProtocol: proto},
			{Raw: []byte("\xff\x00"), RawProtocol: proto},
			{Raw: []byte(`{}`), RawProtocol: proto},
		}
		d := delivered{Stream: llm.NewSliceStream(nil, raw...)}
		for {
			if _, err := d.Recv(); err != nil {
				break
			}
		}
		text, _ := d.text()
		d.release()
		want := map[string]string{"openai": "kept ", "anthropic": "kept ", "other": ""}[proto]
		if text != want {
			t.Errorf("%s: delivered %q, want %q", proto, text, want)
		}
	}
}

// A usage report covers the output received before it, even when the
// chunk that carried it never reached the client: the report stands.
func TestDeliveredReportCoversWhatPrecededIt(t *testing.T) {
	usage := &llm.Chunk{Usage: &llm.Usage{PromptTokens: 9, CompletionTokens: 2}}
	d := delivered{Stream: llm.NewSliceStream(nil, textChunk("one "), textChunk("two"), usage, textChunk(" three"))}
	defer d.release()
	for range 3 {
		if _, err := d.Recv(); err != nil {
			t.Fatal(err)
		}
	}
	if d.stale {
		t.Fatal("output received before the report counts as not covered by it")
	}
	if _, err := d.Recv(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Recv(); err != io.EOF { // " three" was delivered
		t.Fatal(err)
	}
	if !d.stale {
		t.Fatal("output delivered after the report counts as covered by it")
	}
}

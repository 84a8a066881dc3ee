package mock

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/llmgw/llmgw/internal/llm"
)

func BenchmarkChat(b *testing.B) {
	p := New("mock", Options{})
	req := userReq("What is the capital of France? Answer in one short sentence.")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		s, err := p.Chat(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Recv(); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

func BenchmarkStream200Words(b *testing.B) {
	p := New("mock", Options{})
	req := userReq(strings.Repeat("word ", 200))
	req.Stream = true
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		s, err := p.Chat(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, err := s.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		s.Close()
		if n != 203 {
			b.Fatalf("chunks = %d, want 203", n)
		}
	}
}

func BenchmarkEmbed(b *testing.B) {
	p := New("mock", Options{})
	req := &llm.EmbedRequest{Model: "mock", Input: []byte(`["first input text", "second input text"]`)}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Embed(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

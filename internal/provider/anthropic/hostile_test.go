package anthropic

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/provider"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// An upstream 200 that is no message is an upstream error (502, retried
// elsewhere) on the fast path and the full path alike.
func TestGarbage200IsUpstreamError(t *testing.T) {
	for _, tc := range []struct {
		name string
		resp providertest.Response
	}{
		{"binary junk", providertest.Response{Body: []byte("\x00\x01\xff junk")}},
		{"event stream", providertest.Response{SSE: []byte("event: message_start\ndata: {\"type\":\"message_start\"}\n\n")}},
		{"truncated", providertest.Response{Body: []byte(`{"id":"msg_1","type":"message","content":[{"type":"text","text":"Hel`)}},
		{"10 MiB single line", providertest.Response{Body: bytes.Repeat([]byte("x"), 10<<20)}},
		{"nested 10 million deep", providertest.Response{Body: bytes.Repeat([]byte("["), 10_000_000)}},
		{"other type", providertest.Response{Body: []byte(`{"type":"completion","content":[]}`)}},
		{"no content", providertest.Response{Body: []byte(`{"type":"message","id":"msg_1"}`)}},
	} {
		for _, path := range []string{"forward", "chat"} {
			t.Run(tc.name+"/"+path, func(t *testing.T) {
				p, f := newProvider(t)
				f.Enqueue(tc.resp)
				var err error
				var s llm.Stream
				if path == "forward" {
					s, err = p.Forward(context.Background(), &provider.Forward{Body: []byte(`{"model":"a","max_tokens":5,"messages":[]}`), Model: "m"})
				} else {
					s, err = p.Chat(context.Background(), userReq(false))
				}
				if err == nil {
					s.Close()
					t.Fatal("garbage passed as a success")
				}
				if e := llm.AsError(err); e.Kind != llm.KindUpstream || e.Status() != http.StatusBadGateway {
					t.Fatalf("error %#v, want a 502 upstream error", e)
				}
			})
		}
	}
}

// An error object in a 200 body is classified by its type, wherever "type"
// stands, and the key it quotes is redacted.
func TestErrorObjectIn200(t *testing.T) {
	p, f := newProvider(t)
	f.Enqueue(providertest.Response{Body: []byte(`{"error":{"type":"overloaded_error","message":"busy; x-api-key: ` + secret + `"},"type":"error"}`)})
	_, err := p.Forward(context.Background(), &provider.Forward{Body: []byte(`{"model":"a","max_tokens":5,"messages":[]}`), Model: "m"})
	e := llm.AsError(err)
	if err == nil || e.Kind != llm.KindUpstreamUnavailable {
		t.Fatalf("error %v, want upstream_unavailable", err)
	}
	if strings.Contains(e.Error(), secret) {
		t.Errorf("key in the error: %s", e.Error())
	}
}

// The key echoed in a message, forwarded or decoded, or in a stream event,
// never reaches the client.
func TestSecretsRedactedFromAnswers(t *testing.T) {
	msg := `{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"key ` + secret + `"}],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}}`
	p, f := newProvider(t)
	ctx := context.Background()
	f.Enqueue(providertest.Response{Body: []byte(msg)}, providertest.Response{Body: []byte(msg)})
	s, err := p.Forward(ctx, &provider.Forward{Body: []byte(`{"model":"a","max_tokens":5,"messages":[]}`), Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	chunks, _ := drain(t, s)
	if bytes.Contains(chunks[0].Raw, []byte(secret)) || !bytes.Contains(chunks[0].Raw, []byte("[redacted]")) {
		t.Errorf("forwarded body: %s", chunks[0].Raw)
	}
	if s, err = p.Chat(ctx, userReq(false)); err != nil {
		t.Fatal(err)
	}
	chunks, _ = drain(t, s)
	if txt := chunks[0].Choices[0].Message.Text(); strings.Contains(txt, secret) || !strings.Contains(txt, "[redacted]") {
		t.Errorf("decoded text %q", txt)
	}
	f.Enqueue(providertest.Response{SSE: []byte("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"" + secret + "\"}}\n\n")})
	if s, err = p.Forward(ctx, &provider.Forward{Body: []byte(`{"model":"a","max_tokens":5,"messages":[]}`), Model: "m", Stream: true}); err != nil {
		t.Fatal(err)
	}
	chunks, _ = drain(t, s)
	if len(chunks) == 0 || bytes.Contains(chunks[0].Raw, []byte(secret)) {
		t.Errorf("stream event: %v", chunks)
	}
}

// A count_tokens 200 that is an error object is that error.
func TestCountTokensErrorIn200(t *testing.T) {
	p, f := newProvider(t)
	f.Enqueue(providertest.Response{Body: []byte(`{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}`)})
	_, err := p.CountTokens(context.Background(), userReq(false))
	if e := llm.AsError(err); err == nil || e.Kind != llm.KindRateLimited {
		t.Fatalf("error %v, want the upstream's rate limit", err)
	}
}

// A client body nested ten million deep is refused without a recursive
// parse, which would overflow the stack and kill the process.
func TestForwardBodyDeep(t *testing.T) {
	_, err := forwardBody(&provider.Forward{Body: bytes.Repeat([]byte("["), 10_000_000), Model: "m"})
	if err == nil {
		t.Fatal("accepted")
	}
}

package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/provider"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// garbage200 are 200 answers to a non-streamed chat request that are not a
// chat completion.
func garbage200() []struct {
	name string
	resp providertest.Response
} {
	sse := providertest.Response{SSE: []byte("data: {\"id\":\"x\",\"choices\":[]}\n\ndata: [DONE]\n\n")}
	return []struct {
		name string
		resp providertest.Response
	}{
		{"binary junk", providertest.Response{Body: []byte("\x00\x01\x02\xff\xfe garbage")}},
		{"event stream", sse},
		{"event stream as json", providertest.Response{Body: []byte("data: {\"choices\":[]}\n\n")}},
		{"truncated object", providertest.Response{Body: []byte(`{"id":"chatcmpl-1","choices":[{"index":0,"message":{"role":"assistant","content":"Hel`)}},
		{"10 MiB single line", providertest.Response{Body: bytes.Repeat([]byte("A"), 10<<20)}},
		{"nested 10 million deep", providertest.Response{Body: bytes.Repeat([]byte("["), 10_000_000)}},
		{"not an object", providertest.Response{Body: []byte(`[{"choices":[]}]`)}},
		{"object without choices", providertest.Response{Body: []byte(`{"id":"x","object":"chat.completion"}`)}},
		{"two objects", providertest.Response{Body: []byte(`{"choices":[]}{"choices":[]}`)}},
		{"html", providertest.Response{Header: http.Header{"Content-Type": {"text/html"}}, Body: []byte("<html>502 Bad Gateway</html>")}},
	}
}

// An upstream 200 that is no chat completion is an upstream error (502,
// retried elsewhere), on the fast path and the full path alike, never a
// success relayed to the client.
func TestGarbage200IsUpstreamError(t *testing.T) {
	for _, tc := range garbage200() {
		for _, path := range []string{"forward", "chat"} {
			t.Run(tc.name+"/"+path, func(t *testing.T) {
				f := providertest.NewOpenAI(t)
				f.Enqueue(tc.resp)
				p := newProvider(t, f, nil)
				var err error
				var s llm.Stream
				if path == "forward" {
					s, err = p.Forward(context.Background(), &provider.Forward{Body: []byte(`{"model":"a","messages":[]}`), Model: "m"})
				} else {
					s, err = p.Chat(context.Background(), chatRequest(false))
				}
				if err == nil {
					c, _ := s.Recv()
					s.Close()
					t.Fatalf("garbage passed as a success: %.80q", c.Raw)
				}
				e := llm.AsError(err)
				if e.Kind != llm.KindUpstream || e.Status() != http.StatusBadGateway || e.Provider != "oai" {
					t.Fatalf("error %#v, want a 502 upstream error", e)
				}
				if !e.Retryable() {
					t.Error("not retryable")
				}
			})
		}
	}
}

// An error object in a 200 body is the upstream's error, wherever the
// member stands, with its message relayed and the key redacted from it.
func TestErrorObjectIn200(t *testing.T) {
	body := `{"id":"x","object":"chat.completion","error":{"message":"proxy failed; headers: Authorization: Bearer ` + testKey + `","type":"server_error","code":"proxy_error"}}`
	for _, path := range []string{"forward", "chat", "embed"} {
		t.Run(path, func(t *testing.T) {
			f := providertest.NewOpenAI(t)
			f.Enqueue(providertest.Response{Body: []byte(body)})
			p := newProvider(t, f, nil)
			var err error
			switch path {
			case "forward":
				_, err = p.Forward(context.Background(), &provider.Forward{Body: []byte(`{"model":"a","messages":[]}`), Model: "m"})
			case "chat":
				_, err = p.Chat(context.Background(), chatRequest(false))
			case "embed":
				_, err = p.Embed(context.Background(), &llm.EmbedRequest{Model: "e", Input: json.RawMessage(`"x"`)})
			}
			e := llm.AsError(err)
			if err == nil || e.Kind != llm.KindUpstream || e.UpstreamStatus != http.StatusOK {
				t.Fatalf("error %#v, want an upstream error", e)
			}
			if !strings.Contains(e.PublicMessage(), "proxy failed") {
				t.Errorf("message %q lost the upstream's", e.PublicMessage())
			}
			if strings.Contains(e.Error(), testKey) {
				t.Errorf("key in the error: %s", e.Error())
			}
		})
	}
}

// Embeddings: a 200 that is not a list of embeddings is an upstream error.
func TestEmbedGarbage200(t *testing.T) {
	for _, body := range []string{`{"object":"list"}`, "\x00junk", strings.Repeat("[", 1_000_000)} {
		f := providertest.NewOpenAI(t)
		f.Enqueue(providertest.Response{Body: []byte(body)})
		p := newProvider(t, f, nil)
		_, err := p.Embed(context.Background(), &llm.EmbedRequest{Model: "e", Input: json.RawMessage(`"x"`)})
		if e := llm.AsError(err); err == nil || e.Kind != llm.KindUpstream {
			t.Fatalf("%.20q: error %v, want an upstream error", body, err)
		}
	}
}

// A secret an upstream echoes in a successful answer (the provider's key,
// a configured header's value, raw or JSON-escaped) never reaches the
// client: not in a forwarded body, a decoded one, embeddings or a stream
// event.
func TestSecretsRedactedFromAnswers(t *testing.T) {
	const header = "hdr-secret-<&>/value"
	escaped := `hdr-secret-\u003c\u0026\u003e\/value`
	completion := `{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"your key is ` + testKey + ` and ` + escaped + `"},"finish_reason":"stop"}]}`
	event := `{"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"key ` + testKey + ` ` + escaped + `"}}]}`
	mod := func(c *Config) { c.Headers = map[string]string{"X-Proxy-Auth": header} }
	check := func(t *testing.T, what string, b []byte) {
		t.Helper()
		for _, s := range []string{testKey, header, escaped, "hdr-secret"} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds %q: %s", what, s, b)
			}
		}
		if !bytes.Contains(b, []byte("[redacted]")) {
			t.Errorf("%s: nothing was redacted: %s", what, b)
		}
	}
	ctx := context.Background()
	fw := &provider.Forward{Body: []byte(`{"model":"a","messages":[]}`), Model: "m"}

	f := providertest.NewOpenAI(t)
	p := newProvider(t, f, mod)
	f.Enqueue(providertest.Response{Body: []byte(completion)})
	s, err := p.Forward(ctx, fw)
	if err != nil {
		t.Fatal(err)
	}
	chunks, _ := drain(t, s)
	check(t, "forwarded body", chunks[0].Raw)

	f.Enqueue(providertest.Response{Body: []byte(completion)})
	if s, err = p.Chat(ctx, chatRequest(false)); err != nil {
		t.Fatal(err)
	}
	chunks, _ = drain(t, s)
	check(t, "decoded body", []byte(text(chunks)))

	f.Enqueue(providertest.Response{Body: []byte(`{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5]}],"model":"` + testKey + `"}`)})
	r, err := p.Embed(ctx, &llm.EmbedRequest{Model: "e", Input: json.RawMessage(`"x"`)})
	if err != nil {
		t.Fatal(err)
	}
	check(t, "embeddings", append([]byte(r.Model+" "), r.Raw...))

	for _, raw := range []bool{true, false} {
		f.Enqueue(providertest.Response{SSE: []byte("data: " + event + "\n\ndata: [DONE]\n\n")})
		fw := *fw
		fw.Stream = true
		if raw {
			s, err = p.Forward(ctx, &fw)
		} else {
			s, err = p.Chat(ctx, chatRequest(true))
		}
		if err != nil {
			t.Fatal(err)
		}
		chunks, _ = drain(t, s)
		if raw {
			check(t, "stream event", chunks[0].Raw)
		} else {
			check(t, "decoded stream", []byte(text(chunks)))
		}
	}
}

// A stream request answered with JSON (an error object or a whole
// completion) ends at once with a clear upstream error.
func TestStreamAnsweredWithJSON(t *testing.T) {
	for _, body := range []string{
		`{"error":{"message":"stream not supported","type":"invalid_request_error"}}`,
		`{"id":"x","object":"chat.completion","choices":[]}`,
	} {
		f := providertest.NewOpenAI(t)
		f.Enqueue(providertest.Response{Body: []byte(body)})
		p := newProvider(t, f, nil)
		_, err := p.Forward(context.Background(), &provider.Forward{Body: []byte(`{"model":"a","messages":[]}`), Model: "m", Stream: true})
		e := llm.AsError(err)
		if err == nil || e.Kind != llm.KindUpstream || !strings.Contains(e.PublicMessage(), "event stream") {
			t.Fatalf("error %v, want an upstream error saying no event stream came", err)
		}
	}
}

// A stream of events without data, or of keep-alive comments, is no
// progress: the idle timeout ends it, where each empty event used to start
// the wait afresh and keep the stream open for ever.
func TestStreamIdleIgnoresEmptyEvents(t *testing.T) {
	for _, filler := range []string{"data:\n\n", "data: \n\n", ": keep-alive\n\n"} {
		t.Run(strings.TrimSpace(filler), func(t *testing.T) {
			url := dripServer(t, "data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\n", filler)
			p := newProvider(t, providertest.NewOpenAI(t), func(c *Config) { c.BaseURL = url; c.StreamIdleTimeout = 300 * time.Millisecond })
			s, err := p.Forward(context.Background(), &provider.Forward{Body: []byte(`{"model":"a","messages":[]}`), Model: "m", Stream: true})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := s.Recv(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { _, err := s.Recv(); done <- err }()
			select {
			case err := <-done:
				if e := llm.AsError(err); e.Kind != llm.KindUpstreamTimeout {
					t.Fatalf("error %v, want the idle timeout", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("a stream of empty events never timed out")
			}
		})
	}
}

// dripServer answers with the event first, then filler every 10ms until the
// client goes away, and returns its base URL.
func dripServer(t *testing.T, first, filler string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, first)
		rc := http.NewResponseController(w)
		_ = rc.Flush()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-r.Context().Done():
				return
			case <-tick.C:
				if _, err := io.WriteString(w, filler); err != nil || rc.Flush() != nil {
					return
				}
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// An endless line ends the stream with a clear error once it passes the
// largest event the reader holds, with no idle timeout to help: the memory
// it takes is bounded by that size.
func TestStreamEndlessLine(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: {\"id\":\"x\",\"choices\":[]}\n\ndata: ")
		chunk := bytes.Repeat([]byte("a"), 64<<10)
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	p := newProvider(t, providertest.NewOpenAI(t), func(c *Config) { c.BaseURL = srv.URL })
	s, err := p.Forward(context.Background(), &provider.Forward{Body: []byte(`{"model":"a","messages":[]}`), Model: "m", Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Recv(); err != nil {
		t.Fatal(err)
	}
	_, err = s.Recv()
	if e := llm.AsError(err); e.Kind != llm.KindUpstream || !strings.Contains(e.PublicMessage(), "too large") {
		t.Fatalf("error %v, want an upstream error for an event too large", err)
	}
}

// BenchmarkAnswerChecks is what the fast path added per non-streamed
// answer: the secret search and the shape check of the body.
func BenchmarkAnswerChecks(b *testing.B) {
	body := providertest.Load(b, "openai/chat_text.json")
	p := newProvider(b, providertest.NewOpenAI(b), nil)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := p.checkAnswer(p.up.Redact(body), "choices", malformedChat); err != nil {
			b.Fatal(err)
		}
	}
}

package openai

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgw/llmgw/internal/llm"
	protocol "github.com/llmgw/llmgw/internal/protocol/openai"
	"github.com/llmgw/llmgw/internal/provider"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

func forwardCompletion(p *Provider, body string, stream bool) (llm.Stream, error) {
	return p.Forward(context.Background(), &provider.Forward{Body: []byte(body), Model: "gpt-3.5-turbo-instruct",
		Stream: stream, Protocol: protocol.CompletionsProtocol})
}

func TestForwardsCompletionsOnly(t *testing.T) {
	p := newProvider(t, providertest.NewOpenAI(t), nil)
	if !p.ForwardsProtocol(protocol.CompletionsProtocol) {
		t.Error("legacy completions not forwarded")
	}
	if p.ForwardsProtocol("anthropic") || p.ForwardsProtocol("") {
		t.Error("forwards protocols it does not serve")
	}
}

func TestForwardCompletionUnary(t *testing.T) {
	f := providertest.NewOpenAI(t)
	body := providertest.Load(t, "openai/completion_text.json")
	f.Enqueue(providertest.Response{Body: body})
	p := newProvider(t, f, nil)
	s, err := forwardCompletion(p, `{"model":"alias","prompt":"Say this is a test","max_tokens":7,"temperature":0}`, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	chunks, err := drain(t, s)
	if err != io.EOF || len(chunks) != 1 {
		t.Fatalf("%d chunks, %v", len(chunks), err)
	}
	if !bytes.Equal(chunks[0].Raw, body) || chunks[0].RawProtocol != protocol.CompletionsProtocol {
		t.Errorf("chunk is not the upstream body in the completions protocol: %q %s", chunks[0].RawProtocol, chunks[0].Raw)
	}
	if u := s.Usage(); u.PromptTokens != 5 || u.CompletionTokens != 7 || u.TotalTokens != 12 {
		t.Errorf("usage %+v", u)
	}
	req := f.Requests()[0]
	if req.Path != "/v1/completions" {
		t.Errorf("path %s", req.Path)
	}
	if string(req.Body) != `{"model":"gpt-3.5-turbo-instruct","prompt":"Say this is a test","max_tokens":7,"temperature":0}` {
		t.Errorf("upstream body %s", req.Body)
	}
}

// A 200 answer that is not a text_completion is the upstream's fault; an
// error object in one is the upstream's error, relayed.
func TestForwardCompletionChecksAnswer(t *testing.T) {
	tests := []struct {
		name, body string
		msg        string
	}{
		{"chat completion", string(providertest.Load(t, "openai/chat_text.json")), malformedCompletion},
		{"no choices", `{"id":"x","object":"text_completion","created":1,"model":"m"}`, malformedCompletion},
		{"choices not an array", `{"object":"text_completion","choices":{}}`, malformedCompletion},
		{"object not a string", `{"object":1,"choices":[]}`, malformedCompletion},
		{"not JSON", `<html>bad gateway</html>`, malformedCompletion},
		{"error object", `{"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}`, "The server had an error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := providertest.NewOpenAI(t)
			f.Enqueue(providertest.Response{Body: []byte(tt.body)})
			p := newProvider(t, f, nil)
			_, err := forwardCompletion(p, `{"model":"a","prompt":"x"}`, false)
			if e := llm.AsError(err); err == nil || e.Kind != llm.KindUpstream || e.PublicMessage() != tt.msg {
				t.Fatalf("err = %v, want upstream error %q", err, tt.msg)
			}
		})
	}
}

func TestForwardCompletionStream(t *testing.T) {
	capture := providertest.Load(t, "openai/completion_stream_text.sse")
	for _, split := range []int{0, 1} {
		f := providertest.NewOpenAI(t)
		f.Enqueue(providertest.Response{SSE: capture, Split: split})
		p := newProvider(t, f, nil)
		s, err := forwardCompletion(p, `{"model":"alias","prompt":"Say this is a test","stream":true}`, true)
		if err != nil {
			t.Fatal(err)
		}
		chunks, err := drain(t, s)
		s.Close()
		if err != io.EOF {
			t.Fatalf("split %d: ended with %v", split, err)
		}
		want := providertest.DataPayloads(capture)
		want = want[:len(want)-1]
		if len(chunks) != len(want) {
			t.Fatalf("split %d: %d chunks, want %d", split, len(chunks), len(want))
		}
		usageChunks := 0
		for i, c := range chunks {
			if !bytes.Equal(c.Raw, want[i]) || c.RawProtocol != protocol.CompletionsProtocol {
				t.Errorf("split %d: chunk %d %q\n got %s\nwant %s", split, i, c.RawProtocol, c.Raw, want[i])
			}
			if c.Usage != nil {
				usageChunks++
			}
		}
		if u := s.Usage(); u.PromptTokens != 5 || u.CompletionTokens != 7 || usageChunks != 1 {
			t.Errorf("split %d: usage %+v from %d chunks", split, u, usageChunks)
		}
		sent := f.Requests()[0]
		if sent.Path != "/v1/completions" || !gjson.GetBytes(sent.Body, "stream_options.include_usage").Bool() {
			t.Errorf("split %d: sent %s %s: usage not asked for", split, sent.Path, sent.Body)
		}
	}
}

// An error event inside a 200 stream ends it with the upstream's error.
func TestForwardCompletionStreamError(t *testing.T) {
	f := providertest.NewOpenAI(t)
	f.Enqueue(providertest.Response{SSE: providertest.Load(t, "openai/completion_stream_error_in_200.sse")})
	p := newProvider(t, f, nil)
	s, err := forwardCompletion(p, `{"model":"a","prompt":"x","stream":true}`, true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	chunks, err := drain(t, s)
	if len(chunks) != 2 || err == io.EOF || err == nil {
		t.Fatalf("%d chunks, err %v: want 2 then the upstream's error", len(chunks), err)
	}
	if e := llm.AsError(err); e.PublicMessage() != "The server had an error while processing your request. Sorry about that!" {
		t.Errorf("err = %v", err)
	}
}

package router

import (
	"context"
	"testing"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
	"github.com/llmgw/llmgw/internal/provider"
)

// fake records how it was called; it forwards when protocol is set.
type fake struct {
	name     string
	protocol string
	chats    []string // upstream models seen by Chat
	forwards []string // upstream models seen by Forward
}

func (f *fake) Name() string { return f.name }
func (f *fake) Chat(_ context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	f.chats = append(f.chats, req.Model)
	return llm.NewSliceStream(nil), nil
}

type forwarder struct{ *fake }

func (f forwarder) Protocol() string { return f.protocol }
func (f forwarder) Forward(_ context.Context, fw *provider.Forward) (llm.Stream, error) {
	f.forwards = append(f.forwards, fw.Model)
	return llm.NewSliceStream(nil), nil
}

func decodeModel(model string) pipeline.Decoder {
	return func([]byte) (*llm.ChatRequest, error) { return &llm.ChatRequest{Model: model}, nil }
}

func TestResolveExactAndWildcard(t *testing.T) {
	a, b := &fake{name: "a"}, &fake{name: "b"}
	r := New([]Model{
		{Name: "m", Targets: []Target{{Provider: a, Model: "up-m", Weight: 1}}},
		{Name: "openai/*", Targets: []Target{{Provider: a, Model: "*", Weight: 1}}},
		{Name: "openai/special/*", Targets: []Target{{Provider: b, Model: "fixed", Weight: 1}}},
	}, Options{})
	tests := []struct {
		model, provider, upstream string
	}{
		{"m", "a", "up-m"},
		{"openai/gpt-4o", "a", "gpt-4o"},
		{"openai/special/x", "b", "fixed"},
	}
	for _, tt := range tests {
		call := pipeline.NewChatCall("openai", nil, decodeModel(tt.model))
		call.Model = tt.model
		if _, err := r.Invoke(context.Background(), call); err != nil {
			t.Fatalf("%s: %v", tt.model, err)
		}
		if call.Provider != tt.provider {
			t.Errorf("%s served by %q, want %q", tt.model, call.Provider, tt.provider)
		}
	}
	if got := a.chats; len(got) != 2 || got[0] != "up-m" || got[1] != "gpt-4o" {
		t.Errorf("a saw upstream models %v", got)
	}
	if got := b.chats; len(got) != 1 || got[0] != "fixed" {
		t.Errorf("b saw upstream models %v", got)
	}
	// A pattern is not a name: neither the wildcard itself nor a name
	// shaped like one under a shorter wildcard.
	for _, unknown := range []string{"nope", "openai/", "openai", "openai/*", "openai/special/*", "openai/x/*"} {
		if p, up, ok := r.Target(unknown); ok {
			t.Errorf("Target(%q) = %s, %q; want none", unknown, p.Name(), up)
		}
		call := &pipeline.Call{Model: unknown}
		_, err := r.Invoke(context.Background(), call)
		if e := llm.AsError(err); e.Kind != llm.KindNotFound {
			t.Errorf("%q: err = %v, want model_not_found", unknown, err)
		}
	}
	for _, tt := range tests {
		if p, up, ok := r.Target(tt.model); !ok || p.Name() != tt.provider || up != tt.upstream {
			t.Errorf("Target(%q) = %v, %q, %v; want %s, %q", tt.model, p, up, ok, tt.provider, tt.upstream)
		}
	}
	if names := r.Names(); len(names) != 1 || names[0] != "m" {
		t.Errorf("Names = %v", names)
	}
}

func TestWeights(t *testing.T) {
	a, b, c := &fake{name: "a"}, &fake{name: "b"}, &fake{name: "c"}
	r := New([]Model{{Name: "m", Targets: []Target{
		{Provider: a, Model: "x", Weight: 1}, {Provider: b, Model: "x", Weight: 3}, {Provider: c, Model: "x", Weight: 0},
	}}}, Options{})
	const n = 4000
	for range n {
		call := pipeline.NewChatCall("openai", nil, decodeModel("m"))
		call.Model = "m"
		if _, err := r.Invoke(context.Background(), call); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.chats) != 0 {
		t.Errorf("weight-0 target chosen %d times", len(c.chats))
	}
	// Expect 1000 for a (sd ~27); 200 is far outside chance.
	if got := len(a.chats); got < 800 || got > 1200 {
		t.Errorf("a chosen %d of %d times, want about 1000", got, n)
	}
}

func TestFastPathOnlyForSameProtocol(t *testing.T) {
	oa := forwarder{&fake{name: "oa", protocol: "openai"}}
	r := New([]Model{{Name: "m", Targets: []Target{{Provider: oa, Model: "up", Weight: 1}}}}, Options{})

	call := pipeline.NewChatCall("openai", []byte(`{}`), decodeModel("m"))
	call.Model = "m"
	if _, err := r.Invoke(context.Background(), call); err != nil {
		t.Fatal(err)
	}
	if len(oa.forwards) != 1 || oa.forwards[0] != "up" || len(oa.chats) != 0 {
		t.Fatalf("same protocol: forwards %v chats %v, want one forward", oa.forwards, oa.chats)
	}

	other := pipeline.NewChatCall("anthropic", []byte(`{}`), decodeModel("m"))
	other.Model = "m"
	if _, err := r.Invoke(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	changed := pipeline.NewChatCall("openai", []byte(`{}`), decodeModel("m"))
	changed.Model = "m"
	changed.NeedBody()
	if _, err := r.Invoke(context.Background(), changed); err != nil {
		t.Fatal(err)
	}
	if len(oa.forwards) != 1 || len(oa.chats) != 2 {
		t.Errorf("forwards %v chats %v, want other protocol and changed body to take the full path", oa.forwards, oa.chats)
	}
}

func TestEmbedNeedsEmbedder(t *testing.T) {
	r := New([]Model{{Name: "m", Targets: []Target{{Provider: &fake{name: "a"}, Model: "x", Weight: 1}}}}, Options{})
	call := &pipeline.Call{Op: pipeline.OpEmbed, Model: "m", Embed: &llm.EmbedRequest{Model: "m"}}
	_, err := r.Invoke(context.Background(), call)
	if e := llm.AsError(err); e.Kind != llm.KindInvalidRequest || e.Param != "model" {
		t.Errorf("err = %v, want invalid request on model", err)
	}
}

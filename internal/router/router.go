package router

import (
	"context"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
	"github.com/llmgw/llmgw/internal/provider"
)

// Target is one upstream that serves a model.
type Target struct {
	Provider provider.Provider
	// Model is the upstream's own model id ("*" in a wildcard model: the
	// part of the requested name after the prefix).
	Model  string
	Weight int
}

// Model is a model name clients may send and the targets that serve it.
type Model struct {
	Name    string
	Targets []Target
	// Fallbacks are other model names to try when every target fails.
	Fallbacks []string
	total     int
}

// Router resolves model names and dispatches calls. It is immutable once
// built and safe for concurrent use.
type Router struct {
	exact     map[string]*Model
	wildcards []*Model // sorted by prefix length, longest first
}

// New returns a router over models.
func New(models []Model) *Router {
	r := &Router{exact: make(map[string]*Model, len(models))}
	for i := range models {
		m := models[i]
		for _, t := range m.Targets {
			m.total += t.Weight
		}
		if strings.HasSuffix(m.Name, "/*") {
			r.wildcards = append(r.wildcards, &m)
			continue
		}
		r.exact[m.Name] = &m
	}
	sort.Slice(r.wildcards, func(i, j int) bool { return len(r.wildcards[i].Name) > len(r.wildcards[j].Name) })
	return r
}

// Names returns the exact (non-wildcard) model names, sorted.
func (r *Router) Names() []string {
	names := make([]string, 0, len(r.exact))
	for n := range r.exact {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// resolve returns the model serving name and, for a wildcard, the suffix to
// substitute for "*".
func (r *Router) resolve(name string) (*Model, string, bool) {
	if m, ok := r.exact[name]; ok {
		return m, "", true
	}
	for _, m := range r.wildcards {
		prefix := m.Name[:len(m.Name)-1]
		if len(name) > len(prefix) && strings.HasPrefix(name, prefix) {
			return m, name[len(prefix):], true
		}
	}
	return nil, "", false
}

// Has reports whether name is a model the router serves.
func (r *Router) Has(name string) bool {
	_, _, ok := r.resolve(name)
	return ok
}

// pick chooses a target by weight.
func (m *Model) pick() *Target {
	if len(m.Targets) == 1 || m.total <= 0 {
		return &m.Targets[0]
	}
	n := rand.IntN(m.total)
	for i := range m.Targets {
		if n < m.Targets[i].Weight {
			return &m.Targets[i]
		}
		n -= m.Targets[i].Weight
	}
	return &m.Targets[len(m.Targets)-1]
}

func upstreamModel(t *Target, suffix string) string {
	if t.Model == "*" {
		return suffix
	}
	return t.Model
}

// Invoke is the pipeline's terminal stage: it sends the call to a target of
// its model.
func (r *Router) Invoke(ctx context.Context, call *pipeline.Call) (llm.Stream, error) {
	m, suffix, ok := r.resolve(call.Model)
	if !ok {
		return nil, llm.NewError(llm.KindNotFound, "model %q not found", call.Model)
	}
	t := m.pick()
	model := upstreamModel(t, suffix)
	if call.Op == pipeline.OpEmbed {
		return r.embed(ctx, call, t, model)
	}
	if fw, ok := t.Provider.(provider.Forwarder); ok && call.FastPath() && fw.Protocol() == call.Protocol {
		s, err := fw.Forward(ctx, &provider.Forward{Body: call.Body, Model: model, Stream: call.Stream})
		if err == nil {
			call.Provider = t.Provider.Name()
		}
		return s, err
	}
	req, err := call.Decoded()
	if err != nil {
		return nil, err
	}
	up := *req
	up.Model = model
	s, err := t.Provider.Chat(ctx, &up)
	if err == nil {
		call.Provider = t.Provider.Name()
	}
	return s, err
}

func (r *Router) embed(ctx context.Context, call *pipeline.Call, t *Target, model string) (llm.Stream, error) {
	e, ok := t.Provider.(provider.Embedder)
	if !ok {
		return nil, llm.InvalidRequest("model", "model %q does not support embeddings", call.Model)
	}
	req := *call.Embed
	req.Model = model
	resp, err := e.Embed(ctx, &req)
	if err != nil {
		return nil, err
	}
	call.Embedding = resp
	call.Provider = t.Provider.Name()
	u := resp.Usage
	return llm.NewSliceStream(nil, &llm.Chunk{Model: resp.Model, Usage: &u}), nil
}

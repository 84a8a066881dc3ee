package provider

import (
	"context"

	"github.com/llmgw/llmgw/internal/llm"
)

// Provider adapts one upstream API. It is safe for concurrent use and never
// modifies the request it is given.
type Provider interface {
	// Name returns the provider's configured name.
	Name() string
	// Chat sends req upstream. req.Model is the upstream's own model id and
	// req.Stream says whether to stream. A non-streaming answer is a Stream
	// of one Chunk holding the whole response.
	Chat(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error)
}

// Embedder is implemented by providers that serve embeddings.
type Embedder interface {
	Embed(ctx context.Context, req *llm.EmbedRequest) (*llm.EmbedResponse, error)
}

// TokenCounter is implemented by providers that can count the input tokens
// of a request upstream (Anthropic's count_tokens), so that the gateway need
// not estimate them.
type TokenCounter interface {
	CountTokens(ctx context.Context, req *llm.ChatRequest) (int, error)
}

// Forwarder is implemented by providers that can take a request body already
// in their wire protocol and forward it nearly untouched: the gateway's fast
// path when the client speaks the upstream's protocol and no stage needs to
// change the body.
type Forwarder interface {
	// Protocol names the wire protocol the upstream speaks ("openai").
	Protocol() string
	// Forward sends the chat request body upstream with its model replaced by
	// f.Model (and, when streaming, usage always requested). Chunks it yields
	// carry the upstream's bytes in Raw and the usage they report in Usage.
	Forward(ctx context.Context, f *Forward) (llm.Stream, error)
}

// Forward is a request body to forward in the upstream's own protocol.
type Forward struct {
	// Body is the client's request body, never modified in place.
	Body []byte
	// Model is the upstream model id to put in the body.
	Model string
	// Stream says whether the body asks for a stream.
	Stream bool
	// Protocol is the wire protocol of Body when it is another endpoint of
	// the Forwarder's family (see EndpointForwarder: OpenAI's Responses or
	// legacy Completions); empty for the Forwarder's own Protocol.
	Protocol string
}

// ModelForwarder is implemented by Forwarders that speak their Protocol for
// some of their models only, such as a cloud serving the models of several
// publishers: the fast path is taken only for a model it reports.
type ModelForwarder interface {
	Forwarder
	// ForwardsModel reports whether Forward takes bodies for the upstream
	// model id model.
	ForwardsModel(model string) bool
}

// Forwards reports whether fw forwards bodies for the upstream model id
// model: every model, unless fw is a ModelForwarder.
func Forwards(fw Forwarder, model string) bool {
	mf, ok := fw.(ModelForwarder)
	return !ok || mf.ForwardsModel(model)
}

// EndpointForwarder is implemented by Forwarders whose upstream also serves
// other endpoints of its protocol family, whose bodies it forwards the same
// way: an OpenAI upstream's /responses and /completions.
type EndpointForwarder interface {
	Forwarder
	// ForwardsProtocol reports whether Forward takes bodies of wire
	// protocol p (Forward.Protocol set to p).
	ForwardsProtocol(p string) bool
}

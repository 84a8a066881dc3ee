package pipeline

import (
	"context"
	"net/http"

	"github.com/llmgw/llmgw/internal/budget"
	"github.com/llmgw/llmgw/internal/limits"
	"github.com/llmgw/llmgw/internal/llm"
)

// Invoke runs an inference call and returns the response stream.
type Invoke func(ctx context.Context, call *Call) (llm.Stream, error)

// Stage wraps an Invoke with one concern (auth, limits, cache, usage, ...).
type Stage func(next Invoke) Invoke

// Op names the operation a Call performs.
type Op uint8

// Operations.
const (
	OpChat Op = iota
	OpEmbed
)

// Caller is the part of an authenticated caller the stages after access
// see.
type Caller interface {
	// Allows reports whether the caller may use model.
	Allows(model string) bool
}

// Allows reports whether the call's caller may use model: true when no
// caller is set.
func (c *Call) Allows(model string) bool { return c.Caller == nil || c.Caller.Allows(model) }

// Decoder turns a request body of the call's protocol into the canonical
// request.
type Decoder func(body []byte) (*llm.ChatRequest, error)

// Call is one inference call on its way through the pipeline.
type Call struct {
	Op Op
	// Protocol is the client's wire protocol ("openai", "anthropic").
	Protocol string
	// Model is the model name the client asked for.
	Model string
	// Stream and IncludeUsage are what the client asked for.
	Stream       bool
	IncludeUsage bool
	// Body is the client's request body, never modified.
	Body []byte

	// Embed is the request of an OpEmbed call; the terminal stage sets
	// Embedding to its response.
	Embed     *llm.EmbedRequest
	Embedding *llm.EmbedResponse

	// Provider is the name of the provider that served the call, and
	// UpstreamModel the upstream's own id of the model that served it, set
	// by the router once a target has answered.
	Provider      string
	UpstreamModel string
	// Attempts is the number of upstream attempts made for the call,
	// retries and fallbacks included, set by the router (1: the first try
	// succeeded). The server reports it in the x-llmgw-attempts header.
	Attempts int
	// Route is the name of the routing rule whose targets the call was
	// sent to, set by the router; "" when the model's own targets served
	// it (router.Route).
	Route string
	// Header is the client's request headers, read only, set by the
	// server: routing rules may match one of them. nil matches none.
	Header http.Header
	// RefuseUnsupported: refuse, rather than drop, the request fields the
	// upstream's protocol has no equivalent for even where dropping them is
	// harmless (server.unsupported_params: refuse). Set by the server.
	RefuseUnsupported bool
	// Dropped names the request fields the serving upstream did not
	// receive because its protocol has no equivalent, set by the router;
	// the server reports them in the x-llmgw-dropped-params header.
	Dropped []string
	// RequestID identifies the client's request in logs; set by the server.
	RequestID string
	// Fallbacks, when not nil, replaces the requested model's fallback list
	// for this call (the x-llmgw-fallbacks header); empty means none.
	Fallbacks []string
	// Caller is what the stages after access may know of the caller: the
	// models it may use. The access stage sets it; nil means no caller was
	// checked (a chain built without access) and puts no bound on models.
	// Routing reads it to keep fallbacks within the caller's models, and so
	// needs to know nothing of how callers are authenticated.
	Caller Caller
	// RateLimits describes the tightest rate limits that applied to the
	// call, set by the limits stage whether it admitted the call or not;
	// the server reports them in OpenAI's x-ratelimit-* headers.
	RateLimits RateLimits
	// ReservedTokens is what the call reserves against tokens-per-minute
	// limits (its prompt and largest answer), set by the limits stage when
	// a tokens-per-minute limit applies to the call or its model's targets.
	ReservedTokens int64
	// MaxCostPico is the most, in picodollars, the client accepts the call
	// to cost (the x-llmgw-max-cost-usd header), set by the server; 0: no
	// cap asked. The cost cap stage enforces it, with the caller's own
	// cap, before any upstream call.
	MaxCostPico int64
	// CostCap is what the cost cap stage found, set whether it admitted
	// the call or not; the server reports it in the response headers.
	CostCap CostCap
	// Spend is the call's reservation against the caller's budgets, set
	// by the limits stage when a budget applies; the server settles it
	// with the call's cost once the call has ended (a negative cost: not
	// known, the reservation is kept as spent).
	Spend *budget.Reservation
	// Native, when set, marks a call whose body has no canonical request
	// (OpenAI's legacy completions): only a target whose provider forwards
	// the call's protocol itself may serve it, and admission counts its
	// tokens from Native rather than from a decoded request.
	Native *Native

	request *llm.ChatRequest
	decode  Decoder
	// tokens is the prompt and largest answer counted for the model in
	// tokensFor, so that stages that each need them count them once.
	tokens    [2]int
	tokensFor string
	// needBody is set by stages that must see or change the canonical
	// request, which rules out the fast path.
	needBody bool
}

// CostCap is the outcome of the cost cap for one call.
type CostCap struct {
	// Applied is true when a cap applied to the call.
	Applied bool
	// Cap is the cap that applied, in picodollars.
	Cap int64
	// Estimate is the most the call may cost, in picodollars, for the
	// model that serves it; -1 when it cannot be estimated.
	Estimate int64
	// Fallback is the model the call was sent to instead of the one asked
	// for, because that one's estimate was above the cap; "" when none.
	Fallback string
}

// RateLimits is the state of the limits that applied to a call.
type RateLimits struct {
	// Applied is true when any rate limit applied.
	Applied bool
	// Requests and Tokens are the tightest requests-per-minute and
	// tokens-per-minute limits (Limit 0: none of that kind applied).
	Requests, Tokens limits.State
	// Refused is the kind of limit that refused the call (limits.None
	// when none did), for the rejections metric.
	Refused limits.Dimension
}

// Native is what admission and metering know of a call with no canonical
// request.
type Native struct {
	// Endpoint names the endpoint for messages ("legacy completions").
	Endpoint string
	// PromptText is the prompt's text, counted with the tokenizer of the
	// model that may serve the call.
	PromptText string
	// PromptTokens are prompt tokens the request gave as token ids.
	PromptTokens int
	// MaxOutputTokens is the largest answer the call allows, all its
	// choices included.
	MaxOutputTokens int
}

// Prompt returns the prompt's tokens, its text counted by count.
func (n *Native) Prompt(count func(text string) int) int {
	if n.PromptText == "" {
		return n.PromptTokens
	}
	return n.PromptTokens + count(n.PromptText)
}

// NewChatCall returns a chat call for a body in protocol, decoded by decode
// when a stage or the upstream needs the canonical request.
func NewChatCall(protocol string, body []byte, decode Decoder) *Call {
	return &Call{Op: OpChat, Protocol: protocol, Body: body, decode: decode}
}

// Decoded returns the canonical request, decoding the body on first use.
func (c *Call) Decoded() (*llm.ChatRequest, error) {
	if c.request != nil {
		return c.request, nil
	}
	if c.decode == nil {
		return nil, llm.NewError(llm.KindInternal, "call has no decoder")
	}
	req, err := c.decode(c.Body)
	if err != nil {
		return nil, err
	}
	c.request = req
	return req, nil
}

// TokenEstimate returns the prompt tokens and the largest answer a stage
// counted for the call's current model (SetTokenEstimate); ok is false
// when none did, or the model has changed since.
func (c *Call) TokenEstimate() (prompt, answer int, ok bool) {
	if c.tokensFor == "" || c.tokensFor != c.Model {
		return 0, 0, false
	}
	return c.tokens[0], c.tokens[1], true
}

// SetTokenEstimate records the prompt tokens and largest answer counted for
// the call's current model, for the stages after.
func (c *Call) SetTokenEstimate(prompt, answer int) {
	c.tokens, c.tokensFor = [2]int{prompt, answer}, c.Model
}

// SetRequest replaces the canonical request; a stage that changes the request
// calls it, which takes the call off the fast path.
func (c *Call) SetRequest(req *llm.ChatRequest) {
	c.request = req
	c.needBody = true
}

// NeedBody marks the call as needing the canonical request all the way to the
// upstream (no fast path), for stages that inspect or rewrite content.
func (c *Call) NeedBody() { c.needBody = true }

// FastPath reports whether the body may be forwarded as it is to an upstream
// of the client's protocol.
// Decoding the body to read it does not rule the fast path out; changing it
// (SetRequest) or asking for the canonical form upstream (NeedBody) does.
func (c *Call) FastPath() bool { return c.Op == OpChat && !c.needBody }

// Chain wraps terminal in stages, the first stage outermost. Nil stages are
// skipped.
func Chain(terminal Invoke, stages ...Stage) Invoke {
	h := terminal
	for i := len(stages) - 1; i >= 0; i-- {
		if stages[i] != nil {
			h = stages[i](h)
		}
	}
	return h
}

package router

import (
	"log/slog"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/llmgw/llmgw/internal/limits"
	"github.com/llmgw/llmgw/internal/observe"
	"github.com/llmgw/llmgw/internal/provider"
)

// Target is one upstream that serves a model.
type Target struct {
	Provider provider.Provider
	// Model is the upstream's own model id ("*" in a wildcard model: the
	// part of the requested name after the prefix).
	Model  string
	Weight int
	// Timeouts override the model's, field by field; zero keeps the model's.
	Timeouts Timeouts
	// Identity names the upstream the target's provider reaches (a digest
	// of its type, address and credentials): a target kept by a new
	// configuration keeps its health (see Health) only while its Identity
	// is the same. Empty is an identity like any other.
	Identity string
	// Limits cap the requests sent to this target (its provider account's
	// own quota), counted under "target:<provider>/<upstream model>": a
	// target at its limit is skipped like one cooling down.
	Limits limits.Limit
	// System is the provider's gen_ai.provider.name on the spans of
	// attempts (tracing.ProviderName of its type).
	System string
}

// Timeouts bound one attempt. Zero means no limit (or, in a target, the
// model's value).
type Timeouts struct {
	// FirstToken bounds the wait for the first chunk of a streamed answer.
	FirstToken time.Duration
	// StreamIdle bounds the gap between two chunks once the stream began.
	StreamIdle time.Duration
	// Total bounds a whole model's work for a request (in a Model) or one
	// attempt (in a Target), the stream to its end included.
	Total time.Duration
}

// or returns t with its zero fields taken from def.
func (t Timeouts) or(def Timeouts) Timeouts {
	if t.FirstToken == 0 {
		t.FirstToken = def.FirstToken
	}
	if t.StreamIdle == 0 {
		t.StreamIdle = def.StreamIdle
	}
	if t.Total == 0 {
		t.Total = def.Total
	}
	return t
}

// Retry bounds the attempts on a model's targets for one request.
type Retry struct {
	// MaxAttempts counts the first attempt; default 3.
	MaxAttempts int
	// BaseBackoff and MaxBackoff bound the full-jitter exponential backoff;
	// defaults 100ms and 5s.
	BaseBackoff, MaxBackoff time.Duration
	// MaxRetryAfter caps the wait an upstream's Retry-After imposes on its
	// target, and passes on to the client; default 60s.
	MaxRetryAfter time.Duration
}

// Model is a model name clients may send, the targets that serve it and how
// requests are spread and retried over them. Zero settings take the
// defaults of internal/config.
type Model struct {
	Name    string
	Targets []Target
	// Fallbacks are other model names to try when every target fails;
	// ContextWindowFallbacks and ContentPolicyFallbacks replace them when a
	// target rejects the request for its size or under its content policy.
	Fallbacks              []string
	ContextWindowFallbacks []string
	ContentPolicyFallbacks []string
	Balancing              Balancing
	Retry                  Retry
	Timeouts               Timeouts
	Breaker                BreakerPolicy
	// AllOpenWait bounds the wait for a target to recover when none can be
	// used; default 2s.
	AllOpenWait time.Duration
	// Routes send some requests to targets of their own (route.go).
	Routes []Route

	targets []*target
	bal     balancer
	// routes are Routes built; rule is the route's name in a model built
	// for a route, "" in a configured model.
	routes []*route
	rule   string
}

// Options are the router's collaborators.
type Options struct {
	// Metrics is where the router's metrics are registered; nil keeps them
	// unregistered.
	Metrics *observe.Registry
	// Now is the clock of breakers and rate-limit headroom; nil is
	// time.Now.
	Now func() time.Time
	// Rand returns a number in [0, 1) for balancing and jitter and must be
	// safe for concurrent use; nil is math/rand/v2's Float64.
	Rand func() float64
	// Logger receives a warning for each failed attempt; nil logs nothing.
	Logger *slog.Logger
	// Limiter counts the targets' limits; nil: targets are not limited.
	Limiter limits.Limiter
	// Tracer starts a span per upstream attempt; nil starts none.
	Tracer trace.Tracer
	// Health keeps the targets' health across routers (process state);
	// nil: the router keeps its own, which starts afresh.
	Health *Health
}

// Router resolves model names and dispatches calls. Its configuration is
// immutable once built; the health it keeps of each target changes as calls
// succeed and fail. It is safe for concurrent use.
type Router struct {
	exact     map[string]*Model
	wildcards []*Model // sorted by prefix length, longest first
	models    []*Model // in configuration order
	now       func() time.Time
	rand      func() float64
	metrics   *metrics
	log       *slog.Logger
	limiter   limits.Limiter
	tracer    trace.Tracer // nil: tracing off
	health    *Health
}

// New returns a router over models. Built on a metrics registry, it takes
// over the llmgw_breaker_state series from any router built before on it.
func New(models []Model, o Options) *Router {
	r := &Router{exact: make(map[string]*Model, len(models)), now: o.Now, rand: o.Rand, metrics: newMetrics(o.Metrics), log: o.Logger, limiter: o.Limiter, health: o.Health, tracer: o.Tracer}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.rand == nil {
		r.rand = rand.Float64
	}
	for i := range models {
		m := models[i]
		m.applyDefaults()
		m.targets = make([]*target, len(m.Targets))
		keys := healthKeys(&m)
		for j := range m.Targets {
			m.targets[j] = r.newTarget(&m, j, keys[j])
		}
		m.bal = newBalancer(m.Balancing)
		r.buildRoutes(&m)
		r.models = append(r.models, &m)
		if strings.HasSuffix(m.Name, "/*") {
			r.wildcards = append(r.wildcards, &m)
			continue
		}
		r.exact[m.Name] = &m
	}
	sort.Slice(r.wildcards, func(i, j int) bool { return len(r.wildcards[i].Name) > len(r.wildcards[j].Name) })
	r.metrics.breaker.set(r.allTargets())
	return r
}

// Router defaults for settings left at zero.
const (
	defaultMaxAttempts = 3
	defaultBaseBackoff = 100 * time.Millisecond
	defaultMaxBackoff  = 5 * time.Second
	defaultAllOpenWait = 2 * time.Second
	// defaultMaxRetryAfter is config.DefaultMaxRetryAfter.
	defaultMaxRetryAfter = time.Minute
)

func (m *Model) applyDefaults() {
	if m.Retry.MaxAttempts <= 0 {
		m.Retry.MaxAttempts = defaultMaxAttempts
	}
	if m.Retry.BaseBackoff <= 0 {
		m.Retry.BaseBackoff = defaultBaseBackoff
	}
	if m.Retry.MaxBackoff < m.Retry.BaseBackoff {
		m.Retry.MaxBackoff = max(defaultMaxBackoff, m.Retry.BaseBackoff)
	}
	if m.Retry.MaxRetryAfter <= 0 {
		m.Retry.MaxRetryAfter = defaultMaxRetryAfter
	}
	if m.AllOpenWait <= 0 {
		m.AllOpenWait = defaultAllOpenWait
	}
	m.Breaker = m.Breaker.withDefaults()
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
// substitute for "*". It is the one place a requested name is matched, for
// every route. A name shaped like a pattern ("openai/*", or
// "openai/special/*" under "openai/*") is not a model clients can send: it
// would reach the upstream as the model "*".
func (r *Router) resolve(name string) (*Model, string, bool) {
	if m, ok := r.exact[name]; ok {
		return m, "", true
	}
	if strings.HasSuffix(name, "/*") {
		return nil, "", false
	}
	for _, m := range r.wildcards {
		prefix := m.Name[:len(m.Name)-1]
		if len(name) > len(prefix) && strings.HasPrefix(name, prefix) {
			return m, name[len(prefix):], true
		}
	}
	return nil, "", false
}

// ModelName returns the configured name of the model that serves name:
// name itself for an exact model, the pattern ("openai/*") for a wildcard
// one, "" when no model serves it. Metrics label requests with it, so that
// what a client sends never becomes a label value of its own.
func (r *Router) ModelName(name string) string {
	if m, _, ok := r.resolve(name); ok {
		return m.Name
	}
	return ""
}

// Has reports whether name is a model the router serves.
func (r *Router) Has(name string) bool {
	_, _, ok := r.resolve(name)
	return ok
}

// Target returns the provider and upstream model id that would serve name
// first: its model's first target taking traffic. Routes that ask one
// target something without a routed call (a token count) use it, so that
// they match names exactly as the router does.
func (r *Router) Target(name string) (provider.Provider, string, bool) {
	m, suffix, ok := r.resolve(name)
	if !ok {
		return nil, "", false
	}
	for i := range m.Targets {
		if t := &m.Targets[i]; t.Weight > 0 {
			return t.Provider, upstreamModel(t, suffix), true
		}
	}
	return nil, "", false
}

func upstreamModel(t *Target, suffix string) string {
	if t.Model == "*" {
		return suffix
	}
	return t.Model
}

package server

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/limits"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/observe"
)

// metrics are the server's Prometheus metrics: requests, their durations
// and sizes, streams, tokens, cost and rejections.
//
// Label values come from the configuration or the store, never from what a
// client sent: route is the pattern of the route that matched (every
// /admin/ route is "/admin", a path no route matched "other"); model is
// the configured name of the model that serves the requested name (the
// pattern for a wildcard model such as "openai/*", whose requested ids
// are the client's text and would each make series of their own; "" for a
// name no model serves); provider the configured provider that answered;
// tenant the tenant name of a static key's configuration or of a key of
// the store ("" without a key, and for a JWT, whose tenant claim is the
// issuer's text, not a name the gateway knows); code the error code the
// gateway wrote, from llm's fixed table.
//
// Rejections are counted at the edge, from the error code the request
// ended with, rather than in each stage that decides them: one place sees
// every refusal whatever decided it (the limits stage, the router's target
// limits, the cost cap stage, the access stage), with the tenant. A rate
// limit refusal carries the kind of limit that refused it
// (pipeline.RateLimits.Refused), which tells concurrency apart.
//
// The series a request touches are resolved once and cached in the
// server (series, usage), so that a request's metrics cost no label
// lookup and no allocation after the first request of their kind; the
// caches hold one entry per label combination, bounded as the labels are.
// The metrics are registered in the snapshot's registry, which is the
// process's: every snapshot a server serves shares it.
type metrics struct {
	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	ttft       *prometheus.HistogramVec
	itl        *prometheus.HistogramVec
	reqBytes   *prometheus.HistogramVec
	respBytes  *prometheus.HistogramVec
	inFlight   *prometheus.GaugeVec
	streams    prometheus.Gauge
	tokens     *prometheus.CounterVec
	cost       *prometheus.CounterVec
	rejections *prometheus.CounterVec

	// routes are the route labels' series, by route index (reqInfo.route);
	// index 0 is "other".
	routes []routeSeries
	series seriesCache[seriesKey, *requestSeries]
	usage  seriesCache[usageKey, *usageSeries]
}

// routeOther is the route label of a request no route matched.
const routeOther = "other"

// Buckets: latencies from a cached answer's milliseconds to a long
// stream's minutes; gaps between stream events from a fraction of a
// millisecond (events that arrive together) to a stalled upstream's
// seconds; bodies from an empty one to the default limit of the request
// body (server.max_body_bytes) and beyond. The boundaries that service
// level objectives are written against (1 s, 2.5 s, 5 s, 10 s to the first
// token: deploy/prometheus's latency SLI) are boundaries here, so that the
// share of requests under them is exact (TestRuleBucketsExist).
var (
	durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320}
	ttftBuckets     = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40}
	itlBuckets      = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}
	bytesBuckets    = prometheus.ExponentialBuckets(256, 4, 10) // 256 B to 64 MiB
)

// newMetrics registers the server's metrics in reg (nil: unregistered).
func newMetrics(reg *observe.Registry) *metrics {
	m := &metrics{
		requests: observe.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "llmgw_requests_total",
			Help: "Requests served, by route, configured model, provider, status class (2xx..5xx; 4xx for a client gone before an answer) and error code (\"\" on success; a stream that failed after its first byte is 2xx with the code of its in-band error).",
		}, []string{"route", "model", "provider", "status_class", "code"})),
		duration: observe.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "llmgw_request_duration_seconds",
			Help:    "Duration of a request, from its arrival to the last byte of its answer, by route, configured model and provider.",
			Buckets: durationBuckets,
		}, []string{"route", "model", "provider"})),
		ttft: observe.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "llmgw_time_to_first_token_seconds",
			Help:    "Time from a streamed request's arrival to the first event of its stream written to the client, by route, configured model and provider.",
			Buckets: ttftBuckets,
		}, []string{"route", "model", "provider"})),
		itl: observe.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "llmgw_inter_token_latency_seconds",
			Help:    "Gap between two consecutive events of a stream written to the client, by configured model and provider.",
			Buckets: itlBuckets,
		}, []string{"model", "provider"})),
		reqBytes: observe.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "llmgw_request_body_bytes",
			Help:    "Size of the request bodies the inference routes read (a body above server.max_body_bytes counts as its declared length, or the limit), by route.",
			Buckets: bytesBuckets,
		}, []string{"route"})),
		respBytes: observe.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "llmgw_response_body_bytes",
			Help:    "Size of the response bodies written, a stream's events included, by route.",
			Buckets: bytesBuckets,
		}, []string{"route"})),
		inFlight: observe.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "llmgw_requests_in_flight",
			Help: "Requests being served, by route.",
		}, []string{"route"})),
		streams: observe.Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "llmgw_streams_open",
			Help: "Streams whose first event was written and whose request has not ended.",
		})),
		tokens: observe.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "llmgw_tokens_total",
			Help: "Tokens of the requests that ended, as billed to the usage ledger, by tenant, configured model and type (input, output, cached: input tokens read from the upstream's cache, reasoning: output tokens spent reasoning).",
		}, []string{"tenant", "model", "type"})),
		cost: observe.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "llmgw_cost_usd_total",
			Help: "Cost in US dollars of the requests that ended whose price is known, by tenant and configured model.",
		}, []string{"tenant", "model"})),
		rejections: observe.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "llmgw_rejections_total",
			Help: "Requests the gateway refused before any upstream call for a limit of the caller's or of the replica's, by tenant and reason (rate_limit, concurrency, budget, cost_cap, model_not_allowed; overloaded: over the replica's concurrency ceiling, refused before authentication, so with tenant \"\").",
		}, []string{"tenant", "reason"})),
	}
	m.route(routeOther)
	return m
}

// routeSeries are the series of one route label.
type routeSeries struct {
	name      string
	inFlight  prometheus.Gauge
	reqBytes  prometheus.Observer
	respBytes prometheus.Observer
}

// route returns the index of the route label name, adding it when new.
// Called while the routes are built, before any request.
func (m *metrics) route(name string) uint8 {
	for i := range m.routes {
		if m.routes[i].name == name {
			return uint8(i)
		}
	}
	m.routes = append(m.routes, routeSeries{name: name, inFlight: m.inFlight.WithLabelValues(name),
		reqBytes: m.reqBytes.WithLabelValues(name), respBytes: m.respBytes.WithLabelValues(name)})
	return uint8(len(m.routes) - 1)
}

// routeLabel is the route label of a route's path pattern: every admin
// route is "/admin".
func routeLabel(path string) string {
	if strings.HasPrefix(path, "/admin/") {
		return "/admin"
	}
	return path
}

// routed runs h as the route of index idx: the request's route label and
// its place among the route's requests in flight.
func (s *Server) routed(idx uint8, h http.Handler) http.Handler {
	g := s.m.routes[idx].inFlight
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ri, ok := r.Context().Value(infoKey{}).(*reqInfo); ok {
			ri.route = idx
		}
		g.Inc()
		defer g.Dec()
		h.ServeHTTP(w, r)
	})
}

// seriesKey identifies the series of a request's route, model and
// provider.
type seriesKey struct {
	route           uint8
	model, provider string
}

// requestSeries are the series a request of one seriesKey touches on its
// common path: a success, its duration and, for a stream, its timing.
type requestSeries struct {
	ok       prometheus.Counter
	duration prometheus.Observer
	ttft     prometheus.Observer
	itl      prometheus.Observer
}

func (m *metrics) requestSeries(k seriesKey) *requestSeries {
	return m.series.get(k, func() *requestSeries {
		route := m.routes[k.route].name
		return &requestSeries{
			ok:       m.requests.WithLabelValues(route, k.model, k.provider, "2xx", ""),
			duration: m.duration.WithLabelValues(route, k.model, k.provider),
			ttft:     m.ttft.WithLabelValues(route, k.model, k.provider),
			itl:      m.itl.WithLabelValues(k.model, k.provider),
		}
	})
}

// usageKey identifies the usage series of a tenant and model.
type usageKey struct{ tenant, model string }

// usageSeries are a tenant's and model's token counters, by
// llm token type order (input, output, cached, reasoning), and cost.
type usageSeries struct {
	input, output, cached, reasoning prometheus.Counter
	cost                             prometheus.Counter
}

func (m *metrics) usageSeries(k usageKey) *usageSeries {
	return m.usage.get(k, func() *usageSeries {
		return &usageSeries{
			input:     m.tokens.WithLabelValues(k.tenant, k.model, "input"),
			output:    m.tokens.WithLabelValues(k.tenant, k.model, "output"),
			cached:    m.tokens.WithLabelValues(k.tenant, k.model, "cached"),
			reasoning: m.tokens.WithLabelValues(k.tenant, k.model, "reasoning"),
			cost:      m.cost.WithLabelValues(k.tenant, k.model),
		}
	})
}

// seriesCache maps label values to resolved series. Reads take no lock:
// the map is replaced, copied, when an entry is added, which happens once
// per label combination.
type seriesCache[K comparable, V any] struct {
	mu sync.Mutex
	m  atomic.Pointer[map[K]V]
}

func (c *seriesCache[K, V]) get(k K, resolve func() V) V {
	if m := c.m.Load(); m != nil {
		if v, ok := (*m)[k]; ok {
			return v
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.m.Load()
	if old != nil {
		if v, ok := (*old)[k]; ok {
			return v
		}
	}
	next := resolve()
	m := make(map[K]V, 1)
	if old != nil {
		m = make(map[K]V, len(*old)+1)
		for ok, ov := range *old {
			m[ok] = ov
		}
	}
	m[k] = next
	c.m.Store(&m)
	return next
}

// statusClasses are the status_class label values, by status / 100.
var statusClasses = [...]string{"", "1xx", "2xx", "3xx", "4xx", "5xx"}

func statusClass(status int) string {
	if c := status / 100; c > 0 && c < len(statusClasses) {
		return statusClasses[c]
	}
	return "5xx"
}

// metricModel is the model label of a request: the configured name of the
// model that serves what the client asked for.
func metricModel(ri *reqInfo) string {
	if ri.model == "" || ri.snap == nil || ri.snap.Router == nil {
		return ""
	}
	return ri.snap.Router.ModelName(ri.model)
}

// metricTenant is the tenant label of a caller: its tenant's name when the
// gateway knows it (a static key's configured tenant, a stored key's
// tenant), "" for a JWT, whose tenant claim is the issuer's text.
func metricTenant(p *auth.Principal) string {
	if p.TenantID == "" && p.KeyID == "" && strings.HasPrefix(p.KeyName, auth.JWTKeyPrefix) {
		return ""
	}
	return p.Tenant
}

// rejection is the reason label of a request refused with code for a
// limit of its caller's, "" for any other outcome.
func rejection(code string, refused limits.Dimension) string {
	switch code {
	case llm.KindRateLimited.Code():
		if refused == limits.Concurrency {
			return "concurrency"
		}
		return "rate_limit"
	case llm.KindBudgetExceeded.Code():
		return "budget"
	case llm.KindCostCapExceeded.Code():
		return "cost_cap"
	case llm.KindPermission.Code():
		return "model_not_allowed"
	case llm.KindOverloaded.Code():
		return "overloaded"
	}
	return ""
}

// observe records a request that has ended, at the edge: its count,
// duration and sizes, its stream's time to first event, a rejection.
func (s *Server) observe(rec *recorder, ri *reqInfo, start time.Time, end time.Time) {
	m := s.m
	status := rec.status
	if status == 0 {
		status = 499
	}
	model := metricModel(ri)
	k := seriesKey{route: ri.route, model: model, provider: ri.provider}
	if rec.streaming {
		// The stream's series were resolved when it began.
		m.streams.Dec()
		if !rec.first.IsZero() {
			rec.series.ttft.Observe(rec.first.Sub(start).Seconds())
		}
	}
	ser := rec.series
	if ser == nil || rec.seriesKey != k {
		ser = m.requestSeries(k)
	}
	if status < 300 && status >= 200 && ri.errCode == "" {
		ser.ok.Inc()
	} else {
		m.requests.WithLabelValues(m.routes[k.route].name, model, ri.provider, statusClass(status), ri.errCode).Inc()
		if reason := rejection(ri.errCode, ri.refused); reason != "" {
			m.rejections.WithLabelValues(ri.tenantLabel, reason).Inc()
		}
	}
	ser.duration.Observe(end.Sub(start).Seconds())
	rs := &m.routes[k.route]
	rs.respBytes.Observe(float64(rec.bytes))
	if ri.bodyRead {
		rs.reqBytes.Observe(float64(ri.reqBytes))
	}
}

// observeUsage counts a request's tokens and cost.
func (s *Server) observeUsage(ri *reqInfo, u *llm.Usage, costPico int64, costKnown bool) {
	us := s.m.usageSeries(usageKey{tenant: ri.tenantLabel, model: metricModel(ri)})
	add := func(c prometheus.Counter, n int) {
		if n > 0 {
			c.Add(float64(n))
		}
	}
	add(us.input, u.PromptTokens)
	add(us.output, u.CompletionTokens)
	add(us.cached, u.CachedTokens)
	add(us.reasoning, u.ReasoningTokens)
	if costKnown && costPico > 0 {
		us.cost.Add(float64(costPico) / 1e12)
	}
}

// beginStream marks the response as a stream that has begun: it is
// counted among the open streams, and each write is timed (tick).
func (r *recorder) beginStream() {
	ri := r.info
	r.streaming = true
	r.seriesKey = seriesKey{route: ri.route, model: metricModel(ri), provider: ri.provider}
	r.series = r.m.requestSeries(r.seriesKey)
	r.m.streams.Inc()
}

// tick times a write of a stream: the first is its first event, and the
// gap since the one before is observed for every other.
func (r *recorder) tick() {
	now := time.Now()
	if r.first.IsZero() {
		r.first = now
	} else {
		r.series.itl.Observe(now.Sub(r.last).Seconds())
	}
	r.last = now
}

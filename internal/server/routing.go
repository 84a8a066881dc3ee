package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
	"github.com/llmgw/llmgw/internal/router"
)

// attemptsHeader reports how many upstream attempts a /v1/* request took,
// retries and fallbacks included (1: the first try succeeded; absent: none
// was made).
const attemptsHeader = "X-Llmgw-Attempts"

// droppedHeader names, comma-separated, the request fields the serving
// upstream did not receive because its protocol has no equivalent and
// leaving them out does not change what the answer means (absent: none).
const droppedHeader = "X-Llmgw-Dropped-Params"

// fallbacksKey is router.FallbacksHeader as the request's Header map holds
// it, canonicalized once rather than, allocating, per request.
var fallbacksKey = http.CanonicalHeaderKey(router.FallbacksHeader)

// routingFromRequest copies what the client asks of routing onto call: the
// fallback override header (x-llmgw-fallbacks), which the router checks
// against the caller's key, and the request's headers, which routing
// rules may match (they choose only among configured targets). The
// override's lines are parsed where they are, never joined: a client may
// send thousands.
func routingFromRequest(r *http.Request, call *pipeline.Call) error {
	call.Header = r.Header // routing rules may match a header
	if v, ok := r.Header[fallbacksKey]; ok {
		names, err := router.ParseFallbacks(v)
		if err != nil {
			return err
		}
		call.Fallbacks = names
	}
	return nil
}

// invoke runs call through the current snapshot's pipeline under the
// request timeout: the routing headers are read before, and the attempts and
// the serving provider reported after. On success the caller calls cancel
// once it is done with the stream.
func (s *Server) invoke(w http.ResponseWriter, r *http.Request, call *pipeline.Call) (llm.Stream, context.CancelFunc, error) {
	if err := routingFromRequest(r, call); err != nil {
		return nil, nil, err
	}
	if err := costCapFromRequest(r, call); err != nil {
		return nil, nil, err
	}
	if call.Stream {
		if err := s.openStream(r); err != nil {
			return nil, nil, err
		}
	}
	call.RequestID = RequestID(r.Context())
	snap := s.current(r)
	call.RefuseUnsupported = snap.Config.Server.UnsupportedParams == config.UnsupportedRefuse
	ctx, cancel := context.WithTimeout(r.Context(), snap.Config.Server.RequestTimeout.Std())
	start := time.Now()
	stream, err := snap.Invoke(ctx, call)
	ri := infoFrom(r.Context())
	ri.spend = call.Spend
	ri.refused = call.RateLimits.Refused
	ri.setAttempts(w, call)
	if ri.traced != nil {
		ri.traced.attempts = call.Attempts
	}
	ri.setRateLimits(w, call)
	setCostCap(w, call)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	ri.provider, ri.routeRule = call.Provider, call.Route
	if ri.traced != nil {
		ri.traced.observed.Stream = stream
		stream = &ri.traced.observed
	}
	if call.Stream && (snap.Ledger != nil || ri.payload != nil) {
		ri.out.Stream = stream
		stream = &ri.out
	}
	// The router answers once the upstream's first chunk has arrived.
	ri.result, ri.upstreamModel, ri.call = stream, call.UpstreamModel, call
	if call.Stream {
		ri.ttft = time.Since(start)
	}
	ri.setHeader(w.Header(), "X-Llmgw-Provider", hdrProvider, call.Provider)
	if len(call.Dropped) > 0 {
		ri.setHeader(w.Header(), droppedHeader, hdrDropped, strings.Join(call.Dropped, ", "))
	}
	return stream, cancel, nil
}

// setAttempts reports the call's upstream attempts in the response headers;
// called after Invoke, whether it succeeded or not, before anything is
// written.
func (ri *reqInfo) setAttempts(w http.ResponseWriter, call *pipeline.Call) {
	ri.attempts = call.Attempts
	if call.Attempts > 0 {
		ri.setHeader(w.Header(), attemptsHeader, hdrAttempts, strconv.Itoa(call.Attempts))
	}
}

// The rate limit headers, as OpenAI sends them.
const (
	limitRequestsHeader     = "X-Ratelimit-Limit-Requests"
	remainingRequestsHeader = "X-Ratelimit-Remaining-Requests"
	resetRequestsHeader     = "X-Ratelimit-Reset-Requests"
	limitTokensHeader       = "X-Ratelimit-Limit-Tokens"
	remainingTokensHeader   = "X-Ratelimit-Remaining-Tokens"
	resetTokensHeader       = "X-Ratelimit-Reset-Tokens"
)

// setRateLimits reports the tightest requests-per-minute and
// tokens-per-minute limits that applied to call, admitted or refused,
// before anything is written: OpenAI's x-ratelimit-* headers, the reset
// as OpenAI writes it ("1s", "6m0s", "20ms").
func (ri *reqInfo) setRateLimits(w http.ResponseWriter, call *pipeline.Call) {
	rl := &call.RateLimits
	if !rl.Applied {
		return
	}
	h := w.Header()
	if st := rl.Requests; st.Limit > 0 {
		ri.setHeader(h, limitRequestsHeader, hdrLimitRequests, strconv.FormatInt(st.Limit, 10))
		ri.setHeader(h, remainingRequestsHeader, hdrRemainingRequests, strconv.FormatInt(max(st.Remaining, 0), 10))
		ri.setHeader(h, resetRequestsHeader, hdrResetRequests, formatReset(st.Reset))
	}
	if st := rl.Tokens; st.Limit > 0 {
		ri.setHeader(h, limitTokensHeader, hdrLimitTokens, strconv.FormatInt(st.Limit, 10))
		ri.setHeader(h, remainingTokensHeader, hdrRemainingTokens, strconv.FormatInt(max(st.Remaining, 0), 10))
		ri.setHeader(h, resetTokensHeader, hdrResetTokens, formatReset(st.Reset))
	}
}

// formatReset writes d as OpenAI does, to the millisecond.
func formatReset(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	return d.Round(time.Millisecond).String()
}

// handleMetrics serves GET /metrics on the main listener, unless
// server.metrics_listen moves it to a listener of its own.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	if s.current(r).Config.Server.MetricsListen != "" {
		s.writeError(w, r, &llm.Error{Kind: llm.KindNoRoute, Message: "no route for GET /metrics"})
		return
	}
	s.serveMetrics(w, r)
}

// serveMetrics serves the metrics in the Prometheus text format. It needs
// no virtual key: metrics carry no secrets and no prompt or key, only
// counts labelled by configured provider and model names. It needs
// server.metrics_token when one is set, compared hashed in constant time,
// which also makes the comparison independent of the token's length.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	snap := s.current(r)
	if want := snap.MetricsToken; want != nil {
		scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(got[:], want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="llmgw metrics"`)
			s.writeError(w, r, &llm.Error{Kind: llm.KindAuthentication, Message: "missing or invalid metrics token"})
			return
		}
	}
	snap.Metrics.Handler().ServeHTTP(w, r)
}

// metricsHandler is the handler of the metrics listener: GET /metrics, and
// 404 for everything else, behind the same edge as the main listener.
func (s *Server) metricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.routed(s.m.route("/metrics"), http.HandlerFunc(s.serveMetrics)))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, &llm.Error{Kind: llm.KindNoRoute, Message: "no route for " + llm.Clip(r.Method) + " " + llm.Clip(r.URL.EscapedPath())})
	})
	return s.edge(s.guardOrigin(mux))
}

// handleAdmin serves /admin/v1/* for the current snapshot: the admin API
// checks the admin token itself (and does not exist without one), and its
// errors go through the one error writer.
func (s *Server) handleAdmin(w http.ResponseWriter, r *http.Request) {
	s.current(r).Admin.Serve(w, r, s.writeError)
}

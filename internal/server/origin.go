package server

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/llm"
)

// A gateway with no key configured answers whoever reaches it, with the
// provider keys of its environment. Curl and the SDKs are meant to; a web
// page the user happens to visit is not, yet a browser will send it
// requests: a cross-site POST, or, by DNS rebinding, requests under a name
// of the page's own that resolves to 127.0.0.1. So, as local model servers
// do, a gateway with no key refuses
//
//   - a request carrying an Origin not in server.cors.allowed_origins (SDKs
//     and curl send none; browsers send one with every cross-origin request
//     and every POST), with 403 origin_not_allowed;
//   - while it listens on a loopback address, a request whose Host is not a
//     loopback name or listed in server.allowed_hosts, with 403
//     host_not_allowed. A gateway listening on another address (behind a
//     load balancer) is reached under names it cannot know, and is left
//     alone.
//
// Once keys exist, a request needs one, which a page cannot have, and
// neither check applies. In both modes, the origins listed in
// server.cors.allowed_origins get real CORS: answered preflights and
// Access-Control-Allow-Origin on responses.

// listenKey is the context key under which Run records whether the
// request's listener is on a loopback address.
type listenKey struct{}

// withListener returns ctx recording whether ln listens on a loopback
// address; it is the base context of every request ln accepts.
func withListener(ctx context.Context, ln net.Listener) context.Context {
	return context.WithValue(ctx, listenKey{}, isLoopbackAddr(ln.Addr()))
}

// onLoopback reports whether r came through a listener on a loopback
// address: as Run recorded, or else (a Server used as a plain handler) from
// the connection's local address.
func onLoopback(r *http.Request) bool {
	ctx := r.Context()
	if v, ok := ctx.Value(listenKey{}).(bool); ok {
		return v
	}
	addr, _ := ctx.Value(http.LocalAddrContextKey).(net.Addr)
	return isLoopbackAddr(addr)
}

func isLoopbackAddr(a net.Addr) bool {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.IP.IsLoopback()
	case nil:
		return false
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// noKeys reports whether snap requires no key nor token (local use).
func noKeys(snap *gateway.Snapshot) bool {
	return !auth.Required(snap.Keys, snap.JWT, snap.Directory)
}

// guardOrigin enforces the Host and Origin rules above and answers CORS
// preflights, before any route.
func (s *Server) guardOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cfg := &s.current(r).Config.Server
		origin := r.Header.Get("Origin")
		local := noKeys(s.current(r))
		if local || len(cfg.CORS.AllowedOrigins) > 0 {
			addVaryOrigin(w.Header()) // the answer depends on it
		}
		if local {
			if onLoopback(r) && !hostAllowed(r.Host, cfg.AllowedHosts) {
				cutBody(w, r)
				s.writeError(w, r, &llm.Error{Kind: llm.KindHostNotAllowed,
					Message: "Host " + quote(r.Host) + " is not served by a local gateway; list it in server.allowed_hosts"})
				return
			}
			if origin != "" && !originAllowed(origin, cfg.CORS.AllowedOrigins) {
				cutBody(w, r)
				s.writeError(w, r, &llm.Error{Kind: llm.KindOriginNotAllowed,
					Message: "requests from Origin " + quote(origin) + " are not allowed; list it in server.cors.allowed_origins"})
				return
			}
		}
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		allowed := originAllowed(origin, cfg.CORS.AllowedOrigins)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			s.preflight(w, r, origin, allowed)
			return
		}
		if allowed {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", corsExposed)
		}
		next.ServeHTTP(w, r)
	})
}

// varyOrigin is the value of a Vary header naming Origin alone, shared
// rather than allocated per request; its capacity is its length, so that a
// later Add copies it rather than write past it.
var varyOrigin = []string{"Origin"}

// addVaryOrigin adds Origin to h's Vary header.
func addVaryOrigin(h http.Header) {
	if _, ok := h["Vary"]; ok {
		h.Add("Vary", "Origin")
		return
	}
	h["Vary"] = varyOrigin[:1:1]
}

// preflight answers a CORS preflight: the allowed methods and the requested
// headers the gateway reads, for an allowed origin; 403 otherwise.
func (s *Server) preflight(w http.ResponseWriter, r *http.Request, origin string, allowed bool) {
	h := w.Header()
	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	if !allowed {
		cutBody(w, r)
		s.writeError(w, r, &llm.Error{Kind: llm.KindOriginNotAllowed,
			Message: "requests from Origin " + quote(origin) + " are not allowed; list it in server.cors.allowed_origins"})
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE")
	if hs := corsRequestHeaders(r.Header.Values("Access-Control-Request-Headers")); hs != "" {
		h.Set("Access-Control-Allow-Headers", hs)
	}
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// corsHeaders are the request headers a page may send: those the gateway
// and its client SDKs use.
var corsHeaders = map[string]bool{
	"authorization": true, "x-api-key": true, "content-type": true,
	"anthropic-version": true, "anthropic-beta": true, "anthropic-dangerous-direct-browser-access": true,
	"openai-organization": true, "openai-project": true,
	"idempotency-key": true, "traceparent": true, "tracestate": true,
	"cache-control": true, "x-request-id": true,
}

// corsHeaderPrefixes admit families of headers: the gateway's own and the
// SDKs' platform headers.
var corsHeaderPrefixes = []string{"x-llmgw-", "x-stainless-"}

// corsExposed are the response headers a page may read.
const corsExposed = "X-Request-Id, X-Llmgw-Provider, X-Llmgw-Cache, X-Llmgw-Attempts, X-Llmgw-Cost-Usd, " +
	"X-Llmgw-Cost-Estimate-Usd, X-Llmgw-Dropped-Params, Retry-After, " +
	"X-Ratelimit-Limit-Requests, X-Ratelimit-Remaining-Requests, X-Ratelimit-Reset-Requests, " +
	"X-Ratelimit-Limit-Tokens, X-Ratelimit-Remaining-Tokens, X-Ratelimit-Reset-Tokens"

// corsRequestHeaders returns the requested headers a page may send, as a
// list for Access-Control-Allow-Headers; the browser refuses the others.
func corsRequestHeaders(values []string) string {
	var out []string
	for _, v := range values {
		for name := range strings.SplitSeq(v, ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			if name == "" || len(out) >= 64 {
				continue
			}
			ok := corsHeaders[name]
			for _, p := range corsHeaderPrefixes {
				ok = ok || (strings.HasPrefix(name, p) && len(name) <= 128)
			}
			if ok {
				out = append(out, name)
			}
		}
	}
	return strings.Join(out, ", ")
}

// originAllowed reports whether origin is listed ("*" lists all).
func originAllowed(origin string, allowed []string) bool {
	for _, a := range allowed {
		if a == "*" || strings.EqualFold(a, origin) {
			return true
		}
	}
	return false
}

// hostAllowed reports whether the Host header names this machine's
// loopback interface (localhost, *.localhost, 127.0.0.0/8, ::1, with or
// without port) or one of allowed ("*" allows all). An absent Host (HTTP/1.0)
// is allowed: browsers always send one.
func hostAllowed(host string, allowed []string) bool {
	if host == "" {
		return true
	}
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.TrimSuffix(strings.ToLower(strings.Trim(name, "[]")), ".")
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return true
	}
	if ip := net.ParseIP(name); ip != nil && ip.IsLoopback() {
		return true
	}
	for _, a := range allowed {
		if a == "*" || strings.EqualFold(strings.TrimSuffix(a, "."), name) {
			return true
		}
	}
	return false
}

// quote returns a client-supplied value clipped and quoted for a message.
func quote(v string) string {
	return strconv.Quote(llm.Clip(v))
}

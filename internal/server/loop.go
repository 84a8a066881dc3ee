package server

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/provider"
)

// inbound runs h with what the client's request says its upstream requests
// carry on (provider.Inbound): the gateways it went through, and on the
// Anthropic routes the client's anthropic-beta and anthropic-version. A
// request carrying this gateway's own hop id is one it forwarded itself,
// come back: it is refused at once with 508, before authentication or any
// upstream call, so a provider whose base URL leads to the gateway costs
// one extra request, not a cascade. A malformed Anthropic header is a 400.
func (s *Server) inbound(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in provider.Inbound
		var loop bool
		if v := r.Header.Values(provider.HopHeader); len(v) > 0 {
			if in.Hops, loop = provider.ParseHops(v); loop {
				s.writeError(w, r, &llm.Error{Kind: llm.KindLoopDetected})
				return
			}
		}
		if isAnthropicPath(r.URL.Path) {
			if err := anthropicHeaders(r.Header, &in); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		if len(in.Hops) > 0 || in.AnthropicBeta != "" || in.AnthropicVersion != "" {
			carried := in // only then on the heap
			r = r.WithContext(provider.WithInbound(r.Context(), &carried))
		}
		h.ServeHTTP(w, r)
	})
}

// anthropicHeaders reads the client's anthropic-beta and anthropic-version
// into in, refusing values that are not plain names.
func anthropicHeaders(h http.Header, in *provider.Inbound) error {
	if v := h.Values("Anthropic-Beta"); len(v) > 0 {
		betas, ok := provider.ParseAnthropicBeta(v)
		if !ok {
			return llm.InvalidRequest("anthropic-beta", "the anthropic-beta header must be a comma-separated list of at most 64 beta names (letters, digits, '-', '_', '.')")
		}
		in.AnthropicBeta = betas
	}
	if v := h.Get("Anthropic-Version"); v != "" {
		if !provider.ValidAnthropicVersion(v) {
			return llm.InvalidRequest("anthropic-version", "the anthropic-version header is not a version name")
		}
		in.AnthropicVersion = v
	}
	return nil
}

// noRetry tells the SDKs, which retry every 5xx, not to retry an error
// that would only come back the same: a loop.
func noRetry(h http.Header, e *llm.Error) {
	if e.Kind == llm.KindLoopDetected {
		h.Set("X-Should-Retry", "false")
	}
}

// selfTargetTimeout bounds the name lookups of the start-up check.
const selfTargetTimeout = 5 * time.Second

// warnSelfTargets logs a warning for every configured provider whose base
// URL resolves to addr, the address the gateway listens on: its requests
// would come back to the gateway (refused as a loop). It is a warning, not
// an error: names resolve differently from one moment or network to
// another, and the check runs in the background so that a slow resolver
// does not hold up the start.
func (s *Server) warnSelfTargets(addr net.Addr) {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return
	}
	providers := s.snap.Load().Config.Providers
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), selfTargetTimeout)
		defer cancel()
		for _, name := range selfTargets(ctx, providers, tcp, net.DefaultResolver.LookupIPAddr, localIPs) {
			s.log.Warn("provider's base URL leads to this gateway itself: its requests will be refused as a loop (508); "+
				"check the provider's base_url, and OPENAI_BASE_URL / ANTHROPIC_BASE_URL when it comes from the environment",
				"provider", name, "listen", addr.String())
		}
	}()
}

// selfTargets returns the names of the providers whose base URL's host
// resolves (through lookup) to an address of listen, on its port: the
// listen IP itself, or, when the gateway listens on every address, a
// loopback or local (local) one.
func selfTargets(ctx context.Context, providers []config.Provider, listen *net.TCPAddr,
	lookup func(context.Context, string) ([]net.IPAddr, error), local func() []net.IP) []string {
	var out []string
	for _, p := range providers {
		u, err := url.Parse(p.BaseURL)
		if err != nil || u.Host == "" {
			continue
		}
		port := u.Port()
		if port == "" {
			port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
		}
		if port != strconv.Itoa(listen.Port) {
			continue
		}
		var ips []net.IP
		if ip := net.ParseIP(u.Hostname()); ip != nil {
			ips = []net.IP{ip}
		} else if addrs, err := lookup(ctx, u.Hostname()); err == nil {
			for _, a := range addrs {
				ips = append(ips, a.IP)
			}
		}
		for _, ip := range ips {
			if isListenIP(ip, listen.IP, local) {
				out = append(out, p.Name)
				break
			}
		}
	}
	return out
}

// isListenIP reports whether a connection to ip reaches a socket listening
// on listen. A dial to the unspecified address reaches the local host.
func isListenIP(ip, listen net.IP, local func() []net.IP) bool {
	if ip.IsUnspecified() {
		return listen.IsUnspecified() || listen.IsLoopback()
	}
	if !listen.IsUnspecified() {
		return ip.Equal(listen)
	}
	if ip.IsLoopback() {
		return true
	}
	for _, l := range local() {
		if ip.Equal(l) {
			return true
		}
	}
	return false
}

// localIPs returns the addresses of the host's interfaces.
func localIPs() []net.IP {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []net.IP
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			out = append(out, n.IP)
		}
	}
	return out
}

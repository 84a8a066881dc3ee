package config

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// validateEdge checks the settings of who may reach the server: allowed
// hosts, CORS origins and the metrics listener.
func (s *Server) validateEdge(p *problems) {
	for i, h := range s.AllowedHosts {
		if msg := checkHostName(h); msg != "" {
			p.add(fmt.Sprintf("server.allowed_hosts[%d]", i), "%s", msg)
		}
	}
	for i, o := range s.CORS.AllowedOrigins {
		if msg := checkOrigin(o); msg != "" {
			p.add(fmt.Sprintf("server.cors.allowed_origins[%d]", i), "%s", msg)
		}
	}
	if s.MetricsListen != "" {
		if _, port, err := net.SplitHostPort(s.MetricsListen); err != nil {
			p.add("server.metrics_listen", "want host:port, such as \"127.0.0.1:9090\" or \":9090\"")
		} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			p.add("server.metrics_listen", "invalid port %q", port)
		} else if s.MetricsListen == s.Listen {
			p.add("server.metrics_listen", "must differ from server.listen")
		}
	}
}

// checkHostName accepts "*" or a host name or IP address without port.
func checkHostName(h string) string {
	switch {
	case h == "*":
		return ""
	case h == "":
		return "must not be empty"
	case strings.ContainsAny(h, "/:@ ") && net.ParseIP(strings.Trim(h, "[]")) == nil:
		return fmt.Sprintf("want a host name without scheme, port or path, such as \"gateway.internal\"; got %q", h)
	}
	return ""
}

// checkOrigin accepts "*" or an origin as browsers send it:
// scheme://host[:port], nothing after.
func checkOrigin(o string) string {
	if o == "*" {
		return ""
	}
	u, err := url.Parse(o)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Sprintf("want an origin such as \"https://app.example.com\" (scheme, host and port only); got %q", o)
	}
	return ""
}

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

// MinSecretLen is the shortest server.secret accepted.
const MinSecretLen = 32

// validateIdentity checks the server secret, the named admin tokens and
// the storage settings.
func (c *Config) validateIdentity(p *problems) {
	s := &c.Server
	if v := s.Secret.Value(); v != "" && len(v) < MinSecretLen {
		p.add("server.secret", "must be at least %d characters (it is %d); generate one with: openssl rand -base64 48", MinSecretLen, len(v))
	}
	if s.DataDir == "" {
		p.add("server.data_dir", "required")
	}
	names := make(map[string]int, len(s.AdminTokens))
	for i, t := range s.AdminTokens {
		path := fmt.Sprintf("server.admin_tokens[%d]", i)
		if t.Name == "admin_token" {
			p.add(path+".name", "\"admin_token\" names server.admin_token; choose another name")
		} else {
			checkName(p, path, t.Name, "admin token", names, i)
		}
		if n := len(t.Token.Value()); n < 16 {
			p.add(path+".token", "must be at least 16 characters")
		}
	}
	switch c.Storage.Driver {
	case DriverSQLite:
		if c.Storage.DSN == "" {
			p.add("storage.dsn", "required")
		}
	case DriverPostgres:
		if c.Storage.DSN == "" {
			p.add("storage.dsn", "required with driver postgres, such as \"postgres://llmgw@db.internal/llmgw\"")
		}
	default:
		p.add("storage.driver", "want sqlite or postgres; got %q", c.Storage.Driver)
	}
	if c.Storage.Notify != nil && c.Storage.Driver != DriverPostgres {
		p.add("storage.notify", "applies to driver postgres only")
	}
}

// MaxOverloadQueue is the largest server.overload_queue.size accepted: the
// queue is meant to absorb a burst, not to hold a backlog.
const MaxOverloadQueue = 100_000

// validateOverload checks the concurrency ceilings and their queue.
func (s *Server) validateOverload(p *problems) {
	if s.MaxConcurrentRequests < 0 {
		p.add("server.max_concurrent_requests", "must not be negative (0: no ceiling)")
	}
	if s.MaxOpenStreams < 0 {
		p.add("server.max_open_streams", "must not be negative (0: no ceiling)")
	}
	q := s.OverloadQueue
	if q.Size < 0 || q.Size > MaxOverloadQueue {
		p.add("server.overload_queue.size", "must be between 0 and %d", MaxOverloadQueue)
	}
	if q.Timeout < 0 {
		p.add("server.overload_queue.timeout", "must not be negative")
	}
}

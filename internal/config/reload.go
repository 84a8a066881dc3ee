package config

import (
	"fmt"
	"reflect"
)

// restartOnly are the settings that a running gateway reads once, at
// start: listeners and their HTTP servers, the logger, the server secret,
// the data directory, the store, Redis, the alert sender and the
// Idempotency-Key store. A reload that changes one of them is refused.
var restartOnly = []struct {
	path string
	get  func(*Config) any
}{
	{"server.listen", func(c *Config) any { return c.Server.Listen }},
	{"server.metrics_listen", func(c *Config) any { return c.Server.MetricsListen }},
	{"server.read_timeout", func(c *Config) any { return c.Server.ReadTimeout }},
	{"server.read_header_timeout", func(c *Config) any { return c.Server.ReadHeaderTimeout }},
	{"server.idle_timeout", func(c *Config) any { return c.Server.IdleTimeout }},
	{"server.shutdown_timeout", func(c *Config) any { return c.Server.ShutdownTimeout }},
	{"server.log_level", func(c *Config) any { return c.Server.LogLevel }},
	{"server.secret", func(c *Config) any { return c.Server.Secret.Value() }},
	{"server.data_dir", func(c *Config) any { return c.Server.DataDir }},
	{"storage", func(c *Config) any { return []any{c.Storage.Driver, c.Storage.DSN.Value(), c.Storage.NotifyOn()} }},
	{"redis", func(c *Config) any { return []any{c.Redis.URL.Value(), c.Redis.OnFailure, c.Redis.Timeout} }},
	{"alerts", func(c *Config) any {
		return []any{c.Alerts.Webhook.URL.Value(), c.Alerts.Webhook.Secret.Value(), c.Alerts.BudgetThresholds, c.Alerts.MaxAttempts}
	}},
	{"idempotency", func(c *Config) any { return c.Idempotency }},
	// The listener's TLS settings but the identities; the
	// certificate files' contents are re-read on change whatever the
	// configuration says.
	{"server.tls", func(c *Config) any {
		if c.Server.TLS == nil {
			return nil
		}
		t := *c.Server.TLS
		t.ClientIdentities, t.AdminIdentities = nil, nil
		return t
	}},
}

// RestartOnly returns one error per setting that differs between the
// running configuration and next and that takes effect only on restart,
// each naming the setting's path and never its value.
func RestartOnly(running, next *Config) []error {
	var errs []error
	for _, f := range restartOnly {
		if !reflect.DeepEqual(f.get(running), f.get(next)) {
			errs = append(errs, fmt.Errorf("%s: changed, but takes effect only on restart; the running configuration keeps serving", f.path))
		}
	}
	return errs
}

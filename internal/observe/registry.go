package observe

import (
	"errors"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry is the process's set of metrics. It is safe for concurrent use.
type Registry struct {
	reg     *prometheus.Registry
	handler http.Handler
	// collectors are the collectors registered, in order, for Metrics.
	mu         sync.Mutex
	collectors []prometheus.Collector
}

// NewRegistry returns a registry holding the Go runtime and process
// collectors.
func NewRegistry() *Registry {
	reg := prometheus.NewRegistry()
	runtime := []prometheus.Collector{collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})}
	reg.MustRegister(runtime...)
	return &Registry{
		reg:        reg,
		handler:    promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}),
		collectors: runtime,
	}
}

// Gatherer returns the registry as a prometheus.Gatherer, for tests and
// exporters.
func (r *Registry) Gatherer() prometheus.Gatherer { return r.reg }

// Handler serves the metrics in the Prometheus text format.
func (r *Registry) Handler() http.Handler { return r.handler }

// Register registers c in r and returns it, or returns the collector of the
// same description registered before (by an earlier configuration
// snapshot), so that metrics survive reloads. With a nil r, c is returned
// unregistered. A collector that conflicts with a different one of the same
// name is a programming error and panics.
func Register[C prometheus.Collector](r *Registry, c C) C {
	if r == nil {
		return c
	}
	err := r.reg.Register(c)
	if err == nil {
		r.mu.Lock()
		r.collectors = append(r.collectors, c)
		r.mu.Unlock()
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	panic(err)
}

package health

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/observe"
	"github.com/llmgw/llmgw/internal/router"
)

// Status is the state of the replica or of one of its checks.
type Status string

// The statuses, from best to worst.
const (
	// OK: the check passed.
	OK Status = "ok"
	// Degraded: the replica serves, with less than it should (a model
	// without an available target, an optional dependency down).
	Degraded Status = "degraded"
	// Unavailable: the replica cannot serve; /readyz answers 503.
	Unavailable Status = "unavailable"
)

func worse(a, b Status) Status {
	if a == Unavailable || b == Unavailable {
		return Unavailable
	}
	if a == Degraded || b == Degraded {
		return Degraded
	}
	return OK
}

// Dependency is a service the replica uses, which readiness asks.
type Dependency struct {
	// Name is the check's key in the report and its dependency label:
	// "store", "redis".
	Name string
	// Required: while it does not answer, the replica cannot serve and is
	// unavailable; otherwise it is degraded.
	Required bool
	// Probe asks it once (a ping), within ctx.
	Probe func(ctx context.Context) error
	// Detail are fixed facts reported with it (the driver, what it is used
	// for); never a secret.
	Detail map[string]any
}

// DependencyReport is a dependency's part of the report.
type DependencyReport struct {
	Status   Status `json:"status"`
	Required bool   `json:"required"`
	// LatencyMS is how long its probe took, in milliseconds.
	LatencyMS float64 `json:"latency_ms"`
	// Error says why it failed: "timeout" or "error". The cause, which may
	// name hosts or users, goes to the log only.
	Error  string         `json:"error,omitempty"`
	Detail map[string]any `json:"detail,omitempty"`
}

// ModelsReport says which configured models have a target to send to.
type ModelsReport struct {
	Status Status `json:"status"`
	// Total counts the configured models (wildcards included).
	Total int `json:"total"`
	// Unavailable lists the models none of whose targets can take a
	// request (every breaker open, cooling down or weighted 0), in
	// configuration order; never null.
	Unavailable []string `json:"unavailable"`
}

// Models reports on the models of a router's Status. A target is
// available when its weight is above 0 and its breaker is closed or
// half-open (not open, not cooling down after a Retry-After). No model
// available is Unavailable, some Degraded.
func Models(ms []router.ModelStatus) ModelsReport {
	rep := ModelsReport{Status: OK, Total: len(ms), Unavailable: []string{}}
	for _, m := range ms {
		if !slices.ContainsFunc(m.Targets, available) {
			rep.Unavailable = append(rep.Unavailable, m.Name)
		}
	}
	switch n := len(rep.Unavailable); {
	case n > 0 && n == rep.Total:
		rep.Status = Unavailable
	case n > 0:
		rep.Status = Degraded
	}
	return rep
}

func available(t router.TargetStatus) bool {
	return t.Weight > 0 && (t.State == router.StateClosed.String() || t.State == router.StateHalfOpen.String())
}

// ServerReport is the replica's own state.
type ServerReport struct {
	Status Status `json:"status"`
	// Starting is true until the process has started (/startupz).
	Starting bool `json:"starting"`
	Draining bool `json:"draining"`
}

// ConfigReport is the configuration in force.
type ConfigReport struct {
	Status Status `json:"status"`
	// LoadedAt is when it was compiled.
	LoadedAt time.Time `json:"loaded_at"`
}

// Report is /readyz's body.
type Report struct {
	// Status is the worst of the checks': ok, degraded (200) or
	// unavailable (503).
	Status Status `json:"status"`
	// Checks holds "server", "config", "models", each dependency by name
	// ("store", "redis") and, when active checks are on, "providers".
	Checks map[string]any `json:"checks"`
	// CheckedAt is when the dependencies were last asked: their results
	// are kept for Options.TTL.
	CheckedAt time.Time `json:"checked_at"`
}

// State is what readiness reads of the replica at each call, with no I/O.
type State struct {
	Draining bool
	// LoadedAt is when the configuration in force was compiled.
	LoadedAt time.Time
	// Models are the router's models in force.
	Models []router.ModelStatus
	// Dependencies are asked, their answers kept for Options.TTL.
	Dependencies []Dependency
	// Providers are the last results of the active checks; nil when none
	// is on.
	Providers map[string]ProviderResult
}

// Options tune a Readiness.
type Options struct {
	// Timeout bounds the probes, run in parallel; default 1s.
	Timeout time.Duration
	// TTL is how long the dependencies' answers are kept: probes as
	// frequent as they like ask the store at most once per TTL. Default 1s.
	TTL time.Duration
	// Now is the clock; nil is time.Now.
	Now     func() time.Time
	Metrics *observe.Registry
	Logger  *slog.Logger
}

// Readiness computes the replica's readiness report.
type Readiness struct {
	o     Options
	gauge *prometheus.GaugeVec

	mu      sync.Mutex // held while the dependencies are asked
	at      time.Time
	names   []string
	results map[string]DependencyReport
}

// NewReadiness returns a Readiness, its llmgw_ready gauge registered in
// o.Metrics.
func NewReadiness(o Options) *Readiness {
	if o.Timeout <= 0 {
		o.Timeout = time.Second
	}
	if o.TTL <= 0 {
		o.TTL = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Readiness{o: o, gauge: observe.Register(o.Metrics, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "llmgw_ready",
		Help: "Readiness as of the last /readyz: 1 when the check's status is ok, 0 when degraded or unavailable; dependency is server, config, models, store, redis, or overall (1 while /readyz answers 200).",
	}, []string{"dependency"}))}
}

// Report returns the report of st. The dependencies are asked at most
// once per TTL, whoever asks: concurrent callers wait for the one asking,
// at most the timeout.
func (r *Readiness) Report(st State) Report {
	deps, at := r.dependencies(st.Dependencies)
	rep := Report{Status: OK, Checks: make(map[string]any, 4+len(deps)), CheckedAt: at}
	add := func(name string, s Status, v any) {
		rep.Checks[name] = v
		rep.Status = worse(rep.Status, s)
		r.gauge.WithLabelValues(name).Set(b2f(s == OK))
	}
	srv := ServerReport{Status: OK, Draining: st.Draining}
	if st.Draining {
		srv.Status = Unavailable
	}
	add("server", srv.Status, srv)
	add("config", OK, ConfigReport{Status: OK, LoadedAt: st.LoadedAt.UTC()})
	m := Models(st.Models)
	add("models", m.Status, m)
	for _, d := range st.Dependencies {
		dr := deps[d.Name]
		add(d.Name, dr.Status, dr)
	}
	if st.Providers != nil {
		rep.Checks["providers"] = st.Providers
	}
	r.gauge.WithLabelValues("overall").Set(b2f(rep.Status != Unavailable))
	return rep
}

// dependencies returns the dependencies' reports, asking them when the
// ones kept are older than the TTL or were of other dependencies.
func (r *Readiness) dependencies(deps []Dependency) (map[string]DependencyReport, time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, len(deps))
	for i, d := range deps {
		names[i] = d.Name
	}
	now := r.o.Now()
	if r.results != nil && now.Sub(r.at) < r.o.TTL && slices.Equal(names, r.names) {
		return r.results, r.at
	}
	r.results, r.at, r.names = r.ask(deps), now, names
	return r.results, r.at
}

// ask probes every dependency in parallel within the timeout. A probe that
// does not return by then is reported as timed out and left to finish.
func (r *Readiness) ask(deps []Dependency) map[string]DependencyReport {
	ctx, cancel := context.WithTimeout(context.Background(), r.o.Timeout)
	defer cancel()
	type answer struct {
		i   int
		err error
		d   time.Duration
	}
	ch := make(chan answer, len(deps))
	for i, d := range deps {
		go func() {
			start := time.Now()
			err := d.Probe(ctx)
			ch <- answer{i, err, time.Since(start)}
		}()
	}
	out := make(map[string]DependencyReport, len(deps))
	for _, d := range deps {
		out[d.Name] = DependencyReport{Status: failed(d), Required: d.Required, LatencyMS: ms(r.o.Timeout), Error: "timeout", Detail: d.Detail}
	}
	for range deps {
		select {
		case a := <-ch:
			d := deps[a.i]
			dr := DependencyReport{Status: OK, Required: d.Required, LatencyMS: ms(a.d), Detail: d.Detail}
			if a.err != nil {
				dr.Status, dr.Error = failed(d), "error"
				if ctx.Err() != nil {
					dr.Error = "timeout"
				}
				r.o.Logger.Warn("readiness: a dependency does not answer", "dependency", d.Name, "required", d.Required, "err", llm.Clip(a.err.Error()))
			}
			out[d.Name] = dr
		case <-ctx.Done():
			return out
		}
	}
	return out
}

// failed is the status of a dependency that does not answer.
func failed(d Dependency) Status {
	if d.Required {
		return Unavailable
	}
	return Degraded
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Gauge returns the llmgw_ready gauge, for tests.
func (r *Readiness) Gauge() *prometheus.GaugeVec { return r.gauge }

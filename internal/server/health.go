package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/health"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/observe"
)

// Health is what /readyz asks beside the snapshot: the process's
// dependencies and its active provider checks.
type Health struct {
	// Dependencies are the store, Redis...; without SetHealth, the store
	// of the snapshot's key directory, required.
	Dependencies []health.Dependency
	// Checker runs the active provider checks; nil when none runs.
	Checker *health.Checker
}

// SetHealth sets what /readyz asks; call it before Run.
func (s *Server) SetHealth(h Health) { s.health.Store(&h) }

// NewStarting returns a server with no snapshot yet, for a process whose
// start is slow: run it at once, and Start it once the snapshot is
// compiled. Until then /healthz answers 200, /startupz and /readyz 503,
// and every other route a 503 service_unavailable with Retry-After.
//
// reg is the process's registry, which the snapshots to come will have:
// the request metrics are registered in it from the start.
func NewStarting(cfg *config.Config, log *slog.Logger, reg *observe.Registry) *Server {
	s := newServer(nil, log, reg)
	s.startCfg = cfg.Server
	return s
}

// Start installs the first snapshot of a server made by NewStarting: from
// then on it serves every route, and /startupz answers 200.
func (s *Server) Start(snap *gateway.Snapshot) {
	s.readiness(snap)
	s.startMu.Lock()
	defer s.startMu.Unlock()
	s.over.apply(&snap.Config.Server)
	s.snap.Store(snap)
	snap.Activate()
	if s.listenAddr != nil {
		s.warnSelfTargets(s.listenAddr)
	}
}

// listening records the address Run listens on, and checks the providers'
// base URLs against it once there is a snapshot (now, or at Start).
func (s *Server) listening(addr net.Addr) {
	s.startMu.Lock()
	defer s.startMu.Unlock()
	s.listenAddr = addr
	if s.snap.Load() != nil {
		s.warnSelfTargets(addr)
	}
}

// serverConfig returns the server settings of the snapshot, or of the
// configuration given to NewStarting before the first snapshot.
func (s *Server) serverConfig() config.Server {
	if snap := s.snap.Load(); snap != nil {
		return snap.Config.Server
	}
	return s.startCfg
}

// starting answers the requests that arrive before the first snapshot.
func (s *Server) starting(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/healthz":
		s.handleHealthz(w, r)
	case r.Method == http.MethodGet && r.URL.Path == "/startupz":
		writeJSON(w, http.StatusServiceUnavailable, []byte(`{"status":"starting"}`))
	case r.Method == http.MethodGet && r.URL.Path == "/readyz":
		body, _ := json.Marshal(health.Report{Status: health.Unavailable, Checks: map[string]any{
			"server": health.ServerReport{Status: health.Unavailable, Starting: true},
		}})
		writeJSON(w, http.StatusServiceUnavailable, body)
	default:
		cutBody(w, r)
		s.writeError(w, r, &llm.Error{Kind: llm.KindUnavailable, Message: "the gateway is starting; retry shortly", RetryAfter: time.Second})
	}
}

// handleStartupz answers 200 once the process has started: the store
// opened and migrated, the first snapshot compiled, the listeners up (it
// answers on one). Before that, a server made by NewStarting answers 503.
func (s *Server) handleStartupz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, []byte(`{"status":"started"}`))
}

// readyTTL is how long the dependencies' answers are kept for /readyz.
const readyTTL = time.Second

// readyTimeout bounds the dependencies' answers to a readiness check.
const readyTimeout = time.Second

// handleReadyz answers the readiness report (package health,
// docs/health.md): 200 when the replica serves (status ok or degraded),
// 503 when it cannot (draining, a required dependency down, no model with
// an available target).
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	snap := s.current(r)
	st := health.State{Draining: s.draining.Load(), LoadedAt: time.Unix(snap.Created, 0), Models: snap.Router.Status()}
	h := s.health.Load()
	if h == nil {
		st.Dependencies = storeOf(snap)
	} else {
		st.Dependencies = h.Dependencies
		if h.Checker != nil {
			st.Providers = h.Checker.Results()
		}
	}
	rep := s.readiness(snap).Report(st)
	body, err := json.Marshal(rep)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if rep.Status == health.Unavailable {
		status = http.StatusServiceUnavailable
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, body)
}

// readiness returns the server's Readiness, made on first use with the
// snapshot's registry (the process's).
func (s *Server) readiness(snap *gateway.Snapshot) *health.Readiness {
	s.readyMu.Lock()
	defer s.readyMu.Unlock()
	if s.ready == nil {
		s.ready = health.NewReadiness(health.Options{Timeout: readyTimeout, TTL: readyTTL, Now: s.readyClock, Metrics: snap.Metrics, Logger: s.log})
	}
	return s.ready
}

// readyClock is the readiness cache's clock: readyNow when set (tests),
// else time.Now.
func (s *Server) readyClock() time.Time {
	if s.readyNow != nil {
		return s.readyNow()
	}
	return time.Now()
}

// storeOf is the store of the snapshot's key directory as a required
// dependency; none without a directory.
func storeOf(snap *gateway.Snapshot) []health.Dependency {
	if snap.Directory == nil {
		return nil
	}
	dir := snap.Directory
	return []health.Dependency{{Name: "store", Required: true, Probe: func(ctx context.Context) error { return dir.Ping(ctx) }}}
}

// gate serves h once the server has its first snapshot, and the answers
// of a starting server before.
func (s *Server) gate(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.snap.Load() == nil {
			s.starting(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

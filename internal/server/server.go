package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/health"
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/observe"
)

// drainGrace is how long requests cut by the drain deadline have to write
// their error before their connections are closed.
const drainGrace = time.Second

// errShuttingDown is the cause of the cancellation of the requests still
// running when the drain deadline passes.
var errShuttingDown = &llm.Error{Kind: llm.KindShuttingDown}

// cutByShutdown reports whether r's context ended because the drain
// deadline passed, rather than because its client went away.
func cutByShutdown(r *http.Request) bool {
	return context.Cause(r.Context()) == error(errShuttingDown)
}

// Server serves the gateway's HTTP surface from the current snapshot.
type Server struct {
	snap     atomic.Pointer[gateway.Snapshot]
	log      *slog.Logger
	draining atomic.Bool
	handler  http.Handler
	allow    map[string]string // path -> method, for 405 answers
	// m are the metrics of the requests, in the registry of the snapshot
	// the server was created with (the process's).
	m *metrics
	// reg is the registry of m; tlsm the TLS listener's metrics (tls.go).
	reg  *observe.Registry
	tlsm tlsMetrics
	// certCheckEvery and certNow are how often the TLS certificate files
	// are looked at and the clock that tells (tls.go); nil: time.Now.
	certCheckEvery time.Duration
	certNow        func() time.Time
	// over are the replica's concurrency ceilings (overload.go), set from
	// each snapshot the server installs.
	over *overload

	// Health and start (health.go).
	health     atomic.Pointer[Health]
	startCfg   config.Server // before the first snapshot (NewStarting)
	startMu    sync.Mutex
	listenAddr net.Addr // once Run listens
	readyMu    sync.Mutex
	ready      *health.Readiness
	readyNow   func() time.Time // the readiness cache's clock; nil is time.Now
}

// New returns a server serving snap, logging to log; snap is activated
// (gateway.Snapshot.Activate).
func New(snap *gateway.Snapshot, log *slog.Logger) *Server {
	var reg *observe.Registry
	if snap != nil {
		reg = snap.Metrics
	}
	return newServer(snap, log, reg)
}

// newServer returns a server serving snap (nil: none yet), its request
// metrics registered in reg.
func newServer(snap *gateway.Snapshot, log *slog.Logger, reg *observe.Registry) *Server {
	s := &Server{log: log, reg: reg, certCheckEvery: certCheckEvery}
	s.m = newMetrics(reg)
	s.tlsm = newTLSMetrics(reg)
	s.over = newOverload(reg)
	s.snap.Store(snap)
	if snap != nil {
		s.over.apply(&snap.Config.Server)
		snap.Activate()
	}
	s.handler = s.routes()
	if snap != nil {
		s.readiness(snap) // its gauge registered from the start
	}
	return s
}

// Swap installs a new snapshot, then activates it: requests in flight keep
// the one they began with, and the process state that only the old one
// used (removed targets' health, retired upstream clients) is let go.
func (s *Server) Swap(snap *gateway.Snapshot) {
	s.over.apply(&snap.Config.Server)
	s.snap.Store(snap)
	snap.Activate()
}

// Snapshot returns the current snapshot.
func (s *Server) Snapshot() *gateway.Snapshot { return s.snap.Load() }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.snap.Load() == nil {
		s.starting(w, r)
		return
	}
	s.handler.ServeHTTP(w, r)
}

// Run serves on ln until ctx is done, then drains: it stops accepting, lets
// requests and streams in flight finish within the configured shutdown
// timeout, then ends what is left: each such request gets an error in its
// protocol (a 503 server_shutting_down, or an in-band error event for a
// stream that has begun, never a fake end of stream), and drainGrace later
// the remaining connections are closed. A drain is a clean exit: Run
// returns nil.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	return s.RunWithMetrics(ctx, ln, nil)
}

// RunWithMetrics is Run, with /metrics, and only it, also served on
// metrics (server.metrics_listen) when it is not nil. The metrics listener
// keeps answering while the main one drains, and stops after it.
func (s *Server) RunWithMetrics(ctx context.Context, ln, metrics net.Listener) error {
	cfg := s.serverConfig()
	// Every request's context derives from base, whose cancellation, with
	// errShuttingDown as cause, tells handlers that the drain deadline has
	// passed (see cutByShutdown).
	base, stop := context.WithCancelCause(context.Background())
	defer stop(nil)
	srv := s.httpServer(s, &cfg, base)
	serve := func() error { return srv.Serve(ln) }
	if cfg.TLS != nil {
		if err := s.serveTLS(srv, cfg.TLS); err != nil {
			// Validation read the same files: they changed since.
			s.log.Error("cannot serve TLS", "err", err.Error())
			_ = ln.Close()
			if metrics != nil {
				_ = metrics.Close()
			}
			return fmt.Errorf("server.tls: %w", err)
		}
		// The certificate comes from TLSConfig.GetCertificate.
		serve = func() error { return srv.ServeTLS(ln, "", "") }
	}
	errc := make(chan error, 2)
	go func() { errc <- serve() }()
	s.log.Info("listening", "addr", ln.Addr().String())
	var msrv *http.Server
	if metrics != nil {
		msrv = s.httpServer(s.gate(s.metricsHandler()), &cfg, base)
		go func() { errc <- msrv.Serve(metrics) }()
		s.log.Info("serving metrics", "addr", metrics.Addr().String())
	}
	s.listening(ln.Addr())
	var failed error
	select {
	case failed = <-errc:
	case <-ctx.Done():
	}
	s.drain(srv, &cfg, stop)
	if msrv != nil {
		_ = msrv.Close()
	}
	// Wait for every Serve to return; the first error is Run's.
	n := 1 + btoi(msrv != nil) - btoi(failed != nil)
	for range n {
		if err := <-errc; failed == nil {
			failed = err
		}
	}
	if failed != nil && !errors.Is(failed, http.ErrServerClosed) {
		return failed
	}
	s.log.Info("stopped")
	return nil
}

// httpServer returns the http.Server of one listener.
func (s *Server) httpServer(h http.Handler, cfg *config.Server, base context.Context) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout.Std(),
		ReadTimeout:       cfg.ReadTimeout.Std(), // the request only: see deadline.go
		IdleTimeout:       cfg.IdleTimeout.Std(),
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(ln net.Listener) context.Context { return withListener(base, ln) },
	}
}

// drain shuts srv down within the shutdown timeout, then ends what is left
// (see Run).
func (s *Server) drain(srv *http.Server, cfg *config.Server, stop context.CancelCauseFunc) {
	s.draining.Store(true)
	timeout := cfg.ShutdownTimeout.Std()
	s.log.Info("draining", "timeout", timeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	if err := srv.Shutdown(sctx); err != nil {
		s.log.Warn("drain deadline passed; ending the remaining requests", "after", time.Since(start).String())
		// Requests still running learn that the deadline passed, and get
		// a moment to end their responses with an error in the client's
		// protocol, before their connections are closed.
		stop(errShuttingDown)
		gctx, gcancel := context.WithTimeout(context.Background(), drainGrace)
		if srv.Shutdown(gctx) != nil {
			_ = srv.Close()
		}
		gcancel()
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

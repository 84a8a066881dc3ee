package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/llmgw/llmgw/internal/gateway"
)

// Server serves the gateway's HTTP surface from the current snapshot.
type Server struct {
	snap     atomic.Pointer[gateway.Snapshot]
	log      *slog.Logger
	draining atomic.Bool
	handler  http.Handler
	allow    map[string]string // path -> method, for 405 answers
}

// New returns a server serving snap, logging to log.
func New(snap *gateway.Snapshot, log *slog.Logger) *Server {
	s := &Server{log: log}
	s.snap.Store(snap)
	s.handler = s.routes()
	return s
}

// Swap installs a new snapshot; requests in flight keep the one they began
// with.
func (s *Server) Swap(snap *gateway.Snapshot) { s.snap.Store(snap) }

// Snapshot returns the current snapshot.
func (s *Server) Snapshot() *gateway.Snapshot { return s.snap.Load() }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Run serves on ln until ctx is done, then drains: it stops accepting, lets
// requests and streams in flight finish within the configured shutdown
// timeout, and closes what is left after it. A drain is a clean exit: Run
// returns nil.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	cfg := s.snap.Load().Config.Server
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout.Std(),
		IdleTimeout:       cfg.IdleTimeout.Std(),
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("listening", "addr", ln.Addr().String())
	s.warnSelfTargets(ln.Addr())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.draining.Store(true)
	timeout := cfg.ShutdownTimeout.Std()
	s.log.Info("draining", "timeout", timeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	if err := srv.Shutdown(sctx); err != nil {
		s.log.Warn("drain deadline passed; closing remaining connections", "after", time.Since(start).String())
		_ = srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	s.log.Info("stopped")
	return nil
}

package main

import (
	"context"
	"log/slog"
	"net"
	"os/signal"
	"sync"
	"syscall"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/observe"
	"github.com/llmgw/llmgw/internal/server"
)

// early is the server of a process that is starting: its listeners open
// before the store and the first snapshot, so that /healthz answers at
// once and /startupz and /readyz answer 503 until start. The server runs
// until SIGTERM or SIGINT, or until stop.
type early struct {
	srv    *server.Server
	done   chan error
	cancel context.CancelFunc
	once   sync.Once
	err    error
}

// listenEarly opens cfg's listeners and serves them as a starting server.
//
// reg is the process's metrics registry.
func listenEarly(cfg *config.Config, log *slog.Logger, reg *observe.Registry) (*early, error) {
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		log.Error("cannot listen", "addr", cfg.Server.Listen, "err", err.Error())
		return nil, err
	}
	var metricsLn net.Listener
	if addr := cfg.Server.MetricsListen; addr != "" {
		if metricsLn, err = net.Listen("tcp", addr); err != nil {
			ln.Close()
			log.Error("cannot listen for metrics", "addr", addr, "err", err.Error())
			return nil, err
		}
	}
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	e := &early{srv: server.NewStarting(cfg, log, reg), done: make(chan error, 1), cancel: cancel}
	go func() { e.done <- e.srv.RunWithMetrics(ctx, ln, metricsLn) }()
	return e, nil
}

// wait returns the server's error once it has stopped (drained).
func (e *early) wait() error {
	e.once.Do(func() {
		e.err = <-e.done
		e.cancel()
	})
	return e.err
}

// stop ends the server, if still running, and waits for it.
func (e *early) stop() {
	e.cancel()
	_ = e.wait()
}

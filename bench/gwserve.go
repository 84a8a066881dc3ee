package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"syscall"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/ledger"
	"github.com/llmgw/llmgw/internal/observe"
	"github.com/llmgw/llmgw/internal/observe/tracing"
	"github.com/llmgw/llmgw/internal/server"
)

// runGateway is the "gateway" subcommand: the gateway wired as "llmgw serve"
// wires it, with a CPU profile written for its whole life and a heap
// profile (allocations included) at exit.
func runGateway(args []string) error {
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	path := fs.String("config", "", "configuration file")
	listen := fs.String("listen", "", "address")
	cpuFile := fs.String("cpuprofile", "", "CPU profile output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	if *listen != "" {
		cfg.Server.Listen = *listen
	}
	st, dir, err := openStoreKeys(context.Background(), cfg.Server.DataDir, cfg.Server.Secret.Value())
	if err != nil {
		return err
	}
	defer st.Close()
	defer dir.Close()
	led, err := ledger.Open(ledger.Options{Store: st.Ledger(), SpoolPath: filepath.Join(cfg.Server.DataDir, "ledger.spool")})
	if err != nil {
		return err
	}
	defer led.Close(context.Background())
	limiter, _, closeLimiter, err := gateway.OpenLimiter(cfg, nil, st, nil)
	if err != nil {
		return err
	}
	defer closeLimiter()
	// Tracing as "llmgw serve" sets it up, shut down (its spans sent)
	// after the drain.
	ts, err := tracing.Resolve(&cfg.Tracing, os.LookupEnv)
	if err != nil {
		return err
	}
	tracer, err := tracing.New(ts, "bench")
	if err != nil {
		return err
	}
	if tracer != nil {
		defer tracer.Shutdown(context.Background())
	}
	snap, err := gateway.Compile(cfg, gateway.Options{Metrics: observe.NewRegistry(), Directory: dir, Limiter: limiter, Ledger: led, Tracer: tracer})
	if err != nil {
		return err
	}
	// Buffered as "llmgw serve" buffers it, and written out when the
	// server has drained.
	logw := observe.NewLogWriter(os.Stderr, 0, 0)
	defer logw.Close()
	log := observe.NewLogger(logw, cfg.Server.Level())
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		return err
	}
	if *cpuFile != "" {
		f, err := os.Create(*cpuFile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
		defer writeHeapProfile(*cpuFile + ".heap")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	return server.New(snap, log).Run(ctx, ln)
}

// parseGatewayConfig parses and compiles a configuration as the gateway
// would, without starting it.
func parseGatewayConfig(yaml string) (*gateway.Snapshot, error) {
	cfg, err := config.Parse([]byte(yaml), os.LookupEnv)
	if err != nil {
		return nil, err
	}
	return gateway.Compile(cfg, gateway.Options{Metrics: observe.NewRegistry()})
}

func writeHeapProfile(path string) {
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "heap profile:", err)
		return
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		fmt.Fprintln(os.Stderr, "heap profile:", err)
	}
}

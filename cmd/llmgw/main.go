// Command llmgw is the LLM inference gateway: `llmgw serve` runs it,
// `llmgw validate` checks a configuration, `llmgw version` prints the version.
// This file holds flags, wiring and signals only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/llmgw/llmgw/internal/admin"
	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/catalog"
	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/ledger"
	"github.com/llmgw/llmgw/internal/observe"
	"github.com/llmgw/llmgw/internal/server"
)

// ledgerSpool is the usage ledger's spool file in the data directory.
const ledgerSpool = "ledger.spool"

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage:
  llmgw serve [--config FILE] [--listen ADDR]   run the gateway
  llmgw validate --config FILE                  check a configuration
  llmgw version                                 print the version
  llmgw tenants create|list ...                 manage tenants in the store
  llmgw keys create|list|revoke ...             manage virtual keys in the store
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stderr)
	case "validate":
		return validate(args[1:], stdout, stderr)
	case "tenants", "keys":
		return manage(args[0], args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "llmgw", versionString())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "llmgw: unknown command %q\n%s", args[0], usage)
	return 2
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// loadConfig reads the config named by --config or LLMGW_CONFIG, or returns
// the built-in defaults when neither is set.
func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		path = os.Getenv("LLMGW_CONFIG")
	}
	if path == "" {
		cfg := config.Default(os.LookupEnv)
		return cfg, cfg.Validate()
	}
	return config.Load(path)
}

func validate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file to check (default $LLMGW_CONFIG)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *path == "" && os.Getenv("LLMGW_CONFIG") == "" {
		fmt.Fprintln(stderr, "llmgw validate: --config FILE is required")
		return 2
	}
	cfg, err := loadConfig(*path)
	if err == nil {
		_, err = gateway.Compile(cfg, gateway.Options{})
	}
	if err != nil {
		printProblems(stderr, err)
		return 1
	}
	fmt.Fprintln(stdout, "configuration is valid")
	return 0
}

// printProblems prints each joined problem on a line of its own.
func printProblems(w io.Writer, err error) {
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		for _, e := range joined.Unwrap() {
			printProblems(w, e)
		}
		return
	}
	fmt.Fprintln(w, err)
}

func serve(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file (default $LLMGW_CONFIG; built-in defaults when neither is set)")
	listen := fs.String("listen", "", "address to listen on, overriding server.listen")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		printProblems(stderr, err)
		return 1
	}
	if *listen != "" {
		cfg.Server.Listen = *listen
	}
	// Log lines are buffered: one write for many access log lines. The
	// deferred Close writes out the last of them when serve returns, after
	// the server has drained.
	logw := observe.NewLogWriter(stderr, 0, 0)
	defer logw.Close()
	log := observe.NewLogger(logw, cfg.Server.Level())
	// The listeners open first, so that probes get answers while the
	// store opens: /startupz and /readyz answer 503 until the first
	// snapshot is in. Deferred first, the server's stop comes last, on
	// the paths that fail before it was started.
	gw, err := listenEarly(cfg, log)
	if err != nil {
		return 1
	}
	defer gw.stop()
	// The registry and the cache of upstream model lists outlive
	// configuration snapshots, so metrics and lists survive reloads. The
	// deferred Close stops model list fetches under way after the drain.
	lists := catalog.New(catalog.Options{Logger: log})
	defer lists.Close()
	// JWT key sets, like the lists, are the process's: fetched once and
	// refreshed in the background whatever the snapshot.
	jwts := auth.NewVerifiers(auth.VerifierOptions{Logger: log})
	defer jwts.Close()
	// The store and the key directory over it are the process's too.
	// Deferred in this order, they close after the drain: the directory
	// first (writing the last-used times), then the store.
	st, dir, err := openState(cfg, log)
	if err != nil {
		log.Error("cannot open the store", "err", err.Error())
		return 1
	}
	defer st.Close()
	defer dir.Close()
	// The usage ledger's writer closes first of the three, after the
	// drain: what is queued goes to the store (or the spool) while the
	// store is still open.
	led, err := ledger.Open(ledger.Options{Store: st.Store.Ledger(), SpoolPath: filepath.Join(cfg.Server.DataDir, ledgerSpool), Logger: log})
	if err != nil {
		log.Error("cannot open the usage ledger", "err", err.Error())
		return 1
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := led.Close(ctx); err != nil {
			log.Error("the usage ledger did not close cleanly", "err", err.Error())
		}
	}()
	// The sender of budget alerts, when a webhook is configured, stops
	// after the drain and before the store closes; deliveries still
	// pending stay queued in the store.
	alerts, err := gateway.OpenAlerts(cfg, st.Store, log)
	if err != nil {
		log.Error("cannot set up alerts", "err", err.Error())
		return 1
	}
	defer alerts.Close()
	// The rate limit counts are the process's: deferred, the Redis
	// connections close after the drain.
	limiter, budgets, closeLimiter, err := gateway.OpenLimiter(cfg, log, st.Store)
	if err != nil {
		log.Error("cannot set up rate limits", "err", err.Error())
		return 1
	}
	defer closeLimiter()
	// Expired stored responses are purged until the drain is over.
	defer gateway.PurgeResponses(st.Store.Responses(), gateway.ResponsesPurgeInterval, log)()
	// Keyed requests' flights and kept responses are the process's too.
	idem, closeIdem, err := gateway.OpenIdempotency(cfg, log)
	if err != nil {
		log.Error("cannot set up idempotency", "err", err.Error())
		return 1
	}
	defer closeIdem()
	metrics := observe.NewRegistry()
	observe.Register(metrics, led.Collector())
	snap, err := gateway.Compile(cfg, gateway.Options{Metrics: metrics, Logger: log, ModelLists: lists, JWT: jwts, Directory: dir, Ledger: led, Limiter: limiter, Alerts: alerts, Idempotency: idem,
		Responses: st.Store.Responses(),
		Admin:     admin.Backend{Store: st.Store, Keys: admin.DirectoryKeys(dir), Hasher: st.Hasher, Audit: st.Audit, Budgets: budgets, Logger: log}})
	if err != nil {
		printProblems(stderr, err)
		return 1
	}
	// The active checks of providers, process state too, stop after the
	// drain.
	checker := gateway.NewChecker(gw.srv.Snapshot, metrics, log)
	defer checker.Close()
	deps, closeDeps, err := gateway.Dependencies(cfg, dir)
	if err != nil {
		log.Error("cannot set up readiness", "err", err.Error())
		return 1
	}
	defer closeDeps()
	gw.srv.SetHealth(server.Health{Dependencies: deps, Checker: checker})
	log.Info("starting", "version", versionString(), "models", len(cfg.Models), "keys", len(cfg.Keys), "storage", cfg.Storage.Driver)
	gw.srv.Start(snap)
	checker.Start()
	if err := gw.wait(); err != nil {
		log.Error("server failed", "err", err.Error())
		return 1
	}
	return 0
}

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
	"os/signal"
	"syscall"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/observe"
	"github.com/llmgw/llmgw/internal/observe/tracing"
	"github.com/llmgw/llmgw/internal/reload"
	"github.com/llmgw/llmgw/internal/secret"
)

// ledgerSpool is the usage ledger's spool file in the data directory.
const ledgerSpool = "ledger.spool"

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
		fmt.Fprintln(stdout, "llmgw", versionLine())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "llmgw: unknown command %q\n%s", args[0], usage)
	return 2
}

// loadConfig reads the config named by --config or LLMGW_CONFIG, or returns
// the built-in defaults when neither is set.
func loadConfig(path string) (*config.Config, error) {
	return loadConfigWith(path, secret.New(secret.Options{}).Load())
}

// loadConfigWith is loadConfig with the secret references resolved by r.
func loadConfigWith(path string, r config.SecretResolver) (*config.Config, error) {
	if path == "" {
		path = os.Getenv("LLMGW_CONFIG")
	}
	if path == "" {
		cfg := config.Default(os.LookupEnv)
		return cfg, cfg.Validate()
	}
	return config.LoadWith(path, r)
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
	if err == nil {
		_, err = tracing.Resolve(&cfg.Tracing, os.LookupEnv)
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
	watch := fs.Bool("watch-config", true, "reload when the configuration file changes (SIGHUP and the admin API reload either way)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	// A SIGHUP's default action ends the process: it is caught from the
	// start, and one received before the reloads are watched reloads once
	// they are.
	earlyHUP := make(chan os.Signal, 1)
	signal.Notify(earlyHUP, syscall.SIGHUP)
	defer signal.Stop(earlyHUP)
	// The secret references are the process's: fetched again on an
	// interval, a changed value reloads the configuration.
	secrets := secret.New(secret.Options{})
	load := secrets.Load()
	cfg, err := loadConfigWith(*path, load)
	if err != nil {
		printProblems(stderr, err)
		return 1
	}
	secrets.Use(load)
	if *listen != "" {
		cfg.Server.Listen = *listen
	}
	// Log lines are buffered: one write for many access log lines. The
	// deferred Close writes out the last of them when serve returns, after
	// the server has drained.
	logw := observe.NewLogWriter(stderr, 0, 0)
	defer logw.Close()
	log := observe.NewLogger(logw, cfg.Server.Level())
	// The registry is the process's, created first: the server that
	// answers probes while the store opens already counts its requests.
	metrics := observe.NewRegistry()
	// The listeners open first, so that probes get answers while the
	// store opens: /startupz and /readyz answer 503 until the first
	// snapshot is in. Deferred first, the server's stop comes last, on
	// the paths that fail before it was started.
	gw, err := listenEarly(cfg, log, metrics)
	if err != nil {
		return 1
	}
	defer gw.stop()
	p, err := openProcess(cfg, log, *path, *listen, metrics, gw.srv, secrets)
	if err != nil {
		var se startError
		if errors.As(err, &se) {
			log.Error(se.msg, "err", se.err.Error())
		} else {
			printProblems(stderr, err)
		}
		return 1
	}
	defer p.close()
	log.Info("starting", "version", versionString(), "models", len(cfg.Models), "keys", len(cfg.Keys), "storage", cfg.Storage.Driver)
	gw.srv.Start(p.snap)
	p.checker.Start()
	defer watchReloads(context.Background(), p.reloader, configSource(*path), *watch, log)()
	signal.Stop(earlyHUP)
	select {
	case <-earlyHUP:
		_, _ = p.reloader.Reload(reload.TriggerSignal)
	default:
	}
	if err := gw.wait(); err != nil {
		log.Error("server failed", "err", err.Error())
		return 1
	}
	return 0
}

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
)

// target is one thing the load generator drives.
type target struct {
	// Name is direct, revproxy, nginx or gateway.
	Name string
	// URL is the chat completions endpoint.
	URL string
	// Model is the model name to send.
	Model string
	// Key is the key it is called with.
	Key  string
	proc *child // nil for direct: no process of its own
	// metrics is the gateway's /metrics URL, read for go_goroutines.
	metrics string
}

// lab is the set of processes of one harness run.
type lab struct {
	dir      string
	upstream *child
	upURL    string
	targets  []*target
	notes    []string
	redisURL string // where the gateway counts its limits; "": memory
}

// labOptions say which processes to start.
type labOptions struct {
	noNginx bool
	pprof   string // CPU profile file: run the in-process gateway build
	// noTracing leaves the gateway's tracing off, to measure its cost.
	noTracing bool
}

// startLab starts the upstream, the proxies and the gateway.
func startLab(ctx context.Context, o labOptions) (l *lab, err error) {
	dir, err := os.MkdirTemp("", "llmgw-bench-")
	if err != nil {
		return nil, err
	}
	l = &lab{dir: dir, redisURL: benchRedisURL()}
	if l.redisURL != "" {
		l.notes = append(l.notes, "gateway: rate limits counted in Redis at "+l.redisURL)
	} else {
		l.notes = append(l.notes, "gateway: rate limits counted in memory (no Redis answered)")
	}
	defer func() {
		if err != nil {
			l.close()
		}
	}()
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	if l.upstream, l.upURL, err = l.startGo(ctx, "upstream", self, "upstream"); err != nil {
		return nil, err
	}
	l.targets = append(l.targets, &target{Name: "direct", URL: l.upURL + "/v1/chat/completions", Model: "gpt-4o-mini", Key: benchStaticKey})
	rp, rpURL, err := l.startGo(ctx, "revproxy", self, "revproxy", "--target", l.upURL)
	if err != nil {
		return nil, err
	}
	l.targets = append(l.targets, &target{Name: "revproxy", URL: rpURL + "/v1/chat/completions", Model: "gpt-4o-mini", Key: benchStaticKey, proc: rp})
	if err := l.startNginx(ctx, o.noNginx); err != nil {
		return nil, err
	}
	if o.noTracing {
		l.notes = append(l.notes, "gateway: tracing off (--no-tracing)")
	} else {
		l.notes = append(l.notes, "gateway: every request traced, spans exported over OTLP/HTTP to the upstream")
	}
	return l, l.startGateway(ctx, self, o.pprof, !o.noTracing)
}

// startGo starts a Go server child listening on a free port given with
// --listen, and waits for it to answer.
func (l *lab) startGo(ctx context.Context, name string, argv ...string) (*child, string, error) {
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	c, err := startChild(l.dir, name, append(argv, "--listen", addr)...)
	if err != nil {
		return nil, "", err
	}
	url := "http://" + addr
	if err := waitHTTP(ctx, c, url+"/healthz"); err != nil {
		c.stop()
		return nil, "", err
	}
	return c, url, nil
}

func (l *lab) startNginx(ctx context.Context, skip bool) error {
	bin, err := exec.LookPath("nginx")
	if skip || err != nil {
		l.notes = append(l.notes, "nginx: skipped (not installed or --nginx=false)")
		return nil
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	conf := filepath.Join(l.dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(nginxConfig(l.dir, port, l.upURL)), 0o600); err != nil {
		return err
	}
	c, err := startChild(l.dir, "nginx", bin, "-p", l.dir, "-c", conf, "-e", filepath.Join(l.dir, "nginx-error.log"))
	if err != nil {
		return err
	}
	c.withKids = true
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	if err := waitHTTP(ctx, c, url+"/healthz"); err != nil {
		c.stop()
		return err
	}
	l.targets = append(l.targets, &target{Name: "nginx", URL: url + "/v1/chat/completions", Model: "gpt-4o-mini", proc: c})
	return nil
}

func (l *lab) startGateway(ctx context.Context, self, pprofFile string, tracing bool) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	conf := filepath.Join(l.dir, "llmgw.yaml")
	if err := os.WriteFile(conf, []byte(gatewayConfig(addr, l.upURL, l.dir, l.redisURL, tracing)), 0o600); err != nil {
		return err
	}
	storeKey, err := seedStore(ctx, l.dir)
	if err != nil {
		return err
	}
	var argv []string
	if pprofFile != "" {
		abs, err := filepath.Abs(pprofFile)
		if err != nil {
			return err
		}
		argv = []string{self, "gateway", "--config", conf, "--cpuprofile", abs}
		l.notes = append(l.notes, "gateway: in-process build with a CPU profile (--pprof) to "+abs)
	} else {
		bin, err := buildGateway(ctx, l.dir)
		if err != nil {
			return err
		}
		argv = []string{bin, "serve", "--config", conf}
	}
	// The gateway's log (the access log among it) goes to a file, as it
	// would in production behind a log shipper.
	c, err := startChild(l.dir, "gateway", argv...)
	if err != nil {
		return err
	}
	url := "http://" + addr
	if err := waitHTTP(ctx, c, url+"/healthz"); err != nil {
		c.stop()
		return err
	}
	// One process, called with either key: the store's (gateway, which
	// the budget is about) and the configuration's (gateway-static).
	l.targets = append(l.targets,
		&target{Name: "gateway", URL: url + "/v1/chat/completions", Model: benchModel, Key: storeKey, proc: c, metrics: url + "/metrics"},
		&target{Name: "gateway-static", URL: url + "/v1/chat/completions", Model: benchModel, Key: benchStaticKey, proc: c, metrics: url + "/metrics"})
	l.notes = append(l.notes, "gateway: called with a key kept in the store (SQLite); gateway-static: the same process called with a static key from its configuration")
	return nil
}

// target returns the target called name, or nil.
func (l *lab) target(name string) *target {
	for _, t := range l.targets {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// close stops every child, the gateway first so it can flush its profile.
func (l *lab) close() {
	for i := len(l.targets) - 1; i >= 0; i-- {
		l.targets[i].proc.stop()
	}
	l.upstream.stop()
	if os.Getenv("LLMGW_BENCH_KEEP") == "" {
		_ = os.RemoveAll(l.dir)
	} else {
		fmt.Fprintln(os.Stderr, "bench: kept", l.dir)
	}
}

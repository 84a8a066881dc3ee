package secret

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/llmgw/llmgw/internal/audit"
	"github.com/llmgw/llmgw/internal/config"
)

// maxFileBytes bounds a secret read from a file.
const maxFileBytes = 1 << 20

// maxPending bounds the audit records kept before the audit log is open.
const maxPending = 1000

// Audit action and actor of a fetch.
const (
	ActionFetch = "secret.fetch"
	ActorSystem = "system"
)

// Auditor records audit events; *audit.Log is one.
type Auditor interface {
	Record(ctx context.Context, e audit.Event) error
}

// Options tune a Resolver.
type Options struct {
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// HTTPClient is the client Vault is called with; default one with
	// secrets.vault.timeout as its timeout.
	HTTPClient *http.Client
	// Retries is how many times the Vault and Key Vault clients retry a
	// request that failed on the network or with a 5xx; default 2,
	// negative none.
	Retries int
	// AzureCredential replaces the default Azure credential
	// (azidentity.NewDefaultAzureCredential) of Key Vault.
	AzureCredential azcore.TokenCredential
}

// Resolver fetches secret references. It is safe for concurrent use.
type Resolver struct {
	o Options
	m metrics

	mu    sync.Mutex
	vault *vaultConn
	aws   *awsConn
	// azure holds a Key Vault client per vault URL, azureCred the
	// default credential they share.
	azure     map[string]*azsecrets.Client
	azureCred azcore.TokenCredential
	inUse     map[string]string // reference -> value in force
	secrets   config.Secrets    // the section in force
	auditor   Auditor
	pending   []audit.Event
	dropped   int
}

// New returns a Resolver.
func New(o Options) *Resolver {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Retries == 0 {
		o.Retries = 2
	}
	return &Resolver{o: o, m: newMetrics(), inUse: map[string]string{}}
}

// SetLogger sets the logger of refresh failures (serve makes the Resolver
// before its logger).
func (r *Resolver) SetLogger(l *slog.Logger) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.o.Logger = l
}

// logger returns the logger in use.
func (r *Resolver) logger() *slog.Logger {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.o.Logger
}

// Load is the resolver of one load of the configuration: it fetches and
// remembers what it fetched, for Use.
type Load struct {
	r       *Resolver
	mu      sync.Mutex
	values  map[string]string
	secrets config.Secrets
}

// Load returns a resolver for one load of the configuration.
func (r *Resolver) Load() *Load { return &Load{r: r, values: map[string]string{}} }

// ResolveSecret implements config.SecretResolver.
func (l *Load) ResolveSecret(s *config.Secrets, ref string) (string, error) {
	v, err := l.r.fetch(context.Background(), s, ref)
	if err != nil {
		return "", err
	}
	l.mu.Lock()
	l.values[ref] = v
	l.secrets = *s
	l.mu.Unlock()
	return v, nil
}

// Use makes the references of l, whose configuration is now in force,
// the ones Run fetches.
func (r *Resolver) Use(l *Load) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inUse = make(map[string]string, len(l.values))
	for k, v := range l.values {
		r.inUse[k] = v
	}
	r.secrets = l.secrets
}

// References returns how many references are in force.
func (r *Resolver) References() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.inUse)
}

// Refresh fetches every reference in force once and reports whether a
// value changed. A changed value becomes the one compared against next
// time, so that a change is reported once. A failed fetch is logged and
// audited, and changes nothing: the value in force keeps serving.
func (r *Resolver) Refresh(ctx context.Context) (changed bool) {
	r.mu.Lock()
	refs := make([]string, 0, len(r.inUse))
	for k := range r.inUse {
		refs = append(refs, k)
	}
	s := r.secrets
	r.mu.Unlock()
	for _, ref := range refs {
		v, err := r.fetch(ctx, &s, ref)
		if err != nil {
			r.logger().Warn("secret not refreshed; the value in force keeps serving", "reference", config.RefName(ref), "error", err.Error())
			continue
		}
		r.mu.Lock()
		if old, ok := r.inUse[ref]; ok && old != v {
			r.inUse[ref] = v
			changed = true
		}
		r.mu.Unlock()
	}
	return changed
}

// Interval returns the refresh interval in force.
func (r *Resolver) Interval() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if d := r.secrets.RefreshInterval.Std(); d > 0 {
		return d
	}
	return config.DefaultSecretsRefresh
}

// Run refreshes the references in force every refresh interval until ctx
// ends, calling changed after a round in which a value changed. tick,
// when not nil, replaces the timer (tests send on it).
func (r *Resolver) Run(ctx context.Context, tick <-chan time.Time, changed func()) {
	for {
		var t *time.Timer
		c := tick
		if c == nil {
			t = time.NewTimer(r.Interval())
			c = t.C
		}
		select {
		case <-ctx.Done():
			if t != nil {
				t.Stop()
			}
			return
		case <-c:
		}
		if r.References() > 0 && r.Refresh(ctx) {
			changed()
		}
	}
}

// SetAudit records the fetches made so far in a and every later one.
func (r *Resolver) SetAudit(ctx context.Context, a Auditor) {
	r.mu.Lock()
	pending, dropped := r.pending, r.dropped
	r.pending, r.dropped, r.auditor = nil, 0, a
	r.mu.Unlock()
	if dropped > 0 {
		r.logger().Warn("secret fetches made before the audit log opened were not all recorded", "dropped", dropped)
	}
	for _, e := range pending {
		if err := a.Record(ctx, e); err != nil {
			r.logger().Error("audit record of a secret fetch failed", "error", err.Error())
		}
	}
}

// record audits one fetch.
func (r *Resolver) record(ctx context.Context, ref string, err error) {
	after := map[string]string{"result": "success"}
	if err != nil {
		after = map[string]string{"result": "failure", "error": err.Error()}
	}
	e := audit.Event{Actor: ActorSystem, Action: ActionFetch, Target: config.RefName(ref), After: after}
	r.mu.Lock()
	a := r.auditor
	if a == nil {
		if len(r.pending) < maxPending {
			r.pending = append(r.pending, e)
		} else {
			r.dropped++
		}
	}
	r.mu.Unlock()
	if a != nil {
		if aerr := a.Record(ctx, e); aerr != nil {
			r.logger().Error("audit record of a secret fetch failed", "error", aerr.Error())
		}
	}
}

// fetch returns the value ref names, and audits the fetch.
func (r *Resolver) fetch(ctx context.Context, s *config.Secrets, ref string) (string, error) {
	start := time.Now()
	v, err := r.get(ctx, s, ref)
	r.m.observe(ref, time.Since(start), err)
	if err != nil {
		err = fmt.Errorf("%s: %w", config.RefName(ref), err)
	}
	r.record(ctx, ref, err)
	return v, err
}

func (r *Resolver) get(ctx context.Context, s *config.Secrets, ref string) (string, error) {
	scheme, rest := config.RefScheme(ref)
	switch scheme {
	case config.RefFile:
		return readFile(rest)
	case config.RefVault:
		vr, err := config.ParseVaultRef(rest)
		if err != nil {
			return "", err
		}
		if s.Vault == nil {
			return "", errors.New("no Vault is configured (secrets.vault)")
		}
		c, err := r.vaultFor(s)
		if err != nil {
			return "", err
		}
		return c.read(ctx, vr)
	case config.RefAWSSM:
		ar, err := config.ParseAWSRef(rest)
		if err != nil {
			return "", err
		}
		return r.readAWS(ctx, s, ar)
	case config.RefAzureKV:
		zr, err := config.ParseAzureRef(rest)
		if err != nil {
			return "", err
		}
		return r.readAzure(ctx, zr)
	case "":
		return "", errors.New("not a secret reference")
	}
	return "", fmt.Errorf("%s: references are not supported by this build", scheme)
}

// readFile reads a secret file: its content with one trailing newline
// dropped.
func readFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fileErr(err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return "", fileErr(err)
	}
	if len(b) > maxFileBytes {
		return "", fmt.Errorf("the file is larger than %d bytes", maxFileBytes)
	}
	s := strings.TrimSuffix(string(b), "\n")
	s = strings.TrimSuffix(s, "\r")
	if s == "" {
		return "", errors.New("the file is empty")
	}
	return s, nil
}

// fileErr says why a file could not be read, without repeating its path
// (the reference already names it).
func fileErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("cannot read the file: %v", pe.Err)
	}
	return fmt.Errorf("cannot read the file: %v", err)
}

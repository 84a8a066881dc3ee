package reload

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/observe"
)

// Triggers of a reload, as logged.
const (
	TriggerSignal = "signal"
	TriggerFile   = "file"
	TriggerAdmin  = "admin"
	// TriggerSecret is a referenced secret whose value changed
	// (secrets.refresh_interval, docs/secrets.md).
	TriggerSecret = "secret"
)

// Status is the running configuration and the outcome of the last reload,
// as GET /admin/v1/config answers it.
type Status struct {
	// Version counts the configurations loaded since the process started:
	// 1 for the first, one more for each successful reload.
	Version int64 `json:"version"`
	// Hash is "sha256:<hex>" of the running configuration, secrets
	// redacted (see the package documentation).
	Hash string `json:"hash"`
	// LoadedAt is when the running configuration was loaded.
	LoadedAt time.Time `json:"loaded_at"`
	// Source is the configuration file's path, or "defaults" for the
	// built-in defaults.
	Source string `json:"source"`
	// LastAttemptAt is when the last reload was tried; null before the
	// first.
	LastAttemptAt *time.Time `json:"last_attempt_at"`
	// LastTrigger is what asked for it: signal, file, admin or secret.
	LastTrigger string `json:"last_trigger,omitempty"`
	// LastResult is success or failure; absent before the first reload.
	LastResult string `json:"last_result,omitempty"`
	// LastError is why the last reload failed, every problem on a line of
	// its own; null when it succeeded.
	LastError *string `json:"last_error"`
	// LastProblems are the same problems, one per entry, each with its
	// configuration path where it has one.
	LastProblems []string `json:"last_problems,omitempty"`
}

// Options are what a Reloader needs of the process.
type Options struct {
	// Source is the configuration file's path; empty for the built-in
	// defaults, which have no file to watch.
	Source string
	// Load reads, expands and validates the configuration again.
	Load func() (*config.Config, error)
	// Apply compiles cfg and swaps it in; an error leaves the running
	// configuration serving.
	Apply func(cfg *config.Config) error
	// Metrics is where the reload metrics are registered; nil keeps them
	// unregistered.
	Metrics *observe.Registry
	// Logger receives one line per reload: INFO when it succeeded, ERROR
	// with every problem when it failed. Nil logs nothing.
	Logger *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Done, when set, is called after every reload with its outcome
	// (tests wait on it).
	Done func(Status, error)
	// Watching, when set, is called once Watch has begun watching the
	// file's directory (tests wait on it).
	Watching func()
	// Settled, when set, is called each time a quiet period of Watch
	// ends, with whether it reloaded (tests wait on it).
	Settled func(reloaded bool)
}

// Reloader reloads the configuration and reports the outcome. It is safe
// for concurrent use; reloads run one at a time.
type Reloader struct {
	o       Options
	metrics *metrics

	run     sync.Mutex // held for a whole reload
	mu      sync.Mutex // guards the fields below
	running *config.Config
	status  Status
	// read is the SHA-256 of the configuration file as the last reload
	// (or the start) read it, so that the watch does not load again what
	// a signal or the admin API has already loaded.
	read [sha256.Size]byte
}

// New returns the Reloader of a process whose running configuration is
// running (version 1).
func New(running *config.Config, o Options) *Reloader {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	src := o.Source
	if src == "" {
		src = "defaults"
	}
	r := &Reloader{o: o, metrics: newMetrics(o.Metrics), running: running}
	if o.Source != "" {
		r.read, _ = fileSum(o.Source)
	}
	r.status = Status{Version: 1, Hash: Hash(running), LoadedAt: o.Now().UTC(), Source: src}
	r.metrics.loaded(r.status)
	return r
}

// Hash returns "sha256:<hex>" of cfg encoded as JSON, its secrets redacted.
func Hash(cfg *config.Config) string {
	b, err := json.Marshal(cfg.Redacted())
	if err != nil {
		// Every field of Config encodes; this cannot happen.
		panic(fmt.Sprintf("reload: encode configuration: %v", err))
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Status returns the running configuration's version and hash and the
// outcome of the last reload.
func (r *Reloader) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.status
	st.LastProblems = append([]string(nil), st.LastProblems...)
	return st
}

// Reload loads, checks, compiles and swaps in the configuration, and
// returns the status after it. Its error, when the configuration is not
// reloaded, joins every problem (Problems lists them); the running
// configuration then keeps serving.
func (r *Reloader) Reload(trigger string) (Status, error) {
	r.run.Lock()
	defer r.run.Unlock()
	return r.reload(trigger)
}

// reloadChanged reloads, as TriggerFile, when the file's bytes differ
// from those the last reload (or the start) read, and reports whether it
// did. The comparison and the reload are one step under r.run, so that a
// change another trigger is loading meanwhile is not loaded twice.
func (r *Reloader) reloadChanged() bool {
	r.run.Lock()
	defer r.run.Unlock()
	sum, err := fileSum(r.o.Source)
	r.mu.Lock()
	read := r.read
	r.mu.Unlock()
	if err == nil && sum == read {
		return false
	}
	// An unreadable file is reloaded too, so that the failure is
	// reported; it is read again at the next event.
	_, _ = r.reload(TriggerFile)
	return true
}

// reload is Reload with r.run held.
func (r *Reloader) reload(trigger string) (Status, error) {
	now := r.o.Now().UTC()
	// The file's bytes are summed before they are loaded: a change that
	// lands in between is seen by the watch and loaded once more, never
	// missed.
	var sum [sha256.Size]byte
	if r.o.Source != "" {
		sum, _ = fileSum(r.o.Source)
	}
	cfg, err := r.o.Load()
	if err == nil {
		r.mu.Lock()
		running := r.running
		r.mu.Unlock()
		err = errors.Join(config.RestartOnly(running, cfg)...)
	}
	if err == nil {
		err = r.o.Apply(cfg)
	}
	r.mu.Lock()
	r.read = sum
	r.status.LastAttemptAt, r.status.LastTrigger = &now, trigger
	if err != nil {
		problems := Problems(err)
		msg := joinLines(problems)
		r.status.LastResult, r.status.LastError, r.status.LastProblems = resultFailure, &msg, problems
	} else {
		r.running = cfg
		r.status.Version++
		r.status.Hash, r.status.LoadedAt = Hash(cfg), now
		r.status.LastResult, r.status.LastError, r.status.LastProblems = resultSuccess, nil, nil
	}
	st := r.status
	r.mu.Unlock()
	if err != nil {
		r.metrics.failed()
		r.o.Logger.Error("configuration not reloaded; the running configuration keeps serving",
			"trigger", trigger, "version", st.Version, "problems", st.LastProblems)
	} else {
		r.metrics.loaded(st)
		r.o.Logger.Info("configuration reloaded", "trigger", trigger, "version", st.Version, "hash", st.Hash)
	}
	if r.o.Done != nil {
		r.o.Done(st, err)
	}
	return st, err
}

// Problems flattens err, and the errors it joins (errors.Join, at any
// depth), into one line per problem.
func Problems(err error) []string {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []string
		for _, e := range j.Unwrap() {
			out = append(out, Problems(e)...)
		}
		return out
	}
	return []string{err.Error()}
}

func joinLines(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += "\n"
		}
		out += s
	}
	return out
}

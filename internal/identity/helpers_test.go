package identity_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/identity"
	"github.com/llmgw/llmgw/internal/store"
	"github.com/llmgw/llmgw/internal/store/pgtest"
	"github.com/llmgw/llmgw/internal/store/postgres"
	"github.com/llmgw/llmgw/internal/store/sqlite"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// counting wraps a real store, counting the key lookups and touches that
// reach it; down makes every key lookup fail as an unreachable database
// would; gate, when set, holds each lookup until it is closed, and
// gateAfter holds its answer, read already, until it is closed.
type counting struct {
	store.Store
	lookups, touches atomic.Int64
	down             atomic.Bool
	gate, gateAfter  chan struct{}
	// tenantHold, when set, holds the next tenant read (only that one)
	// once it has read its answer.
	tenantHold atomic.Pointer[hold]
}

// hold is one held read: read is closed when the answer is read, and the
// answer is returned once gate is closed.
type hold struct{ read, gate chan struct{} }

func (c *counting) Keys() store.Keys { return countingKeys{c.Store.Keys(), c} }

func (c *counting) Tenants() store.Tenants { return countingTenants{c.Store.Tenants(), c} }

type countingTenants struct {
	store.Tenants
	c *counting
}

func (ts countingTenants) Get(ctx context.Context, idOrName string) (store.Tenant, error) {
	t, err := ts.Tenants.Get(ctx, idOrName)
	if h := ts.c.tenantHold.Swap(nil); h != nil {
		close(h.read)
		<-h.gate
	}
	return t, err
}

type countingKeys struct {
	store.Keys
	c *counting
}

var errDown = errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")

func (k countingKeys) GetByHash(ctx context.Context, h []byte) (store.Key, error) {
	k.c.lookups.Add(1)
	if k.c.gate != nil {
		<-k.c.gate
	}
	if k.c.down.Load() {
		return store.Key{}, errDown
	}
	key, err := k.Keys.GetByHash(ctx, h)
	if k.c.gateAfter != nil {
		<-k.c.gateAfter
	}
	return key, err
}

func (k countingKeys) Touch(ctx context.Context, used []store.Use) error {
	k.c.touches.Add(1)
	return k.Keys.Touch(ctx, used)
}

// drivers are the stores every test runs against.
var drivers = []struct {
	name string
	open func(t *testing.T) store.Store
}{
	{"sqlite", openSQLite},
	{"postgres", openPostgres},
}

func openSQLite(t *testing.T) store.Store {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "llmgw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openPostgres(t *testing.T) store.Store {
	return openPostgresDSN(t, pgtest.FreshSchema(t))
}

func openPostgresDSN(t *testing.T, dsn string) *postgres.Store {
	s, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// each runs f against every driver.
func each(t *testing.T, f func(t *testing.T, s store.Store)) {
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) { f(t, d.open(t)) })
	}
}

var testHasher = auth.NewHasher(auth.Derive([]byte("a server secret of at least 32 characters"), auth.PurposeKeyHash))

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// logBuffer collects log output, safe for concurrent writes.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fixture is a store with a tenant and a team, wrapped with a counter,
// and a Directory over it.
type fixture struct {
	t      *testing.T
	s      store.Store // the store unwrapped: writes by "another replica"
	c      *counting
	d      *identity.Directory
	tenant store.Tenant
	team   store.Team
	clock  *clock
	logs   *logBuffer
}

func newFixture(t *testing.T, s store.Store, o identity.Options) *fixture {
	t.Helper()
	f := &fixture{t: t, s: s, c: &counting{Store: s}, clock: newClock(), logs: &logBuffer{}}
	var err error
	if f.tenant, err = s.Tenants().Create(t.Context(), store.Tenant{Name: "acme"}); err != nil {
		t.Fatal(err)
	}
	if f.team, err = s.Teams().Create(t.Context(), store.Team{TenantID: f.tenant.ID, Name: "search"}); err != nil {
		t.Fatal(err)
	}
	f.open(o)
	return f
}

// otherTenant creates a second tenant.
func (f *fixture) otherTenant() store.Tenant {
	f.t.Helper()
	tn, err := f.s.Tenants().Create(f.t.Context(), store.Tenant{Name: "globex"})
	if err != nil {
		f.t.Fatal(err)
	}
	return tn
}

// open opens the Directory over the counted store.
func (f *fixture) open(o identity.Options) {
	f.t.Helper()
	o.Store, o.Hasher = f.c, testHasher
	if o.Now == nil {
		o.Now = f.clock.Now
	}
	if o.PollInterval == 0 {
		o.PollInterval = time.Hour // tests Sync explicitly unless they test the follower
	}
	o.Logger = slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	d, err := identity.Open(f.t.Context(), o)
	if err != nil {
		f.t.Fatal(err)
	}
	f.d = d
	f.t.Cleanup(func() { d.Close() })
}

// key creates a key in the store and returns its plaintext.
func (f *fixture) key(k store.Key) (string, store.Key) {
	f.t.Helper()
	secret, prefix := auth.NewKeySecret()
	h := testHasher.Sum(secret)
	if k.TenantID == "" {
		k.TenantID = f.tenant.ID
	}
	if k.Name == "" {
		k.Name = "key-" + prefix[len(auth.KeyPrefix):]
	}
	k.Hash, k.Prefix = h[:], prefix
	out, err := f.s.Keys().Create(f.t.Context(), k)
	if err != nil {
		f.t.Fatal(err)
	}
	return secret, out
}

func (f *fixture) sync() {
	f.t.Helper()
	if err := f.d.Sync(f.t.Context()); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) mustLookup(key string) *identity.Identity {
	f.t.Helper()
	id, err := f.d.Lookup(f.t.Context(), key)
	if err != nil {
		f.t.Fatalf("Lookup: %v", err)
	}
	return id
}

func (f *fixture) wantUnknown(key, why string) {
	f.t.Helper()
	id, err := f.d.Lookup(f.t.Context(), key)
	if !errors.Is(err, identity.ErrUnknown) || id != nil {
		f.t.Fatalf("%s: Lookup = %v, %v; want ErrUnknown", why, id, err)
	}
}

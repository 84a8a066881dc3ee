package store

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/llmgw/llmgw/internal/observe"
)

// storeBuckets are the bounds of llmgw_store_operation_duration_seconds:
// from an indexed lookup in the embedded database (tens of microseconds)
// to a slow report over the ledger.
var storeBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}

// Instrument returns s measured in reg under the driver's name: the
// duration of every call of its interfaces (Ping included, Close not) in
// llmgw_store_operation_duration_seconds{driver,op}, and the calls that
// failed in llmgw_store_errors_total{driver,op}. op is the interface and
// method, in lower case ("keys.get_by_hash"), so the labels are bounded by
// the code. A failure is an error other than the answers a caller expects
// and handles (ErrNotFound, ErrConflict, ErrInvalid) and other than the
// caller giving up (context.Canceled); a deadline that ran out counts.
// With a nil reg, s is returned as it is.
func Instrument(s Store, driver string, reg *observe.Registry) Store {
	if reg == nil {
		return s
	}
	m := &opMetrics{
		driver: driver,
		dur: observe.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "llmgw_store_operation_duration_seconds",
			Help:    "Duration of the store's operations, by driver (sqlite, postgres) and operation (interface.method).",
			Buckets: storeBuckets,
		}, []string{"driver", "op"})),
		errs: observe.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "llmgw_store_errors_total",
			Help: "Store operations that failed, by driver and operation; not found, conflict and invalid argument answers and cancelled calls are not failures.",
		}, []string{"driver", "op"})),
	}
	return &measured{
		s:         s,
		ping:      m.op("ping"),
		tenants:   newMeasuredTenants(s.Tenants(), m),
		teams:     newMeasuredTeams(s.Teams(), m),
		keys:      newMeasuredKeys(s.Keys(), m),
		changes:   newMeasuredChanges(s.Changes(), m),
		audit:     newMeasuredAudit(s.Audit(), m),
		ledger:    newMeasuredLedger(s.Ledger(), m),
		budgets:   newMeasuredBudgets(s.Budgets(), m),
		alerts:    newMeasuredAlerts(s.Alerts(), m),
		responses: newMeasuredResponses(s.Responses(), m),
	}
}

// Failure reports whether err, returned by a store, is a failure of the
// store rather than an answer the caller expects (not found, conflict,
// invalid argument) or the caller giving up (context.Canceled).
func Failure(err error) bool {
	return err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrConflict) &&
		!errors.Is(err, ErrInvalid) && !errors.Is(err, context.Canceled)
}

// opMetrics are the two metrics of one driver.
type opMetrics struct {
	driver string
	dur    *prometheus.HistogramVec
	errs   *prometheus.CounterVec
}

// op returns the series of one operation, resolved once so that a call
// only observes and, when it failed, increments.
func (m *opMetrics) op(name string) *op {
	return &op{dur: m.dur.WithLabelValues(m.driver, name), errs: m.errs.WithLabelValues(m.driver, name)}
}

// op measures one operation.
type op struct {
	dur  prometheus.Observer
	errs prometheus.Counter
}

// done records a call that started at start and returned err.
func (o *op) done(start time.Time, err error) {
	o.dur.Observe(time.Since(start).Seconds())
	if Failure(err) {
		o.errs.Inc()
	}
}

// measured is a Store whose calls are measured. Its parts are made once:
// the drivers' parts are stateless views of the store.
type measured struct {
	s         Store
	ping      *op
	tenants   measuredTenants
	teams     measuredTeams
	keys      measuredKeys
	changes   measuredChanges
	audit     measuredAudit
	ledger    measuredLedger
	budgets   measuredBudgets
	alerts    measuredAlerts
	responses measuredResponses
}

func (m *measured) Tenants() Tenants     { return m.tenants }
func (m *measured) Teams() Teams         { return m.teams }
func (m *measured) Keys() Keys           { return m.keys }
func (m *measured) Changes() Changes     { return m.changes }
func (m *measured) Audit() Audit         { return m.audit }
func (m *measured) Ledger() Ledger       { return m.ledger }
func (m *measured) Budgets() Budgets     { return m.budgets }
func (m *measured) Alerts() Alerts       { return m.alerts }
func (m *measured) Responses() Responses { return m.responses }
func (m *measured) Close() error         { return m.s.Close() }

func (m *measured) Ping(ctx context.Context) error {
	start := time.Now()
	err := m.s.Ping(ctx)
	m.ping.done(start, err)
	return err
}

// measuredTenants measures a Tenants.
type measuredTenants struct {
	s      Tenants
	create *op
	get    *op
	list   *op
	update *op
	delete *op
}

func newMeasuredTenants(s Tenants, m *opMetrics) measuredTenants {
	return measuredTenants{s: s,
		create: m.op("tenants.create"),
		get:    m.op("tenants.get"),
		list:   m.op("tenants.list"),
		update: m.op("tenants.update"),
		delete: m.op("tenants.delete"),
	}
}

func (w measuredTenants) Create(ctx context.Context, t Tenant) (Tenant, error) {
	start := time.Now()
	out, err := w.s.Create(ctx, t)
	w.create.done(start, err)
	return out, err
}

func (w measuredTenants) Get(ctx context.Context, idOrName string) (Tenant, error) {
	start := time.Now()
	out, err := w.s.Get(ctx, idOrName)
	w.get.done(start, err)
	return out, err
}

func (w measuredTenants) List(ctx context.Context, opts ListOptions) (Page[Tenant], error) {
	start := time.Now()
	out, err := w.s.List(ctx, opts)
	w.list.done(start, err)
	return out, err
}

func (w measuredTenants) Update(ctx context.Context, id string, p TenantPatch) (Tenant, error) {
	start := time.Now()
	out, err := w.s.Update(ctx, id, p)
	w.update.done(start, err)
	return out, err
}

func (w measuredTenants) Delete(ctx context.Context, id string) error {
	start := time.Now()
	err := w.s.Delete(ctx, id)
	w.delete.done(start, err)
	return err
}

// measuredTeams measures a Teams.
type measuredTeams struct {
	s      Teams
	create *op
	get    *op
	list   *op
	update *op
	delete *op
}

func newMeasuredTeams(s Teams, m *opMetrics) measuredTeams {
	return measuredTeams{s: s,
		create: m.op("teams.create"),
		get:    m.op("teams.get"),
		list:   m.op("teams.list"),
		update: m.op("teams.update"),
		delete: m.op("teams.delete"),
	}
}

func (w measuredTeams) Create(ctx context.Context, t Team) (Team, error) {
	start := time.Now()
	out, err := w.s.Create(ctx, t)
	w.create.done(start, err)
	return out, err
}

func (w measuredTeams) Get(ctx context.Context, tenantID, id string) (Team, error) {
	start := time.Now()
	out, err := w.s.Get(ctx, tenantID, id)
	w.get.done(start, err)
	return out, err
}

func (w measuredTeams) List(ctx context.Context, tenantID string, opts ListOptions) (Page[Team], error) {
	start := time.Now()
	out, err := w.s.List(ctx, tenantID, opts)
	w.list.done(start, err)
	return out, err
}

func (w measuredTeams) Update(ctx context.Context, tenantID, id string, p TeamPatch) (Team, error) {
	start := time.Now()
	out, err := w.s.Update(ctx, tenantID, id, p)
	w.update.done(start, err)
	return out, err
}

func (w measuredTeams) Delete(ctx context.Context, tenantID, id string) error {
	start := time.Now()
	err := w.s.Delete(ctx, tenantID, id)
	w.delete.done(start, err)
	return err
}

// measuredKeys measures a Keys.
type measuredKeys struct {
	s         Keys
	create    *op
	get       *op
	getByHash *op
	list      *op
	update    *op
	rotate    *op
	revoke    *op
	delete    *op
	touch     *op
}

func newMeasuredKeys(s Keys, m *opMetrics) measuredKeys {
	return measuredKeys{s: s,
		create:    m.op("keys.create"),
		get:       m.op("keys.get"),
		getByHash: m.op("keys.get_by_hash"),
		list:      m.op("keys.list"),
		update:    m.op("keys.update"),
		rotate:    m.op("keys.rotate"),
		revoke:    m.op("keys.revoke"),
		delete:    m.op("keys.delete"),
		touch:     m.op("keys.touch"),
	}
}

func (w measuredKeys) Create(ctx context.Context, k Key) (Key, error) {
	start := time.Now()
	out, err := w.s.Create(ctx, k)
	w.create.done(start, err)
	return out, err
}

func (w measuredKeys) Get(ctx context.Context, id string) (Key, error) {
	start := time.Now()
	out, err := w.s.Get(ctx, id)
	w.get.done(start, err)
	return out, err
}

func (w measuredKeys) GetByHash(ctx context.Context, h []byte) (Key, error) {
	start := time.Now()
	out, err := w.s.GetByHash(ctx, h)
	w.getByHash.done(start, err)
	return out, err
}

func (w measuredKeys) List(ctx context.Context, f KeyFilter, opts ListOptions) (Page[Key], error) {
	start := time.Now()
	out, err := w.s.List(ctx, f, opts)
	w.list.done(start, err)
	return out, err
}

func (w measuredKeys) Update(ctx context.Context, id string, p KeyPatch) (Key, error) {
	start := time.Now()
	out, err := w.s.Update(ctx, id, p)
	w.update.done(start, err)
	return out, err
}

func (w measuredKeys) Rotate(ctx context.Context, id string, r Rotation) (Key, error) {
	start := time.Now()
	out, err := w.s.Rotate(ctx, id, r)
	w.rotate.done(start, err)
	return out, err
}

func (w measuredKeys) Revoke(ctx context.Context, id string) (Key, error) {
	start := time.Now()
	out, err := w.s.Revoke(ctx, id)
	w.revoke.done(start, err)
	return out, err
}

func (w measuredKeys) Delete(ctx context.Context, id string) error {
	start := time.Now()
	err := w.s.Delete(ctx, id)
	w.delete.done(start, err)
	return err
}

func (w measuredKeys) Touch(ctx context.Context, used []Use) error {
	start := time.Now()
	err := w.s.Touch(ctx, used)
	w.touch.done(start, err)
	return err
}

// measuredChanges measures a Changes.
type measuredChanges struct {
	s     Changes
	since *op
	head  *op
}

func newMeasuredChanges(s Changes, m *opMetrics) measuredChanges {
	return measuredChanges{s: s,
		since: m.op("changes.since"),
		head:  m.op("changes.head"),
	}
}

func (w measuredChanges) Since(ctx context.Context, after int64, limit int) ([]Change, int64, error) {
	start := time.Now()
	out0, out1, err := w.s.Since(ctx, after, limit)
	w.since.done(start, err)
	return out0, out1, err
}

func (w measuredChanges) Head(ctx context.Context) (int64, error) {
	start := time.Now()
	out, err := w.s.Head(ctx)
	w.head.done(start, err)
	return out, err
}

// measuredAudit measures a Audit.
type measuredAudit struct {
	s      Audit
	append *op
	list   *op
	head   *op
	scan   *op
}

func newMeasuredAudit(s Audit, m *opMetrics) measuredAudit {
	return measuredAudit{s: s,
		append: m.op("audit.append"),
		list:   m.op("audit.list"),
		head:   m.op("audit.head"),
		scan:   m.op("audit.scan"),
	}
}

func (w measuredAudit) Append(ctx context.Context, rec AuditRecord, seal func(rec *AuditRecord) []byte) (AuditRecord, error) {
	start := time.Now()
	out, err := w.s.Append(ctx, rec, seal)
	w.append.done(start, err)
	return out, err
}

func (w measuredAudit) List(ctx context.Context, f AuditFilter, opts ListOptions) (Page[AuditRecord], error) {
	start := time.Now()
	out, err := w.s.List(ctx, f, opts)
	w.list.done(start, err)
	return out, err
}

func (w measuredAudit) Head(ctx context.Context) (int64, []byte, error) {
	start := time.Now()
	out0, out1, err := w.s.Head(ctx)
	w.head.done(start, err)
	return out0, out1, err
}

func (w measuredAudit) Scan(ctx context.Context, after int64, limit int) ([]AuditRecord, error) {
	start := time.Now()
	out, err := w.s.Scan(ctx, after, limit)
	w.scan.done(start, err)
	return out, err
}

// measuredLedger measures a Ledger.
type measuredLedger struct {
	s         Ledger
	insert    *op
	scan      *op
	spend     *op
	aggregate *op
}

func newMeasuredLedger(s Ledger, m *opMetrics) measuredLedger {
	return measuredLedger{s: s,
		insert:    m.op("ledger.insert"),
		scan:      m.op("ledger.scan"),
		spend:     m.op("ledger.spend"),
		aggregate: m.op("ledger.aggregate"),
	}
}

func (w measuredLedger) Insert(ctx context.Context, recs []UsageRecord) (int, error) {
	start := time.Now()
	out, err := w.s.Insert(ctx, recs)
	w.insert.done(start, err)
	return out, err
}

func (w measuredLedger) Scan(ctx context.Context, from, to time.Time, opts ListOptions) (Page[UsageRecord], error) {
	start := time.Now()
	out, err := w.s.Scan(ctx, from, to, opts)
	w.scan.done(start, err)
	return out, err
}

func (w measuredLedger) Spend(ctx context.Context, f SpendFilter) (int64, error) {
	start := time.Now()
	out, err := w.s.Spend(ctx, f)
	w.spend.done(start, err)
	return out, err
}

func (w measuredLedger) Aggregate(ctx context.Context, q UsageQuery) ([]UsageGroup, bool, error) {
	start := time.Now()
	out0, out1, err := w.s.Aggregate(ctx, q)
	w.aggregate.done(start, err)
	return out0, out1, err
}

// measuredBudgets measures a Budgets.
type measuredBudgets struct {
	s       Budgets
	reserve *op
	settle  *op
	spent   *op
}

func newMeasuredBudgets(s Budgets, m *opMetrics) measuredBudgets {
	return measuredBudgets{s: s,
		reserve: m.op("budgets.reserve"),
		settle:  m.op("budgets.settle"),
		spent:   m.op("budgets.spent"),
	}
}

func (w measuredBudgets) Reserve(ctx context.Context, id string, est int64, items []BudgetItem, expiresAt, now time.Time) (BudgetDecision, error) {
	start := time.Now()
	out, err := w.s.Reserve(ctx, id, est, items, expiresAt, now)
	w.reserve.done(start, err)
	return out, err
}

func (w measuredBudgets) Settle(ctx context.Context, id string, actual int64, items []BudgetItem) ([]int64, error) {
	start := time.Now()
	out, err := w.s.Settle(ctx, id, actual, items)
	w.settle.done(start, err)
	return out, err
}

func (w measuredBudgets) Spent(ctx context.Context, c BudgetCount, now time.Time) (int64, int64, error) {
	start := time.Now()
	out0, out1, err := w.s.Spent(ctx, c, now)
	w.spent.done(start, err)
	return out0, out1, err
}

// measuredAlerts measures a Alerts.
type measuredAlerts struct {
	s        Alerts
	claim    *op
	due      *op
	record   *op
	list     *op
	attempts *op
}

func newMeasuredAlerts(s Alerts, m *opMetrics) measuredAlerts {
	return measuredAlerts{s: s,
		claim:    m.op("alerts.claim"),
		due:      m.op("alerts.due"),
		record:   m.op("alerts.record"),
		list:     m.op("alerts.list"),
		attempts: m.op("alerts.attempts"),
	}
}

func (w measuredAlerts) Claim(ctx context.Context, ev AlertEvent) (bool, error) {
	start := time.Now()
	out, err := w.s.Claim(ctx, ev)
	w.claim.done(start, err)
	return out, err
}

func (w measuredAlerts) Due(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Delivery, error) {
	start := time.Now()
	out, err := w.s.Due(ctx, now, lease, limit)
	w.due.done(start, err)
	return out, err
}

func (w measuredAlerts) Record(ctx context.Context, a Attempt) error {
	start := time.Now()
	err := w.s.Record(ctx, a)
	w.record.done(start, err)
	return err
}

func (w measuredAlerts) List(ctx context.Context, f DeliveryFilter, opts ListOptions) (Page[Delivery], error) {
	start := time.Now()
	out, err := w.s.List(ctx, f, opts)
	w.list.done(start, err)
	return out, err
}

func (w measuredAlerts) Attempts(ctx context.Context, deliveryID string) ([]Attempt, error) {
	start := time.Now()
	out, err := w.s.Attempts(ctx, deliveryID)
	w.attempts.done(start, err)
	return out, err
}

// measuredResponses measures a Responses.
type measuredResponses struct {
	s      Responses
	put    *op
	get    *op
	chain  *op
	delete *op
	purge  *op
}

func newMeasuredResponses(s Responses, m *opMetrics) measuredResponses {
	return measuredResponses{s: s,
		put:    m.op("responses.put"),
		get:    m.op("responses.get"),
		chain:  m.op("responses.chain"),
		delete: m.op("responses.delete"),
		purge:  m.op("responses.purge"),
	}
}

func (w measuredResponses) Put(ctx context.Context, r StoredResponse) error {
	start := time.Now()
	err := w.s.Put(ctx, r)
	w.put.done(start, err)
	return err
}

func (w measuredResponses) Get(ctx context.Context, tenantID, id string, now time.Time) (StoredResponse, error) {
	start := time.Now()
	out, err := w.s.Get(ctx, tenantID, id, now)
	w.get.done(start, err)
	return out, err
}

func (w measuredResponses) Chain(ctx context.Context, tenantID, id string, now time.Time, max int) ([]StoredResponse, error) {
	start := time.Now()
	out, err := w.s.Chain(ctx, tenantID, id, now, max)
	w.chain.done(start, err)
	return out, err
}

func (w measuredResponses) Delete(ctx context.Context, tenantID, id string) error {
	start := time.Now()
	err := w.s.Delete(ctx, tenantID, id)
	w.delete.done(start, err)
	return err
}

func (w measuredResponses) Purge(ctx context.Context, now time.Time, limit int) (int, error) {
	start := time.Now()
	out, err := w.s.Purge(ctx, now, limit)
	w.purge.done(start, err)
	return out, err
}

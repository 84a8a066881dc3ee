package store

import (
	"context"
	"fmt"
	"time"
)

// UsageRecord is one request in the usage ledger.
type UsageRecord struct {
	// RequestID identifies the request; the ledger holds at most one
	// record per ID, so a record written twice (replayed from a spool
	// after a crash) counts once.
	RequestID string
	At        time.Time
	TenantID  string // the store's ID, or a static key's tenant name
	Tenant    string // the tenant's name
	TeamID    string
	KeyID     string // the store's ID; "" for static keys and JWTs
	KeyName   string
	Model     string // the name the client asked for
	Provider  string // the provider name that served it
	// UpstreamModel is the upstream's own id of the model that served it.
	UpstreamModel string
	// Tokens: prompt tokens include cached and cache-write ones,
	// completion tokens reasoning ones.
	InputTokens      int64
	OutputTokens     int64
	CachedTokens     int64
	CacheWriteTokens int64
	ReasoningTokens  int64
	// CostPico is the cost in picodollars (1e-12 USD); CostKnown is false
	// when the model has no price (then CostPico is 0 and means nothing).
	CostPico  int64
	CostKnown bool
	// LatencyMicros is the whole request's duration, TTFTMicros the time
	// to the first token of a stream (0 when not streamed).
	LatencyMicros int64
	TTFTMicros    int64
	Status        int
	Stream        bool
	// Cache is "hit", "miss" or "" when no cache applied.
	Cache string
	// UsageEstimated is true when some of the tokens are the gateway's
	// count rather than the upstream's report: a stream that ended early
	// (client gone, upstream cut) before the upstream reported them is
	// billed for the prompt and for the output it delivered.
	UsageEstimated bool
}

// Ledger is the usage ledger: append-only, idempotent by request ID.
type Ledger interface {
	// Insert stores records in one transaction and returns how many were
	// new; a record whose RequestID is already stored is skipped.
	Insert(ctx context.Context, recs []UsageRecord) (int, error)
	// Scan returns up to limit records with At in [from, to), oldest
	// first, after the record with the cursor's request ID.
	Scan(ctx context.Context, from, to time.Time, opts ListOptions) (Page[UsageRecord], error)
	// Spend sums the known costs (picodollars) of the records f selects,
	// in one indexed query: what a budget's period spent before its
	// count existed.
	Spend(ctx context.Context, f SpendFilter) (int64, error)
	Aggregator
}

// The dimensions usage can be grouped by.
const (
	GroupTenant   = "tenant"
	GroupTeam     = "team"
	GroupKey      = "key"
	GroupModel    = "model"
	GroupProvider = "provider"
	GroupDay      = "day"
	GroupHour     = "hour"
)

// UsageQuery asks for usage summed by group.
type UsageQuery struct {
	// GroupBy names the dimensions, each once (Group* constants); day
	// and hour are UTC buckets and exclude each other.
	GroupBy []string
	// From (inclusive) and To (exclusive) bound the records' times.
	From, To time.Time
	// TenantID, KeyID and Model filter when not empty.
	TenantID, KeyID, Model string
	// Limit bounds the groups returned; <= 0 means DefaultLimit, at most
	// MaxUsageGroups.
	Limit int
}

// MaxUsageGroups bounds an aggregation's answer.
const MaxUsageGroups = 10000

// UsageGroup is the usage of one group. Only the fields of the grouped
// dimensions are set.
type UsageGroup struct {
	TenantID, Tenant string
	TeamID           string
	KeyID, KeyName   string
	Model, Provider  string
	// Bucket is the start of the group's day or hour, UTC.
	Bucket time.Time

	Requests, InputTokens, OutputTokens, CachedTokens, CacheWriteTokens, ReasoningTokens int64
	// CostPico sums the known costs; UnpricedRequests counts the requests
	// whose cost is unknown.
	CostPico         int64
	UnpricedRequests int64
}

// Aggregator sums the ledger by group.
type Aggregator interface {
	// Aggregate answers q ordered by its groups; truncated is true when
	// more groups than the limit matched.
	Aggregate(ctx context.Context, q UsageQuery) (groups []UsageGroup, truncated bool, err error)
}

// CheckUsageQuery checks q's dimensions: known, each once, not both day
// and hour.
func CheckUsageQuery(q *UsageQuery) error {
	seen := map[string]bool{}
	for _, g := range q.GroupBy {
		switch g {
		case GroupTenant, GroupTeam, GroupKey, GroupModel, GroupProvider, GroupDay, GroupHour:
		default:
			return fmt.Errorf("%w: unknown group %q (want tenant, team, key, model, provider, day or hour)", ErrInvalid, g)
		}
		if seen[g] {
			return fmt.Errorf("%w: group %q given twice", ErrInvalid, g)
		}
		seen[g] = true
	}
	if seen[GroupDay] && seen[GroupHour] {
		return fmt.Errorf("%w: group by day or by hour, not both", ErrInvalid)
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return fmt.Errorf("%w: from must be before to", ErrInvalid)
	}
	return nil
}

// SpendFilter selects the records Ledger.Spend sums: those of one tenant,
// team or key (exactly one ID set) with At in [From, To); a zero From has
// no lower bound, a zero To no upper one.
type SpendFilter struct {
	TenantID, TeamID, KeyID string
	From, To                time.Time
}

// CheckSpendFilter checks that f names exactly one ID and an ordered span.
func CheckSpendFilter(f *SpendFilter) error {
	n := 0
	for _, id := range []string{f.TenantID, f.TeamID, f.KeyID} {
		if id != "" {
			n++
			if len(id) > MaxUsageText || !Text(id) {
				return fmt.Errorf("%w: spend filter IDs must be at most %d bytes of UTF-8 without NUL", ErrInvalid, MaxUsageText)
			}
		}
	}
	if n != 1 {
		return fmt.Errorf("%w: a spend filter names exactly one of a tenant, team or key", ErrInvalid)
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return fmt.Errorf("%w: from must be before to", ErrInvalid)
	}
	return nil
}

// SpendSQL is the condition and arguments of f (which CheckSpendFilter
// accepted) for a dialect, its placeholders numbered from 1.
func SpendSQL(f SpendFilter, d Dialect) (string, []any) {
	var col, id string
	switch {
	case f.KeyID != "":
		col, id = "key_id", f.KeyID
	case f.TeamID != "":
		col, id = "team_id", f.TeamID
	default:
		col, id = "tenant_id", f.TenantID
	}
	where := col + " = " + d.Placeholder(1) + " AND cost_known"
	args := []any{id}
	if !f.From.IsZero() {
		args = append(args, d.Time(f.From))
		where += " AND at >= " + d.Placeholder(len(args))
	}
	if !f.To.IsZero() {
		args = append(args, d.Time(f.To))
		where += " AND at < " + d.Placeholder(len(args))
	}
	return where, args
}

package store

import (
	"context"
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
}

// Ledger is the usage ledger: append-only, idempotent by request ID.
type Ledger interface {
	// Insert stores records in one transaction and returns how many were
	// new; a record whose RequestID is already stored is skipped.
	Insert(ctx context.Context, recs []UsageRecord) (int, error)
	// Scan returns up to limit records with At in [from, to), oldest
	// first, after the record with the cursor's request ID.
	Scan(ctx context.Context, from, to time.Time, opts ListOptions) (Page[UsageRecord], error)
}

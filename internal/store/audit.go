package store

import (
	"context"
	"time"
)

// AuditRecord is one entry of the audit log. The store assigns Seq and
// keeps the record as given; Hash is computed by the caller's seal
// function, so that the store never holds the chain's key.
type AuditRecord struct {
	// Seq numbers the records 1, 2, 3, ... without gaps, in the order
	// they were appended.
	Seq int64
	// At is when the action happened, to the microsecond, in UTC.
	At time.Time
	// Actor is who acted: "admin_token", "token:<name>", "key:<id>",
	// "cli", or "gateway" for events the gateway records itself.
	Actor string
	// Action is what was done, such as "key.create" or "auth.failure".
	Action string
	// TenantID is the tenant the target belongs to; "" for global actions.
	TenantID string
	// Target is the ID (or, for aggregated events, the subject) acted on.
	Target string
	// Source is the client's address, RequestID the request's x-request-id.
	Source    string
	RequestID string
	// Before and After are the target's JSON before and after the action,
	// with every secret left out; nil when there is none.
	Before []byte
	After  []byte
	// Count is how many events an aggregated record stands for (1 for
	// others).
	Count int64
	// Prev is the Hash of the record before (nil for the first), Hash this
	// record's seal over Prev and its content.
	Prev []byte
	Hash []byte
}

// AuditFilter narrows Audit.List; an empty field does not filter, and a
// zero time bounds nothing. From is inclusive, To exclusive.
type AuditFilter struct {
	TenantID string
	Actor    string
	Action   string
	From, To time.Time
}

// Audit is the append-only audit log.
type Audit interface {
	// Append stores rec as the next record. Appends are serialised (across
	// replicas too), so the chain never forks: inside the append the store
	// sets rec.Seq to the last record's Seq plus one and rec.Prev to the
	// last record's Hash (nil for the first), truncates rec.At to the
	// microsecond in UTC, then calls seal(&rec) and stores its result as
	// rec.Hash. It returns the record as stored.
	Append(ctx context.Context, rec AuditRecord, seal func(rec *AuditRecord) []byte) (AuditRecord, error)
	// List pages through the records that match f, oldest first; the
	// cursor is opaque.
	List(ctx context.Context, f AuditFilter, opts ListOptions) (Page[AuditRecord], error)
	// Head returns the last record's Seq and Hash as the store last
	// appended them (0 and nil for an empty log). They are kept apart
	// from the records, so that a verifier can tell a log cut at its end
	// from a whole one.
	Head(ctx context.Context) (int64, []byte, error)
	// Scan returns up to limit records with Seq above after, in order:
	// the whole log, for verification. A limit <= 0 means DefaultLimit.
	Scan(ctx context.Context, after int64, limit int) ([]AuditRecord, error)
}

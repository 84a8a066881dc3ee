package config

import "time"

// Idempotency is how requests that carry an Idempotency-Key header are
// run once and answered again (docs/idempotency.md).
type Idempotency struct {
	// Enabled turns Idempotency-Key handling on (the default) or off; off,
	// the header is ignored and every request runs.
	Enabled *bool `yaml:"enabled,omitempty" json:"enabled,omitempty"`
	// TTL is how long a finished response is kept for replay; default
	// "24h", at least "1s", at most "720h".
	TTL Duration `yaml:"ttl,omitempty" json:"ttl,omitempty"`
	// MaxRecordBytes is the largest response kept, headers included;
	// default 1 MiB. A larger one is not kept: a retry with its key
	// runs the request again.
	MaxRecordBytes int64 `yaml:"max_record_bytes,omitempty" json:"max_record_bytes,omitempty"`
	// MaxBytes bounds the responses kept in this replica's memory
	// together, the oldest dropped first; default 64 MiB. Only without
	// redis.url: with it, responses are kept in Redis.
	MaxBytes int64 `yaml:"max_bytes,omitempty" json:"max_bytes,omitempty"`
}

// Defaults of the idempotency section.
const (
	DefaultIdempotencyTTL         = 24 * time.Hour
	DefaultIdempotencyRecordBytes = 1 << 20
	DefaultIdempotencyMaxBytes    = 64 << 20
	// MaxIdempotencyTTL is the longest idempotency.ttl accepted.
	MaxIdempotencyTTL = 30 * 24 * time.Hour
)

// On reports whether Idempotency-Key handling is enabled.
func (i *Idempotency) On() bool { return i.Enabled == nil || *i.Enabled }

// applyDefaults fills the unset settings of an enabled section. MaxBytes
// stays 0 when unset, and means DefaultIdempotencyMaxBytes where it
// applies (without Redis), so that setting redis.url later does not make
// it a setting without effect.
func (i *Idempotency) applyDefaults() {
	if !i.On() {
		return
	}
	setDefault(&i.TTL, Duration(DefaultIdempotencyTTL))
	setDefault(&i.MaxRecordBytes, DefaultIdempotencyRecordBytes)
}

// MemoryBytes returns the bound of the responses kept in memory.
func (i *Idempotency) MemoryBytes() int64 {
	if i.MaxBytes == 0 {
		return DefaultIdempotencyMaxBytes
	}
	return i.MaxBytes
}

// validate checks the section; redis says whether redis.url is set.
func (i *Idempotency) validate(p *problems, redis bool) {
	if !i.On() {
		if i.TTL != 0 || i.MaxRecordBytes != 0 || i.MaxBytes != 0 {
			p.add("idempotency.enabled", "is false: remove idempotency.ttl, max_record_bytes and max_bytes, which then have no effect")
		}
		return
	}
	switch {
	case i.TTL < Duration(time.Second):
		p.add("idempotency.ttl", "must be at least 1s")
	case i.TTL > Duration(MaxIdempotencyTTL):
		p.add("idempotency.ttl", "must be at most 720h")
	}
	if i.MaxRecordBytes <= 0 {
		p.add("idempotency.max_record_bytes", "must be > 0")
	}
	switch {
	case i.MaxBytes < 0:
		p.add("idempotency.max_bytes", "must be > 0")
	case redis && i.MaxBytes != 0:
		p.add("idempotency.max_bytes", "has no effect with redis.url set (responses are kept in Redis): remove it")
	case !redis && i.MemoryBytes() < i.MaxRecordBytes:
		p.add("idempotency.max_bytes", "must be at least idempotency.max_record_bytes (%d)", i.MaxRecordBytes)
	}
}

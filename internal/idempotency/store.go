package idempotency

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/llmgw/llmgw/internal/llm"
)

// Defaults of Options.
const (
	DefaultTTL            = 24 * time.Hour
	DefaultMaxRecordBytes = 1 << 20
	DefaultMaxBytes       = 64 << 20
	DefaultLease          = 10 * time.Second
	DefaultTimeout        = 50 * time.Millisecond
	// DefaultPrefix begins every Redis key; its hash tag keeps them on one
	// shard of a Redis Cluster.
	DefaultPrefix = "{llmgw}:idem:"
)

// storeTimeout bounds the keeping of a result, which may be large, in
// Redis.
const storeTimeout = 2 * time.Second

// Poll intervals of a request waiting for a result kept by another
// replica: doubled from the first to the last.
const (
	firstPoll = 10 * time.Millisecond
	lastPoll  = 500 * time.Millisecond
)

// ErrTruncated ends a joined response whose body outgrew the largest
// record after part of it had been copied: the rest cannot be given.
var ErrTruncated = errors.New("idempotency: the joined response outgrew the largest record")

// backend keeps leases and results: in this process's memory, or in Redis
// for every replica.
type backend interface {
	// claim takes the lead on id with lease, and reports true; or false
	// and the lease or result already there.
	claim(ctx context.Context, id ID, lease []byte) (bool, entry, error)
	// get returns the lease or result of id, and false if there is none.
	get(ctx context.Context, id ID) (entry, bool, error)
	// renew extends lease while it is still held.
	renew(ctx context.Context, id ID, lease []byte) error
	// release gives up lease while it is still held.
	release(ctx context.Context, id ID, lease []byte) error
	// store keeps res in place of lease.
	store(ctx context.Context, id ID, lease []byte, res *Result) error
}

// Options configure a Store.
type Options struct {
	// TTL is how long a result is kept; default DefaultTTL.
	TTL time.Duration
	// MaxRecordBytes is the largest response kept; default
	// DefaultMaxRecordBytes.
	MaxRecordBytes int64
	// MaxBytes bounds the results kept in memory together; default
	// DefaultMaxBytes. Unused with Redis.
	MaxBytes int64
	// Redis, when set, keeps leases and results there, shared by every
	// replica using it.
	Redis redis.UniversalClient
	// Prefix begins every Redis key; default DefaultPrefix.
	Prefix string
	// Lease is how long a lead held in Redis lasts unless renewed; it is
	// renewed every third of it while the request runs. Default
	// DefaultLease.
	Lease time.Duration
	// Timeout bounds each call to Redis but the keeping of a result;
	// default DefaultTimeout.
	Timeout time.Duration
	// FailClosed refuses keyed requests with 503 while Redis does not
	// answer; otherwise they are served, each replica joining only its own
	// requests, and nothing is kept.
	FailClosed bool
	// Logger receives a warning for each failure of Redis; nil logs
	// nothing.
	Logger *slog.Logger
	// Now is the clock of results kept in memory; default time.Now.
	Now func() time.Time
}

// Store runs requests that carry an Idempotency-Key: it picks a leader for
// each key, lets the others join it, and keeps results. It is process
// state, safe for concurrent use.
type Store struct {
	b          backend
	redis      bool
	mu         sync.Mutex
	flights    map[ID]*flight
	maxRecord  int64
	lease      time.Duration
	timeout    time.Duration
	failClosed bool
	log        *slog.Logger
}

// New returns a store configured by o.
func New(o Options) *Store {
	setDefault(&o.TTL, DefaultTTL)
	setDefault(&o.MaxRecordBytes, DefaultMaxRecordBytes)
	setDefault(&o.MaxBytes, DefaultMaxBytes)
	setDefault(&o.Prefix, DefaultPrefix)
	setDefault(&o.Lease, DefaultLease)
	setDefault(&o.Timeout, DefaultTimeout)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{flights: make(map[ID]*flight), maxRecord: o.MaxRecordBytes, lease: o.Lease, timeout: o.Timeout,
		failClosed: o.FailClosed, log: o.Logger}
	if o.Redis != nil {
		s.b, s.redis = &shared{c: o.Redis, prefix: o.Prefix, lease: o.Lease, ttl: o.TTL}, true
	} else {
		s.b = newMemory(o.TTL, o.MaxBytes, o.Now)
	}
	return s
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// conflict is the error of a key reused for another request.
func conflict() error {
	return &llm.Error{Kind: llm.KindIdempotencyConflict, Param: Header,
		Message: "this Idempotency-Key was already used with a different request (another body or route); use a new key for a new request"}
}

// unavailable is the error of a key that cannot be looked up.
func unavailable(err error) error {
	return llm.Wrap(llm.KindUnavailable, err, "the gateway's idempotency store is unavailable; retry shortly")
}

// Begin decides the part of a request with the key id and fingerprint fp:
// it leads (it runs, through Lead), or it joins one that ran or runs
// (Join). A key used before with another fingerprint is a 409 conflict.
func (s *Store) Begin(ctx context.Context, id ID, fp Fingerprint) (*Lead, *Join, error) {
	for {
		s.mu.Lock()
		f := s.flights[id]
		if f == nil {
			break // with s.mu held
		}
		s.mu.Unlock()
		if f.fp == fp && f.void() {
			// Ended with nothing to share, and about to be removed:
			// joining it again would only end again at once. Begin
			// again once it is gone.
			select {
			case <-f.gone:
				continue
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			}
		}
		if f.fp == fp {
			return nil, &Join{f: f}, nil
		}
		// Another request with the key is under way here: a conflict once
		// it holds the key, which it may yet find held elsewhere.
		select {
		case <-f.claimed:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
		s.mu.Lock()
		held := s.flights[id] == f
		s.mu.Unlock()
		if held {
			return nil, nil, conflict()
		}
	}
	f := newFlight(fp)
	s.flights[id] = f
	s.mu.Unlock()
	defer close(f.claimed)
	lease := encodeLease(fp, token())
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	ok, cur, err := s.b.claim(cctx, id, lease)
	cancel()
	switch {
	case err != nil && s.failClosed:
		s.abandon(id, f)
		s.log.Warn("idempotency store failed; refusing keyed requests", "err", llm.Clip(err.Error()))
		s.forgetLease(id, lease)
		return nil, nil, unavailable(err)
	case err != nil:
		s.log.Warn("idempotency store failed; serving without keeping the result", "err", llm.Clip(err.Error()))
		return s.lead(id, f, lease, false), nil, nil
	case ok:
		return s.lead(id, f, lease, true), nil, nil
	}
	s.abandon(id, f)
	if cur.fp != fp {
		return nil, nil, conflict()
	}
	if cur.res != nil {
		return nil, &Join{res: cur.res}, nil
	}
	return nil, &Join{s: s, id: id, fp: fp}, nil
}

// abandon ends the flight f of id with nothing to share: its joiners begin
// again.
func (s *Store) abandon(id ID, f *flight) {
	f.end()
	s.forget(id, f)
}

// forgetLease deletes lease, should a claim that failed to answer have
// taken it after all: otherwise it would hold the key until it expired.
func (s *Store) forgetLease(id ID, lease []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	_ = s.b.release(ctx, id, lease)
}

// forget removes the flight f of id, unless another has replaced it.
func (s *Store) forget(id ID, f *flight) {
	s.mu.Lock()
	if s.flights[id] == f {
		delete(s.flights, id)
		close(f.gone)
	}
	s.mu.Unlock()
}

// lead returns the Lead of flight f; claimed says whether the backend
// holds its lease (when it failed to answer, the request runs with only
// its local joiners, and nothing is kept).
func (s *Store) lead(id ID, f *flight, lease []byte, claimed bool) *Lead {
	l := &Lead{s: s, id: id, f: f, lease: lease, claimed: claimed}
	if claimed && s.redis {
		l.stop, l.stopped = make(chan struct{}), make(chan struct{})
		go l.renew()
	}
	return l
}

// token returns a random lease holder's name.
func token() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

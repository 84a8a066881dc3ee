package idempotency

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// shared keeps leases and results in Redis, seen by every replica that
// uses it. A lease expires unless its holder renews it; a result expires
// ttl after it is kept. Each change is one script, so that a leader whose
// lease has passed to another never overwrites or deletes the other's.
type shared struct {
	c      redis.UniversalClient
	prefix string
	lease  time.Duration
	ttl    time.Duration
}

// claimScript takes the lead (1) or answers the value in place.
var claimScript = redis.NewScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return redis.call('GET', KEYS[1])
`)

// renewScript extends a lease still held.
var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`)

// releaseScript deletes a lease still held.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// storeScript puts a result in place of a lease still held, or of a lease
// that expired with nobody taking it since.
var storeScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == false or v == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
`)

func (s *shared) key(id ID) string { return s.prefix + string(id) }

func (s *shared) claim(ctx context.Context, id ID, lease []byte) (bool, entry, error) {
	v, err := claimScript.Run(ctx, s.c, []string{s.key(id)}, lease, s.lease.Milliseconds()).Result()
	if err != nil {
		return false, entry{}, fmt.Errorf("idempotency: redis claim: %w", err)
	}
	switch v := v.(type) {
	case int64:
		return true, entry{}, nil
	case string:
		e, err := decode([]byte(v))
		return false, e, err
	}
	return false, entry{}, errCorrupt
}

func (s *shared) get(ctx context.Context, id ID) (entry, bool, error) {
	b, err := s.c.Get(ctx, s.key(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return entry{}, false, nil
	}
	if err != nil {
		return entry{}, false, fmt.Errorf("idempotency: redis get: %w", err)
	}
	e, err := decode(b)
	return e, err == nil, err
}

func (s *shared) renew(ctx context.Context, id ID, lease []byte) error {
	return renewScript.Run(ctx, s.c, []string{s.key(id)}, lease, s.lease.Milliseconds()).Err()
}

func (s *shared) release(ctx context.Context, id ID, lease []byte) error {
	return releaseScript.Run(ctx, s.c, []string{s.key(id)}, lease).Err()
}

func (s *shared) store(ctx context.Context, id ID, lease []byte, res *Result) error {
	e, err := decode(lease)
	if err != nil {
		return err
	}
	return storeScript.Run(ctx, s.c, []string{s.key(id)}, lease, encodeResult(e.fp, res), s.ttl.Milliseconds()).Err()
}

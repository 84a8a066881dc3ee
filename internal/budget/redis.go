package budget

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis keeps budgets in Redis, shared by every replica.
type Redis struct {
	c      redis.UniversalClient
	prefix string
	ttl    time.Duration
	now    func() time.Time
}

var _ Budgeter = (*Redis)(nil)

// RedisOptions tune NewRedis.
type RedisOptions struct {
	// Prefix begins every key; default "{llmgw}:bud:".
	Prefix string
	// ReservationTTL is how long a reservation holds at most, should its
	// replica die before settling; default 15 minutes.
	ReservationTTL time.Duration
	// Now names the periods; default time.Now.
	Now func() time.Time
}

// NewRedis returns a budgeter counting in c.
func NewRedis(c redis.UniversalClient, o RedisOptions) *Redis {
	if o.Prefix == "" {
		o.Prefix = "{llmgw}:bud:"
	}
	if o.ReservationTTL <= 0 {
		o.ReservationTTL = 15 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Redis{c: c, prefix: o.Prefix, ttl: o.ReservationTTL, now: o.Now}
}

// reserveScript: KEYS are two per budget (the counts hash with fields
// "spent" and "reserved", the reservations' sorted set by expiry);
// ARGV are the estimate, the reservation ID, its TTL (ms), then per budget
// its limit and its keys' TTL (ms, 0: none). Expired reservations are
// released first. It answers {1} or {0, index, spent, reserved}.
var reserveScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local est = tonumber(ARGV[1])
local id = ARGV[2]
local ttl = tonumber(ARGV[3])
local n = #KEYS / 2
local function release_expired(h, z)
  local gone = redis.call('ZRANGEBYSCORE', z, '-inf', now)
  for _, rid in ipairs(gone) do
    local amt = tonumber(redis.call('HGET', h, 'r:' .. rid) or '0')
    redis.call('HINCRBY', h, 'reserved', -amt)
    redis.call('HDEL', h, 'r:' .. rid)
    redis.call('ZREM', z, rid)
  end
end
for i = 1, n do
  local h, z = KEYS[2 * i - 1], KEYS[2 * i]
  release_expired(h, z)
  local limit = tonumber(ARGV[3 + 2 * i - 1])
  local spent = tonumber(redis.call('HGET', h, 'spent') or '0')
  local reserved = tonumber(redis.call('HGET', h, 'reserved') or '0')
  if spent + reserved + est > limit then
    return {0, i, spent, reserved}
  end
end
for i = 1, n do
  local h, z = KEYS[2 * i - 1], KEYS[2 * i]
  redis.call('HINCRBY', h, 'reserved', est)
  redis.call('HSET', h, 'r:' .. id, est)
  redis.call('ZADD', z, now + ttl, id)
  local kttl = tonumber(ARGV[3 + 2 * i])
  if kttl > 0 then
    redis.call('PEXPIRE', h, kttl)
    redis.call('PEXPIRE', z, kttl)
  end
end
return {1}
`)

// settleScript: KEYS as reserveScript's; ARGV the reservation ID and the
// actual cost. A reservation already expired adds the cost all the same.
var settleScript = redis.NewScript(`
local id = ARGV[1]
local actual = tonumber(ARGV[2])
local n = #KEYS / 2
for i = 1, n do
  local h, z = KEYS[2 * i - 1], KEYS[2 * i]
  local amt = redis.call('HGET', h, 'r:' .. id)
  if amt then
    redis.call('HINCRBY', h, 'reserved', -tonumber(amt))
    redis.call('HDEL', h, 'r:' .. id)
    redis.call('ZREM', z, id)
  end
  redis.call('HINCRBY', h, 'spent', actual)
end
return 1
`)

func (rb *Redis) keys(b Budget, window string) (string, string) {
	base := rb.prefix + b.Subject + ":" + string(b.Period) + ":" + window
	return base, base + ":r"
}

// keyTTL keeps a period's counts a day past its end (in ms), for reports;
// total's forever (0).
func keyTTL(end, now time.Time) int64 {
	if end.IsZero() {
		return 0
	}
	return end.Add(24*time.Hour).Sub(now).Milliseconds() + 1
}

// Reserve decides on r in one round trip.
func (rb *Redis) Reserve(ctx context.Context, r Request) (Decision, Reservation, error) {
	if err := check(&r); err != nil {
		return Decision{}, Reservation{}, err
	}
	if len(r.Budgets) == 0 {
		return Decision{Allowed: true}, Reservation{}, nil
	}
	now := rb.now()
	var idb [12]byte
	_, _ = rand.Read(idb[:])
	id := hex.EncodeToString(idb[:])
	keys := make([]string, 0, 2*len(r.Budgets))
	args := []any{r.Estimate, id, rb.ttl.Milliseconds()}
	names := make([]string, len(r.Budgets))
	ends := make([]time.Time, len(r.Budgets))
	for i, b := range r.Budgets {
		names[i], ends[i] = b.Period.Window(now)
		h, z := rb.keys(b, names[i])
		keys = append(keys, h, z)
		args = append(args, b.Limit, keyTTL(ends[i], now))
	}
	res, err := reserveScript.Run(ctx, rb.c, keys, args...).Int64Slice()
	if err != nil {
		return Decision{}, Reservation{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if len(res) == 1 && res[0] == 1 {
		return Decision{Allowed: true}, Reservation{b: rb, req: r, id: id, windows: names, active: true}, nil
	}
	if len(res) != 4 || res[1] < 1 || int(res[1]) > len(r.Budgets) {
		return Decision{}, Reservation{}, fmt.Errorf("%w: unexpected answer %v", ErrUnavailable, res)
	}
	i := int(res[1]) - 1
	return Decision{Budget: r.Budgets[i], Spent: res[2], Reserved: res[3], ResetAt: ends[i]}, Reservation{}, nil
}

func (rb *Redis) settle(ctx context.Context, r *Reservation, actual int64) error {
	keys := make([]string, 0, 2*len(r.req.Budgets))
	for i, b := range r.req.Budgets {
		h, z := rb.keys(b, r.windows[i])
		keys = append(keys, h, z)
	}
	if err := settleScript.Run(ctx, rb.c, keys, r.id, actual).Err(); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

// Spent returns b's counts in the current period, reservations not yet
// found expired included.
func (rb *Redis) Spent(ctx context.Context, b Budget) (int64, int64, error) {
	name, _ := b.Period.Window(rb.now())
	h, _ := rb.keys(b, name)
	vals, err := rb.c.HMGet(ctx, h, "spent", "reserved").Result()
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	num := func(v any) int64 {
		s, _ := v.(string)
		var n int64
		fmt.Sscan(s, &n)
		return n
	}
	return num(vals[0]), num(vals[1]), nil
}

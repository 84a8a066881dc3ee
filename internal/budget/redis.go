package budget

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis keeps budgets in Redis, shared by every replica.
type Redis struct {
	c       redis.UniversalClient
	settles *Batch // settles are sent with group commit
	prefix  string
	ttl     time.Duration
	now     func() time.Time
	seed    Seeder
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
	// Seeder, when set, gives a period's counts, when Redis has none
	// (a new period, or Redis restarted empty), the spending of the
	// period so far (LedgerSeeder: from the usage ledger). Without it
	// counts missing start at zero.
	Seeder Seeder
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
	return &Redis{c: c, settles: NewBatch(c, settleSource), prefix: o.Prefix, ttl: o.ReservationTTL, now: o.Now, seed: o.Seeder}
}

// reserveScript: KEYS are two per budget (the counts hash with fields
// "spent", "reserved", "seeded" and "r:<id>" per reservation; the
// reservations' sorted set by expiry); ARGV are the estimate, the
// reservation ID, its TTL (ms), whether counts must be seeded (1 or 0),
// then per budget its limit and its keys' TTL (ms, 0: none). When counts
// must be seeded and some are not, it answers {2, index...} and changes
// nothing. Otherwise expired reservations are released first, and it
// answers {1} or {0, index, spent, reserved}. A budget repeated (two
// limits on one count) is held once.
var reserveScript = redis.NewScript(reserveLua + "return budget_reserve(KEYS, ARGV)\n")

// reserveLua defines budget_reserve(K, A), the reserve script as a
// function of its keys and arguments, so that another script can reserve
// budgets in the same step as its own work (ReserveLua).
const reserveLua = `
local function budget_reserve(K, A)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local est = tonumber(A[1])
  local id = A[2]
  local ttl = tonumber(A[3])
  local n = #K / 2
  if A[4] == '1' then
    local unseeded = {2}
    for i = 1, n do
      if redis.call('HEXISTS', K[2 * i - 1], 'seeded') == 0 then
        table.insert(unseeded, i)
      end
    end
    if #unseeded > 1 then
      return unseeded
    end
  end
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
    local h, z = K[2 * i - 1], K[2 * i]
    release_expired(h, z)
    local limit = tonumber(A[4 + 2 * i - 1])
    local spent = tonumber(redis.call('HGET', h, 'spent') or '0')
    local reserved = tonumber(redis.call('HGET', h, 'reserved') or '0')
    if spent + reserved + est > limit then
      return {0, i, spent, reserved}
    end
  end
  for i = 1, n do
    local h, z = K[2 * i - 1], K[2 * i]
    if redis.call('HSETNX', h, 'r:' .. id, est) == 1 then
      redis.call('HINCRBY', h, 'reserved', est)
      redis.call('ZADD', z, now + ttl, id)
    end
    local kttl = tonumber(A[4 + 2 * i])
    if kttl > 0 then
      redis.call('PEXPIRE', h, kttl)
      redis.call('PEXPIRE', z, kttl)
    end
  end
  return {1}
end
`

// ReserveLua returns the Lua source defining budget_reserve(K, A): the
// reservation of a Prepared request, K its Keys and A its Args, answering
// what Finish reads. A script that includes it reserves budgets in its
// own step: the limits' script does, so that a request checks limits and
// budgets in one round trip.
func ReserveLua() string { return reserveLua }

// seedScript: KEYS the counts hash; ARGV the spending to start from and
// the key's TTL (ms, 0: none). Only the first seeding of a count sets
// its spending; spending settled on the count before it was seeded
// (calls in flight when Redis was emptied) is replaced, since the ledger
// the seed comes from counts those calls.
var seedScript = redis.NewScript(`
if redis.call('HSETNX', KEYS[1], 'seeded', 1) == 1 then
  redis.call('HSET', KEYS[1], 'spent', ARGV[1])
  if tonumber(ARGV[2]) > 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
  end
  return 1
end
return 0
`)

// settleSource: KEYS as reserveScript's; ARGV the reservation ID, the
// actual cost, then per budget its keys' TTL (ms, 0: none), set on keys
// that have none (made again by this settle after Redis was emptied). A
// reservation already expired adds the cost all the same. It answers
// each budget's spending after.
const settleSource = `
local id = ARGV[1]
local actual = tonumber(ARGV[2])
local n = #KEYS / 2
local after = {}
local done = {}
for i = 1, n do
  local h, z = KEYS[2 * i - 1], KEYS[2 * i]
  if not done[h] then
    done[h] = true
    local amt = redis.call('HGET', h, 'r:' .. id)
    if amt then
      redis.call('HINCRBY', h, 'reserved', -tonumber(amt))
      redis.call('HDEL', h, 'r:' .. id)
      redis.call('ZREM', z, id)
    end
    redis.call('HINCRBY', h, 'spent', actual)
    local kttl = tonumber(ARGV[2 + i])
    if kttl > 0 and redis.call('PTTL', h) == -1 then
      redis.call('PEXPIRE', h, kttl)
    end
  end
  after[i] = redis.call('HGET', h, 'spent') -- a string: exact past 2^53
end
return after
`

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

// Prepared is a reservation laid out for the reserve script: its keys and
// arguments, and what Finish needs to read the answer.
type Prepared struct {
	Keys         []string
	Args         []any
	r            Request
	id           string
	names        []string
	starts, ends []time.Time
	now          time.Time
}

// Prepare lays r out for budget_reserve, at the current periods.
func (rb *Redis) Prepare(r Request) (*Prepared, error) {
	if err := check(&r); err != nil {
		return nil, err
	}
	now := rb.now()
	p := &Prepared{r: r, id: newID(), now: now, Keys: make([]string, 0, 2*len(r.Budgets)),
		names: make([]string, len(r.Budgets)), starts: make([]time.Time, len(r.Budgets)), ends: make([]time.Time, len(r.Budgets))}
	seeding := "0"
	if rb.seed != nil {
		seeding = "1"
	}
	p.Args = append(make([]any, 0, 4+2*len(r.Budgets)), r.Estimate, p.id, rb.ttl.Milliseconds(), seeding)
	for i, b := range r.Budgets {
		p.names[i], p.starts[i], p.ends[i] = b.Period.Window(now)
		h, z := rb.keys(b, p.names[i])
		p.Keys = append(p.Keys, h, z)
		p.Args = append(p.Args, b.Limit, keyTTL(p.ends[i], now))
	}
	return p, nil
}

// Finish reads budget_reserve's answer res to p. again is true when counts
// had to be seeded first: they are, and the script must run again.
func (rb *Redis) Finish(ctx context.Context, p *Prepared, res []int64) (d Decision, re Reservation, again bool, err error) {
	r := &p.r
	if len(res) == 1 && res[0] == 1 {
		return Decision{Allowed: true}, Reservation{b: rb, req: *r, id: p.id, windows: p.names, ends: p.ends, active: true}, false, nil
	}
	if len(res) >= 2 && res[0] == 2 {
		for _, x := range res[1:] {
			if x < 1 || int(x) > len(r.Budgets) {
				return Decision{}, Reservation{}, false, fmt.Errorf("%w: unexpected answer %v", ErrUnavailable, res)
			}
			i := int(x) - 1
			if err := rb.seedCount(ctx, r.Budgets[i], p.Keys[2*i], p.starts[i], p.ends[i], p.now); err != nil {
				return Decision{}, Reservation{}, false, err
			}
		}
		return Decision{}, Reservation{}, true, nil
	}
	if len(res) != 4 || res[0] != 0 || res[1] < 1 || int(res[1]) > len(r.Budgets) {
		return Decision{}, Reservation{}, false, fmt.Errorf("%w: unexpected answer %v", ErrUnavailable, res)
	}
	i := int(res[1]) - 1
	return Decision{Budget: r.Budgets[i], Spent: res[2], Reserved: res[3], ResetAt: p.ends[i]}, Reservation{}, false, nil
}

// ErrSeedRace is Finish's failure when counts seeded vanished before the
// reservation could use them, three times in a row.
var ErrSeedRace = fmt.Errorf("%w: counts seeded are missing", ErrUnavailable)

// Reserve decides on r in one round trip; a count to seed first takes a
// sum of the seeder's and two more (rare: once per period and budget).
func (rb *Redis) Reserve(ctx context.Context, r Request) (Decision, Reservation, error) {
	if len(r.Budgets) == 0 {
		if err := check(&r); err != nil {
			return Decision{}, Reservation{}, err
		}
		return Decision{Allowed: true}, Reservation{}, nil
	}
	p, err := rb.Prepare(r)
	if err != nil {
		return Decision{}, Reservation{}, err
	}
	// Seeding a count and reserving again succeeds at the second try
	// unless the count vanished in between; a third miss is an error.
	for range 3 {
		res, err := reserveScript.Run(ctx, rb.c, p.Keys, p.Args...).Int64Slice()
		if err != nil {
			return Decision{}, Reservation{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		d, re, again, err := rb.Finish(ctx, p, res)
		if !again {
			return d, re, err
		}
	}
	return Decision{}, Reservation{}, ErrSeedRace
}

// seedCount starts b's count in h from the seeder's sum over [start, end)
// of its period, unless another replica seeded it first.
func (rb *Redis) seedCount(ctx context.Context, b Budget, h string, start, end, now time.Time) error {
	spent, err := rb.seed(ctx, b, start, end)
	if err != nil {
		return fmt.Errorf("%w: seeding %s %s: %v", ErrUnavailable, b.Subject, b.Period, err)
	}
	if err := seedScript.Run(ctx, rb.c, []string{h}, max(spent, 0), keyTTL(end, now)).Err(); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

func (rb *Redis) settle(ctx context.Context, r *Reservation, actual int64) ([]int64, error) {
	keys := make([]string, 0, 2*len(r.req.Budgets))
	args := []any{r.id, actual}
	now := rb.now()
	for i, b := range r.req.Budgets {
		h, z := rb.keys(b, r.windows[i])
		keys = append(keys, h, z)
		args = append(args, keyTTL(r.ends[i], now))
	}
	after, err := rb.settles.Run(ctx, keys, args)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if len(after) != len(r.req.Budgets) {
		return nil, fmt.Errorf("%w: unexpected answer %v", ErrUnavailable, after)
	}
	return after, nil
}

// Spent returns b's counts in the current period, reservations not yet
// found expired included.
func (rb *Redis) Spent(ctx context.Context, b Budget) (int64, int64, error) {
	name, _, _ := b.Period.Window(rb.now())
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

package limits

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/llmgw/llmgw/internal/budget"
)

// Redis counts limits in Redis, shared by every replica using it. It is
// safe for concurrent use.
type Redis struct {
	c        redis.UniversalClient
	acquires *budget.Batch // acquires are sent with group commit
	budgets  *budget.Redis
	prefix   string
	ttl      time.Duration
	keys     sync.Map // subject -> *[3]string, the subject's Redis keys

	// Releases are sent in batches, one pipeline for many, off the
	// request's path: a request pays one round trip (its Acquire).
	releases  chan release
	delay     time.Duration
	flushes   chan chan struct{}
	closeOnce sync.Once
	stop      chan struct{}
	done      chan struct{}
}

// release is one queued Lease.Release.
type release struct {
	keys []string
	args []any
}

// maxReleaseBatch bounds the releases sent in one pipeline.
const maxReleaseBatch = 256

var _ Limiter = (*Redis)(nil)

// RedisOptions tune NewRedis.
type RedisOptions struct {
	// Prefix begins every key; default "{llmgw}:lim:". A hash tag in it
	// keeps a Redis Cluster's keys on one shard.
	Prefix string
	// LeaseTTL is how long a concurrency slot is held at most, should its
	// replica die before releasing it; default 15 minutes (longer than
	// the default request timeout).
	LeaseTTL time.Duration
	// Budgets, when set, keeps budgets in the same Redis: Acquire reserves
	// a request's budgets in the step and round trip of its limits.
	// Without it, a request with budgets is an error.
	Budgets *budget.Redis
	// ReleaseDelay is the longest a release waits to be sent with others;
	// default 2 ms. A slot is free again that much later at most.
	ReleaseDelay time.Duration
}

// NewRedis returns a limiter counting in c.
func NewRedis(c redis.UniversalClient, o RedisOptions) *Redis {
	if o.Prefix == "" {
		o.Prefix = "{llmgw}:lim:"
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 15 * time.Minute
	}
	if o.ReleaseDelay <= 0 {
		o.ReleaseDelay = 2 * time.Millisecond
	}
	rl := &Redis{c: c, acquires: budget.NewBatch(c, acquireScriptSource), budgets: o.Budgets, prefix: o.Prefix, ttl: o.LeaseTTL, delay: o.ReleaseDelay,
		releases: make(chan release, 4096), flushes: make(chan chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	go rl.sendReleases()
	return rl
}

// Close sends the releases still queued and stops the sender; the client
// is the caller's to close, after.
func (rl *Redis) Close() error {
	rl.closeOnce.Do(func() {
		close(rl.stop)
		<-rl.done
	})
	return nil
}

// Flush sends the releases queued so far and returns once Redis has
// answered them.
func (rl *Redis) Flush() {
	done := make(chan struct{})
	select {
	case rl.flushes <- done:
		<-done
	case <-rl.done:
	}
}

// sendReleases sends queued releases in pipelines of up to maxReleaseBatch,
// each at most ReleaseDelay after its first release was queued. A release
// that fails is left to the lease's expiry (and the token bucket to
// refill), which is what a dead replica's leases get too.
func (rl *Redis) sendReleases() {
	defer close(rl.done)
	batch := make([]release, 0, maxReleaseBatch)
	for {
		var flushed chan struct{}
		select {
		case r := <-rl.releases:
			batch = append(batch[:0], r)
		case flushed = <-rl.flushes:
			batch = batch[:0]
		case <-rl.stop:
			for {
				select {
				case r := <-rl.releases:
					batch = append(batch, r)
					if len(batch) == maxReleaseBatch {
						rl.sendBatch(batch)
						batch = batch[:0]
					}
					continue
				default:
				}
				break
			}
			if len(batch) > 0 {
				rl.sendBatch(batch)
			}
			return
		}
		timer := time.NewTimer(rl.delay)
	collect:
		for len(batch) < maxReleaseBatch {
			if flushed != nil {
				// Everything queued before the flush goes now.
				select {
				case r := <-rl.releases:
					batch = append(batch, r)
					continue
				default:
					break collect
				}
			}
			select {
			case r := <-rl.releases:
				batch = append(batch, r)
			case flushed = <-rl.flushes:
			case <-timer.C:
				break collect
			case <-rl.stop:
				break collect
			}
		}
		timer.Stop()
		if len(batch) > 0 {
			rl.sendBatch(batch)
		}
		batch = batch[:0]
		if flushed != nil {
			close(flushed)
		}
	}
}

func (rl *Redis) sendBatch(batch []release) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	pipe := rl.c.Pipeline()
	cmds := make([]*redis.Cmd, len(batch))
	for i, r := range batch {
		cmds[i] = pipe.EvalSha(ctx, releaseScript.Hash(), r.keys, r.args...)
	}
	_, _ = pipe.Exec(ctx)
	// A Redis that lost its scripts (restarted) answers NOSCRIPT: send
	// those again with the script's text, which loads it.
	var again []int
	for i, c := range cmds {
		if err := c.Err(); err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
			again = append(again, i)
		}
	}
	if len(again) > 0 {
		pipe := rl.c.Pipeline()
		for _, i := range again {
			pipe.Eval(ctx, releaseScriptSource, batch[i].keys, batch[i].args...)
		}
		_, _ = pipe.Exec(ctx)
	}
}

// acquireScriptSource checks every limit, then reserves the request's budgets
// (budget.ReserveLua), then applies the limits, on Redis's clock in
// microseconds: limits and budgets in one step and one round trip. KEYS
// are three per check (requests, tokens, leases), then the budgets'
// (budget.Prepared.Keys); ARGV are the tokens to reserve, the lease ID,
// the lease TTL (µs), the number of checks, three limits per check (rpm,
// tpm, concurrent), then the budgets' arguments. It answers {allowed,
// check index, dimension, retry µs, never, req limit, req remaining, req
// reset µs, tok limit, tok remaining, tok reset µs}; when the budgets did
// not admit the request (dimension 4, nothing applied), budget_reserve's
// answer follows.
var acquireScriptSource = budget.ReserveLua() + `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local W = 60000000
local tokens = tonumber(ARGV[1])
local lease = ARGV[2]
local ttl = tonumber(ARGV[3])
local n = tonumber(ARGV[4])
local rq, tk = {}, {}
local rl, rr, rs = 0, 0, 0
local tl, tr, ts = 0, 0, 0
local function cost(units, limit)
  return math.floor(units * W / limit)
end
local function remaining(limit, tat)
  local used = tat - now
  if used < 0 then used = 0 end
  local rem = math.floor((W - used) * limit / W)
  if rem < 0 then rem = 0 end
  if rem > limit then rem = limit end
  return rem, used
end
for i = 1, n do
  local rpm = tonumber(ARGV[4 + (i - 1) * 3 + 1])
  local tpm = tonumber(ARGV[4 + (i - 1) * 3 + 2])
  local conc = tonumber(ARGV[4 + (i - 1) * 3 + 3])
  if rpm > 0 then
    local tat = tonumber(redis.call('GET', KEYS[(i - 1) * 3 + 1]) or '0')
    if tat < now then tat = now end
    local new = tat + cost(1, rpm)
    if new - now > W then
      local rem, used = remaining(rpm, tat)
      return {0, i, 1, new - now - W, 0, rpm, 0, used, tl, tr, ts}
    end
    rq[i] = new
    local rem, used = remaining(rpm, new)
    if rl == 0 or rem < rr then rl, rr, rs = rpm, rem, used end
  end
  if tpm > 0 and tokens > 0 then
    local tat = tonumber(redis.call('GET', KEYS[(i - 1) * 3 + 2]) or '0')
    if tat < now then tat = now end
    if tokens > tpm then
      local rem, used = remaining(tpm, tat)
      return {0, i, 2, 0, 1, rl, rr, rs, tpm, 0, used}
    end
    local new = tat + cost(tokens, tpm)
    if new - now > W then
      local rem, used = remaining(tpm, tat)
      return {0, i, 2, new - now - W, 0, rl, rr, rs, tpm, 0, used}
    end
    tk[i] = new
    local rem, used = remaining(tpm, new)
    if tl == 0 or rem < tr then tl, tr, ts = tpm, rem, used end
  end
  if conc > 0 then
    local k = KEYS[(i - 1) * 3 + 3]
    redis.call('ZREMRANGEBYSCORE', k, '-inf', now)
    if redis.call('ZCARD', k) >= conc then
      return {0, i, 3, 1000000, 0, rl, rr, rs, tl, tr, ts}
    end
  end
end
if #KEYS > 3 * n then
  local BK, BA = {}, {}
  for j = 3 * n + 1, #KEYS do BK[#BK + 1] = KEYS[j] end
  for j = 4 + 3 * n + 1, #ARGV do BA[#BA + 1] = ARGV[j] end
  local b = budget_reserve(BK, BA)
  if b[1] ~= 1 then
    local out = {0, 0, 4, 0, 0, rl, rr, rs, tl, tr, ts}
    for _, v in ipairs(b) do out[#out + 1] = v end
    return out
  end
end
for i = 1, n do
  if rq[i] then
    redis.call('SET', KEYS[(i - 1) * 3 + 1], string.format('%.0f', rq[i]), 'PX', math.floor((rq[i] - now) / 1000) + 1000)
  end
  if tk[i] then
    redis.call('SET', KEYS[(i - 1) * 3 + 2], string.format('%.0f', tk[i]), 'PX', math.floor((tk[i] - now) / 1000) + 1000)
  end
  if tonumber(ARGV[4 + (i - 1) * 3 + 3]) > 0 then
    local k = KEYS[(i - 1) * 3 + 3]
    redis.call('ZADD', k, now + ttl, lease)
    redis.call('PEXPIRE', k, math.floor(ttl / 1000) + 1000)
  end
end
return {1, 0, 0, 0, 0, rl, rr, rs, tl, tr, ts}
`

// releaseScript frees a lease's slots and moves each token bucket by the
// difference between the tokens used and those reserved. ARGV: reserved,
// used, lease ID, then three limits per check.
var releaseScript = redis.NewScript(releaseScriptSource)

const releaseScriptSource = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local W = 60000000
local reserved = tonumber(ARGV[1])
local used = tonumber(ARGV[2])
local lease = ARGV[3]
local n = #KEYS / 3
for i = 1, n do
  local tpm = tonumber(ARGV[3 + (i - 1) * 3 + 2])
  local conc = tonumber(ARGV[3 + (i - 1) * 3 + 3])
  if conc > 0 then
    redis.call('ZREM', KEYS[(i - 1) * 3 + 3], lease)
  end
  if tpm > 0 and used ~= reserved then
    local k = KEYS[(i - 1) * 3 + 2]
    local tat = tonumber(redis.call('GET', k) or '0')
    if tat < now then tat = now end
    if used > reserved then
      tat = tat + math.floor((used - reserved) * W / tpm)
    else
      tat = tat - math.floor((reserved - used) * W / tpm)
      if tat < now then tat = now end
    end
    if tat > now then
      redis.call('SET', k, string.format('%.0f', tat), 'PX', math.floor((tat - now) / 1000) + 1000)
    else
      redis.call('DEL', k)
    end
  end
end
return 1
`

func (rl *Redis) keysOf(subject string) *[3]string {
	if k, ok := rl.keys.Load(subject); ok {
		return k.(*[3]string)
	}
	k := &[3]string{rl.prefix + "r:" + subject, rl.prefix + "t:" + subject, rl.prefix + "c:" + subject}
	rl.keys.Store(subject, k)
	return k
}

func (rl *Redis) args(r *Request, head ...any) ([]string, []any) {
	keys := make([]string, 0, 3*len(r.Checks))
	args := append(make([]any, 0, len(head)+3*len(r.Checks)), head...)
	for i := range r.Checks {
		c := &r.Checks[i]
		k := rl.keysOf(c.Subject)
		keys = append(keys, k[0], k[1], k[2])
		args = append(args, max(c.Limit.RPM, 0), max(c.Limit.TPM, 0), max(c.Limit.Concurrent, 0))
	}
	return keys, args
}

// Acquire decides on r, its limits and its budgets, in one round trip (a
// budget's count to seed first takes more: once per period).
func (rl *Redis) Acquire(ctx context.Context, r Request) (Decision, Lease, error) {
	if !active(&r) {
		return Decision{Allowed: true}, Lease{}, nil
	}
	var bp *budget.Prepared
	if len(r.Spend.Budgets) > 0 {
		if rl.budgets == nil {
			return Decision{}, Lease{}, errNoBudgets
		}
		var err error
		if bp, err = rl.budgets.Prepare(r.Spend); err != nil {
			return Decision{}, Lease{}, err
		}
	}
	var id [12]byte
	_, _ = rand.Read(id[:])
	lease := hex.EncodeToString(id[:])
	keys, args := rl.args(&r, max(r.Tokens, 0), lease, rl.ttl.Microseconds(), len(r.Checks))
	if bp != nil {
		keys = append(keys, bp.Keys...)
		args = append(args, bp.Args...)
	}
	for range 3 {
		res, err := rl.acquires.Run(ctx, keys, args)
		if err != nil {
			return Decision{}, Lease{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		if len(res) < 11 {
			return Decision{}, Lease{}, fmt.Errorf("%w: the script answered %d values", ErrUnavailable, len(res))
		}
		us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
		d := Decision{
			Allowed:  res[0] == 1,
			Requests: State{Limit: res[5], Remaining: res[6], Reset: us(res[7])},
			Tokens:   State{Limit: res[8], Remaining: res[9], Reset: us(res[10])},
		}
		if d.Allowed {
			le := Lease{l: rl, req: r, id: lease, active: len(r.Checks) > 0}
			if bp != nil {
				_, le.Spend, _, err = rl.budgets.Finish(ctx, bp, []int64{1})
				if err != nil {
					return Decision{}, Lease{}, err
				}
			}
			return d, le, nil
		}
		if res[2] == int64(Spending) && bp != nil {
			bd, _, again, err := rl.budgets.Finish(ctx, bp, res[11:])
			if err != nil {
				return Decision{}, Lease{}, err
			}
			if again {
				continue // counts seeded: decide again
			}
			return budgetRefusal(d, bd, time.Now()), Lease{}, nil
		}
		i := int(res[1]) - 1
		if i >= 0 && i < len(r.Checks) {
			d.Subject = r.Checks[i].Subject
		}
		d.Dimension, d.RetryAfter, d.Never = Dimension(res[2]), us(res[3]), res[4] == 1
		return d, Lease{}, nil
	}
	return Decision{}, Lease{}, budget.ErrSeedRace
}

// release queues the release for the next batch; with the queue full, or
// the limiter closed, it is sent at once.
func (rl *Redis) release(ctx context.Context, r Request, id string, used int64) error {
	keys, args := rl.args(&r, max(r.Tokens, 0), used, id)
	select {
	case <-rl.stop:
	default:
		select {
		case rl.releases <- release{keys: keys, args: args}:
			return nil
		default:
		}
	}
	if err := releaseScript.Run(ctx, rl.c, keys, args...).Err(); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

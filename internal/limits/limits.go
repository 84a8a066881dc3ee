package limits

import (
	"context"
	"errors"
	"time"

	"github.com/llmgw/llmgw/internal/budget"
)

// Window is the period of the per-minute limits.
const Window = time.Minute

// Limit is what one subject allows; a zero field does not limit.
type Limit struct {
	// RPM is requests per minute, TPM tokens per minute, Concurrent the
	// requests in flight at once.
	RPM, TPM, Concurrent int64
}

// IsZero reports whether l limits nothing.
func (l Limit) IsZero() bool { return l.RPM <= 0 && l.TPM <= 0 && l.Concurrent <= 0 }

// Check is one subject's limit for a request.
type Check struct {
	// Subject names what is limited, unique across kinds: "key:<id>",
	// "tenant:<id>", "model:<name>", "target:<provider>/<model>". The
	// caller keeps these strings, so that checking allocates nothing.
	Subject string
	Limit   Limit
}

// Request is what a call asks of its limits.
type Request struct {
	Checks []Check
	// Tokens is how many tokens to reserve against every TPM limit: the
	// prompt and the largest answer allowed.
	Tokens int64
	// Spend is reserved against its budgets in the same step as the
	// limits: the request is admitted only when every limit and every
	// budget admits it. No budgets: nothing is reserved.
	Spend budget.Request
}

// Dimension names what refused a request.
type Dimension uint8

// The dimensions.
const (
	None Dimension = iota
	Requests
	Tokens
	Concurrency
	// Spending is a budget: Decision.Budget says which.
	Spending
)

func (d Dimension) String() string {
	switch d {
	case Requests:
		return "requests per minute"
	case Tokens:
		return "tokens per minute"
	case Concurrency:
		return "concurrent requests"
	case Spending:
		return "budget"
	}
	return "none"
}

// Window state for OpenAI's x-ratelimit-* headers: the tightest of the
// limits that applied, for requests and for tokens.
type State struct {
	Limit     int64 // 0 when no such limit applied
	Remaining int64
	// Reset is how long until the bucket is full again.
	Reset time.Duration
}

// Decision is the outcome of Acquire.
type Decision struct {
	Allowed bool
	// On a refusal: the subject and dimension that refused, and how long
	// until the request could pass (0 when it never can, such as a
	// request for more tokens than the limit holds).
	Subject    string
	Dimension  Dimension
	RetryAfter time.Duration
	Never      bool
	// Requests and Tokens describe the tightest limits, for headers.
	Requests State
	Tokens   State
	// Budget is, on a refusal by a budget, that budget's state.
	Budget budget.Decision
}

// Lease is an admitted request's hold on its limits. Release must be
// called exactly once when the request ends, with the tokens it really
// used.
type Lease struct {
	l      limiter
	req    Request
	id     string
	active bool
	// Spend is the request's reservation against its budgets (invalid
	// when it has none), settled apart from Release: with the cost, once
	// it is known.
	Spend budget.Reservation
}

// Release frees the request's concurrency slots and reconciles its token
// reservation with used (the real prompt and answer tokens). A negative
// used keeps the reservation as it was. Releasing a zero Lease does
// nothing.
func (le *Lease) Release(ctx context.Context, used int64) error {
	if le == nil || !le.active {
		return nil
	}
	le.active = false
	if used < 0 {
		used = le.req.Tokens
	}
	return le.l.release(ctx, le.req, le.id, used)
}

// Limiter admits requests against their limits.
type Limiter interface {
	// Acquire decides on r. When it is allowed, the lease must be released.
	// An error means the counts could not be reached (Redis down): the
	// caller applies its failure policy.
	Acquire(ctx context.Context, r Request) (Decision, Lease, error)
}

type limiter interface {
	release(ctx context.Context, r Request, id string, used int64) error
}

// errNoBudgets refuses a request with budgets made to a limiter that
// keeps no budgets: they would go unchecked.
var errNoBudgets = errors.New("limits: this limiter keeps no budgets (see WithBudgets)")

// ErrUnavailable wraps failures to reach shared counts.
var ErrUnavailable = errors.New("limits: counts unavailable")

// active reports whether r limits or budgets anything.
func active(r *Request) bool {
	if len(r.Spend.Budgets) > 0 {
		return true
	}
	for i := range r.Checks {
		if !r.Checks[i].Limit.IsZero() {
			return true
		}
	}
	return false
}

// Valid reports whether the lease holds anything to release.
func (le *Lease) Valid() bool { return le != nil && le.active }

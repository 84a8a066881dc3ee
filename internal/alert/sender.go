package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/llmgw/llmgw/internal/pricing"
	"github.com/llmgw/llmgw/internal/store"
)

// TypeBudgetCrossed is the event type of a budget alert.
const TypeBudgetCrossed = "budget.threshold_crossed"

// Defaults of Options.
const (
	DefaultMaxAttempts    = 8
	DefaultAttemptTimeout = 10 * time.Second
	DefaultPoll           = 5 * time.Second
	DefaultLease          = time.Minute
	// MaxResponseBytes is the most of a receiver's answer read.
	MaxResponseBytes = 4 << 10
	// claimTimeout bounds BudgetCrossed's write to the store.
	claimTimeout = 5 * time.Second
	// recordTimeout bounds the write of an attempt's outcome.
	recordTimeout = 10 * time.Second
	// excerptLen bounds the part of a receiver's answer recorded with a
	// failed attempt.
	excerptLen = 200
)

// schedule is the backoff after the first, second, ... failed attempt;
// the last repeats. MaxBackoff caps it, jitter included.
var schedule = []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, time.Hour}

// MaxBackoff is the longest wait between two attempts.
const MaxBackoff = time.Hour

// Backoff returns the wait after the n-th failed attempt (n from 1): the
// schedule's step, spread by ±20 percent so that receivers that come back
// are not hit by every sender at once, and capped at MaxBackoff.
func Backoff(n int) time.Duration {
	d := schedule[min(max(n, 1), len(schedule))-1]
	d = time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
	return min(d, MaxBackoff)
}

// Options configure a Sender.
type Options struct {
	// Store holds the alerts fired and the queue of deliveries.
	Store store.Alerts
	// URL is the receiver, an absolute http(s) URL.
	URL string
	// Secret is the signing secret, "whsec_<base64>".
	Secret string
	// Thresholds are the percentages of a limit alerted on; nil means
	// DefaultThresholds.
	Thresholds []int
	// MaxAttempts bounds a delivery's attempts; <= 0 means
	// DefaultMaxAttempts.
	MaxAttempts int
	// AttemptTimeout bounds one attempt, from connecting to the last byte
	// read; <= 0 means DefaultAttemptTimeout.
	AttemptTimeout time.Duration
	// Poll is how often the store is asked for due deliveries; <= 0 means
	// DefaultPoll. A delivery this Sender queues is attempted at once.
	Poll time.Duration
	// Lease is how long a delivery taken stays this Sender's alone; <= 0
	// means DefaultLease. It must exceed AttemptTimeout.
	Lease time.Duration
	// Backoff returns the wait after the n-th failed attempt; nil means
	// Backoff.
	Backoff func(n int) time.Duration
	// Client sends the requests; nil means a client of its own that
	// follows no redirect.
	Client *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger gets failures; nil logs nothing.
	Logger *slog.Logger
}

// Sender fires budget alerts and delivers them. It is safe for concurrent
// use; a nil *Sender fires nothing.
type Sender struct {
	o      Options
	key    []byte
	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
	close  sync.Once
}

// New checks o and starts the Sender's worker.
func New(o Options) (*Sender, error) {
	if o.Store == nil {
		return nil, errors.New("alert: no store")
	}
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The URL is not quoted: it may hold a credential.
		return nil, errors.New("alert: the webhook URL must be an absolute http or https URL")
	}
	key, err := ParseSecret(o.Secret)
	if err != nil {
		return nil, err
	}
	if o.Thresholds == nil {
		o.Thresholds = DefaultThresholds
	}
	for _, t := range o.Thresholds {
		if t < 1 || t > 100 {
			return nil, fmt.Errorf("alert: threshold %d is not a percentage from 1 to 100", t)
		}
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = DefaultAttemptTimeout
	}
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	if o.Lease <= o.AttemptTimeout {
		return nil, errors.New("alert: the lease must be longer than an attempt's timeout")
	}
	if o.Backoff == nil {
		o.Backoff = Backoff
	}
	if o.Client == nil {
		o.Client = &http.Client{
			Transport:     http.DefaultTransport.(*http.Transport).Clone(),
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sender{o: o, key: key, wake: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
	go s.run(ctx)
	return s, nil
}

// Close stops the worker, cutting an attempt under way short (it is made
// again once its lease lapses), and waits for it to end.
func (s *Sender) Close() {
	if s == nil {
		return
	}
	s.close.Do(s.cancel)
	<-s.done
}

// Thresholds returns the percentages alerted on; nil for a nil Sender.
func (s *Sender) Thresholds() []int {
	if s == nil {
		return nil
	}
	return s.o.Thresholds
}

// BudgetEvent is a budget's spending crossing a threshold.
type BudgetEvent struct {
	TenantID string
	// Subject is the budget's subject ("key:<id>", "team:<id>",
	// "tenant:<id>"), Period its period and Window the window the
	// spending fell in (budget.Period.Window).
	Subject, Period, Window string
	// LimitPico is the budget's limit and SpentPico the spending that
	// crossed, in picodollars.
	LimitPico, SpentPico int64
	ThresholdPercent     int
	At                   time.Time
}

// payload is the JSON body of a budget alert.
type payload struct {
	Type      string      `json:"type"`
	Timestamp time.Time   `json:"timestamp"`
	Data      payloadData `json:"data"`
}

type payloadData struct {
	Tenant           string `json:"tenant"`
	Subject          string `json:"subject"`
	Period           string `json:"period"`
	Window           string `json:"window"`
	LimitUSD         string `json:"limit_usd"`
	SpentUSD         string `json:"spent_usd"`
	ThresholdPercent int    `json:"threshold_percent"`
}

// BudgetCrossed fires the alert of ev, once whatever the number of calls
// and replicas: it claims the alert and queues its delivery in one write
// to the store, bounded in time, then wakes the worker. It does not wait
// for the delivery. A failure is logged.
func (s *Sender) BudgetCrossed(ctx context.Context, ev BudgetEvent) {
	if s == nil {
		return
	}
	if ev.At.IsZero() {
		ev.At = s.o.Now()
	}
	body, err := json.Marshal(payload{Type: TypeBudgetCrossed, Timestamp: ev.At.UTC(), Data: payloadData{
		Tenant: ev.TenantID, Subject: ev.Subject, Period: ev.Period, Window: ev.Window,
		LimitUSD:         pricing.Amount(max(ev.LimitPico, 0)).String(),
		SpentUSD:         pricing.Amount(max(ev.SpentPico, 0)).String(),
		ThresholdPercent: ev.ThresholdPercent,
	}})
	if err != nil {
		s.o.Logger.Error("alert: cannot encode a budget alert", "subject", ev.Subject, "err", err.Error())
		return
	}
	// The request may end before the write: the alert must not depend on
	// it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), claimTimeout)
	defer cancel()
	claimed, err := s.o.Store.Claim(ctx, store.AlertEvent{
		TenantID: ev.TenantID, Subject: ev.Subject, Period: ev.Period, Window: ev.Window, Threshold: ev.ThresholdPercent, At: ev.At,
		Delivery: store.Delivery{ID: store.NewID("msg_", ev.At), Type: TypeBudgetCrossed, Payload: body},
	})
	if err != nil {
		s.o.Logger.Error("alert: a budget alert could not be stored and is lost", "subject", ev.Subject,
			"period", ev.Period, "window", ev.Window, "threshold", ev.ThresholdPercent, "err", err.Error())
		return
	}
	if claimed {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// run takes due deliveries and attempts them, one at a time, until ctx
// ends.
func (s *Sender) run(ctx context.Context) {
	defer close(s.done)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
		s.sendDue(ctx)
		t.Reset(s.o.Poll)
	}
}

// sendDue attempts the deliveries due until none is left. It leases one
// at a time: a lease taken for a batch could lapse while the batch's
// first attempts wait for slow receivers, and another replica would then
// send the rest too.
func (s *Sender) sendDue(ctx context.Context) {
	for ctx.Err() == nil {
		qctx, cancel := context.WithTimeout(ctx, recordTimeout)
		ds, err := s.o.Store.Due(qctx, s.o.Now(), s.o.Lease, 1)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				s.o.Logger.Warn("alert: cannot read the deliveries due", "err", err.Error())
			}
			return
		}
		if len(ds) == 0 {
			return
		}
		s.attempt(ctx, ds[0])
	}
}

// attempt posts d once and records the outcome, unless ctx ended (the
// lease then lapses and the attempt is made again).
func (s *Sender) attempt(ctx context.Context, d store.Delivery) {
	n := d.Attempts + 1
	status, errText := s.post(ctx, d)
	if ctx.Err() != nil {
		return
	}
	now := s.o.Now()
	a := store.Attempt{DeliveryID: d.ID, N: n, At: now, Status: status, Error: errText}
	switch {
	case status >= 200 && status < 300:
		a.State = store.DeliveryDone
	case status == http.StatusGone:
		a.State = store.DeliveryFailed
	case n >= s.o.MaxAttempts:
		a.State = store.DeliveryFailed
	default:
		a.State, a.NextAt = store.DeliveryPending, now.Add(s.o.Backoff(n))
	}
	if a.State != store.DeliveryDone {
		s.o.Logger.Warn("alert: a webhook delivery failed", "delivery", d.ID, "attempt", n, "state", a.State,
			"status", status, "err", errText)
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err := s.o.Store.Record(rctx, a); err != nil {
		s.o.Logger.Error("alert: cannot record a webhook delivery attempt", "delivery", d.ID, "attempt", n, "err", err.Error())
	}
}

// post sends d signed and returns the receiver's status (0 when none
// came) and what went wrong ("" on 2xx), never quoting the URL.
func (s *Sender) post(ctx context.Context, d store.Delivery) (int, string) {
	ctx, cancel := context.WithTimeout(ctx, s.o.AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.o.URL, bytes.NewReader(d.Payload))
	if err != nil {
		return 0, "cannot build the request"
	}
	ts := s.o.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "llmgw-webhooks")
	req.Header.Set("webhook-id", d.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", Sign(s.key, d.ID, ts, d.Payload))
	resp, err := s.o.Client.Do(req)
	if err != nil {
		return 0, s.describe(ctx, err)
	}
	defer resp.Body.Close()
	// At most MaxResponseBytes are read, whatever the receiver sends.
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, ""
	}
	msg := fmt.Sprintf("the receiver answered %d", resp.StatusCode)
	if len(body) > 0 {
		msg += ": " + store.ClipText(string(body), excerptLen)
	} else if err != nil {
		msg += "; " + s.describe(ctx, err)
	}
	return resp.StatusCode, msg
}

// describe says what went wrong with a request, without the URL that
// net/http's errors quote.
func (s *Sender) describe(ctx context.Context, err error) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Sprintf("no answer within %s", s.o.AttemptTimeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return store.ClipText(err.Error(), excerptLen)
}

package audit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/llmgw/llmgw/internal/store"
)

// Event is one action to record.
type Event struct {
	// Actor is who acted: "admin_token", "token:<name>", "key:<id>",
	// "cli" or "gateway".
	Actor string
	// Action is what was done, "<object>.<verb>": "key.create".
	Action string
	// TenantID is the tenant of the object; "" for global actions.
	TenantID string
	// Target is the object's ID.
	Target string
	// Source is the client's address, RequestID its request's ID.
	Source    string
	RequestID string
	// Before and After are the object as the admin API shows it, before
	// and after the action; nil for none. They are marshalled to JSON.
	Before, After any
}

// Result is what Verify finds.
type Result struct {
	// OK is true when every link holds.
	OK bool `json:"ok"`
	// Records is how many records were checked: all of them when OK,
	// else those before the first broken link.
	Records int64 `json:"records"`
	// BrokenAt is the number of the first record that does not hold.
	BrokenAt int64 `json:"broken_at,omitempty"`
	// Reason says how it does not.
	Reason string `json:"reason,omitempty"`
}

// Options tune a Log.
type Options struct {
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// FailureWindow is how long authentication failures are counted
	// before they are written; default one minute.
	FailureWindow time.Duration
	// MaxFailurePairs bounds the (source, key prefix) pairs counted per
	// window; default 1000.
	MaxFailurePairs int
}

// Log appends to and reads the audit log. It is safe for concurrent use.
type Log struct {
	store store.Audit
	key   []byte
	o     Options

	mu       sync.Mutex
	failures map[failure]int64
	since    time.Time

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

type failure struct{ source, prefix string }

// OtherSource is the source failures are counted under once a window
// holds MaxFailurePairs pairs.
const OtherSource = "other"

// New returns the log kept in a, sealed with key (auth.Derive(secret,
// auth.PurposeAuditChain)). It starts the writer of aggregated failures;
// Close stops it.
func New(a store.Audit, key []byte, o Options) *Log {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.FailureWindow <= 0 {
		o.FailureWindow = time.Minute
	}
	if o.MaxFailurePairs <= 0 {
		o.MaxFailurePairs = 1000
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	l := &Log{store: a, key: append([]byte(nil), key...), o: o, failures: map[failure]int64{},
		since: o.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	go l.flushLoop()
	return l
}

// Record appends e. Secrets shaped like the gateway's keys are redacted
// from Before and After whatever the caller passed.
func (l *Log) Record(ctx context.Context, e Event) error {
	rec := store.AuditRecord{At: l.o.Now(), Actor: e.Actor, Action: e.Action, TenantID: e.TenantID,
		Target: e.Target, Source: e.Source, RequestID: e.RequestID, Count: 1}
	var err error
	if rec.Before, err = encode(e.Before); err != nil {
		return err
	}
	if rec.After, err = encode(e.After); err != nil {
		return err
	}
	_, err = l.store.Append(ctx, rec, l.seal)
	return err
}

// keyLike matches a generated key's random part and what follows it, so
// that a secret slipped into an object is never stored.
var keyLike = regexp.MustCompile(`sk-llmgw-[A-Za-z0-9_-]{8,}`)

func encode(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("audit: encode: %w", err)
	}
	if string(b) == "null" {
		return nil, nil
	}
	return keyLike.ReplaceAll(b, []byte("sk-llmgw-[redacted]")), nil
}

// seal computes a record's hash: HMAC-SHA256 over its Prev and every
// field, each length-prefixed so that no two records encode alike.
func (l *Log) seal(r *store.AuditRecord) []byte {
	m := hmac.New(sha256.New, l.key)
	var n [8]byte
	num := func(v int64) {
		binary.BigEndian.PutUint64(n[:], uint64(v))
		m.Write(n[:])
	}
	field := func(b []byte, present bool) {
		if !present {
			num(-1)
			return
		}
		num(int64(len(b)))
		m.Write(b)
	}
	text := func(s string) { field([]byte(s), true) }
	field(r.Prev, r.Prev != nil)
	num(r.Seq)
	num(r.At.UnixMicro())
	text(r.Actor)
	text(r.Action)
	text(r.TenantID)
	text(r.Target)
	text(r.Source)
	text(r.RequestID)
	field(r.Before, r.Before != nil)
	field(r.After, r.After != nil)
	num(r.Count)
	return m.Sum(nil)
}

// List pages through the records that match f, oldest first.
func (l *Log) List(ctx context.Context, f store.AuditFilter, o store.ListOptions) (store.Page[store.AuditRecord], error) {
	return l.store.List(ctx, f, o)
}

// verifyBatch is how many records Verify reads at once.
const verifyBatch = 500

// Verify walks the whole log, in bounded memory, and reports the first
// broken link. An error is a failure to read the log, not a broken one.
func (l *Log) Verify(ctx context.Context) (Result, error) {
	headSeq, headHash, err := l.store.Head(ctx)
	if err != nil {
		return Result{}, err
	}
	var res Result
	var prev []byte
	after := int64(0)
	for {
		recs, err := l.store.Scan(ctx, after, verifyBatch)
		if err != nil {
			return Result{}, err
		}
		for i := range recs {
			r := &recs[i]
			want := res.Records + 1
			switch {
			case r.Seq != want:
				return broken(res, want, fmt.Sprintf("record %d is missing: the next record is %d", want, r.Seq)), nil
			case !hmac.Equal(r.Prev, prev):
				return broken(res, r.Seq, fmt.Sprintf("record %d does not follow record %d: a record was removed or inserted", r.Seq, r.Seq-1)), nil
			case !hmac.Equal(r.Hash, l.seal(r)):
				return broken(res, r.Seq, fmt.Sprintf("record %d was changed after it was written", r.Seq)), nil
			}
			prev = r.Hash
			res.Records++
		}
		if len(recs) < verifyBatch {
			break
		}
		after = recs[len(recs)-1].Seq
	}
	if headSeq != res.Records || !hmac.Equal(headHash, prev) {
		if headSeq > res.Records {
			return broken(res, res.Records+1, fmt.Sprintf("the log ends at record %d but was last appended at record %d: records were removed from its end", res.Records, headSeq)), nil
		}
		return broken(res, headSeq, fmt.Sprintf("the log's head (record %d) does not match its last record (%d)", headSeq, res.Records)), nil
	}
	res.OK = true
	return res, nil
}

func broken(res Result, at int64, reason string) Result {
	res.OK, res.BrokenAt, res.Reason = false, at, reason
	return res
}

// AuthFailure counts a failed authentication from source with a key
// whose display prefix is prefix (auth.DisplayPrefix: never more of the
// key than that). Nothing is written until the window ends.
func (l *Log) AuthFailure(source, prefix string) {
	if len(source) > 256 {
		source = source[:256]
	}
	l.mu.Lock()
	k := failure{source, prefix}
	if _, ok := l.failures[k]; !ok && len(l.failures) >= l.o.MaxFailurePairs {
		k = failure{OtherSource, ""}
	}
	l.failures[k]++
	l.mu.Unlock()
}

func (l *Log) flushLoop() {
	defer close(l.done)
	t := time.NewTicker(l.o.FailureWindow)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.Flush(context.Background())
		}
	}
}

// Flush writes the failures counted so far, one record per source and
// prefix, and starts a new window.
func (l *Log) Flush(ctx context.Context) error {
	l.mu.Lock()
	counted, since := l.failures, l.since
	l.failures, l.since = map[failure]int64{}, l.o.Now()
	l.mu.Unlock()
	var errs []error
	for k, n := range counted {
		after := map[string]any{"window_start": since.UTC().Format(time.RFC3339), "failures": n}
		if k.prefix != "" {
			after["key_prefix"] = k.prefix
		}
		b, _ := json.Marshal(after)
		rec := store.AuditRecord{At: l.o.Now(), Actor: "gateway", Action: "auth.failure", Target: k.prefix,
			Source: k.source, Count: n, After: b}
		if _, err := l.store.Append(ctx, rec, l.seal); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		l.o.Logger.Error("cannot write authentication failures to the audit log", "records", len(errs), "err", err.Error())
		return err
	}
	return nil
}

// Close writes the failures still counted and stops the writer.
func (l *Log) Close() error {
	var err error
	l.once.Do(func() {
		close(l.stop)
		<-l.done
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = l.Flush(ctx)
	})
	return err
}

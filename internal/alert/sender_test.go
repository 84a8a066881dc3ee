package alert_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/alert"
	"github.com/llmgw/llmgw/internal/store"
	"github.com/llmgw/llmgw/internal/store/pgtest"
	"github.com/llmgw/llmgw/internal/store/postgres"
	"github.com/llmgw/llmgw/internal/store/sqlite"
)

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// delivery is one request the receiver got.
type delivery struct {
	id, timestamp, signature string
	body                     []byte
}

// receiver is a webhook receiver answering with answer(n), n counting
// its requests from 1.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []delivery
	answer func(w http.ResponseWriter, r *http.Request, n int)
}

func newReceiver(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, n int)) *receiver {
	rc := &receiver{answer: answer}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, delivery{r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), body})
		n := len(rc.got)
		rc.mu.Unlock()
		if rc.answer != nil {
			rc.answer(w, r, n)
		}
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) deliveries() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivery(nil), rc.got...)
}

func status(code int) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(code) }
}

func openSQLite(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "llmgw.db")
	}
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newSender(t *testing.T, o alert.Options) *alert.Sender {
	t.Helper()
	if o.Secret == "" {
		o.Secret = secret
	}
	if o.Poll == 0 {
		o.Poll = 10 * time.Millisecond
	}
	if o.Backoff == nil {
		o.Backoff = func(int) time.Duration { return time.Millisecond }
	}
	s, err := alert.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

var at0 = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)

func event(subject string, threshold int) alert.BudgetEvent {
	return alert.BudgetEvent{TenantID: "tnt_1", Subject: subject, Period: "monthly", Window: "2026-12", LimitPico: 100_000_000_000_000,
		SpentPico: 80_000_000_000_001, ThresholdPercent: threshold, At: at0}
}

// waitFor polls cond until it holds, failing after 10 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// finished returns the deliveries once none is pending.
func finished(t *testing.T, st store.Store, n int) []store.Delivery {
	t.Helper()
	var ds []store.Delivery
	waitFor(t, fmt.Sprintf("%d deliveries to finish", n), func() bool {
		p, err := st.Alerts().List(context.Background(), store.DeliveryFilter{}, store.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ds = p.Items
		for _, d := range ds {
			if d.State == store.DeliveryPending {
				return false
			}
		}
		return len(ds) == n
	})
	return ds
}

func attempts(t *testing.T, st store.Store, id string) []store.Attempt {
	t.Helper()
	as, err := st.Alerts().Attempts(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return as
}

// A budget alert arrives signed as the specification says, with the
// payload documented, and its delivery is recorded done.
func TestDeliverSigned(t *testing.T) {
	rc := newReceiver(t, status(204))
	st := openSQLite(t, "")
	clk := &clock{t: at0.Add(time.Minute)}
	s := newSender(t, alert.Options{Store: st.Alerts(), URL: rc.URL + "/hooks", Now: clk.Now})
	s.BudgetCrossed(context.Background(), event("key:key_1", 80))
	ds := finished(t, st, 1)
	got := rc.deliveries()
	if len(got) != 1 {
		t.Fatalf("%d requests, want 1", len(got))
	}
	d := got[0]
	if d.id != ds[0].ID || !strings.HasPrefix(d.id, "msg_") || strings.Contains(d.id, ".") {
		t.Errorf("webhook-id %q, delivery %q", d.id, ds[0].ID)
	}
	if want := fmt.Sprint(clk.Now().Unix()); d.timestamp != want {
		t.Errorf("webhook-timestamp %q, want %q", d.timestamp, want)
	}
	if !verify(secret, d.id, d.timestamp, d.body, d.signature) {
		t.Fatalf("signature %q does not verify", d.signature)
	}
	if verify(secret, d.id, d.timestamp, append(d.body, ' '), d.signature) {
		t.Fatal("the signature verifies a body it was not made for")
	}
	want := `{"type":"budget.threshold_crossed","timestamp":"2026-12-02T10:00:00Z","data":{"tenant":"tnt_1",` +
		`"subject":"key:key_1","period":"monthly","window":"2026-12","limit_usd":"100","spent_usd":"80.000000000001",` +
		`"threshold_percent":80}}`
	if string(d.body) != want {
		t.Errorf("body\n%s\nwant\n%s", d.body, want)
	}
	if ds[0].State != store.DeliveryDone || ds[0].Attempts != 1 || ds[0].Status != 204 || ds[0].Error != "" {
		t.Errorf("delivery %+v", ds[0])
	}
}

// An alert fired twice (two requests, or two replicas) is delivered
// once.
func TestFiredOnce(t *testing.T) {
	rc := newReceiver(t, status(200))
	st := openSQLite(t, "")
	s := newSender(t, alert.Options{Store: st.Alerts(), URL: rc.URL})
	for range 3 {
		s.BudgetCrossed(context.Background(), event("key:key_1", 50))
	}
	s.BudgetCrossed(context.Background(), event("key:key_1", 80))
	finished(t, st, 2)
	if n := len(rc.deliveries()); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
}

// A failing receiver is tried again after the backoff, not before, with
// the same webhook-id and a fresh timestamp and signature, until it
// answers 2xx; every attempt is recorded.
func TestRetryBackoff(t *testing.T) {
	rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "down for maintenance")
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	st := openSQLite(t, "")
	clk := &clock{t: at0}
	var mu sync.Mutex
	var asked []int
	backoff := func(n int) time.Duration {
		mu.Lock()
		asked = append(asked, n)
		mu.Unlock()
		return time.Duration(n) * time.Hour
	}
	s := newSender(t, alert.Options{Store: st.Alerts(), URL: rc.URL, Now: clk.Now, Backoff: backoff})
	s.BudgetCrossed(context.Background(), event("tenant:tnt_1", 100))

	pending := func(attempts int) store.Delivery {
		t.Helper()
		var d store.Delivery
		waitFor(t, fmt.Sprintf("attempt %d", attempts), func() bool {
			p, err := st.Alerts().List(context.Background(), store.DeliveryFilter{}, store.ListOptions{})
			if err != nil || len(p.Items) != 1 {
				t.Fatalf("deliveries %v, %v", p.Items, err)
			}
			d = p.Items[0]
			return d.Attempts == attempts
		})
		return d
	}
	d := pending(1)
	if d.State != store.DeliveryPending || !d.NextAt.Equal(clk.Now().Add(time.Hour)) || d.Status != 503 ||
		d.Error != "the receiver answered 503: down for maintenance" {
		t.Fatalf("after the first attempt: %+v", d)
	}
	// Not due yet: the Sender polls, finds nothing, sends nothing.
	clk.Add(time.Hour - time.Second)
	ds, err := st.Alerts().Due(context.Background(), clk.Now(), time.Minute, 10)
	if err != nil || len(ds) != 0 {
		t.Fatalf("due before the backoff: %v, %v", ds, err)
	}
	clk.Add(time.Second)
	d = pending(2)
	if !d.NextAt.Equal(clk.Now().Add(2 * time.Hour)) {
		t.Fatalf("after the second attempt, next at %s, want %s", d.NextAt, clk.Now().Add(2*time.Hour))
	}
	clk.Add(2 * time.Hour)
	ds2 := finished(t, st, 1)
	if ds2[0].State != store.DeliveryDone || ds2[0].Attempts != 3 {
		t.Fatalf("delivery %+v", ds2[0])
	}
	as := attempts(t, st, d.ID)
	var codes []int
	for _, a := range as {
		codes = append(codes, a.Status)
	}
	if fmt.Sprint(codes) != "[503 503 200]" {
		t.Errorf("attempts' statuses %v", codes)
	}
	mu.Lock()
	if fmt.Sprint(asked) != "[1 2]" {
		t.Errorf("backoff asked for %v, want [1 2]", asked)
	}
	mu.Unlock()
	got := rc.deliveries()
	for i, g := range got {
		if g.id != d.ID || !verify(secret, g.id, g.timestamp, g.body, g.signature) {
			t.Errorf("request %d: id %q, signature does not verify or id differs", i, g.id)
		}
	}
	if got[0].timestamp == got[2].timestamp {
		t.Error("a retry was sent with the first attempt's timestamp")
	}
}

// 410 Gone stops the retries at once.
func TestGoneStops(t *testing.T) {
	rc := newReceiver(t, status(http.StatusGone))
	st := openSQLite(t, "")
	s := newSender(t, alert.Options{Store: st.Alerts(), URL: rc.URL})
	s.BudgetCrossed(context.Background(), event("key:key_1", 50))
	ds := finished(t, st, 1)
	if ds[0].State != store.DeliveryFailed || ds[0].Attempts != 1 || ds[0].Status != 410 {
		t.Fatalf("delivery %+v", ds[0])
	}
	if n := len(rc.deliveries()); n != 1 {
		t.Fatalf("%d requests after 410, want 1", n)
	}
}

// A receiver that keeps failing gets MaxAttempts attempts, then the
// delivery is failed.
func TestMaxAttempts(t *testing.T) {
	rc := newReceiver(t, status(http.StatusInternalServerError))
	st := openSQLite(t, "")
	s := newSender(t, alert.Options{Store: st.Alerts(), URL: rc.URL, MaxAttempts: 4})
	s.BudgetCrossed(context.Background(), event("key:key_1", 50))
	ds := finished(t, st, 1)
	if ds[0].State != store.DeliveryFailed || ds[0].Attempts != 4 {
		t.Fatalf("delivery %+v", ds[0])
	}
	if n := len(attempts(t, st, ds[0].ID)); n != 4 {
		t.Fatalf("%d attempts recorded, want 4", n)
	}
	if n := len(rc.deliveries()); n != 4 {
		t.Fatalf("%d requests, want 4", n)
	}
}

// A receiver that does not answer is given up on after AttemptTimeout,
// and the attempt recorded as such.
func TestSlowReceiverTimesOut(t *testing.T) {
	release := make(chan struct{})
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	st := openSQLite(t, "")
	s := newSender(t, alert.Options{Store: st.Alerts(), URL: rc.URL, MaxAttempts: 1, AttemptTimeout: 200 * time.Millisecond})
	start := time.Now()
	s.BudgetCrossed(context.Background(), event("key:key_1", 50))
	ds := finished(t, st, 1)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the attempt took %s with a timeout of 200ms", took)
	}
	if ds[0].State != store.DeliveryFailed || ds[0].Status != 0 || ds[0].Error != "no answer within 200ms" {
		t.Fatalf("delivery %+v", ds[0])
	}
}

// A receiver answering without end is read a few KB of, and what is
// recorded of it is short.
func TestHugeResponseBounded(t *testing.T) {
	endless := func(code int) func(http.ResponseWriter, *http.Request, int) {
		return func(w http.ResponseWriter, r *http.Request, _ int) {
			w.WriteHeader(code)
			chunk := []byte(strings.Repeat("x", 64<<10))
			for r.Context().Err() == nil {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}
	}
	for _, code := range []int{200, 500} {
		rc := newReceiver(t, endless(code))
		st := openSQLite(t, "")
		// Reading the whole answer would run into the attempt's timeout.
		s := newSender(t, alert.Options{Store: st.Alerts(), URL: rc.URL, MaxAttempts: 1, AttemptTimeout: 5 * time.Second})
		s.BudgetCrossed(context.Background(), event("key:key_1", 50))
		ds := finished(t, st, 1)
		d := ds[0]
		if d.Status != code || strings.Contains(d.Error, "no answer") || len(d.Error) > 300 {
			t.Errorf("status %d: delivery %s, status %d, error %d bytes: %.80q", code, d.State, d.Status, len(d.Error), d.Error)
		}
	}
}

// Neither the URL (which may hold a credential) nor the secret is
// recorded with a failed attempt.
func TestNoSecretsRecorded(t *testing.T) {
	rc := newReceiver(t, nil)
	url := rc.URL + "/hook?token=hunter2-secret-token"
	rc.Close() // nothing listens there any more
	st := openSQLite(t, "")
	s := newSender(t, alert.Options{Store: st.Alerts(), URL: url, MaxAttempts: 1})
	s.BudgetCrossed(context.Background(), event("key:key_1", 50))
	ds := finished(t, st, 1)
	if ds[0].Error == "" || strings.Contains(ds[0].Error, "hunter2") || strings.Contains(ds[0].Error, "MfKQ9r8") {
		t.Fatalf("recorded error %q", ds[0].Error)
	}
}

// A receiver's redirect is not followed: it is a failed attempt.
func TestNoRedirect(t *testing.T) {
	target := newReceiver(t, status(200))
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
	})
	st := openSQLite(t, "")
	s := newSender(t, alert.Options{Store: st.Alerts(), URL: rc.URL, MaxAttempts: 1})
	s.BudgetCrossed(context.Background(), event("key:key_1", 50))
	ds := finished(t, st, 1)
	if ds[0].State != store.DeliveryFailed || ds[0].Status != http.StatusTemporaryRedirect || len(target.deliveries()) != 0 {
		t.Fatalf("delivery %+v, %d requests at the redirect's target", ds[0], len(target.deliveries()))
	}
}

// Pending deliveries survive a restart: a new Sender on the same
// database carries on with them.
func TestRestartContinues(t *testing.T) {
	path := filepath.Join(t.TempDir(), "llmgw.db")
	down := newReceiver(t, status(http.StatusBadGateway))
	st1 := openSQLite(t, path)
	// An attempt cut short by Close is made again once its lease lapses:
	// a short lease keeps the test short.
	s1, err := alert.New(alert.Options{Store: st1.Alerts(), URL: down.URL, Secret: secret, Poll: 10 * time.Millisecond,
		AttemptTimeout: 100 * time.Millisecond, Lease: 200 * time.Millisecond,
		Backoff: func(int) time.Duration { return 50 * time.Millisecond }})
	if err != nil {
		t.Fatal(err)
	}
	s1.BudgetCrossed(context.Background(), event("key:key_1", 50))
	s1.BudgetCrossed(context.Background(), event("key:key_1", 80))
	// Both deliveries, not one retried twice, must have a failed attempt
	// on record before the restart.
	waitFor(t, "a failed attempt of each delivery on record", func() bool {
		p, err := st1.Alerts().List(context.Background(), store.DeliveryFilter{}, store.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) != 2 {
			return false
		}
		for _, d := range p.Items {
			as := attempts(t, st1, d.ID)
			if len(as) == 0 || as[0].Status != http.StatusBadGateway {
				return false
			}
		}
		return true
	})
	s1.Close()
	st1.Close()

	up := newReceiver(t, status(200))
	st2 := openSQLite(t, path)
	newSender(t, alert.Options{Store: st2.Alerts(), URL: up.URL})
	ds := finished(t, st2, 2)
	for _, d := range ds {
		as := attempts(t, st2, d.ID)
		if d.State != store.DeliveryDone || len(as) < 2 || as[0].Status != 502 || as[len(as)-1].Status != 200 {
			t.Errorf("delivery %s: %s after %v", d.ID, d.State, as)
		}
	}
	if len(up.deliveries()) != 2 {
		t.Errorf("%d requests after the restart, want 2", len(up.deliveries()))
	}
}

// Two replicas on one PostgreSQL database, both seeing every crossing,
// deliver each alert exactly once.
func TestTwoSendersOnePostgres(t *testing.T) {
	dsn := pgtest.FreshSchema(t)
	open := func() *postgres.Store {
		s, err := postgres.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	st1, st2 := open(), open()
	rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n%3 == 0 {
			w.WriteHeader(http.StatusInternalServerError) // some retries too
		}
	})
	a := newSender(t, alert.Options{Store: st1.Alerts(), URL: rc.URL})
	b := newSender(t, alert.Options{Store: st2.Alerts(), URL: rc.URL})
	const n = 30
	var wg sync.WaitGroup
	for _, s := range []*alert.Sender{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				s.BudgetCrossed(context.Background(), event(fmt.Sprintf("key:key_%d", i), 80))
			}
		}()
	}
	wg.Wait()
	ds := finished(t, st1, n)
	for _, d := range ds {
		if d.State != store.DeliveryDone {
			t.Errorf("delivery %s: %s", d.ID, d.State)
		}
	}
	ok := map[string]int{}
	sent := map[string]int{}
	for _, d := range rc.deliveries() {
		sent[d.id]++
	}
	for _, d := range ds {
		for _, at := range attempts(t, st1, d.ID) {
			if at.Status == 200 {
				ok[d.ID]++
			}
		}
		if sent[d.ID] != d.Attempts {
			t.Errorf("%s: %d requests, %d attempts recorded", d.ID, sent[d.ID], d.Attempts)
		}
	}
	if len(ok) != n {
		t.Errorf("%d alerts delivered, want %d", len(ok), n)
	}
	for id, k := range ok {
		if k != 1 {
			t.Errorf("%s delivered %d times", id, k)
		}
	}
}

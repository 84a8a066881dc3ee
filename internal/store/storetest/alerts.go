package storetest

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/store"
)

var alertAt = time.Date(2026, 12, 2, 10, 0, 0, 123456789, time.UTC)

func alertEvent(tenant, subject string, threshold int, id string) store.AlertEvent {
	return store.AlertEvent{TenantID: tenant, Subject: subject, Period: "daily", Window: "2026-12-02", Threshold: threshold,
		At: alertAt, Delivery: store.Delivery{ID: id, Type: "budget.threshold_crossed", Payload: []byte(`{"n":"` + id + `"}`)}}
}

func mustClaim(t *testing.T, s store.Store, ev store.AlertEvent, want bool) {
	t.Helper()
	got, err := s.Alerts().Claim(ctx(t), ev)
	if err != nil || got != want {
		t.Fatalf("claim %s %d%% = %v, %v; want %v", ev.Subject, ev.Threshold, got, err, want)
	}
}

func deliveryIDs(ds []store.Delivery) []string {
	ids := []string{}
	for _, d := range ds {
		ids = append(ids, d.ID)
	}
	return ids
}

// An alert is fired once per budget, window and threshold, and a claim
// that loses queues nothing.
func testAlertClaimOnce(t *testing.T, s store.Store) {
	mustClaim(t, s, alertEvent("tnt_1", "key:k1", 80, "msg_1"), true)
	mustClaim(t, s, alertEvent("tnt_1", "key:k1", 80, "msg_2"), false)
	mustClaim(t, s, alertEvent("tnt_1", "key:k1", 100, "msg_3"), true)
	other := alertEvent("tnt_1", "key:k1", 80, "msg_4")
	other.Window = "2026-12-03"
	mustClaim(t, s, other, true)
	page, err := s.Alerts().List(ctx(t), store.DeliveryFilter{}, store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "deliveries, newest first", []string{"msg_4", "msg_3", "msg_1"}, deliveryIDs(page.Items))
	d := page.Items[2]
	want := store.Delivery{ID: "msg_1", TenantID: "tnt_1", Type: "budget.threshold_crossed", Payload: []byte(`{"n":"msg_1"}`),
		State: store.DeliveryPending, CreatedAt: store.Micro(alertAt), NextAt: store.Micro(alertAt)}
	diff(t, "queued delivery", want, d)
}

// Many claims of one alert at once: one wins.
func testAlertClaimConcurrent(t *testing.T, s store.Store) {
	var won atomic.Int64
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.Alerts().Claim(ctx(t), alertEvent("tnt_1", "team:t1", 50, fmt.Sprintf("msg_%d", i)))
			if err != nil {
				t.Error(err)
			}
			if ok {
				won.Add(1)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d claims won, want 1", won.Load())
	}
	page, err := s.Alerts().List(ctx(t), store.DeliveryFilter{}, store.ListOptions{})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("deliveries = %v, %v; want 1", deliveryIDs(page.Items), err)
	}
}

// The queue: a delivery is due once its time has come, leased to one
// taker, due again when its lease lapses, and recorded attempt by
// attempt until done.
func testDeliveryQueue(t *testing.T, s store.Store) {
	al := s.Alerts()
	mustClaim(t, s, alertEvent("tnt_1", "key:k1", 50, "msg_a"), true)
	later := alertEvent("tnt_1", "key:k1", 80, "msg_b")
	later.At = alertAt.Add(time.Second)
	mustClaim(t, s, later, true)

	due := func(now time.Time, want ...string) []store.Delivery {
		t.Helper()
		ds, err := al.Due(ctx(t), now, time.Minute, 10)
		if err != nil {
			t.Fatal(err)
		}
		diff(t, fmt.Sprintf("due at %s", now.Format(time.TimeOnly)), append([]string{}, want...), deliveryIDs(ds))
		return ds
	}
	due(alertAt.Add(-time.Second))
	ds := due(alertAt.Add(2*time.Second), "msg_a", "msg_b")
	if string(ds[0].Payload) != `{"n":"msg_a"}` {
		t.Fatalf("payload %q", ds[0].Payload)
	}
	// Leased: nobody else gets them until the lease ends.
	due(alertAt.Add(3 * time.Second))
	due(alertAt.Add(2*time.Second+time.Minute), "msg_a", "msg_b")

	t1 := alertAt.Add(2*time.Minute + 500*time.Microsecond)
	next := t1.Add(30 * time.Second)
	if err := al.Record(ctx(t), store.Attempt{DeliveryID: "msg_a", N: 1, At: t1, Status: 503, Error: "status 503",
		State: store.DeliveryPending, NextAt: next}); err != nil {
		t.Fatal(err)
	}
	// Recording ends the lease; the retry is due at its time. msg_b's
	// lease has lapsed meanwhile: it is taken again.
	due(next.Add(-time.Second), "msg_b")
	err := al.Record(ctx(t), store.Attempt{DeliveryID: "msg_a", N: 1, At: t1, State: store.DeliveryDone})
	wantErr(t, "the same attempt recorded twice", err, store.ErrConflict)
	due(next, "msg_a")
	t2 := next.Add(time.Second)
	if err := al.Record(ctx(t), store.Attempt{DeliveryID: "msg_a", N: 2, At: t2, Status: 204, State: store.DeliveryDone,
		NextAt: t2.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := al.Record(ctx(t), store.Attempt{DeliveryID: "msg_b", N: 1, At: t2, Status: 410, Error: "gone",
		State: store.DeliveryFailed}); err != nil {
		t.Fatal(err)
	}
	due(t2.Add(24 * time.Hour))
	err = al.Record(ctx(t), store.Attempt{DeliveryID: "msg_a", N: 3, At: t2, State: store.DeliveryPending})
	wantErr(t, "an attempt after the delivery is done", err, store.ErrConflict)
	err = al.Record(ctx(t), store.Attempt{DeliveryID: "msg_nope", N: 1, At: t2, State: store.DeliveryDone})
	wantErr(t, "an attempt of an unknown delivery", err, store.ErrNotFound)

	got, err := al.Attempts(ctx(t), "msg_a")
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "attempts", []store.Attempt{
		{DeliveryID: "msg_a", N: 1, At: store.Micro(t1), Status: 503, Error: "status 503"},
		{DeliveryID: "msg_a", N: 2, At: store.Micro(t2), Status: 204},
	}, got)
	page, err := al.List(ctx(t), store.DeliveryFilter{}, store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "deliveries after", []store.Delivery{
		{ID: "msg_b", TenantID: "tnt_1", Type: "budget.threshold_crossed", Payload: []byte(`{"n":"msg_b"}`), State: store.DeliveryFailed,
			Attempts: 1, Status: 410, Error: "gone", CreatedAt: store.Micro(later.At), LastAt: store.Micro(t2)},
		{ID: "msg_a", TenantID: "tnt_1", Type: "budget.threshold_crossed", Payload: []byte(`{"n":"msg_a"}`), State: store.DeliveryDone,
			Attempts: 2, Status: 204, CreatedAt: store.Micro(alertAt), LastAt: store.Micro(t2)},
	}, page.Items)
}

// Deliveries page newest first, and a tenant sees its own.
func testDeliveryList(t *testing.T, s store.Store) {
	for i := range 7 {
		tenant := "tnt_a"
		if i%3 == 2 {
			tenant = "tnt_b"
		}
		mustClaim(t, s, alertEvent(tenant, fmt.Sprintf("key:k%d", i), 50, fmt.Sprintf("msg_%d", i)), true)
	}
	all := pageAll(t, 2, func(o store.ListOptions) (store.Page[store.Delivery], error) {
		return s.Alerts().List(ctx(t), store.DeliveryFilter{}, o)
	})
	diff(t, "all", []string{"msg_6", "msg_5", "msg_4", "msg_3", "msg_2", "msg_1", "msg_0"}, deliveryIDs(all))
	a := pageAll(t, 2, func(o store.ListOptions) (store.Page[store.Delivery], error) {
		return s.Alerts().List(ctx(t), store.DeliveryFilter{TenantID: "tnt_a"}, o)
	})
	diff(t, "tenant a", []string{"msg_6", "msg_4", "msg_3", "msg_1", "msg_0"}, deliveryIDs(a))
	_, err := s.Alerts().List(ctx(t), store.DeliveryFilter{}, store.ListOptions{Cursor: store.Cursor("x")})
	wantErr(t, "bad cursor", err, store.ErrInvalid)
}

func testAlertInvalid(t *testing.T, s store.Store) {
	al := s.Alerts()
	bad := map[string]func(*store.AlertEvent){
		"threshold 0":      func(e *store.AlertEvent) { e.Threshold = 0 },
		"threshold 101":    func(e *store.AlertEvent) { e.Threshold = 101 },
		"no subject":       func(e *store.AlertEvent) { e.Subject = "" },
		"NUL in window":    func(e *store.AlertEvent) { e.Window = "a\x00b" },
		"no delivery ID":   func(e *store.AlertEvent) { e.Delivery.ID = "" },
		"empty payload":    func(e *store.AlertEvent) { e.Delivery.Payload = nil },
		"huge payload":     func(e *store.AlertEvent) { e.Delivery.Payload = []byte(strings.Repeat("x", store.MaxPayloadBytes+1)) },
		"payload not UTF8": func(e *store.AlertEvent) { e.Delivery.Payload = []byte{0xff} },
	}
	for name, f := range bad {
		ev := alertEvent("tnt_1", "key:k1", 50, "msg_x")
		f(&ev)
		_, err := al.Claim(ctx(t), ev)
		wantErr(t, name, err, store.ErrInvalid)
	}
	mustClaim(t, s, alertEvent("tnt_1", "key:k1", 50, "msg_1"), true)
	err := al.Record(ctx(t), store.Attempt{DeliveryID: "msg_1", N: 1, At: alertAt, State: "lost"})
	wantErr(t, "unknown state", err, store.ErrInvalid)
	// An error too long, or not text, is clipped to what can be stored.
	long := strings.Repeat("é", store.MaxErrorLen) + "\x00\xff"
	if err := al.Record(ctx(t), store.Attempt{DeliveryID: "msg_1", N: 1, At: alertAt, Error: long, State: store.DeliveryFailed}); err != nil {
		t.Fatal(err)
	}
	got, err := al.Attempts(ctx(t), "msg_1")
	if err != nil || len(got) != 1 {
		t.Fatalf("attempts = %v, %v", got, err)
	}
	if e := got[0].Error; len(e) > store.MaxErrorLen || !store.Text(e) || !strings.HasPrefix(e, "éé") {
		t.Fatalf("stored error %q (%d bytes)", e, len(e))
	}
}

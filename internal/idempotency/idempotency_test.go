package idempotency

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/llmgw/llmgw/internal/llm"
)

// redisClient is the test Redis, from LLMGW_TEST_REDIS_URL; a missing one
// is a skip, except in CI, where it is a failure.
func redisClient(t testing.TB) *redis.Client {
	t.Helper()
	u := os.Getenv("LLMGW_TEST_REDIS_URL")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("LLMGW_TEST_REDIS_URL is not set; CI must provide Redis")
		}
		t.Skip("LLMGW_TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/0)")
	}
	opt, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("redis: %v", err)
	}
	return c
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// lead begins id as its leader, or fails the test.
func lead(t *testing.T, s *Store, id ID, fp Fingerprint) *Lead {
	t.Helper()
	l, j, err := s.Begin(context.Background(), id, fp)
	if err != nil || l == nil || j != nil {
		t.Fatalf("Begin: lead %v join %v err %v, want a lead", l, j, err)
	}
	return l
}

// join begins id as a joiner, or fails the test.
func join(t *testing.T, s *Store, id ID, fp Fingerprint) *Join {
	t.Helper()
	l, j, err := s.Begin(context.Background(), id, fp)
	if err != nil || j == nil || l != nil {
		t.Fatalf("Begin: lead %v join %v err %v, want a join", l, j, err)
	}
	return j
}

// answer writes a complete response through l and finishes it.
func answer(l *Lead, status int, body string, keep bool) {
	w := l.Writer(httptest.NewRecorder())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Request-Id", "leader-id")
	w.Header().Set("X-Ratelimit-Remaining-Requests", "9")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
	l.Finish(keep)
}

func serve(t *testing.T, j *Join) (*httptest.ResponseRecorder, bool) {
	t.Helper()
	rec := httptest.NewRecorder()
	ok, err := j.Serve(context.Background(), rec)
	if err != nil {
		t.Fatalf("Serve: %v", err)
	}
	return rec, ok
}

func TestValidKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  string
		ok   bool
	}{
		{"uuid", "8e03978e-40d5-43e8-bc93-6894a57f9324", true},
		{"quoted, as the draft's structured string", `"8e03978e"`, true},
		{"longest", strings.Repeat("k", MaxKeyLen), true},
		{"space inside", "a b", true},
		{"empty", "", false},
		{"too long", strings.Repeat("k", MaxKeyLen+1), false},
		{"control", "a\x01b", false},
		{"newline", "a\nb", false},
		{"DEL", "a\x7f", false},
		{"UTF-8", "clé", false},
		{"invalid UTF-8", "a\xff", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ValidKey(tc.key); got != tc.ok {
				t.Fatalf("ValidKey(%q) = %v", tc.key, got)
			}
		})
	}
}

func TestFingerprintAndIDSeparateTheirParts(t *testing.T) {
	if FingerprintOf("POST", "/v1/a", []byte("b")) == FingerprintOf("POST", "/v1/ab", nil) {
		t.Fatal("path and body run together")
	}
	body := []byte("b")
	if a, b := FingerprintOf("POST", "/v1/a", body), FingerprintOf("POST", "/v1/a", []byte("b")); a != b {
		t.Fatal("not deterministic")
	}
	if IDOf("acme", "k") == IDOf("acm", "ek") || IDOf("acme", "k") == IDOf("other", "k") {
		t.Fatal("tenant and key run together")
	}
	if id := IDOf("acme", "secret-key"); strings.Contains(string(id), "secret") || len(id) != 64 {
		t.Fatalf("ID %q", id)
	}
}

func TestResultEncoding(t *testing.T) {
	fp := FingerprintOf("POST", "/v1/x", []byte("{}"))
	res := &Result{Status: 200, Header: http.Header{"Content-Type": {"text/event-stream"}, "X-Llmgw-Provider": {"p"}}, Body: []byte("data: x\n\n")}
	e, err := decode(encodeResult(fp, res))
	if err != nil || e.fp != fp || e.res.Status != 200 || string(e.res.Body) != "data: x\n\n" ||
		e.res.Header.Get("X-Llmgw-Provider") != "p" || e.res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%+v %v", e, err)
	}
	l, err := decode(encodeLease(fp, "owner"))
	if err != nil || l.res != nil || l.owner != "owner" || l.fp != fp {
		t.Fatalf("%+v %v", l, err)
	}
	for _, bad := range []string{"", "R", "X" + strings.Repeat("a", 40), "R" + strings.Repeat("a", 32) + "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
		"R" + strings.Repeat("a", 32) + "\x01\x05"} {
		if _, err := decode([]byte(bad)); err == nil {
			t.Errorf("decode(%q) accepted", bad)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(encodeResult(Fingerprint{}, &Result{Status: 200, Header: http.Header{"A": {"b", "c"}}, Body: []byte("x")}))
	f.Add(encodeLease(Fingerprint{}, "o"))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decode(b)
		if err == nil && e.res != nil && e.res.Status < 0 {
			t.Fatal("negative status")
		}
	})
}

// A replay carries the kept headers and body, with Idempotent-Replayed,
// and not the leader's request ID or rate limit counts.
func TestReplay(t *testing.T) {
	s := New(Options{})
	id, fp := IDOf("t", "k"), FingerprintOf("POST", "/v1/x", []byte("a"))
	answer(lead(t, s, id, fp), 200, `{"ok":true}`, true)
	j := join(t, s, id, fp)
	if !j.Replayed() {
		t.Fatal("not a replay of a kept result")
	}
	rec, ok := serve(t, j)
	if !ok || rec.Code != 200 || rec.Body.String() != `{"ok":true}` || rec.Header().Get(ReplayedHeader) != "true" ||
		rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("X-Request-Id") != "" ||
		rec.Header().Get("X-Ratelimit-Remaining-Requests") != "" {
		t.Fatalf("%v %d %q %v", ok, rec.Code, rec.Body, rec.Header())
	}
	// Another fingerprint under the same key is a conflict.
	_, _, err := s.Begin(context.Background(), id, FingerprintOf("POST", "/v1/x", []byte("b")))
	if e := llm.AsError(err); err == nil || e.Kind != llm.KindIdempotencyConflict || e.Status() != 409 {
		t.Fatalf("%v", err)
	}
}

// A joiner of a request under way gets what was written before it came,
// then the rest as it is written.
func TestJoinFollowsTheLeader(t *testing.T) {
	s := New(Options{})
	id, fp := IDOf("t", "k"), FingerprintOf("POST", "/v1/x", []byte("a"))
	l := lead(t, s, id, fp)
	w := l.Writer(httptest.NewRecorder())
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(200)
	_, _ = w.Write([]byte("data: 1\n\n"))
	j := join(t, s, id, fp)
	if j.Replayed() {
		t.Fatal("a flight under way is not a kept result")
	}
	rec := httptest.NewRecorder()
	done := make(chan bool)
	go func() {
		ok, _ := j.Serve(context.Background(), rec)
		done <- ok
	}()
	_, _ = w.Write([]byte("data: 2\n\n"))
	_, _ = w.Write([]byte("data: [DONE]\n\n"))
	l.Finish(true)
	if !<-done || rec.Body.String() != "data: 1\n\ndata: 2\n\ndata: [DONE]\n\n" || rec.Header().Get(ReplayedHeader) != "true" {
		t.Fatalf("%q %v", rec.Body, rec.Header())
	}
}

// A leader that ends without writing anything gives its joiners nothing:
// they begin again, and lead.
func TestJoinerOfAVoidLeaderBeginsAgain(t *testing.T) {
	s := New(Options{})
	id, fp := IDOf("t", "k"), FingerprintOf("POST", "/v1/x", nil)
	l := lead(t, s, id, fp)
	j := join(t, s, id, fp)
	l.Finish(true)
	if _, ok := serve(t, j); ok {
		t.Fatal("served from a leader that wrote nothing")
	}
	lead(t, s, id, fp)
}

// A request that finds its key's flight ended with nothing to share, but
// not yet removed (its creator between ending and removing it), waits for
// it to go rather than join it again: joining would end at once, and a
// request retrying in a loop would spend its rounds on the same flight.
func TestBeginWaitsForAVoidFlightToGo(t *testing.T) {
	s := New(Options{})
	id, fp := IDOf("t", "k"), FingerprintOf("POST", "/v1/x", nil)
	f := newFlight(fp)
	s.mu.Lock()
	s.flights[id] = f
	s.mu.Unlock()
	f.end()
	type begun struct {
		l   *Lead
		j   *Join
		err error
	}
	got := make(chan begun, 1)
	go func() {
		l, j, err := s.Begin(context.Background(), id, fp)
		got <- begun{l, j, err}
	}()
	select {
	case b := <-got:
		t.Fatalf("Begin returned while the void flight was still its key's: %+v", b)
	case <-time.After(50 * time.Millisecond):
	}
	s.forget(id, f)
	select {
	case b := <-got:
		if b.l == nil || b.err != nil {
			t.Fatalf("after the void flight went: %+v, want to lead", b)
		}
		b.l.Finish(false)
	case <-time.After(10 * time.Second):
		t.Fatal("Begin still waits after the void flight went")
	}
}

// An answer not to keep frees the key; a retry leads anew.
func TestUnkeptFreesTheKey(t *testing.T) {
	s := New(Options{})
	id, fp := IDOf("t", "k"), FingerprintOf("POST", "/v1/x", nil)
	answer(lead(t, s, id, fp), 503, `{}`, false)
	answer(lead(t, s, id, fp), 200, `{}`, true)
	join(t, s, id, fp)
}

// Results expire after the TTL, by the store's clock.
func TestMemoryTTL(t *testing.T) {
	c := &clock{t: time.Unix(1_000_000, 0)}
	s := New(Options{TTL: time.Hour, Now: c.now})
	id, fp := IDOf("t", "k"), FingerprintOf("POST", "/v1/x", nil)
	answer(lead(t, s, id, fp), 200, `{}`, true)
	c.add(time.Hour - time.Second)
	join(t, s, id, fp)
	c.add(time.Second)
	lead(t, s, id, fp)
}

// The results kept in memory stay within MaxBytes, the oldest dropped
// first; a response over MaxRecordBytes is not kept, and one that outgrows
// it while it is written frees its key at once.
func TestMemoryBounds(t *testing.T) {
	s := New(Options{MaxRecordBytes: 1000, MaxBytes: 3000})
	mem := s.b.(*memory)
	fp := FingerprintOf("POST", "/v1/x", nil)
	body := strings.Repeat("x", 800)
	for i := range 10 {
		answer(lead(t, s, IDOf("t", string(rune('a'+i))), fp), 200, body, true)
		if used, _ := mem.usage(); used > 3000 {
			t.Fatalf("%d bytes kept, over 3000", used)
		}
	}
	if _, n := mem.usage(); n != 3 {
		t.Fatalf("%d results kept, want 3", n)
	}
	lead(t, s, IDOf("t", "a"), fp) // the oldest was dropped
	join(t, s, IDOf("t", "j"), fp) // the newest is kept
	big := IDOf("t", "big")
	l := lead(t, s, big, fp)
	w := l.Writer(httptest.NewRecorder())
	w.WriteHeader(200)
	_, _ = w.Write([]byte(strings.Repeat("y", 600)))
	j := join(t, s, big, fp)
	rec := &signaling{ResponseRecorder: httptest.NewRecorder(), wrote: make(chan struct{})}
	served := make(chan error)
	go func() { _, err := j.Serve(context.Background(), rec); served <- err }()
	<-rec.wrote // the joiner has copied the first part
	_, _ = w.Write([]byte(strings.Repeat("y", 600)))
	// Outgrown: the key is free before the leader ends, and the joiner
	// that had begun to copy cannot finish.
	l2 := lead(t, s, big, fp)
	if err := <-served; !errors.Is(err, ErrTruncated) {
		t.Fatalf("joiner: %v", err)
	}
	l.Finish(true)
	answer(l2, 200, "small", true)
	rec2, _ := serve(t, join(t, s, big, fp))
	if rec2.Body.String() != "small" {
		t.Fatalf("%q", rec2.Body)
	}
}

// Two stores on one Redis, as two replicas: the second joins the first's
// request by waiting for its result, then replays it; a conflict is seen
// across them.
func TestRedisAcrossReplicas(t *testing.T) {
	c := redisClient(t)
	prefix := "{llmgw-test}:idem:" + token()[:8] + ":"
	a := New(Options{Redis: c, Prefix: prefix, Timeout: time.Second})
	b := New(Options{Redis: c, Prefix: prefix, Timeout: time.Second})
	id, fp := IDOf("t", "k"), FingerprintOf("POST", "/v1/x", []byte("a"))
	l := lead(t, a, id, fp)
	j := join(t, b, id, fp)
	if _, _, err := b.Begin(context.Background(), id, FingerprintOf("POST", "/v1/x", []byte("other"))); llm.AsError(err).Kind != llm.KindIdempotencyConflict {
		t.Fatalf("conflict across replicas: %v", err)
	}
	done := make(chan *httptest.ResponseRecorder)
	go func() { rec, _ := serve(t, j); done <- rec }()
	answer(l, 200, `{"n":1}`, true)
	rec := <-done
	if rec.Body.String() != `{"n":1}` || rec.Header().Get(ReplayedHeader) != "true" {
		t.Fatalf("%q %v", rec.Body, rec.Header())
	}
	rec2, _ := serve(t, join(t, b, id, fp))
	if rec2.Body.String() != `{"n":1}` {
		t.Fatalf("%q", rec2.Body)
	}
	// A result not to keep frees the key on every replica.
	id2 := IDOf("t", "k2")
	answer(lead(t, a, id2, fp), 502, `{}`, false)
	lead(t, b, id2, fp).Finish(false)
}

// A leader whose replica died stops renewing its lease: once it expires,
// the next request leads, and a joiner that was waiting leads too.
func TestRedisLeaseOfADeadLeaderExpires(t *testing.T) {
	c := redisClient(t)
	prefix := "{llmgw-test}:idem:" + token()[:8] + ":"
	a := New(Options{Redis: c, Prefix: prefix, Lease: 300 * time.Millisecond, Timeout: time.Second})
	b := New(Options{Redis: c, Prefix: prefix, Lease: 300 * time.Millisecond, Timeout: time.Second})
	id, fp := IDOf("t", "k"), FingerprintOf("POST", "/v1/x", nil)
	dead := lead(t, a, id, fp)
	dead.stopRenewal() // the replica is gone: no renewal, no release
	j := join(t, b, id, fp)
	if ok, err := j.Serve(context.Background(), httptest.NewRecorder()); ok || err != nil {
		t.Fatalf("waiting on a dead leader: %v %v", ok, err)
	}
	lead(t, b, id, fp).Finish(false)
}

// A live leader's lease is renewed while it runs, past its length.
func TestRedisLeaseRenewed(t *testing.T) {
	c := redisClient(t)
	prefix := "{llmgw-test}:idem:" + token()[:8] + ":"
	a := New(Options{Redis: c, Prefix: prefix, Lease: 300 * time.Millisecond, Timeout: time.Second})
	id, fp := IDOf("t", "k"), FingerprintOf("POST", "/v1/x", nil)
	l := lead(t, a, id, fp)
	defer l.Finish(false)
	// Three lease lengths later the lease is still there.
	for range 3 {
		ttl, err := c.PTTL(context.Background(), prefix+string(id)).Result()
		if err != nil || ttl <= 0 {
			t.Fatalf("lease gone: %v %v", ttl, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// While Redis does not answer, keyed requests are served without it
// (open) or refused with 503 (closed).
func TestRedisDown(t *testing.T) {
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	defer down.Close()
	id, fp := IDOf("t", "k"), FingerprintOf("POST", "/v1/x", nil)
	open := New(Options{Redis: down})
	answer(lead(t, open, id, fp), 200, `{}`, true)
	lead(t, open, id, fp).Finish(true) // nothing was kept
	closed := New(Options{Redis: down, FailClosed: true})
	_, _, err := closed.Begin(context.Background(), id, fp)
	if e := llm.AsError(err); err == nil || e.Status() != 503 || strings.Contains(e.PublicMessage(), "127.0.0.1") {
		t.Fatalf("%v", err)
	}
}

// signaling is a recorder that tells of its first write.
type signaling struct {
	*httptest.ResponseRecorder
	wrote chan struct{}
	once  sync.Once
}

func (s *signaling) Write(b []byte) (int, error) {
	n, err := s.ResponseRecorder.Write(b)
	s.once.Do(func() { close(s.wrote) })
	return n, err
}

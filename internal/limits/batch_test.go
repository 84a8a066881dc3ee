package limits_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/llmgw/llmgw/internal/limits"
)

// TestConcurrentAcquiresShareRoundTrips: acquires that arrive while one
// is on the wire go out together, in pipelines, and each still gets its
// own exact decision: of 200 at once under a concurrency limit of 50,
// exactly 50 are admitted, in far fewer round trips than 200.
func TestConcurrentAcquiresShareRoundTrips(t *testing.T) {
	c := redisClient(t)
	var trips atomic.Int64
	c.AddHook(countHook{&trips})
	l := limits.NewRedis(c, limits.RedisOptions{Prefix: prefix()})
	t.Cleanup(func() { l.Close() })
	r := limits.Request{Checks: []limits.Check{{Subject: "key:k", Limit: limits.Limit{Concurrent: 50}}}}
	ctx := context.Background()
	if _, le, err := l.Acquire(ctx, r); err != nil { // loads the script
		t.Fatal(err)
	} else {
		le.Release(ctx, 0)
		l.Flush()
	}
	before := trips.Load()
	var admitted atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 200 {
		wg.Go(func() {
			<-start
			d, _, err := l.Acquire(ctx, r)
			if err != nil {
				t.Error(err)
				return
			}
			if d.Allowed {
				admitted.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	if n := admitted.Load(); n != 50 {
		t.Fatalf("%d admitted under a concurrency limit of 50", n)
	}
	n := trips.Load() - before
	t.Logf("200 acquires in %d round trips", n)
	if n >= 150 {
		t.Fatalf("200 concurrent acquires took %d round trips", n)
	}
}

// TestQueuedAcquireLeavesOnCancel: an acquire whose context ends while it
// waits for the batch on the wire returns at once, and is not sent: it
// takes no slot.
func TestQueuedAcquireLeavesOnCancel(t *testing.T) {
	c := redisClient(t)
	hold, held := make(chan struct{}), make(chan struct{})
	var once sync.Once
	c.AddHook(blockHook{func() {
		once.Do(func() {
			close(held)
			<-hold
		})
	}})
	l := limits.NewRedis(c, limits.RedisOptions{Prefix: prefix()})
	t.Cleanup(func() { l.Close() })
	r := limits.Request{Checks: []limits.Check{{Subject: "key:k", Limit: limits.Limit{Concurrent: 2}}}}
	first := make(chan limits.Decision, 1)
	go func() {
		d, _, err := l.Acquire(context.Background(), r)
		if err != nil {
			t.Error(err)
		}
		first <- d
	}()
	<-held // the first acquire is on the wire, held there
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := l.Acquire(ctx, r)
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a cancelled acquire returned no error")
		}
	case <-time.After(5 * time.Second):
		close(hold)
		t.Fatal("a cancelled acquire still waits for the batch before it")
	}
	close(hold)
	if d := <-first; !d.Allowed {
		t.Fatalf("the first acquire was refused: %+v", d)
	}
	// The cancelled one took nothing: with the first's slot the only one
	// held, a third is admitted under the limit of 2, and a fourth not.
	for i, want := range []bool{true, false} {
		d, _, err := l.Acquire(context.Background(), r)
		if err != nil || d.Allowed != want {
			t.Fatalf("acquire %d after: %+v %v, want allowed %v", i+3, d, err, want)
		}
	}
}

type blockHook struct{ f func() }

func (h blockHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h blockHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.f()
		return next(ctx, cmd)
	}
}
func (h blockHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.f()
		return next(ctx, cmds)
	}
}

// TestAcquireBoundedByContext: an acquire sent in a batch waits no longer
// than its context, even for a connection the pool does not have (the
// batch is not cancelled with its sender, but ends at the callers'
// deadlines).
func TestAcquireBoundedByContext(t *testing.T) {
	opt, err := redis.ParseURL(redisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	opt.PoolSize = 1
	opt.PoolTimeout = 5 * time.Second
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	p := prefix()
	// The pool's one connection is held by a blocking pop.
	blocked := make(chan struct{})
	go func() {
		defer close(blocked)
		c.BLPop(context.Background(), 2*time.Second, p+"nothing")
	}()
	time.Sleep(100 * time.Millisecond) // let the pop take the connection
	l := limits.NewRedis(c, limits.RedisOptions{Prefix: p})
	t.Cleanup(func() { l.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err = l.Acquire(ctx, limits.Request{Checks: []limits.Check{{Subject: "key:k", Limit: limits.Limit{RPM: 10}}}})
	if took := time.Since(start); took > time.Second {
		t.Fatalf("an acquire with 200 ms to live took %v (err %v)", took, err)
	}
	if err == nil {
		t.Fatal("an acquire without a connection succeeded")
	}
	<-blocked
}

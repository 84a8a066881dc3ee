package gateway

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/llmgw/llmgw/internal/store"
)

// ResponsesPurgeInterval is how often expired stored responses are
// removed (responses.retention).
const ResponsesPurgeInterval = time.Minute

// purgeTimeout bounds one purge.
const purgeTimeout = 30 * time.Second

// PurgeResponses removes the stored responses that have expired, now and
// then every interval, in batches, until the returned stop is called; stop
// waits for a purge under way. It is process state, started once beside
// the store and stopped before the store closes. Expired responses are
// never served before they are purged: the store's reads skip them.
func PurgeResponses(st store.Responses, every time.Duration, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			purgeResponses(ctx, st, time.Now(), log)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		cancel()
		wg.Wait()
	}
}

// purgeResponses removes, batch after batch, what expired by now.
func purgeResponses(ctx context.Context, st store.Responses, now time.Time, log *slog.Logger) int {
	ctx, cancel := context.WithTimeout(ctx, purgeTimeout)
	defer cancel()
	total := 0
	for {
		n, err := st.Purge(ctx, now, store.MaxLimit)
		total += n
		if err != nil {
			if log != nil && ctx.Err() == nil {
				log.Warn("could not purge expired responses", "err", err.Error())
			}
			return total
		}
		if n < store.MaxLimit {
			return total
		}
	}
}

package identity

import (
	"runtime"
	"testing"
	"time"
)

// TestNegCacheGrowsWithUse: a cache of refused hashes holds memory for
// the hashes it holds, not for the most it may hold, and past that most
// it evicts the oldest.
func TestNegCacheGrowsWithUse(t *testing.T) {
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	big := newNegCache(1<<20, time.Minute)
	if grew := int64(heap()) - int64(before); grew > 1<<20 {
		t.Fatalf("an empty cache for 1M hashes holds %d KiB", grew>>10)
	}
	runtime.KeepAlive(&big)
	now := time.Now()
	c := newNegCache(3, time.Minute)
	var hs [7]hash
	for i := range hs {
		hs[i][0] = byte(i + 1)
		c.add(hs[i], "unknown", now)
		if c.len() > 3 {
			t.Fatalf("after %d hashes the cache holds %d, want at most 3", i+1, c.len())
		}
	}
	for i, h := range hs {
		_, ok := c.get(h, now)
		if want := i >= 4; ok != want {
			t.Fatalf("hash %d held: %v, want %v", i, ok, want)
		}
	}
}

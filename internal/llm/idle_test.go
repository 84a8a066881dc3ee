package llm

import (
	"testing"
	"time"
)

func TestIdleTimerFiresOnLongWait(t *testing.T) {
	fired := make(chan struct{})
	it := NewIdleTimer(5*time.Millisecond, func() { close(fired) })
	defer it.Stop()
	for range 3 { // short waits first: each ends before the limit
		it.Wait()
		it.Done()
	}
	it.Wait()
	select {
	case <-fired:
	case <-time.After(5 * time.Second):
		t.Fatal("a wait past the limit did not fire the timer")
	}
	it.Stop() // after firing: no second call (close would panic)
}

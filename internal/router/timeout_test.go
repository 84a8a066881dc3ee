package router

import (
	"context"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/llm"
)

// Which timeout ends a hung attempt decides what the client is told: the
// request's deadline, or the model's total timeout when that comes first.
func TestTotalTimeoutOrRequestDeadline(t *testing.T) {
	tests := []struct {
		name  string
		ctx   time.Duration // the request's deadline; 0: none
		total time.Duration // the model's total timeout; 0: none
		want  string
	}{
		{"request deadline alone", 20 * time.Millisecond, 0, "the request deadline passed"},
		{"total timeout alone", 0, 20 * time.Millisecond, "the upstream did not finish in time"},
		{"total timeout first", time.Minute, 20 * time.Millisecond, "the upstream did not finish in time"},
		{"request deadline first", 20 * time.Millisecond, time.Minute, "the request deadline passed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, stream := range []bool{false, true} {
				m := fast(Model{Name: "m", Retry: Retry{MaxAttempts: 1}, Timeouts: Timeouts{Total: tt.total},
					Targets: []Target{{Provider: &scripted{name: "a", hang: true}, Model: "x", Weight: 1}}})
				r := New([]Model{m}, Options{})
				// The watchdog cancels rather than hang the test if no
				// timeout fires; the error then names no timeout.
				ctx, stop := context.WithCancel(context.Background())
				watchdog := time.AfterFunc(time.Minute, stop)
				cancel := stop
				if tt.ctx > 0 {
					ctx, cancel = context.WithTimeout(ctx, tt.ctx)
				}
				s, err := r.Invoke(ctx, chatCall("m", stream))
				if err == nil {
					_, err = s.Recv()
					s.Close()
				}
				watchdog.Stop()
				cancel()
				stop()
				if e := llm.AsError(err); e.Kind != llm.KindUpstreamTimeout || e.Message != tt.want {
					t.Errorf("stream %v: err = %v (%v), want upstream_timeout %q", stream, err, e.Kind, tt.want)
				}
			}
		})
	}
}

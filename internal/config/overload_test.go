package config

import (
	"strings"
	"testing"
	"time"
)

// The concurrency ceilings and their queue are checked, every problem with
// its path; the queue's timeout defaults to 1s; a key the queue does not
// know is refused.
func TestOverloadSettings(t *testing.T) {
	c := validConfig()
	if got := c.Server.OverloadQueue.Timeout.Std(); got != time.Second {
		t.Errorf("default server.overload_queue.timeout %v, want 1s", got)
	}
	c.Server.MaxConcurrentRequests = -1
	c.Server.MaxOpenStreams = -2
	c.Server.OverloadQueue = OverloadQueue{Size: MaxOverloadQueue + 1, Timeout: -1}
	err := c.Validate()
	for _, want := range []string{
		"server.max_concurrent_requests: must not be negative",
		"server.max_open_streams: must not be negative",
		"server.overload_queue.size: must be between 0 and 100000",
		"server.overload_queue.timeout: must not be negative",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in %v", want, err)
		}
	}
	c = validConfig()
	c.Server.MaxConcurrentRequests, c.Server.MaxOpenStreams = 512, 256
	c.Server.OverloadQueue = OverloadQueue{Size: 64, Timeout: Duration(2 * time.Second)}
	if err := c.Validate(); err != nil {
		t.Errorf("valid ceilings refused: %v", err)
	}
	_, err = Parse([]byte("server:\n  overload_queue: {size: 1, wait: 1s}\nproviders: [{name: m, type: mock}]\nmodels: [{name: m, targets: [{provider: m, model: m}]}]\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "wait") {
		t.Errorf("unknown key under server.overload_queue: %v", err)
	}
	cfg, err := Parse([]byte("server:\n  max_concurrent_requests: 8\n  max_open_streams: 4\n  overload_queue: {size: 2, timeout: 3s}\nproviders: [{name: m, type: mock}]\nmodels: [{name: m, targets: [{provider: m, model: m}]}]\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := cfg.Server; s.MaxConcurrentRequests != 8 || s.MaxOpenStreams != 4 || s.OverloadQueue.Size != 2 || s.OverloadQueue.Timeout.Std() != 3*time.Second {
		t.Errorf("parsed %+v", s)
	}
}

package gateway

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/alert"
	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/store/sqlite"
)

// Without a webhook URL no sender is made; with one, the configured
// receiver gets the alerts, signed with the configured secret, and the
// configured thresholds and attempts apply.
func TestOpenAlerts(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "llmgw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := OpenAlerts(&config.Config{}, st, nil)
	if s != nil || err != nil {
		t.Fatalf("no webhook: %v, %v", s, err)
	}
	s.BudgetCrossed(context.Background(), alert.BudgetEvent{Subject: "key:k", Period: "daily", Window: "w", ThresholdPercent: 50})

	got := make(chan http.Header, 4)
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		got <- r.Header.Clone()
		w.WriteHeader(http.StatusGone)
	}))
	defer rc.Close()
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	cfg := &config.Config{Alerts: config.Alerts{Webhook: config.Webhook{URL: config.Secret(rc.URL), Secret: secret},
		BudgetThresholds: []int{75}, MaxAttempts: 3}}
	s, err = OpenAlerts(cfg, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if th := s.Thresholds(); len(th) != 1 || th[0] != 75 {
		t.Fatalf("thresholds %v", th)
	}
	s.BudgetCrossed(context.Background(), alert.BudgetEvent{TenantID: "tnt_1", Subject: "key:k", Period: "daily", Window: "2026-12-02",
		LimitPico: 100, SpentPico: 75, ThresholdPercent: 75, At: time.Now()})
	select {
	case h := <-got:
		if !strings.HasPrefix(h.Get("webhook-signature"), "v1,") || !strings.HasPrefix(h.Get("webhook-id"), "msg_") {
			t.Fatalf("headers %v", h)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the configured webhook got nothing")
	}
	cfg.Alerts.Webhook.Secret = "hunter2"
	if _, err := OpenAlerts(cfg, st, nil); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("a bad secret: %v", err)
	}
}

package gateway

import (
	"log/slog"

	"github.com/llmgw/llmgw/internal/alert"
	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/store"
)

// OpenAlerts returns the process's sender of budget alerts when
// alerts.webhook.url is set, nil (which sends nothing) otherwise. Its
// worker starts at once and carries on with deliveries the store still
// holds pending; Close stops it, before the store is closed.
func OpenAlerts(cfg *config.Config, st store.Store, logger *slog.Logger) (*alert.Sender, error) {
	a := cfg.Alerts
	if a.Webhook.URL == "" {
		return nil, nil
	}
	return alert.New(alert.Options{
		Store:       st.Alerts(),
		URL:         a.Webhook.URL.Value(),
		Secret:      a.Webhook.Secret.Value(),
		Thresholds:  a.BudgetThresholds,
		MaxAttempts: a.MaxAttempts,
		Logger:      logger,
	})
}

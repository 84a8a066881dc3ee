package config

import (
	"encoding/base64"
	"net/url"
	"strings"
)

// Alerts configures the webhook that budget alerts are sent to.
type Alerts struct {
	// Webhook is the receiver. Without its url no alert is sent.
	Webhook Webhook `yaml:"webhook,omitempty" json:"webhook,omitzero"`
	// BudgetThresholds are the percentages of a budget's limit whose
	// crossing is alerted, 1 to 100, in increasing order. Default 50, 80
	// and 100.
	BudgetThresholds []int `yaml:"budget_thresholds,omitempty" json:"budget_thresholds,omitempty"`
	// MaxAttempts bounds the attempts to deliver one alert, retried with
	// a growing backoff (5s, 30s, 2m, 10m, then hourly). Default 8.
	MaxAttempts int `yaml:"max_attempts,omitempty" json:"max_attempts,omitempty"`
}

// Webhook is a receiver of signed messages (Standard Webhooks).
type Webhook struct {
	// URL is the http:// or https:// URL the messages are posted to. It is
	// treated as a secret, since such URLs often carry a token.
	URL Secret `yaml:"url,omitempty" json:"url,omitempty"`
	// Secret signs the messages: "whsec_" followed by the base64 of 24 to
	// 64 random bytes, as the Standard Webhooks specification has it
	// (for instance "whsec_" + `openssl rand -base64 32`). Required with
	// url.
	Secret Secret `yaml:"secret,omitempty" json:"secret,omitempty"`
}

// DefaultBudgetThresholds are alerts.budget_thresholds when a webhook URL
// is set and none are.
var DefaultBudgetThresholds = []int{50, 80, 100}

const (
	// DefaultAlertMaxAttempts is alerts.max_attempts when a webhook URL is
	// set and it is not.
	DefaultAlertMaxAttempts = 8
	// MaxAlertAttempts bounds alerts.max_attempts: at the hourly backoff
	// this is two days of retries.
	MaxAlertAttempts = 50
)

func (a *Alerts) applyDefaults() {
	if a.Webhook.URL == "" {
		return
	}
	if a.BudgetThresholds == nil {
		a.BudgetThresholds = cloneSlice(DefaultBudgetThresholds)
	}
	setDefault(&a.MaxAttempts, DefaultAlertMaxAttempts)
}

// validate checks the alerts section. Neither the URL nor the secret is
// ever quoted in a message.
func (a *Alerts) validate(p *problems) {
	for i, t := range a.BudgetThresholds {
		switch {
		case t < 1 || t > 100:
			p.add(indexPath("alerts.budget_thresholds", i), "must be a percentage from 1 to 100")
		case i > 0 && t <= a.BudgetThresholds[i-1]:
			p.add(indexPath("alerts.budget_thresholds", i), "thresholds must be in increasing order, each once")
		}
	}
	if a.MaxAttempts < 0 || a.MaxAttempts > MaxAlertAttempts {
		p.add("alerts.max_attempts", "must be from 1 to %d", MaxAlertAttempts)
	}
	raw := a.Webhook.URL.Value()
	if raw == "" {
		if a.Webhook.Secret != "" || a.BudgetThresholds != nil || a.MaxAttempts != 0 {
			p.add("alerts.webhook.url", "required when the alerts section sets anything else")
		}
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		p.add("alerts.webhook.url", "not a valid URL")
	case u.Scheme != "http" && u.Scheme != "https":
		p.add("alerts.webhook.url", "must be an http:// or https:// URL")
	case u.Host == "":
		p.add("alerts.webhook.url", "must have a host")
	}
	if !webhookSecret(a.Webhook.Secret.Value()) {
		p.add("alerts.webhook.secret", `required with alerts.webhook.url: "whsec_" followed by the base64 of 24 to 64 random bytes`)
	}
}

// webhookSecret reports whether s is "whsec_" and the standard base64 of
// 24 to 64 bytes.
func webhookSecret(s string) bool {
	b64, ok := strings.CutPrefix(s, "whsec_")
	if !ok {
		return false
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	return err == nil && len(key) >= 24 && len(key) <= 64
}

package postgres

import (
	"encoding/json"
	"time"

	"github.com/llmgw/llmgw/internal/store"
)

// timeArg passes the zero time as NULL.
func timeArg(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func timeOf(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// labelsArg is the JSON text of m; the jsonb column takes it as it is.
func labelsArg(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

func labelsOf(b []byte) (map[string]string, error) {
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

// modelsOf keeps NULL (every model) apart from '{}' (none).
func modelsOf(p *[]string) []string {
	if p == nil {
		return nil
	}
	if *p == nil {
		return []string{}
	}
	return *p
}

// limitCols are the three nullable limit columns of a key or tenant, as
// scanned: NULL is no limit.
type limitCols struct{ rpm, tpm, concurrent *int64 }

func (c *limitCols) dests() []any { return []any{&c.rpm, &c.tpm, &c.concurrent} }

func (c *limitCols) limits() store.Limits {
	v := func(p *int64) int64 {
		if p == nil {
			return 0
		}
		return *p
	}
	return store.Limits{RPM: v(c.rpm), TPM: v(c.tpm), Concurrent: v(c.concurrent)}
}

// budgetCols are the two nullable budget columns of a key, team or
// tenant (budget_pico, budget_period), as scanned: NULL is no budget.
type budgetCols struct {
	pico   *int64
	period *string
}

func (c *budgetCols) dests() []any { return []any{&c.pico, &c.period} }

func (c *budgetCols) budget() store.Budget {
	if c.pico == nil || c.period == nil {
		return store.Budget{}
	}
	return store.Budget{LimitPico: *c.pico, Period: *c.period}
}

// budgetArgs passes the zero budget as NULLs.
func budgetArgs(b store.Budget) []any {
	if b.IsZero() {
		return []any{nil, nil}
	}
	return []any{b.LimitPico, b.Period}
}

// limitArgs passes each zero limit as NULL.
func limitArgs(l store.Limits) []any {
	arg := func(n int64) *int64 {
		if n == 0 {
			return nil
		}
		return &n
	}
	return []any{arg(l.RPM), arg(l.TPM), arg(l.Concurrent)}
}

// maxCostArg passes a key without a cost cap as NULL.
func maxCostArg(pico int64) *int64 {
	if pico <= 0 {
		return nil
	}
	return &pico
}

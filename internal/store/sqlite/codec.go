package sqlite

import (
	"database/sql"
	"encoding/json"
	"time"

	"github.com/llmgw/llmgw/internal/store"
)

// Times are stored as Unix microseconds: comparable in SQL, and the
// precision PostgreSQL keeps, so that both drivers read back the same.

func timeArg(t time.Time) sql.NullInt64 {
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: !t.IsZero()}
}

func timeOf(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.UnixMicro(n.Int64).UTC()
}

func labelsArg(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

func labelsOf(s string) (map[string]string, error) {
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

// modelsArg keeps nil (every model) apart from empty (none): NULL and '[]'.
func modelsArg(m []string) (sql.NullString, error) {
	if m == nil {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(m)
	return sql.NullString{String: string(b), Valid: true}, err
}

func modelsOf(s sql.NullString) ([]string, error) {
	if !s.Valid {
		return nil, nil
	}
	m := []string{}
	if err := json.Unmarshal([]byte(s.String), &m); err != nil {
		return nil, err
	}
	return m, nil
}

// limitCols are the three nullable limit columns of a key or tenant, as
// scanned: NULL is no limit.
type limitCols struct{ rpm, tpm, concurrent sql.NullInt64 }

func (c *limitCols) dests() []any { return []any{&c.rpm, &c.tpm, &c.concurrent} }

func (c *limitCols) limits() store.Limits {
	return store.Limits{RPM: c.rpm.Int64, TPM: c.tpm.Int64, Concurrent: c.concurrent.Int64}
}

// limitArgs passes each zero limit as NULL.
func limitArgs(l store.Limits) []any {
	arg := func(n int64) sql.NullInt64 { return sql.NullInt64{Int64: n, Valid: n != 0} }
	return []any{arg(l.RPM), arg(l.TPM), arg(l.Concurrent)}
}

// budgetCols are the two nullable budget columns of a key, team or
// tenant (budget_pico, budget_period), as scanned: NULL is no budget.
type budgetCols struct {
	pico   sql.NullInt64
	period sql.NullString
}

func (c *budgetCols) dests() []any { return []any{&c.pico, &c.period} }

func (c *budgetCols) budget() store.Budget {
	return store.Budget{LimitPico: c.pico.Int64, Period: c.period.String}
}

// budgetArgs passes the zero budget as NULLs.
func budgetArgs(b store.Budget) []any {
	if b.IsZero() {
		return []any{nil, nil}
	}
	return []any{b.LimitPico, b.Period}
}

// maxCostArg passes a key without a cost cap as NULL.
func maxCostArg(pico int64) sql.NullInt64 {
	return sql.NullInt64{Int64: pico, Valid: pico > 0}
}

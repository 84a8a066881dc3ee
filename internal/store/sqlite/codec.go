package sqlite

import (
	"database/sql"
	"encoding/json"
	"time"
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

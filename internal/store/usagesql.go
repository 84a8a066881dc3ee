package store

import (
	"strconv"
	"strings"
	"time"
)

// UsageSQL is an aggregation query built for a driver, and how to read
// its rows.
type UsageSQL struct {
	Query string
	Args  []any
	// Dims are the grouped dimensions in the order of the row's first
	// columns (tenant and key read two columns each).
	Dims []string
	// Limit is the number of groups asked for, one above the answer's, so
	// that a truncated answer is known.
	Limit int
}

// Dialect is what differs between the drivers' SQL.
type Dialect struct {
	// Placeholder is the i-th (1-based) argument's placeholder.
	Placeholder func(i int) string
	// Bucket is the expression of a record's time rounded down to a
	// multiple of seconds, as Unix seconds.
	Bucket func(seconds int) string
	// Time converts a bound to the driver's representation of at.
	Time func(time.Time) any
}

// BuildUsageSQL builds q, which CheckUsageQuery accepted, for a dialect.
// Every column and expression comes from this function's own table: only
// values are arguments.
func BuildUsageSQL(q UsageQuery, d Dialect) UsageSQL {
	var sel, group []string
	for _, g := range q.GroupBy {
		switch g {
		case GroupTenant:
			sel, group = append(sel, "tenant_id", "max(tenant)"), append(group, "tenant_id")
		case GroupTeam:
			sel, group = append(sel, "team_id"), append(group, "team_id")
		case GroupKey:
			sel, group = append(sel, "key_id", "key_name"), append(group, "key_id", "key_name")
		case GroupModel:
			sel, group = append(sel, "model"), append(group, "model")
		case GroupProvider:
			sel, group = append(sel, "provider"), append(group, "provider")
		case GroupDay:
			sel, group = append(sel, d.Bucket(86400)), append(group, d.Bucket(86400))
		case GroupHour:
			sel, group = append(sel, d.Bucket(3600)), append(group, d.Bucket(3600))
		}
	}
	sel = append(sel, "count(*)", "coalesce(sum(input_tokens), 0)", "coalesce(sum(output_tokens), 0)",
		"coalesce(sum(cached_tokens), 0)", "coalesce(sum(cache_write_tokens), 0)", "coalesce(sum(reasoning_tokens), 0)",
		"coalesce(sum(cost_pico), 0)", "coalesce(sum(CASE WHEN cost_known THEN 0 ELSE 1 END), 0)")
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, cond+" "+d.Placeholder(len(args)))
	}
	if !q.From.IsZero() {
		add("at >=", d.Time(q.From))
	}
	if !q.To.IsZero() {
		add("at <", d.Time(q.To))
	}
	if q.TenantID != "" {
		add("tenant_id =", q.TenantID)
	}
	if q.KeyID != "" {
		add("key_id =", q.KeyID)
	}
	if q.Model != "" {
		add("model =", q.Model)
	}
	var b strings.Builder
	b.WriteString("SELECT " + strings.Join(sel, ", ") + " FROM usage")
	if len(where) > 0 {
		b.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	if len(group) > 0 {
		b.WriteString(" GROUP BY " + strings.Join(group, ", ") + " ORDER BY " + strings.Join(group, ", "))
	}
	n := q.Limit
	if n <= 0 {
		n = DefaultLimit
	}
	n = min(n, MaxUsageGroups)
	args = append(args, n+1)
	b.WriteString(" LIMIT " + d.Placeholder(len(args)))
	return UsageSQL{Query: b.String(), Args: args, Dims: q.GroupBy, Limit: n}
}

// ScanTargets returns where a row's columns go in g, for sql's dimensions,
// then the sums. bucket receives a day or hour column (Unix seconds).
func (s *UsageSQL) ScanTargets(g *UsageGroup, bucket *int64) []any {
	var out []any
	for _, d := range s.Dims {
		switch d {
		case GroupTenant:
			out = append(out, &g.TenantID, &g.Tenant)
		case GroupTeam:
			out = append(out, &g.TeamID)
		case GroupKey:
			out = append(out, &g.KeyID, &g.KeyName)
		case GroupModel:
			out = append(out, &g.Model)
		case GroupProvider:
			out = append(out, &g.Provider)
		case GroupDay, GroupHour:
			out = append(out, bucket)
		}
	}
	return append(out, &g.Requests, &g.InputTokens, &g.OutputTokens, &g.CachedTokens, &g.CacheWriteTokens,
		&g.ReasoningTokens, &g.CostPico, &g.UnpricedRequests)
}

// SetBucket stores a scanned bucket in g when the query has one.
func (s *UsageSQL) SetBucket(g *UsageGroup, bucket int64) {
	for _, d := range s.Dims {
		if d == GroupDay || d == GroupHour {
			g.Bucket = time.Unix(bucket, 0).UTC()
		}
	}
}

// PlaceholderDollar numbers placeholders as PostgreSQL does.
func PlaceholderDollar(i int) string { return "$" + strconv.Itoa(i) }

package admin

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pricing"
	"github.com/llmgw/llmgw/internal/store"
)

// defaultUsageGroups is the grouping of GET /usage without group_by.
var defaultUsageGroups = []string{store.GroupTenant, store.GroupModel}

// usageView is one group of GET /usage; only the grouped dimensions are
// present. Costs are exact decimals in dollars.
type usageView struct {
	TenantID         string      `json:"tenant_id,omitempty"`
	Tenant           string      `json:"tenant,omitempty"`
	TeamID           string      `json:"team_id,omitempty"`
	KeyID            string      `json:"key_id,omitempty"`
	Key              string      `json:"key,omitempty"`
	Model            string      `json:"model,omitempty"`
	Provider         string      `json:"provider,omitempty"`
	Day              string      `json:"day,omitempty"`
	Hour             string      `json:"hour,omitempty"`
	Requests         int64       `json:"requests"`
	InputTokens      int64       `json:"input_tokens"`
	OutputTokens     int64       `json:"output_tokens"`
	CachedTokens     int64       `json:"cached_tokens"`
	CacheWriteTokens int64       `json:"cache_write_tokens"`
	ReasoningTokens  int64       `json:"reasoning_tokens"`
	CostUSD          json.Number `json:"cost_usd"`
	UnpricedRequests int64       `json:"unpriced_requests"`
}

// usageList is the body of GET /usage.
type usageList struct {
	Data []usageView `json:"data"`
	// Truncated says that more groups matched than limit.
	Truncated bool `json:"truncated,omitempty"`
}

func viewUsage(g store.UsageGroup, dims []string) usageView {
	v := usageView{Requests: g.Requests, InputTokens: g.InputTokens, OutputTokens: g.OutputTokens, CachedTokens: g.CachedTokens,
		CacheWriteTokens: g.CacheWriteTokens, ReasoningTokens: g.ReasoningTokens,
		CostUSD: json.Number(pricing.Amount(g.CostPico).String()), UnpricedRequests: g.UnpricedRequests}
	for _, d := range dims {
		switch d {
		case store.GroupTenant:
			v.TenantID, v.Tenant = g.TenantID, g.Tenant
		case store.GroupTeam:
			v.TeamID = g.TeamID
		case store.GroupKey:
			v.KeyID, v.Key = g.KeyID, g.KeyName
		case store.GroupModel:
			v.Model = g.Model
		case store.GroupProvider:
			v.Provider = g.Provider
		case store.GroupDay:
			v.Day = g.Bucket.Format(time.DateOnly)
		case store.GroupHour:
			v.Hour = g.Bucket.Format(time.RFC3339)
		}
	}
	return v
}

// usageTime reads from or to: an RFC 3339 time, or a date (its midnight,
// UTC).
func usageTime(q map[string]string, name string) (time.Time, error) {
	if s := q[name]; len(s) == len(time.DateOnly) {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return t, llm.InvalidRequest(name, "%s must be a date such as \"2027-01-31\" or an RFC 3339 time", name)
		}
		return t, nil
	}
	return queryTime(q, name)
}

// getUsage answers GET /usage: the ledger summed by the groups asked,
// within the caller's tenant for a tenant's credentials.
func (a *API) getUsage(w http.ResponseWriter, r *http.Request, c *caller) {
	qs, err := query(r, "group_by", "from", "to", "tenant", "key", "model", "format")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if _, ok := qs["cursor"]; ok {
		a.fail(w, r, llm.InvalidRequest("cursor", "usage is not paged: narrow it with from, to and the filters, or raise limit"))
		return
	}
	q := store.UsageQuery{GroupBy: defaultUsageGroups, TenantID: c.tenant(), Model: qs["model"]}
	if s, ok := qs["group_by"]; ok {
		q.GroupBy = nil
		if s != "" {
			q.GroupBy = strings.Split(s, ",")
		}
	}
	if q.From, err = usageTime(qs, "from"); err == nil {
		q.To, err = usageTime(qs, "to")
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if s, ok := qs["limit"]; ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > store.MaxUsageGroups {
			a.fail(w, r, llm.InvalidRequest("limit", "limit must be an integer from 1 to %d", store.MaxUsageGroups))
			return
		}
		q.Limit = n
	}
	format := qs["format"]
	if format != "" && format != "json" && format != "csv" {
		a.fail(w, r, llm.InvalidRequest("format", "format must be json or csv"))
		return
	}
	if name := qs["tenant"]; name != "" {
		t, err := a.b.Store.Tenants().Get(r.Context(), name)
		switch {
		case err == nil && c.sees(t.ID):
			q.TenantID = t.ID
		case err == nil || errors.Is(err, store.ErrNotFound):
			a.fail(w, r, notFound("tenant", name))
			return
		default:
			a.fail(w, r, a.storeError(err, "tenant"))
			return
		}
	}
	if id := qs["key"]; id != "" {
		k, err := a.b.Store.Keys().Get(r.Context(), id)
		switch {
		case err == nil && c.sees(k.TenantID):
			q.KeyID = k.ID
		case err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalid):
			a.fail(w, r, notFound("key", id))
			return
		default:
			a.fail(w, r, a.storeError(err, "key"))
			return
		}
	}
	if err := store.CheckUsageQuery(&q); err != nil {
		a.fail(w, r, llm.Wrap(llm.KindInvalidRequest, err, publicStoreText(err, store.ErrInvalid, "invalid usage query")))
		return
	}
	groups, truncated, err := a.b.Store.Ledger().Aggregate(r.Context(), q)
	if err != nil {
		a.fail(w, r, a.storeError(err, "usage"))
		return
	}
	out := usageList{Data: make([]usageView, 0, len(groups)), Truncated: truncated}
	for _, g := range groups {
		out.Data = append(out.Data, viewUsage(g, q.GroupBy))
	}
	if format == "csv" {
		writeUsageCSV(w, q.GroupBy, out)
		return
	}
	a.writeJSON(w, r, http.StatusOK, out)
}

// writeUsageCSV writes the groups as CSV: the grouped dimensions, then the
// sums, with a header line.
func writeUsageCSV(w http.ResponseWriter, dims []string, l usageList) {
	var head []string
	for _, d := range dims {
		switch d {
		case store.GroupTenant:
			head = append(head, "tenant_id", "tenant")
		case store.GroupKey:
			head = append(head, "key_id", "key")
		case store.GroupTeam:
			head = append(head, "team_id")
		default:
			head = append(head, d)
		}
	}
	head = append(head, "requests", "input_tokens", "output_tokens", "cached_tokens", "cache_write_tokens",
		"reasoning_tokens", "cost_usd", "unpriced_requests")
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if l.Truncated {
		w.Header().Set("X-Llmgw-Truncated", "true")
	}
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	_ = cw.Write(head)
	for _, v := range l.Data {
		var row []string
		for _, d := range dims {
			switch d {
			case store.GroupTenant:
				row = append(row, v.TenantID, csvSafe(v.Tenant))
			case store.GroupKey:
				row = append(row, v.KeyID, csvSafe(v.Key))
			case store.GroupTeam:
				row = append(row, v.TeamID)
			case store.GroupModel:
				row = append(row, csvSafe(v.Model))
			case store.GroupProvider:
				row = append(row, csvSafe(v.Provider))
			case store.GroupDay:
				row = append(row, v.Day)
			case store.GroupHour:
				row = append(row, v.Hour)
			}
		}
		row = append(row, strconv.FormatInt(v.Requests, 10), strconv.FormatInt(v.InputTokens, 10),
			strconv.FormatInt(v.OutputTokens, 10), strconv.FormatInt(v.CachedTokens, 10),
			strconv.FormatInt(v.CacheWriteTokens, 10), strconv.FormatInt(v.ReasoningTokens, 10),
			string(v.CostUSD), strconv.FormatInt(v.UnpricedRequests, 10))
		_ = cw.Write(row)
	}
	cw.Flush()
}

// csvSafe keeps a name a spreadsheet would run as a formula from being
// one (a model name is the client's text).
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
